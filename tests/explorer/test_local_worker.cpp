// Probes on real programs: seccomp stubs and fakes, the app's own first exec, counted hits,
// --only-consider, readiness, timeouts and retries; never a stray process.

#include "explorer/discovery.h"
#include "explorer/local_worker.h"
#include "explorer_testutil.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>

using namespace explorer;
using lupa_test::script;
using lupa_test::slurp;
using lupa_test::testprog;

class LocalWorkerTest : public testing::Test {
protected:
  void SetUp() override {
    if (std::string why = lupa_test::tracing_unavailable(); !why.empty()) {
      GTEST_SKIP() << why;
    }
  }

  // A sequential app whose output the test script greps for `expected`.
  AppConfig sequential(std::filesystem::path binary, std::vector<std::string> args,
                       const std::string& expected) {
    AppConfig config;
    config.binary = std::move(binary);
    config.args = std::move(args);
    config.mode = Mode::sequential;
    config.timeout = std::chrono::seconds(10);
    config.test_script =
        script(m_dir.path(), "test.sh", fmt::format("#!/bin/sh\ngrep -q '{}' \"$1\"\n", expected));
    config.scratch = m_dir.path();
    return config;
  }

  // A fixture TCP server on `port` and a bash test that reads its greeting.
  AppConfig server(int port, std::vector<std::string> extra = {}) {
    AppConfig config;
    config.binary = testprog();
    config.args = {"serve", std::to_string(port)};
    config.args.insert(config.args.end(), extra.begin(), extra.end());
    config.test_script = script(
        m_dir.path(), "serve-test.sh",
        fmt::format("#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/{}\nread line <&3\n"
                    "[ \"$line\" = ok ]\n",
                    port));
    config.scratch = m_dir.path();
    return config;
  }

  util::TempDir m_dir{"lupa-test-worker"};
};

TEST_F(LocalWorkerTest, StubAndFakeChangeWhatTheAppSees) {
  LocalWorker worker(sequential("/bin/echo", {"hello"}, "hello"), "w");
  EXPECT_TRUE(worker.run({}).works);
  core::Probe stub;
  stub.stub = {SYS_write};
  core::ProbeOutcome stubbed = worker.run(stub);
  EXPECT_FALSE(stubbed.works) << "echo cannot write: it reports the error and exits 1";
  EXPECT_EQ(stubbed.ended, core::ProbeEnd::app_failed);
  EXPECT_EQ(stubbed.app_exit, 1);
  core::Probe fake;
  fake.fake = {SYS_write};
  core::ProbeOutcome faked = worker.run(fake);
  EXPECT_FALSE(faked.works) << "write returning 0 writes nothing";
}

TEST_F(LocalWorkerTest, TheAppsOwnExecSurvivesStubbedExecCalls) {
  LocalWorker worker(sequential("/bin/echo", {"hello"}, "hello"), "w");
  for (core::Injection injection : {core::Injection::stub, core::Injection::fake}) {
    core::Probe probe;
    (injection == core::Injection::stub ? probe.stub : probe.fake) = {SYS_execve, SYS_execveat};
    core::ProbeOutcome outcome = worker.run(probe);
    EXPECT_TRUE(outcome.works) << core::to_string(injection) << ": " << outcome.note;
  }
  // ... but a later exec made by the app is injected.
  LocalWorker shell(sequential("/bin/sh", {"-c", "/bin/echo hello"}, "hello"), "sh");
  core::Probe probe;
  probe.stub = {SYS_execve};
  EXPECT_FALSE(shell.run(probe).works);
}

TEST_F(LocalWorkerTest, CountsTheInjectedCallsMade) {
  LocalWorker worker(sequential("/bin/echo", {"hello"}, "hello"), "w");
  core::Probe probe;
  probe.fake = {SYS_getpid, SYS_fadvise64}; // echo calls neither
  probe.stub = {SYS_write};
  probe.count_hits = true;
  core::ProbeOutcome outcome = worker.run(probe);
  EXPECT_GE(outcome.hits[SYS_write], 1u);
  EXPECT_EQ(outcome.hits.count(SYS_getpid), 0u);
  EXPECT_EQ(outcome.hits.count(SYS_fadvise64), 0u);
}

TEST_F(LocalWorkerTest, OnlyConsiderInjectsIntoTheBinaryNotItsHarness) {
  std::filesystem::path harness = script(
      m_dir.path(), "harness.sh",
      fmt::format("#!/bin/sh\necho harness-before\n{} sysinfo\necho harness-after\n",
                  testprog().string()));
  AppConfig config = sequential(harness, {}, "harness-after");
  config.only_consider = std::filesystem::canonical(testprog());
  std::filesystem::path output_copy = m_dir.path() / "copy";
  config.test_script = script(m_dir.path(), "copy-test.sh",
                              fmt::format("#!/bin/sh\ncp \"$1\" {}\n", output_copy.string()));
  LocalWorker copying(config, "copy");
  core::Probe probe;
  probe.stub = {SYS_write};
  probe.count_hits = true;
  core::ProbeOutcome outcome = copying.run(probe);
  EXPECT_TRUE(outcome.works) << outcome.note;
  EXPECT_EQ(slurp(output_copy), "harness-before\nharness-after\n")
      << "the harness still writes; the fixture's write (bin-out) was stubbed";
  EXPECT_EQ(outcome.hits[SYS_write], 1u);

  // Without --only-consider the harness loses its writes too: its echo fails, so does it.
  config.only_consider.reset();
  LocalWorker everyone(config, "everyone");
  core::ProbeOutcome broken = everyone.run(probe);
  EXPECT_FALSE(broken.works);
  EXPECT_EQ(broken.ended, core::ProbeEnd::app_failed);
}

TEST_F(LocalWorkerTest, WaitsUntilTheServerListens) {
  LocalWorker worker(server(18086, {"300"}), "w"); // listens after 300 ms
  core::ProbeOutcome outcome = worker.run({});
  EXPECT_TRUE(outcome.works) << outcome.note;
  EXPECT_EQ(outcome.ended, core::ProbeEnd::judged);
  EXPECT_EQ(outcome.listening, std::vector<int>{18086});
  EXPECT_LT(outcome.seconds, 3.0);
  core::Probe screen;
  screen.until_ready = true;
  screen.expect_ports = {18086};
  EXPECT_EQ(worker.run(screen).ended, core::ProbeEnd::ready);
  EXPECT_FALSE(lupa_test::process_running(testprog().string() + " serve"));
}

// The fixture server calls getpgrp only when SIGTERM ends it, after the test has decided.
TEST_F(LocalWorkerTest, CallsAfterTheVerdictAreCountedLate) {
  AppConfig config = server(18093);
  util::Result<core::Discovery> found = discover(config, {});
  ASSERT_TRUE(found) << found.error();
  EXPECT_TRUE(found->counts.contains(SYS_getpgrp));
  EXPECT_FALSE(found->before_verdict.contains(SYS_getpgrp)) << "made only at shutdown";
  EXPECT_TRUE(found->before_verdict.contains(SYS_write)) << "made for the test";
  EXPECT_FALSE(found->startup.contains(SYS_write));

  LocalWorker worker(config, "w");
  core::Probe probe;
  probe.stub = {SYS_getpgrp};
  probe.fake = {SYS_write};
  probe.count_hits = true;
  core::ProbeOutcome outcome = worker.run(probe);
  EXPECT_FALSE(outcome.works) << "write faked: the test reads nothing";
  EXPECT_GE(outcome.hits[SYS_write], 1u);
  EXPECT_EQ(outcome.late_hits.count(SYS_write), 0u) << "written in time for the verdict";
  EXPECT_EQ(outcome.hits[SYS_getpgrp], 1u);
  EXPECT_EQ(outcome.late_hits[SYS_getpgrp], 1u);

  // Killed at the verdict, the server never gets to its shutdown.
  core::Probe killed;
  killed.stub = {SYS_getpgrp};
  killed.count_hits = true;
  killed.kill_at_verdict = true;
  core::ProbeOutcome quick = worker.run(killed);
  EXPECT_TRUE(quick.works) << quick.note;
  EXPECT_EQ(quick.hits.count(SYS_getpgrp), 0u);
  EXPECT_FALSE(lupa_test::process_running(testprog().string() + " serve"));
}

TEST_F(LocalWorkerTest, AnAppThatDiesEarlyFailsAtOnce) {
  AppConfig config = server(18087);
  LocalWorker worker(config, "w");
  core::Probe probe;
  probe.stub = {SYS_listen};
  probe.expect_ports = {18087};
  core::ProbeOutcome outcome = worker.run(probe);
  EXPECT_FALSE(outcome.works);
  EXPECT_EQ(outcome.ended, core::ProbeEnd::app_exited);
  EXPECT_EQ(outcome.test_exit, -1) << "the test did not run";
  EXPECT_NE(outcome.note.find("Function not implemented"), std::string::npos) << outcome.note;

  config.on_early_exit = OnEarlyExit::run_test; // Loupe's way
  LocalWorker loupe(config, "loupe");
  core::ProbeOutcome tested = loupe.run(probe);
  EXPECT_FALSE(tested.works);
  EXPECT_NE(tested.test_exit, -1);
}

TEST_F(LocalWorkerTest, AnAppThatNeverGetsReadyIsStillJudged) {
  AppConfig config = server(18088);
  config.binary = testprog();
  config.args = {"busy"};
  config.ready_timeout = std::chrono::milliseconds(500);
  config.timeout = std::chrono::seconds(2);
  LocalWorker worker(config, "w");
  core::ProbeOutcome outcome = worker.run({});
  EXPECT_EQ(outcome.ended, core::ProbeEnd::not_ready);
  EXPECT_FALSE(outcome.works);
  EXPECT_FALSE(lupa_test::process_running(testprog().string() + " busy"));
}

TEST_F(LocalWorkerTest, AHangingTestTimesOutWithoutLeftovers) {
  AppConfig config = sequential("/bin/true", {}, "");
  config.timeout = std::chrono::milliseconds(500);
  config.test_script = script(m_dir.path(), "hang.sh", "#!/bin/sh\nsleep 1234\n");
  LocalWorker worker(config, "w");
  core::ProbeOutcome outcome = worker.run({});
  EXPECT_EQ(outcome.ended, core::ProbeEnd::test_timeout);
  EXPECT_FALSE(outcome.works);
  EXPECT_FALSE(lupa_test::process_running("sleep 1234"));
}

TEST_F(LocalWorkerTest, InfrastructureFailuresAreRetriedTwice) {
  AppConfig config = sequential("/bin/true", {}, "");
  config.test_script = script(m_dir.path(), "infra.sh",
                              fmt::format("#!/bin/sh\necho x >> {}/tries\nexit 200\n",
                                          m_dir.path().string()));
  LocalWorker worker(config, "w");
  core::ProbeOutcome outcome = worker.run({});
  EXPECT_TRUE(outcome.infra_failure);
  EXPECT_FALSE(outcome.works);
  EXPECT_EQ(outcome.retries, 2u);
  EXPECT_EQ(slurp(m_dir.path() / "tries"), "x\nx\nx\n");
}

TEST_F(LocalWorkerTest, WithoutTheAppOnlyTheTestRuns) {
  LocalWorker worker(server(18089), "w");
  core::Probe probe;
  probe.without_app = true;
  core::ProbeOutcome outcome = worker.run(probe);
  EXPECT_FALSE(outcome.works) << "nothing listens on the port";
  EXPECT_NE(outcome.test_exit, 0);
}

TEST_F(LocalWorkerTest, ReadyOnceTheLogLineAppears) {
  // The app writes the flag file, then its ready line, then idles: the test sees the flag only
  // if it ran after the line.
  std::filesystem::path flag = m_dir.path() / "flag";
  AppConfig config;
  config.binary = "/bin/sh";
  config.args = {"-c", fmt::format("sleep 0.4; echo starting; touch {}; echo 'Ready to accept "
                                   "connections'; exec sleep 4321",
                                   flag.string())};
  config.test_script = script(m_dir.path(), "flag.sh", fmt::format("#!/bin/sh\ntest -e {}\n",
                                                                    flag.string()));
  config.ready_log = "Ready to accept";
  config.scratch = m_dir.path();
  LocalWorker worker(config, "w");
  core::ProbeOutcome outcome = worker.run({});
  EXPECT_TRUE(outcome.works) << outcome.note;
  EXPECT_EQ(outcome.ended, core::ProbeEnd::judged);
  EXPECT_GE(outcome.ready_seconds, 0.4);
  EXPECT_FALSE(lupa_test::process_running("sleep 4321"));

  // A line that never comes: not ready at the timeout, still judged (and failing here).
  std::filesystem::remove(flag);
  config.ready_log = "never printed";
  config.ready_timeout = std::chrono::milliseconds(800);
  config.args = {"-c", "echo starting; exec sleep 4321"};
  LocalWorker silent(config, "w2");
  core::ProbeOutcome never = silent.run({});
  EXPECT_EQ(never.ended, core::ProbeEnd::not_ready);
  EXPECT_FALSE(never.works);
  EXPECT_FALSE(lupa_test::process_running("sleep 4321"));
}

TEST_F(LocalWorkerTest, TheAppRunsUnderTheNameItWasGiven) {
  // A program reached through a symlink sees the symlink's name as argv[0] (busybox, redis).
  std::filesystem::path link = m_dir.path() / "called-by-this-name";
  std::filesystem::create_symlink("/bin/sh", link);
  AppConfig config = sequential(link, {"-c", "echo \"I am $0\""}, "I am .*called-by-this-name");
  LocalWorker worker(config, "w");
  core::ProbeOutcome outcome = worker.run({});
  EXPECT_TRUE(outcome.works) << outcome.note;
}
