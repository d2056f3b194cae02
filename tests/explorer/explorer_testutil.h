#pragma once
// Helpers of the explorer's integration tests: fixture programs, running commands, nginx.

#include "util/fs.h"

#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lupa_test {

inline std::filesystem::path testprog() {
  return std::filesystem::path(LUPA_BINARY_DIR) / "tests" / "testprogs" / "lupa_testprog";
}

inline std::filesystem::path lupa_explore() {
  return std::filesystem::path(LUPA_BINARY_DIR) / "explorer" / "lupa-explore";
}

// Why ptrace-based discovery or seccomp injection cannot run here, or empty if they can.
inline std::string tracing_unavailable() {
  std::ifstream scope("/proc/sys/kernel/yama/ptrace_scope");
  int value = 0;
  if (scope >> value && value >= 3) {
    return "ptrace is disabled (kernel.yama.ptrace_scope = 3)";
  }
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("Seccomp:")) {
      return "";
    }
  }
  return "this kernel has no seccomp";
}

// Writes an executable script `name` with `body` into `dir`.
inline std::filesystem::path script(const std::filesystem::path& dir, const std::string& name,
                                    const std::string& body) {
  std::filesystem::path path = dir / name;
  std::ofstream(path) << body;
  ::chmod(path.c_str(), 0755);
  return path;
}

inline std::string slurp(const std::filesystem::path& path) {
  util::Result<std::string> text = util::read_file(path);
  return text ? *text : std::string();
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `command` through /bin/sh with stdout and stderr captured (in `dir`), stdin from `in`.
inline CommandResult run_shell(const std::string& command, const std::filesystem::path& dir,
                               const std::filesystem::path& in = "/dev/null") {
  std::filesystem::path out = dir / "cmd.out";
  std::filesystem::path err = dir / "cmd.err";
  int status = std::system(fmt::format("{} >'{}' 2>'{}' <'{}'", command, out.string(),
                                       err.string(), in.string())
                               .c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.out = slurp(out);
  result.err = slurp(err);
  return result;
}

// Calls `each(pid, stat, cmdline)` for every process whose command line (spaces for NULs)
// contains `needle`.
template <typename F> void for_each_process(const std::string& needle, F each) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) {
      continue;
    }
    std::string cmdline = slurp(entry.path() / "cmdline");
    for (char& c : cmdline) {
      c = c == '\0' ? ' ' : c;
    }
    if (cmdline.find(needle) != std::string::npos) {
      each(name, slurp(entry.path() / "stat"), cmdline);
    }
  }
}

// True if a live (not zombie) process's command line contains `needle`.
inline bool process_running(const std::string& needle) {
  bool found = false;
  for_each_process(needle, [&](const std::string&, const std::string& stat, const std::string&) {
    found = found || stat.find(") Z") == std::string::npos;
  });
  return found;
}

// What /proc says of the processes whose command line contains `needle` ("pid state ppid ...
// cmdline" lines), for failure messages.
inline std::string describe_processes(const std::string& needle) {
  std::string out;
  for_each_process(needle, [&](const std::string& pid, const std::string& stat,
                               const std::string& cmdline) {
    size_t close = stat.rfind(')');
    out += pid + " " + (close == std::string::npos ? stat : stat.substr(close + 2, 12)) + " " +
           cmdline + "\n";
  });
  return out;
}

// True once no live process's command line contains `needle`, waiting up to `limit` (a process
// killed a moment ago may take that long to be gone); false if one is still there.
inline bool process_gone_within(const std::string& needle, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (process_running(needle)) {
    if (std::chrono::steady_clock::now() > deadline) {
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// A private nginx setup in `dir` listening on 127.0.0.1:`port`, plus a wrk test script.
struct NginxSetup {
  std::filesystem::path binary = "/usr/sbin/nginx";
  std::vector<std::string> args;
  std::filesystem::path test_script;
};

inline NginxSetup nginx_setup(const std::filesystem::path& dir, int port) {
  std::filesystem::create_directories(dir / "www");
  std::filesystem::create_directories(dir / "tmp");
  std::ofstream(dir / "www" / "index.html") << "lupa-ok\n";
  std::string d = dir.string();
  std::ofstream(dir / "nginx.conf") << fmt::format(
      "worker_processes 1;\n"
      "error_log {0}/error.log;\n"
      "pid {0}/nginx.pid;\n"
      "events {{ worker_connections 64; }}\n"
      "http {{\n"
      "  access_log off;\n"
      "  client_body_temp_path {0}/tmp/body;\n"
      "  proxy_temp_path {0}/tmp/proxy;\n"
      "  fastcgi_temp_path {0}/tmp/fastcgi;\n"
      "  uwsgi_temp_path {0}/tmp/uwsgi;\n"
      "  scgi_temp_path {0}/tmp/scgi;\n"
      "  server {{ listen 127.0.0.1:{1}; root {0}/www; }}\n"
      "}}\n",
      d, port);
  // nginx's workers run as nobody: everything they serve must be world-readable.
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    ::chmod(entry.path().c_str(), entry.is_directory() ? 0755 : 0644);
  }
  // ... and every directory above it (temporary directories are private by default).
  for (std::filesystem::path p = dir; p != p.root_path(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && (st.st_mode & 0005) != 0005) {
      ::chmod(p.c_str(), (st.st_mode & 07777) | 0005);
    }
  }
  NginxSetup setup;
  setup.args = {"-p", d, "-c", d + "/nginx.conf", "-g", "daemon off;"};
  setup.test_script = script(
      dir, "test.sh",
      fmt::format("#!/bin/sh\n"
                  "# nginx works when it serves the page and survives a short wrk run.\n"
                  "curl -sf --max-time 2 http://127.0.0.1:{0}/index.html | grep -q lupa-ok "
                  "|| exit 1\n"
                  "out=$(wrk -t1 -c2 -d1s http://127.0.0.1:{0}/index.html 2>&1) || exit 1\n"
                  "echo \"$out\" | grep -q 'Non-2xx' && exit 1\n"
                  "echo \"$out\" | grep -Eq 'Requests/sec: +[0-9.]+' || exit 1\n"
                  "exit 0\n",
                  port));
  return setup;
}

// Why the nginx tests cannot run here, or empty.
inline std::string nginx_unavailable() {
  for (const char* tool : {"/usr/sbin/nginx", "/usr/bin/wrk", "/usr/bin/curl"}) {
    if (!util::is_executable_file(tool)) {
      return fmt::format("{} is not installed (scripts/install-deps.sh installs it)", tool);
    }
  }
  return tracing_unavailable();
}

} // namespace lupa_test
