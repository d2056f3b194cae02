#pragma once
// Helpers of the database tests: running real programs (git, sqlite3, lupa) and reading their
// output.

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace lupa_test {

// What a shell command printed (stdout and stderr together) and its exit status.
struct Output {
  int status = -1;
  std::string text;
};

// Runs `command` with /bin/sh, stderr merged into stdout.
inline Output sh(const std::string& command) {
  Output out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) {
    return out;
  }
  char buffer[4096];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) {
    out.text.append(buffer, n);
  }
  int status = ::pclose(pipe);
  out.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return out;
}

// `git -C <repo> <args>` (the real git, to show the database is an ordinary repository).
inline Output git(const std::filesystem::path& repo, const std::string& args) {
  return sh("git -c user.name=test -c user.email=test@localhost -C '" + repo.string() + "' " + args);
}

// The lupa binary of this build.
inline std::string lupa_binary() { return std::string(LUPA_BINARY_DIR) + "/cli/lupa"; }

} // namespace lupa_test
