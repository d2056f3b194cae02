// `lupa trace syscalls` as a user runs it: the real binary, its output and exit codes.
#include "core/discovery.h"
#include "core/syscalls.h"
#include "tracer/cgroup.h"
#include "util/strings.h"

#include "inttest_util.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace lupa_test;

TEST(CliTrace, JsonOfACommand) {
  SKIP_WITHOUT_EBPF();
  Captured c =
      run_capture({LUPA_BIN, "trace", "syscalls", "--json", "--", LUPA_TRACEE, "work", "500"});
  ASSERT_EQ(c.status, 0) << c.err;
  nlohmann::json j = nlohmann::json::parse(c.out);
  core::Discovery d = j.at("discovery").get<core::Discovery>();
  EXPECT_EQ(d.backend, "ebpf");
  EXPECT_TRUE(d.complete);
  EXPECT_EQ(d.counts.at(nr_of("getppid")), 1000U);
  EXPECT_TRUE(d.paths.contains("/proc/self/status"));
  EXPECT_EQ(j.at("exit_status"), 0);
  EXPECT_EQ(j.at("processes").size(), 2U);
}

TEST(CliTrace, TableAndTheCommandsExitStatus) {
  SKIP_WITHOUT_EBPF();
  Captured c =
      run_capture({LUPA_BIN, "trace", "syscalls", "--per-process", "--", "sh", "-c", "exit 3"});
  EXPECT_EQ(c.status, 3) << c.err;
  EXPECT_NE(c.out.find("exit_group"), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("total ("), std::string::npos) << c.out;
  EXPECT_NE(c.out.find("process "), std::string::npos) << c.out;
}

TEST(CliTrace, AnEmptyCgroupForADuration) {
  SKIP_WITHOUT_EBPF();
  util::Result<std::filesystem::path> mount = tracer::cgroup2_mount();
  if (!mount) {
    GTEST_SKIP() << "cgroup v2 is not mounted here";
  }
  std::filesystem::path cgroup = *mount / fmt::format("lupa-test-tracer-cli-{}", ::getpid());
  std::filesystem::create_directory(cgroup);
  Captured c = run_capture(
      {LUPA_BIN, "trace", "syscalls", "--json", "--cgroup", cgroup.string(), "--duration", "0.3"});
  ::rmdir(cgroup.c_str());
  ASSERT_EQ(c.status, 0) << c.err;
  nlohmann::json j = nlohmann::json::parse(c.out);
  EXPECT_EQ(j.at("total_calls"), 0);
  EXPECT_GE(j.at("discovery").at("seconds").get<double>(), 0.3);
}

TEST(CliTrace, NothingToTraceIsOneErrorLine) {
  Captured c = run_capture({LUPA_BIN, "trace", "syscalls"});
  EXPECT_NE(c.status, 0);
  EXPECT_EQ(util::split(util::trim(c.err), '\n').size(), 1U) << c.err;
  EXPECT_TRUE(c.err.starts_with("lupa: error: say what to trace")) << c.err;
  EXPECT_TRUE(c.out.empty());
}

TEST(CliTrace, UnknownContainerNamesIt) {
  Captured c = run_capture({LUPA_BIN, "trace", "syscalls", "--container",
                            "lupa-test-tracer-no-such-container", "--duration", "1"});
  EXPECT_NE(c.status, 0);
  EXPECT_TRUE(c.err.starts_with("lupa: error: --container lupa-test-tracer-no-such-container: "))
      << c.err;
  EXPECT_EQ(util::split(util::trim(c.err), '\n').size(), 1U) << c.err;
}

TEST(CliTrace, MissingCommandIsOneErrorLine) {
  Captured c = run_capture({LUPA_BIN, "trace", "syscalls", "--", "lupa-no-such-command"});
  EXPECT_NE(c.status, 0);
  EXPECT_EQ(c.err, "lupa: error: lupa-no-such-command: command not found or not executable\n");
}

TEST(CliTrace, MissingCapabilitiesAreNamedWithAHint) {
  if (util::find_in_path("setpriv").empty()) {
    GTEST_SKIP() << "setpriv (util-linux) is not installed";
  }
  // Drop the capabilities from the bounding set: lupa runs without CAP_BPF, CAP_SYS_ADMIN.
  Captured c = run_capture(
      {"setpriv", "--bounding-set=-sys_admin,-bpf", LUPA_BIN, "trace", "syscalls", "--", "true"});
  EXPECT_EQ(c.status, 1);
  std::vector<std::string> lines = util::split(util::trim(c.err), '\n');
  ASSERT_GE(lines.size(), 2U) << c.err;
  EXPECT_TRUE(lines[0].starts_with("lupa: error: missing capability CAP_BPF")) << c.err;
  EXPECT_TRUE(lines.back().starts_with("lupa: HINT: ")) << c.err;
  EXPECT_TRUE(c.out.empty());
}
