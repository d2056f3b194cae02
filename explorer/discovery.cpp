#include "explorer/discovery.h"

#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "explorer/cancel.h"
#include "explorer/filter.h"
#include "explorer/local_worker.h"
#include "explorer/readiness.h"
#include "explorer/spawn.h"
#include "explorer/supervisor.h"
#include "util/fs.h"
#include "util/log.h"

#include <fmt/format.h>

#include <linux/audit.h>
#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <future>
#include <thread>
#include <unordered_map>

namespace explorer {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr long k_trace_options = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK |
                                 PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |
                                 PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;

constexpr unsigned long k_x32_bit = 0x40000000;

// The ptrace event loop. It runs on its own thread: ptrace requests must come from the thread
// that seized the tracees, and it waits only for its own tracees (__WNOTHREAD), so other
// threads may run their own children meanwhile.
class Tracer {
public:
  Tracer(pid_t root, const AppConfig& config, const SyscallObserver& observer)
      : m_root(root), m_only_consider(config.only_consider), m_observer(observer) {
    // The app's first execve, made by lupa's child, counts as the app's own call unless
    // --only-consider names another binary (then the harness made it).
    std::error_code ec;
    m_root_counts_exec =
        !m_only_consider || *m_only_consider == std::filesystem::canonical(config.binary, ec);
  }

  // Seizes the root and serves events until every tracee is gone. `attached` receives the
  // seize's error message (empty on success) as soon as it is known.
  void run(std::promise<std::string>& attached) {
    if (::ptrace(PTRACE_SEIZE, m_root, nullptr, k_trace_options) != 0) {
      attached.set_value(util::system_error_message("ptrace(PTRACE_SEIZE)"));
      return;
    }
    m_counted[m_root] = m_root_counts_exec;
    attached.set_value("");
    serve();
  }

  // The calls counted so far (may be read from another thread while tracing goes on).
  std::map<int, uint64_t> counts() const {
    std::map<int, uint64_t> out;
    for (int nr = 0; nr <= core::k_max_syscall_nr; ++nr) {
      if (uint64_t n = m_counts[nr].load(std::memory_order_relaxed); n != 0) {
        out[nr] = n;
      }
    }
    return out;
  }
  uint64_t foreign_calls() const { return m_foreign; }
  // What the calls selected and named (read once tracing is over).
  const std::map<core::FeatureKey, uint64_t>& features() const { return m_features; }
  const std::map<std::string, core::PathUse>& paths() const { return m_paths; }
  const std::set<std::string>& libraries() const { return m_libraries; }
  uint64_t unreadable_paths() const { return m_unreadable_paths; }
  uint64_t out_of_range() const { return m_out_of_range; }

private:
  void serve() {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, __WALL | __WNOTHREAD);
      if (pid < 0) {
        if (errno == EINTR) {
          continue;
        }
        return; // ECHILD: no tracee left
      }
      if (WIFEXITED(status) || WIFSIGNALED(status)) {
        m_counted.erase(pid);
        continue;
      }
      if (WIFSTOPPED(status)) {
        on_stop(pid, status);
      }
    }
  }

  void resume(pid_t pid, int sig = 0) {
    ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
  }

  // Whether calls of `tid` count: known, or learnt from its image (a new tracee runs the image
  // of the process that created it until it execs).
  bool counts_calls(pid_t tid) {
    if (!m_only_consider) {
      return true;
    }
    auto it = m_counted.find(tid);
    if (it != m_counted.end()) {
      return it->second;
    }
    bool counted = executable_of(tid) == *m_only_consider;
    m_counted[tid] = counted;
    return counted;
  }

  void on_stop(pid_t pid, int status) {
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    switch (event) {
    case PTRACE_EVENT_SECCOMP:
      on_syscall(pid);
      resume(pid);
      return;
    case PTRACE_EVENT_FORK:
    case PTRACE_EVENT_VFORK:
    case PTRACE_EVENT_CLONE: {
      unsigned long child = 0;
      ::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &child);
      if (m_only_consider && child != 0) {
        m_counted[static_cast<pid_t>(child)] = counts_calls(pid);
      }
      resume(pid);
      return;
    }
    case PTRACE_EVENT_EXEC: {
      // A non-leader thread that execs takes the leader's pid; its old tid is gone.
      unsigned long former = 0;
      ::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &former);
      if (former != 0 && static_cast<pid_t>(former) != pid) {
        m_counted.erase(static_cast<pid_t>(former));
      }
      if (m_only_consider) {
        m_counted[pid] = executable_of(pid) == *m_only_consider;
      }
      resume(pid);
      return;
    }
    case PTRACE_EVENT_STOP:
      // Group-stop: keep it stopped but let SIGCONT through; other traps (a new tracee's first
      // stop, an interrupt) just go on.
      if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
        ::ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);
      } else {
        resume(pid);
      }
      return;
    default:
      // Signal-delivery-stop: deliver the signal as if we were not there.
      resume(pid, sig == (SIGTRAP | 0x80) ? 0 : sig);
      return;
    }
  }

  void on_syscall(pid_t tid) {
    __ptrace_syscall_info info{};
    if (::ptrace(PTRACE_GET_SYSCALL_INFO, tid, reinterpret_cast<void*>(sizeof(info)), &info) <=
            0 ||
        info.op != PTRACE_SYSCALL_INFO_SECCOMP) {
      return;
    }
    if (!counts_calls(tid)) {
      return;
    }
    unsigned long nr = info.seccomp.nr;
    if (info.arch != AUDIT_ARCH_X86_64 || (nr & k_x32_bit) != 0) {
      ++m_foreign;
      return;
    }
    if (nr > static_cast<unsigned long>(core::k_max_syscall_nr)) {
      ++m_out_of_range; // invalid numbers (the kernel answers -ENOSYS)
      return;
    }
    m_counts[nr].fetch_add(1, std::memory_order_relaxed);
    SyscallEvent event{tid, static_cast<int>(nr), {}};
    for (size_t i = 0; i < 6; ++i) {
      event.args[i] = info.seccomp.args[i];
    }
    record_details(event);
    if (m_observer) {
      m_observer(event);
    }
  }

  // Sub-features and pseudo-files (core/subfeatures.h), read while the caller is stopped.
  void record_details(const SyscallEvent& event) {
    core::add_feature_keys(event.nr, event.args, 1, m_features);
    std::optional<unsigned> path_arg = core::path_arg_index(event.nr);
    if (!path_arg || event.args[*path_arg] == 0) {
      return;
    }
    std::optional<std::string> path = read_string(event.tid, event.args[*path_arg]);
    if (!path) {
      ++m_unreadable_paths;
    } else if (core::is_pseudo_file_path(*path)) {
      core::PathUse& use = m_paths[*path];
      ++use.count;
      use.syscalls.insert(core::SyscallTable::get().name(event.nr));
    } else if (is_open(event.nr) && core::is_shared_object_path(*path)) {
      m_libraries.insert(*path);
    }
  }

  static bool is_open(int nr) { return nr == SYS_open || nr == SYS_openat || nr == SYS_openat2; }

  pid_t m_root;
  std::optional<std::filesystem::path> m_only_consider;
  const SyscallObserver& m_observer;
  bool m_root_counts_exec = true;
  std::unordered_map<pid_t, bool> m_counted; // only with --only-consider
  std::array<std::atomic<uint64_t>, core::k_max_syscall_nr + 1> m_counts{};
  uint64_t m_foreign = 0;
  uint64_t m_out_of_range = 0;
  std::map<core::FeatureKey, uint64_t> m_features;
  std::map<std::string, core::PathUse> m_paths;
  std::set<std::string> m_libraries;
  uint64_t m_unreadable_paths = 0;
};

// What one traced run found, and whether the test passed meanwhile.
struct TracedRun {
  core::Discovery discovery;
  bool passed = false;
  std::string failure; // why the run does not count, when it does not
};

util::Result<TracedRun> traced_run(const AppConfig& config, const DiscoveryOptions& options,
                                   const FilterProgram& filter, const std::filesystem::path& dir) {
  Clock::time_point start = Clock::now();
  AppConfig slow = config; // ptrace slows the app: more time for it and its test
  slow.timeout = config.timeout * k_discovery_timeout_factor;
  slow.ready_timeout = config.ready_timeout * k_discovery_timeout_factor;
  slow.settle = config.settle * k_discovery_timeout_factor;
  // Ending the app (SIGTERM, then SIGKILL) is slower too: a shorter grace would cut its
  // shutdown short and lose the calls it makes (nginx's master and worker talking).
  slow.kill_grace = config.kill_grace * k_discovery_timeout_factor;

  LaunchSpec spec;
  spec.program = config.binary;
  spec.argv = {config.binary.string()};
  spec.argv.insert(spec.argv.end(), config.args.begin(), config.args.end());
  spec.output = dir / "output.log";
  spec.filter = &filter;
  spec.wait_for_tracer = WaitForTracer::yes;
  spec.net = app_network(config);
  TRY_ASSIGN(std::unique_ptr<ProcessTree> tree, ProcessTree::launch(spec));

  Tracer tracer(tree->root(), config, options.observer);
  std::promise<std::string> attached;
  std::future<std::string> attach_error = attached.get_future();
  std::thread tracer_thread([&] { tracer.run(attached); });
  std::string error = attach_error.get();
  if (!error.empty()) {
    tracer_thread.join();
    return util::error(fmt::format("{} (discovery traces the app: run as root, or grant "
                                   "CAP_SYS_PTRACE, or set kernel.yama.ptrace_scope to 0 or 1)",
                                   error));
  }
  tree->tracer_attached();

  TracedRun run;
  // The tracer thread ends once every tracee is gone, whatever happens here.
  struct JoinTracer {
    ProcessTree& tree;
    std::thread& thread;
    ~JoinTracer() {
      tree.terminate(milliseconds(0));
      if (thread.joinable()) {
        thread.join();
      }
    }
  } join{*tree, tracer_thread};

  auto test = [&]() {
    if (!config.test_script) {
      run.passed = true;
      return;
    }
    NetNamespace net = app_network(config);
    if (net.kind == NetNamespace::Kind::fresh) {
      net = {NetNamespace::Kind::join, tree->reaper()};
    }
    TestRun result = run_test_script(slow, spec.output, dir / "test.log", net);
    run.passed = !result.timed_out && result.exit_code == 0;
    if (!run.passed) {
      run.failure = result.timed_out ? fmt::format("the test script did not finish within {} ms",
                                                   slow.timeout.count())
                                     : fmt::format("the test script exited {}", result.exit_code);
    }
  };
  if (config.mode == Mode::sequential) {
    Clock::time_point deadline = Clock::now() + slow.timeout;
    while (!tree->root_exited() && Clock::now() < deadline) {
      throw_if_cancelled();
      tree->wait_root(std::min(deadline, Clock::now() + milliseconds(50)));
    }
    if (!tree->root_exited()) {
      run.failure = fmt::format("the app did not finish within {} ms", slow.timeout.count());
    } else if (tree->root_exit_code() != 0) {
      run.failure = fmt::format("the app exited with status {}", tree->root_exit_code());
    }
    tree->terminate(slow.kill_grace);
    if (run.failure.empty()) {
      test();
    }
  } else {
    ReadyResult ready = wait_ready(
        *tree,
        {std::set<int>(options.expect_ports.begin(), options.expect_ports.end()),
         options.expect_processes},
        slow);
    // What the app called until now set it up; what comes next serves the workload.
    run.discovery.startup = tracer.counts();
    if (ready.state == ReadyState::exited) {
      run.failure = "the app exited before it was ready";
    } else {
      test();
      run.discovery.before_verdict = tracer.counts(); // the rest: its shutdown
    }
    tree->terminate(slow.kill_grace);
  }
  if (std::optional<std::string> failure = tree->launch_error()) {
    return util::error(fmt::format("{}: {}", config.binary.string(), *failure));
  }
  tracer_thread.join();

  core::Discovery& d = run.discovery;
  d.backend = "ptrace";
  d.counts = tracer.counts();
  d.features = tracer.features();
  d.paths = tracer.paths();
  d.libraries = tracer.libraries();
  if (tracer.unreadable_paths() != 0) {
    util::log::verbose("discovery: {} path arguments could not be read (bad pointers)",
                       tracer.unreadable_paths());
  }
  if (tracer.foreign_calls() != 0) {
    d.complete = false;
    d.incomplete_reason = fmt::format(
        "{} calls through the i386 or x32 ABI were seen and not counted", tracer.foreign_calls());
  }
  d.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return run;
}

} // namespace

util::Result<core::Discovery> discover(const AppConfig& config, const DiscoveryOptions& options) {
  TRY_ASSIGN(FilterProgram filter, trace_all_filter());
  std::filesystem::path parent =
      config.scratch.empty() ? std::filesystem::temp_directory_path() : config.scratch;
  std::string failure;
  for (unsigned attempt = 1; attempt <= std::max(1u, options.attempts); ++attempt) {
    throw_if_cancelled();
    util::TempDir dir("discovery", parent);
    TRY_ASSIGN(TracedRun run, traced_run(config, options, filter, dir.path()));
    if (run.failure.empty() && run.passed) {
      return run.discovery;
    }
    failure = run.failure;
    util::log::verbose("discovery attempt {} failed: {}", attempt, failure);
  }
  return util::error(fmt::format("discovery failed: {} while the app ran traced (after {} "
                                 "attempts; ptrace slows the app, try a larger --timeout)",
                                 failure, std::max(1u, options.attempts)));
}

} // namespace explorer
