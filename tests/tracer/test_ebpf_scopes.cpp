// eBPF discovery scopes and loss accounting on real processes: running trees, threads, a
// whole cgroup, an exec trigger with a binary filter, paths read at syscall exit, full maps.
#include "core/syscalls.h"
#include "tracer/cgroup.h"
#include "tracer/discovery.h"
#include "util/strings.h"

#include "inttest_util.h"
#include "strace_discovery.h"

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

using namespace tracer;
using namespace lupa_test;

namespace {

// `tracee waitwork N` started in the background: the parent pid and its child's.
struct WaitWork {
  pid_t parent = -1;
  pid_t child = -1;

  explicit WaitWork(long n) {
    int out[2];
    EXPECT_EQ(::pipe(out), 0);
    parent = ::fork();
    if (parent == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::execl(LUPA_TRACEE, LUPA_TRACEE, "waitwork", std::to_string(n).c_str(), nullptr);
      ::_exit(127);
    }
    ::close(out[1]);
    char buf[32] = {};
    ssize_t got = ::read(out[0], buf, sizeof(buf) - 1);
    ::close(out[0]);
    child = got > 0 ? std::atoi(buf) : -1;
  }
  // Lets both go and waits for the parent (which reaps the child); its exit status.
  int go_and_wait() {
    // The child first: the parent waits for it.
    ::kill(child, SIGUSR1);
    ::kill(parent, SIGUSR1);
    int status = 0;
    ::waitpid(parent, &status, 0);
    return status;
  }
  ~WaitWork() {
    if (::waitpid(parent, nullptr, WNOHANG) == 0) {
      ::kill(child, SIGKILL);
      ::kill(parent, SIGKILL);
      ::waitpid(parent, nullptr, 0);
    }
  }
};

// A temporary cgroup v2 directory, removed at the end.
struct TempCgroup {
  std::filesystem::path path;
  TempCgroup() {
    util::Result<std::filesystem::path> mount = cgroup2_mount();
    if (mount) {
      path = *mount / fmt::format("lupa-test-tracer-{}", ::getpid());
      std::filesystem::create_directory(path);
    }
  }
  bool add(pid_t pid) const {
    std::ofstream procs(path / "cgroup.procs");
    procs << pid << "\n";
    procs.flush();
    return procs.good();
  }
  ~TempCgroup() {
    if (!path.empty()) {
      ::rmdir(path.c_str());
    }
  }
};

} // namespace

TEST(EbpfScopes, FollowsARunningProcessTree) {
  SKIP_WITHOUT_EBPF();
  WaitWork work(5000);
  ASSERT_GT(work.child, 0);
  Scope scope;
  scope.roots = {work.parent};
  util::Result<std::unique_ptr<EbpfDiscovery>> d = EbpfDiscovery::start(scope);
  ASSERT_TRUE(d) << d.error();
  EXPECT_EQ(work.go_and_wait(), 0);
  util::Result<TraceReport> report = (*d)->finish();
  ASSERT_TRUE(report) << report.error();
  EXPECT_TRUE(report->discovery.complete) << report->discovery.incomplete_reason;
  // The child was forked before tracing started: found through /proc.
  EXPECT_EQ(report->discovery.counts.at(nr_of("getppid")), 10000U);
  ASSERT_EQ(report->processes.size(), 2U);
  EXPECT_EQ(report->processes[0].tgid, static_cast<uint32_t>(std::min(work.parent, work.child)));
}

TEST(EbpfScopes, ThreadsShareTheirProcess) {
  SKIP_WITHOUT_EBPF();
  util::Result<CommandTrace> trace =
      discover_command({LUPA_TRACEE, "threads", "1000", "4"}, RunOptions{});
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace->report.discovery.counts.at(nr_of("getppid")), 4000U);
  EXPECT_EQ(trace->report.processes.size(), 1U);
  EXPECT_EQ(trace->report.triggers, 1U);
}

TEST(EbpfScopes, CountsAWholeCgroup) {
  SKIP_WITHOUT_EBPF();
  TempCgroup cgroup;
  if (cgroup.path.empty()) {
    GTEST_SKIP() << "cgroup v2 is not mounted here";
  }
  WaitWork work(3000);
  ASSERT_GT(work.child, 0);
  ASSERT_TRUE(cgroup.add(work.parent));
  ASSERT_TRUE(cgroup.add(work.child));
  Scope scope;
  util::Result<Cgroup> resolved = cgroup_at(cgroup.path.string());
  ASSERT_TRUE(resolved) << resolved.error();
  scope.cgroup = *resolved;
  ASSERT_TRUE(scope.whole_cgroup());
  util::Result<std::unique_ptr<EbpfDiscovery>> d = EbpfDiscovery::start(scope);
  ASSERT_TRUE(d) << d.error();
  // Syscalls of this test process (outside the cgroup) are not counted.
  for (int i = 0; i < 100; ++i) {
    ::syscall(SYS_getppid);
  }
  EXPECT_EQ(work.go_and_wait(), 0);
  util::Result<TraceReport> report = (*d)->finish();
  ASSERT_TRUE(report) << report.error();
  EXPECT_TRUE(report->discovery.complete) << report->discovery.incomplete_reason;
  EXPECT_EQ(report->discovery.counts.at(nr_of("getppid")), 6000U);
  EXPECT_EQ(report->processes.size(), 2U);
}

TEST(EbpfScopes, ExecTriggerSkipsWhatRunsBeforeTheBinary) {
  SKIP_WITHOUT_EBPF();
  if (util::find_in_path("strace").empty()) {
    GTEST_SKIP() << "strace is not installed";
  }
  // The launcher's child runs a shell first, which runs `true` and then execs the tracee: only
  // the tracee's tree is counted, exactly as strace counts the tracee alone.
  const std::string script = fmt::format("/bin/true; exec {} work 100", LUPA_TRACEE);
  pid_t launcher = ::fork();
  if (launcher == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::execl(LUPA_TRACEE, LUPA_TRACEE, "launch", "/bin/sh", "-c", script.c_str(), nullptr);
    ::_exit(127);
  }
  Scope scope;
  util::Result<BinaryId> binary = BinaryId::of(LUPA_TRACEE);
  ASSERT_TRUE(binary) << binary.error();
  scope.exec_trigger = ExecTrigger{launcher, *binary};
  util::Result<std::unique_ptr<EbpfDiscovery>> d = EbpfDiscovery::start(scope);
  ASSERT_TRUE(d) << d.error();
  ::usleep(100 * 1000); // let the launcher reach its sigwait
  ::kill(launcher, SIGUSR1);
  int status = 0;
  ::waitpid(launcher, &status, 0);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  util::Result<TraceReport> report = (*d)->finish();
  ASSERT_TRUE(report) << report.error();
  EXPECT_TRUE(report->discovery.complete) << report->discovery.incomplete_reason;
  EXPECT_EQ(report->triggers, 1U);

  util::Result<core::Discovery> reference = strace_discovery({LUPA_TRACEE, "work", "100"});
  ASSERT_TRUE(reference) << reference.error();
  EXPECT_EQ(report->discovery.counts, reference->counts)
      << util::join(set_differences(report->discovery, *reference), "\n");
  for (const ProcessCounts& p : report->processes) {
    EXPECT_NE(p.tgid, static_cast<uint32_t>(launcher));
  }
}

TEST(EbpfScopes, ExecTriggerIgnoresOtherBinaries) {
  SKIP_WITHOUT_EBPF();
  Scope scope;
  scope.exec_trigger = ExecTrigger{::getpid(), BinaryId::of(LUPA_TRACEE).value()};
  util::Result<std::unique_ptr<EbpfDiscovery>> d = EbpfDiscovery::start(scope);
  ASSERT_TRUE(d) << d.error();
  Captured c = run_capture({"true"}); // a child of this process, another binary
  EXPECT_EQ(c.status, 0);
  util::Result<TraceReport> report = (*d)->finish();
  ASSERT_TRUE(report) << report.error();
  EXPECT_TRUE(report->discovery.counts.empty());
  EXPECT_FALSE(report->discovery.complete);
  EXPECT_NE(report->discovery.incomplete_reason.find("never started"), std::string::npos);
}

// A path string in a page the task never touched cannot be read at sys_enter; it is read at
// the task's next syscall, or at its exit when it dies without another syscall.
class NonResidentPath : public ::testing::TestWithParam<std::pair<const char*, int>> {};

TEST_P(NonResidentPath, IsReadAfterItsSyscall) {
  SKIP_WITHOUT_EBPF();
  const auto& [mode, status] = GetParam();
  util::Result<CommandTrace> trace = discover_command({LUPA_TRACEE, mode}, RunOptions{});
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace->exit_status, status);
  const core::Discovery& d = trace->report.discovery;
  EXPECT_TRUE(d.complete) << d.incomplete_reason;
  ASSERT_TRUE(d.paths.contains("/proc/self/stat"));
  EXPECT_EQ(d.paths.at("/proc/self/stat").syscalls, std::set<std::string>{"openat"});
  EXPECT_EQ(trace->report.paths_retried, 1U);
}

INSTANTIATE_TEST_SUITE_P(EbpfScopes, NonResidentPath,
                         ::testing::Values(std::make_pair("pathfault", 0),
                                           std::make_pair("pathsegv", 128 + SIGSEGV)));

TEST(EbpfScopes, AFullMapIsCountedAsALoss) {
  SKIP_WITHOUT_EBPF();
  RunOptions options;
  options.probe.max_feature_values = 1;
  util::Result<CommandTrace> trace = discover_command({LUPA_TRACEE, "work", "10"}, options);
  ASSERT_TRUE(trace) << trace.error();
  const TraceReport& report = trace->report;
  EXPECT_FALSE(report.discovery.complete);
  ASSERT_TRUE(report.losses.contains(Loss::feature_map_full));
  EXPECT_GT(report.losses.at(Loss::feature_map_full), 0U);
  EXPECT_EQ(report.discovery.lost_events, report.losses.at(Loss::feature_map_full));
  EXPECT_NE(report.discovery.incomplete_reason.find("sub-feature values dropped"),
            std::string::npos);
}

TEST(EbpfScopes, MergedProcessesStillCountExactly) {
  SKIP_WITHOUT_EBPF();
  RunOptions options;
  options.probe.max_processes = 2; // the overflow slot and one process
  util::Result<CommandTrace> trace = discover_command({LUPA_TRACEE, "work", "1000"}, options);
  ASSERT_TRUE(trace) << trace.error();
  const TraceReport& report = trace->report;
  EXPECT_TRUE(report.discovery.complete) << report.discovery.incomplete_reason;
  EXPECT_EQ(report.discovery.counts.at(nr_of("getppid")), 2000U);
  EXPECT_EQ(report.slots_exhausted, 1U);
  EXPECT_EQ(report.processes.back().tgid, 0U);
}

TEST(EbpfScopes, OnlyConsiderCountsOnlyThatBinary) {
  SKIP_WITHOUT_EBPF();
  if (util::find_in_path("strace").empty()) {
    GTEST_SKIP() << "strace is not installed";
  }
  // A shell (the harness) runs the tracee: only the tracee's calls count, from after the
  // execve that made it (judged by the shell's image, as ptrace discovery does).
  RunOptions options;
  options.only_binary = BinaryId::of(LUPA_TRACEE).value();
  const std::string script = fmt::format("{} work 100; true", LUPA_TRACEE);
  util::Result<CommandTrace> trace = discover_command({"sh", "-c", script}, options);
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_TRUE(trace->report.discovery.complete) << trace->report.discovery.incomplete_reason;

  util::Result<core::Discovery> reference = strace_discovery({LUPA_TRACEE, "work", "100"});
  ASSERT_TRUE(reference) << reference.error();
  std::map<int, uint64_t> expected = reference->counts;
  expected.erase(nr_of("execve")); // made by the shell's child
  EXPECT_EQ(trace->report.discovery.counts, expected)
      << util::join(set_differences(trace->report.discovery, *reference), "\n");
}
