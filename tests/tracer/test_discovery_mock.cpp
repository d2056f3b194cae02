// tracer/discovery with a mock probe: running a command (probe attached before the exec,
// detached after), exit statuses, stops, errors, and the trigger check. No privilege needed.
#include "tracer/discovery.h"
#include "util/fs.h"

#include "mock_probe.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

using namespace tracer;
using lupa_test::MockProbe;
using lupa_test::MockProbeLog;

namespace {

RawCounts triggered() {
  RawCounts raw;
  raw.triggers = 1;
  raw.slots.push_back({1, 42, 1, "app", std::vector<uint64_t>(512, 0)});
  raw.slots[0].counts[39] = 1; // getpid
  return raw;
}

std::unique_ptr<SyscallProbe> mock(const std::shared_ptr<MockProbeLog>& log,
                                   RawCounts raw = triggered(), std::string error = {}) {
  return std::make_unique<MockProbe>(log, std::move(raw), std::move(error));
}

bool no_children_left() {
  return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

} // namespace

TEST(DiscoverCommand, AttachesBeforeTheExecAndDetachesAfter) {
  auto log = std::make_shared<MockProbeLog>();
  std::filesystem::path exe_at_start;
  log->on_start = [&](const Scope& scope) {
    ASSERT_TRUE(scope.exec_trigger);
    // The child exists and has not exec'd yet: it is still this test binary.
    exe_at_start = std::filesystem::read_symlink(
        "/proc/" + std::to_string(scope.exec_trigger->parent) + "/exe");
  };
  util::Result<CommandTrace> trace = discover_command({"true"}, RunOptions{}, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(exe_at_start, std::filesystem::read_symlink("/proc/self/exe"));
  EXPECT_FALSE(log->scope.exec_trigger->binary); // any exec of the child
  EXPECT_FALSE(log->scope.cgroup);
  EXPECT_TRUE(log->stopped);
  EXPECT_EQ(trace->exit_status, 0);
  EXPECT_EQ(trace->stop, StopReason::exited);
  EXPECT_TRUE(trace->report.discovery.complete);
  EXPECT_EQ(trace->report.discovery.counts.at(39), 1U);
  EXPECT_TRUE(no_children_left());
}

TEST(DiscoverCommand, PassesTheOnlyBinaryToTheProbe) {
  auto log = std::make_shared<MockProbeLog>();
  RunOptions options;
  options.only_binary = BinaryId{7, 8};
  util::Result<CommandTrace> trace = discover_command({"true"}, options, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(log->scope.only_binary, (BinaryId{7, 8}));
}

TEST(DiscoverCommand, ReportsTheExitStatusAsAShellDoes) {
  auto log = std::make_shared<MockProbeLog>();
  util::Result<CommandTrace> trace =
      discover_command({"sh", "-c", "exit 7"}, RunOptions{}, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace->exit_status, 7);
  trace = discover_command({"sh", "-c", "kill -9 $$"}, RunOptions{}, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace->exit_status, 128 + 9);
}

TEST(DiscoverCommand, DurationTerminatesTheCommand) {
  auto log = std::make_shared<MockProbeLog>();
  RunOptions options;
  options.duration = std::chrono::milliseconds(200);
  auto start = std::chrono::steady_clock::now();
  util::Result<CommandTrace> trace = discover_command({"sleep", "30"}, options, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(trace->stop, StopReason::duration);
  EXPECT_EQ(trace->exit_status, 128 + 15); // SIGTERM
  EXPECT_TRUE(no_children_left());
}

TEST(DiscoverCommand, TakesLiveSnapshots) {
  auto log = std::make_shared<MockProbeLog>();
  RunOptions options;
  options.interval = std::chrono::milliseconds(50);
  int snapshots = 0;
  options.on_snapshot = [&](const TraceReport& report) {
    ++snapshots;
    EXPECT_EQ(report.discovery.counts.at(39), 1U);
  };
  util::Result<CommandTrace> trace = discover_command({"sleep", "0.4"}, options, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_GE(snapshots, 2);
  EXPECT_GE(log->reads, snapshots + 1);
}

TEST(DiscoverCommand, MissingCommandIsOneClearError) {
  auto log = std::make_shared<MockProbeLog>();
  util::Result<CommandTrace> trace =
      discover_command({"lupa-no-such-command"}, RunOptions{}, mock(log));
  ASSERT_FALSE(trace);
  EXPECT_EQ(trace.error(), "lupa-no-such-command: command not found or not executable");
  EXPECT_FALSE(log->started);
}

TEST(DiscoverCommand, ProbeFailureLeavesNoChildBehind) {
  auto log = std::make_shared<MockProbeLog>();
  util::Result<CommandTrace> trace = discover_command(
      {"true"}, RunOptions{}, mock(log, triggered(), "missing capability CAP_BPF"));
  ASSERT_FALSE(trace);
  EXPECT_EQ(trace.error(), "missing capability CAP_BPF");
  EXPECT_TRUE(no_children_left());
}

TEST(DiscoverCommand, FailedExecIsAnError) {
  util::TempDir dir("lupa-test");
  std::filesystem::path script = dir.path() / "bad";
  ASSERT_TRUE(util::write_file_atomic(script, "not an executable format\n"));
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto log = std::make_shared<MockProbeLog>();
  util::Result<CommandTrace> trace = discover_command({script.string()}, RunOptions{}, mock(log));
  ASSERT_FALSE(trace);
  EXPECT_NE(trace.error().find("cannot run " + script.string()), std::string::npos);
  EXPECT_TRUE(no_children_left());
}

TEST(EbpfDiscovery, ATriggerThatNeverFiredMakesItIncomplete) {
  auto log = std::make_shared<MockProbeLog>();
  Scope scope;
  scope.exec_trigger = ExecTrigger{::getpid(), BinaryId{1, 2}};
  util::Result<std::unique_ptr<EbpfDiscovery>> d =
      EbpfDiscovery::start(scope, ProbeOptions{}, mock(log, RawCounts{}));
  ASSERT_TRUE(d) << d.error();
  util::Result<TraceReport> report = (*d)->finish();
  ASSERT_TRUE(report) << report.error();
  EXPECT_FALSE(report->discovery.complete);
  EXPECT_NE(report->discovery.incomplete_reason.find("never started"), std::string::npos);
  EXPECT_TRUE(log->stopped);
}

TEST(EbpfDiscovery, AnEmptyScopeIsRejected) {
  auto log = std::make_shared<MockProbeLog>();
  util::Result<std::unique_ptr<EbpfDiscovery>> d =
      EbpfDiscovery::start(Scope{}, ProbeOptions{}, mock(log));
  ASSERT_FALSE(d);
  EXPECT_NE(d.error().find("nothing to trace"), std::string::npos);
  EXPECT_FALSE(log->started);
}

TEST(TraceScope, StopsWhenItsRootsHaveExited) {
  pid_t child = ::fork();
  if (child == 0) {
    ::usleep(200 * 1000);
    ::_exit(0);
  }
  auto log = std::make_shared<MockProbeLog>();
  Scope scope;
  scope.roots = {child};
  util::Result<ScopeTrace> trace = trace_scope(scope, RunOptions{}, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace->stop, StopReason::exited);
  EXPECT_EQ(log->scope.roots, std::vector<pid_t>{child});
  ::waitpid(child, nullptr, 0);
}

TEST(TraceScope, StopsAfterTheDuration) {
  auto log = std::make_shared<MockProbeLog>();
  Scope scope;
  scope.cgroup = Cgroup{"/sys/fs/cgroup/unified", "/", 1, 0};
  RunOptions options;
  options.duration = std::chrono::milliseconds(100);
  util::Result<ScopeTrace> trace = trace_scope(scope, options, mock(log));
  ASSERT_TRUE(trace) << trace.error();
  EXPECT_EQ(trace->stop, StopReason::duration);
  EXPECT_TRUE(log->stopped);
}
