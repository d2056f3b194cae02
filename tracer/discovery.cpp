#include "tracer/discovery.h"

#include "tracer/capabilities.h"
#include "util/fs.h"
#include "util/log.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <utility>

namespace tracer {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds k_poll_slice{100};
constexpr std::chrono::seconds k_kill_grace{2};

volatile std::sig_atomic_t g_stop_signal = 0;

extern "C" void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

// While alive, SIGINT and SIGTERM end the measurement instead of killing lupa, so the counts
// so far are still reported (as `strace -c` does on Ctrl-C).
class StopSignals {
public:
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &m_old_int);
    sigaction(SIGTERM, &action, &m_old_term);
  }
  ~StopSignals() {
    sigaction(SIGINT, &m_old_int, nullptr);
    sigaction(SIGTERM, &m_old_term, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool raised() const { return g_stop_signal != 0; }

private:
  struct sigaction m_old_int {};
  struct sigaction m_old_term {};
};

class Fd {
public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  int get() const { return m_fd; }
  void reset() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = -1;
  }

private:
  int m_fd;
};

int pidfd_open(pid_t pid) {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

// Waits until every process of `pidfds` has ended (never when it is empty), the duration of
// `options` has passed, or a stop signal came; takes the snapshots `options` asks for.
StopReason wait_until_stopped(const std::vector<int>& pidfds, const RunOptions& options,
                              const StopSignals& signals, EbpfDiscovery& discovery) {
  const Clock::time_point start = Clock::now();
  Clock::time_point next_snapshot = start + options.interval;
  std::vector<pollfd> fds;
  for (int fd : pidfds) {
    fds.push_back({fd, POLLIN, 0});
  }
  for (;;) {
    if (signals.raised()) {
      return StopReason::interrupted;
    }
    if (!fds.empty()) {
      bool all_ended = true;
      for (pollfd& p : fds) {
        if (p.fd >= 0 && ::poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP)) != 0) {
          p.fd = -1; // this one ended
        }
        all_ended = all_ended && p.fd < 0;
      }
      if (all_ended) {
        return StopReason::exited;
      }
    }
    Clock::time_point now = Clock::now();
    if (options.duration && now - start >= *options.duration) {
      return StopReason::duration;
    }
    if (options.interval.count() > 0 && options.on_snapshot && now >= next_snapshot) {
      if (util::Result<TraceReport> report = discovery.snapshot()) {
        options.on_snapshot(*report);
      }
      next_snapshot = now + options.interval;
    }
    std::chrono::milliseconds wait = k_poll_slice;
    if (options.duration) {
      auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(start + *options.duration - now);
      wait = std::min(wait, std::max(left, std::chrono::milliseconds(1)));
    }
    std::vector<pollfd> live;
    for (const pollfd& p : fds) {
      if (p.fd >= 0) {
        live.push_back(p);
      }
    }
    ::poll(live.data(), live.size(), static_cast<int>(wait.count())); // EINTR: checked above
  }
}

int shell_status(int status) {
  if (WIFEXITED(status)) {
    return WEXITSTATUS(status);
  }
  if (WIFSIGNALED(status)) {
    return 128 + WTERMSIG(status);
  }
  return 255;
}

// Ends `child` (SIGTERM, SIGKILL after a grace period) and reaps it; its status.
int terminate_and_reap(pid_t child, int pidfd) {
  int status = 0;
  if (::waitpid(child, &status, WNOHANG) == child) {
    return shell_status(status);
  }
  ::kill(child, SIGTERM);
  pollfd p{pidfd, POLLIN, 0};
  ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(k_kill_grace).count()));
  if (::waitpid(child, &status, WNOHANG) != child) {
    ::kill(child, SIGKILL);
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  }
  return shell_status(status);
}

} // namespace

util::Result<void> ebpf_discovery_available() {
  TRY(check_bpf_capabilities());
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    return util::error("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing); HINT: use "
                       "a kernel built with CONFIG_DEBUG_INFO_BTF, or ptrace discovery");
  }
  return {};
}

EbpfDiscovery::EbpfDiscovery(Scope scope, std::unique_ptr<SyscallProbe> probe)
    : m_scope(std::move(scope)), m_probe(std::move(probe)), m_start(Clock::now()) {}

EbpfDiscovery::~EbpfDiscovery() {
  if (!m_stopped && m_probe) {
    m_probe->stop();
  }
}

util::Result<std::unique_ptr<EbpfDiscovery>>
EbpfDiscovery::start(const Scope& scope, const ProbeOptions& options,
                     std::unique_ptr<SyscallProbe> probe) {
  TRY(scope.validate());
  if (!probe) {
    probe = make_bpf_probe();
  }
  util::log::verbose("eBPF discovery of {}", scope.describe());
  TRY(probe->start(scope, options));
  return std::unique_ptr<EbpfDiscovery>(new EbpfDiscovery(scope, std::move(probe)));
}

util::Result<TraceReport> EbpfDiscovery::report() {
  TRY_ASSIGN(RawCounts raw, m_probe->read());
  double seconds = std::chrono::duration<double>(Clock::now() - m_start).count();
  TraceReport report = make_report(raw, seconds);
  if (m_scope.exec_trigger && m_scope.roots.empty() && report.triggers == 0) {
    mark_incomplete(report,
                    fmt::format("the traced program never started (no exec by process "
                                "{} or its children{})",
                                m_scope.exec_trigger->parent,
                                m_scope.exec_trigger->binary ? " of the given binary" : ""));
  }
  return report;
}

util::Result<TraceReport> EbpfDiscovery::snapshot() {
  return report();
}

util::Result<TraceReport> EbpfDiscovery::finish() {
  if (!m_stopped) {
    m_probe->stop();
    m_stopped = true;
  }
  return report();
}

util::Result<CommandTrace> discover_command(const std::vector<std::string>& argv,
                                            const RunOptions& options,
                                            std::unique_ptr<SyscallProbe> probe) {
  if (argv.empty()) {
    return util::error("no command to trace");
  }
  std::filesystem::path program = argv[0].find('/') == std::string::npos
                                      ? util::find_in_path(argv[0])
                                      : std::filesystem::path(argv[0]);
  if (program.empty() || !util::is_executable_file(program)) {
    return util::error(fmt::format("{}: command not found or not executable", argv[0]));
  }

  // The child waits on `go` until the probe is attached, then execs; `exec_error` (close on
  // exec) carries errno back when the exec fails.
  int go[2];
  int exec_error[2];
  if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(exec_error, O_CLOEXEC) != 0) {
    return util::error(util::system_error_message("pipe"));
  }
  std::vector<char*> args;
  for (const std::string& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);
  pid_t child = ::fork();
  if (child < 0) {
    return util::error(util::system_error_message("fork"));
  }
  if (child == 0) {
    ::close(go[1]);
    ::close(exec_error[0]);
    char byte = 0;
    if (::read(go[0], &byte, 1) != 1) {
      ::_exit(127); // lupa gave up before starting the command
    }
    ::execv(program.c_str(), args.data());
    int err = errno;
    (void)!::write(exec_error[1], &err, sizeof(err));
    ::_exit(127);
  }
  ::close(go[0]);
  ::close(exec_error[1]);
  Fd go_write(go[1]);
  Fd error_read(exec_error[0]);
  Fd pidfd(pidfd_open(child));

  Scope scope;
  scope.exec_trigger = ExecTrigger{child, std::nullopt};
  scope.only_binary = options.only_binary;
  util::Result<std::unique_ptr<EbpfDiscovery>> discovery =
      EbpfDiscovery::start(scope, options.probe, std::move(probe));
  if (!discovery) {
    go_write.reset(); // the child reads EOF and exits
    int status = 0;
    ::waitpid(child, &status, 0);
    return util::error(discovery.error());
  }

  StopSignals signals;
  char byte = 'g';
  if (::write(go_write.get(), &byte, 1) != 1) {
    terminate_and_reap(child, pidfd.get());
    return util::error(util::system_error_message("cannot start the traced command"));
  }
  go_write.reset();
  int err = 0;
  if (::read(error_read.get(), &err, sizeof(err)) == sizeof(err)) {
    terminate_and_reap(child, pidfd.get());
    return util::error(
        util::system_error_message(fmt::format("cannot run {}", program.string()), err));
  }

  CommandTrace trace;
  trace.stop = wait_until_stopped({pidfd.get()}, options, signals, **discovery);
  trace.exit_status = terminate_and_reap(child, pidfd.get());
  TRY_ASSIGN(trace.report, (*discovery)->finish());
  return trace;
}

util::Result<ScopeTrace> trace_scope(const Scope& scope, const RunOptions& options,
                                     std::unique_ptr<SyscallProbe> probe) {
  std::vector<Fd> pidfds;
  std::vector<int> raw_fds;
  for (pid_t pid : scope.roots) {
    Fd fd(pidfd_open(pid));
    if (fd.get() < 0) {
      return util::error(util::system_error_message(fmt::format("process {}", pid)));
    }
    raw_fds.push_back(fd.get());
    pidfds.push_back(std::move(fd));
  }
  TRY_ASSIGN(std::unique_ptr<EbpfDiscovery> discovery,
             EbpfDiscovery::start(scope, options.probe, std::move(probe)));
  StopSignals signals;
  ScopeTrace trace;
  trace.stop = wait_until_stopped(raw_fds, options, signals, *discovery);
  TRY_ASSIGN(trace.report, discovery->finish());
  return trace;
}

} // namespace tracer
