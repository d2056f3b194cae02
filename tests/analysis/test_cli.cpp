// The analysis commands as a user runs them: the real `lupa` binary, bad input included.

#include "analysis/subprocess.h"
#include "util/strings.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

analysis::ProcessResult lupa(const std::vector<std::string>& args) {
  auto run = analysis::run_process(fs::path(LUPA_BINARY_DIR) / "cli" / "lupa", args,
                                   std::chrono::seconds(120));
  EXPECT_TRUE(run) << run.error();
  return run.value_or(analysis::ProcessResult{});
}

// A failure is one line "lupa: error: ..." containing `what`, and a non-zero exit.
void expect_one_error_line(const analysis::ProcessResult& r, const std::string& what) {
  EXPECT_NE(r.exit_code, 0);
  std::vector<std::string> lines = util::split(util::trim(r.output), '\n');
  ASSERT_EQ(lines.size(), 1u) << r.output;
  EXPECT_TRUE(lines[0].starts_with("lupa: error: ")) << lines[0];
  EXPECT_NE(lines[0].find(what), std::string::npos) << lines[0];
}

class Cli : public ::testing::Test {
protected:
  void SetUp() override {
    lupa_test::write_run(m_db.path(), {"a",
                                       "benchmark-w",
                                       "1",
                                       {{lupa_test::nr_of("read"), analysis::Need::required},
                                        {lupa_test::nr_of("close"), analysis::Need::stub_only}}});
    lupa_test::write_run(m_db.path(),
                         {"b", "suite", "1", {{lupa_test::nr_of("read"), analysis::Need::both}}});
  }
  std::string db() const { return m_db.path().string(); }
  util::TempDir m_db{"lupa-test-cli-db"};
};

} // namespace

TEST_F(Cli, BadInputIsOneLineAndNonZero) {
  expect_one_error_line(lupa({"search", "-db", db(), "-a", "nope", "-w", "bench"}), "'nope'");
  expect_one_error_line(lupa({"search", "-db", db(), "-a", ",", "-w", "bench"}),
                        "no application selected");
  expect_one_error_line(lupa({"search", "-db", db(), "-a", "a", "-w", "weekly"}),
                        "invalid workload");
  expect_one_error_line(
      lupa({"plan", "-db", db(), "--supported", "/nonexistent.syscalls", "-a", "*", "-w", "bench"}),
      "/nonexistent.syscalls: no such file");
  expect_one_error_line(
      lupa({"plan", "-db", db(), "--supported", "Unikraft", "-a", "*", "-w", "*"}),
      "one workload kind");
  util::TempDir empty("lupa-test-cli-empty");
  for (std::string cmd : {"search", "plan", "plots", "report"}) {
    std::vector<std::string> args = {cmd, "-db", empty.path().string()};
    if (cmd == "search" || cmd == "plan") {
      args.insert(args.end(), {"-a", "*", "-w", "bench"});
    }
    if (cmd == "plan") {
      args.insert(args.end(), {"--supported", "Gvisor"});
    }
    if (cmd == "plots" || cmd == "report") {
      args.insert(args.end(), {"-o", (empty.path() / "out").string()});
    }
    expect_one_error_line(lupa(args), "not a results database");
  }
  expect_one_error_line(lupa({"seccomp-profile", db()}), "not a run directory");
}

TEST_F(Cli, SearchPlanAndProfileOnASmallDatabase) {
  analysis::ProcessResult search =
      lupa({"search", "-db", db(), "-a", "*", "-w", "bench", "--json"});
  ASSERT_EQ(search.exit_code, 0) << search.output;
  nlohmann::json j = nlohmann::json::parse(search.output);
  EXPECT_EQ(j["no_data"], nlohmann::json::array({"b"}));
  EXPECT_EQ(j["apps"][0]["stub_only"], nlohmann::json::array({"close"}));

  analysis::ProcessResult plan =
      lupa({"plan", "-db", db(), "--supported", "LinuxNoLibc", "-a", "a,b", "-w", "bench"});
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  EXPECT_NE(plan.output.find("No data for this workload (not planned): b"), std::string::npos)
      << plan.output;

  util::TempDir out("lupa-test-cli-out");
  fs::path profile = out.path() / "p.json";
  analysis::ProcessResult made =
      lupa({"seccomp-profile", (m_db.path() / "a/benchmark-w/1").string(), "-o", profile.string()});
  ASSERT_EQ(made.exit_code, 0) << made.output;
  nlohmann::json p = nlohmann::json::parse(util::read_file(profile).value_or("{}"));
  EXPECT_EQ(p["defaultAction"], "SCMP_ACT_ERRNO");
}

TEST(CliLoupedb, SearchShowsNginxAccept4AsStubOnly) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  analysis::ProcessResult r =
      lupa({"search", "-db", root.string(), "-a", "nginx", "-w", "bench", "--show-usage"});
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("stub-only: accept4\n"), std::string::npos) << r.output;
  analysis::ProcessResult csv =
      lupa({"search", "-db", root.string(), "-a", "nginx", "-w", "bench", "--show-usage", "--csv"});
  EXPECT_NE(csv.output.find("nginx,288,accept4,stub-only\n"), std::string::npos);
}
