#include "ptrace_count.h"

#include <fmt/format.h>

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace bench {

uint64_t PtraceCount::total() const {
  uint64_t sum = 0;
  for (const auto& [nr, count] : counts) {
    sum += count;
  }
  return sum;
}

util::Result<PtraceCount> ptrace_count(const std::vector<std::string>& argv) {
  std::vector<std::string> copy = argv;
  std::vector<char*> args;
  for (std::string& a : copy) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  pid_t root = ::fork();
  if (root < 0) {
    return util::error(util::system_error_message("fork"));
  }
  if (root == 0) {
    ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    ::raise(SIGSTOP);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (::waitpid(root, &status, 0) != root || !WIFSTOPPED(status)) {
    return util::error("the traced child did not stop");
  }
  const long options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK |
                       PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL;
  if (::ptrace(PTRACE_SETOPTIONS, root, nullptr, options) != 0) {
    return util::error(util::system_error_message("PTRACE_SETOPTIONS"));
  }
  ::ptrace(PTRACE_SYSCALL, root, nullptr, nullptr);

  PtraceCount result;
  for (;;) {
    pid_t tid = ::waitpid(-1, &status, __WALL);
    if (tid < 0) {
      if (errno == EINTR) {
        continue;
      }
      break; // ECHILD: the whole tree is gone
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      if (tid == root) {
        result.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      continue;
    }
    if (!WIFSTOPPED(status)) {
      continue;
    }
    int sig = WSTOPSIG(status);
    int inject = 0;
    if (sig == (SIGTRAP | 0x80)) {
      __ptrace_syscall_info info{};
      if (::ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof(info)), &info) >
              0 &&
          info.op == PTRACE_SYSCALL_INFO_ENTRY) {
        result.counts[static_cast<int>(info.entry.nr)] += 1;
      }
    } else if (sig == SIGTRAP && (status >> 16) != 0) {
      // fork/clone/exec event stop: the new task is traced automatically.
    } else if (sig == SIGSTOP || sig == SIGTRAP) {
      // A new task's initial stop.
    } else {
      inject = sig; // a real signal for the tracee
    }
    ::ptrace(PTRACE_SYSCALL, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(inject)));
  }
  return result;
}

} // namespace bench
