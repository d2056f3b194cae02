#pragma once
// Helpers of the tracer's integration tests: skip reasons, running programs with captured
// output, and stdin/stdout on /dev/null around an in-process traced command (so that it sees
// the same file descriptors as the strace reference run).

#include "core/syscalls.h"
#include "tracer/discovery.h"
#include "util/fs.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <optional>
#include <string>
#include <vector>

namespace lupa_test {

// Why eBPF tests cannot run here, or nullopt.
inline std::optional<std::string> ebpf_skip_reason() {
  util::Result<void> ok = tracer::ebpf_discovery_available();
  if (!ok) {
    return "eBPF discovery is not available here: " + ok.error();
  }
  return std::nullopt;
}

// Skips the current test when eBPF discovery cannot run here.
#define SKIP_WITHOUT_EBPF()                                                                        \
  if (std::optional<std::string> reason = ::lupa_test::ebpf_skip_reason()) {                       \
    GTEST_SKIP() << *reason;                                                                       \
  }

// The number of syscall `name` (which must exist).
inline int nr_of(const char* name) {
  return *core::SyscallTable::get().number(name);
}

// While alive, fds 0 and 1 of this process are /dev/null.
class NullStdio {
public:
  NullStdio() {
    m_in = ::dup(0);
    m_out = ::dup(1);
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::close(null);
  }
  ~NullStdio() {
    ::dup2(m_in, 0);
    ::dup2(m_out, 1);
    ::close(m_in);
    ::close(m_out);
  }
  NullStdio(const NullStdio&) = delete;
  NullStdio& operator=(const NullStdio&) = delete;

private:
  int m_in = -1;
  int m_out = -1;
};

struct Captured {
  int status = -1; // exit code, or 128 + signal
  std::string out;
  std::string err;
};

// Runs `argv` (argv[0] a path or found in PATH), stdin on /dev/null; its exit code and output.
inline Captured run_capture(const std::vector<std::string>& argv) {
  util::TempDir dir("lupa-test-run");
  std::string out_path = (dir.path() / "out").string();
  std::string err_path = (dir.path() / "err").string();
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (std::string& a : copy) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_RDONLY);
    int out = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(null, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  Captured c;
  c.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  c.out = util::read_file(out_path).value_or("");
  c.err = util::read_file(err_path).value_or("");
  return c;
}

} // namespace lupa_test
