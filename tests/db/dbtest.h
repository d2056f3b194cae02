#pragma once
// Helpers of the database tests: running real programs (git, sqlite3, lupa) and reading their
// output.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

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

// A child process started by a test, in its own process group, killed if still running when
// the object goes away.
class Child {
public:
  // Starts `argv` with `env` added to the environment, stdout and stderr to `log`.
  Child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
        const std::filesystem::path& log) {
    m_pid = ::fork();
    if (m_pid == 0) {
      ::setpgid(0, 0);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      for (const std::string& e : env) {
        ::putenv(const_cast<char*>(e.c_str()));
      }
      std::vector<char*> args;
      for (const std::string& a : argv) {
        args.push_back(const_cast<char*>(a.c_str()));
      }
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      ::_exit(127);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (m_pid > 0) {
      ::kill(-m_pid, SIGKILL);
      wait();
    }
  }
  // Waits for the child; its exit status (128 + signal when killed).
  int wait() {
    if (m_pid <= 0) {
      return m_status;
    }
    int status = 0;
    ::waitpid(m_pid, &status, 0);
    m_pid = -1;
    m_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return m_status;
  }
  // Sends SIGKILL to the child's process group and reaps it.
  int kill9() {
    ::kill(-m_pid, SIGKILL);
    return wait();
  }
  // The child's process id (-1 once reaped).
  pid_t pid() const { return m_pid; }

private:
  pid_t m_pid = -1;
  int m_status = -1;
};

// Waits up to `seconds` for `path` to exist.
inline bool wait_for_file(const std::filesystem::path& path, double seconds = 30) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!std::filesystem::exists(path)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

} // namespace lupa_test
