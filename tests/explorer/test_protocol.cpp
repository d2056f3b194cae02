// The worker protocol of core/probe.h as lupa-explore --worker speaks it, and the fields the
// explorer added to probes and outcomes.

#include "core/probe.h"
#include "explorer/session.h"
#include "explorer/static_analysis.h"
#include "model_worker.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <sstream>

using namespace explorer;

TEST(Protocol, ProbeAndOutcomeFieldsRoundTrip) {
  core::Probe probe;
  probe.stub = {288};
  probe.fake = {3};
  probe.until_ready = true;
  probe.count_hits = true;
  probe.kill_at_verdict = true;
  probe.expect_ports = {18080};
  EXPECT_EQ(nlohmann::json(probe).get<core::Probe>(), probe);
  EXPECT_EQ(probe.describe(), "stub{accept4} fake{close} until-ready");
  core::Probe plain;
  EXPECT_FALSE(nlohmann::json(plain).contains("until_ready")) << "old peers see old messages";
  EXPECT_FALSE(nlohmann::json(plain).contains("kill_at_verdict"));

  core::ProbeOutcome outcome;
  outcome.works = true;
  outcome.ended = core::ProbeEnd::ready;
  outcome.hits = {{288, 4}, {3, 1}};
  outcome.late_hits = {{3, 1}};
  outcome.listening = {18080};
  outcome.app_exit = 0;
  core::ProbeOutcome back = nlohmann::json(outcome).get<core::ProbeOutcome>();
  EXPECT_EQ(back.ended, core::ProbeEnd::ready);
  EXPECT_EQ(back.hits, outcome.hits);
  EXPECT_EQ(back.late_hits, outcome.late_hits);
  EXPECT_EQ(back.listening, outcome.listening);
  EXPECT_EQ(back.app_exit, 0);
  nlohmann::json bad = nlohmann::json(outcome);
  bad["hits"] = {{"x", 1}};
  EXPECT_THROW(bad.get<core::ProbeOutcome>(), nlohmann::json::exception);
}

TEST(Protocol, DiscoveryRoundTripsWithItsPhases) {
  core::Discovery d;
  d.backend = "ptrace";
  d.counts = {{0, 10}, {288, 14}, {435, 1}};
  d.startup = {{0, 4}, {435, 1}};
  d.before_verdict = {{0, 8}, {288, 14}, {435, 1}};
  d.complete = false;
  d.incomplete_reason = "3 calls through the i386 or x32 ABI were seen and not counted";
  d.seconds = 1.5;
  nlohmann::json j = nlohmann::json::parse(nlohmann::json(d).dump());
  core::Discovery back = j.get<core::Discovery>();
  EXPECT_EQ(back.counts, d.counts);
  EXPECT_EQ(back.startup, d.startup);
  EXPECT_EQ(back.before_verdict, d.before_verdict);
  EXPECT_EQ(back.complete, false);
  EXPECT_EQ(back.incomplete_reason, d.incomplete_reason);
  EXPECT_EQ(nlohmann::json(back), j);
}

namespace {

// What `worker` answers to the request lines of `in`, one JSON document per reply line.
std::vector<nlohmann::json> serve(explorer::Worker& worker, std::istream& in) {
  std::ostringstream out;
  explorer::serve_worker(worker, in, out);
  std::istringstream lines(out.str());
  std::vector<nlohmann::json> replies;
  for (std::string line; std::getline(lines, line);) {
    replies.push_back(nlohmann::json::parse(line));
  }
  return replies;
}

} // namespace

TEST(Protocol, WorkerAnswersEveryLine) {
  lupa_test::AppModel model;
  model.required = {{288, core::Injection::fake}};
  lupa_test::ModelWorker worker(model);
  std::istringstream in(R"({"id": 1, "probe": {"stub": [288]}}
{"id": 2, "probe": {"fake": [288]}}

not json
{"id": 4, "probe": {"stub": [99999]}}
{"id": 5}
)");
  std::vector<nlohmann::json> replies = serve(worker, in);
  ASSERT_EQ(replies.size(), 6u);
  EXPECT_EQ(replies[0], (nlohmann::json{{"ready", true}}));
  EXPECT_EQ(replies[1]["id"], 1);
  EXPECT_EQ(replies[1]["outcome"]["works"], true);
  EXPECT_EQ(replies[2]["outcome"]["works"], false);
  EXPECT_TRUE(replies[3]["id"].is_null());
  EXPECT_TRUE(replies[3]["error"].get<std::string>().starts_with("malformed request"));
  EXPECT_EQ(replies[4]["id"], 4);
  EXPECT_TRUE(replies[4].contains("error"));
  EXPECT_EQ(replies[5]["id"], 5);
  EXPECT_TRUE(replies[5].contains("error"));
  EXPECT_EQ(worker.runs(), 2u);
}

// The runner asks a worker for the static analysis of the app as its container has it.
TEST(Protocol, WorkerAnalysesABinaryStatically) {
  lupa_test::ModelWorker worker(lupa_test::AppModel{});
  std::istringstream in(R"({"id": 1, "static": {"binary": "/bin/true"}}
{"id": 2, "static": {"binary": "/nonexistent/app"}}
)");
  std::vector<nlohmann::json> replies = serve(worker, in);
  ASSERT_EQ(replies.size(), 3u);
  ASSERT_TRUE(replies[1].contains("static")) << replies[1].dump();
  explorer::StaticAnalysis analysis = replies[1]["static"].get<explorer::StaticAnalysis>();
  EXPECT_EQ(std::filesystem::canonical(analysis.binary), std::filesystem::canonical("/bin/true"));
  EXPECT_TRUE(std::find(analysis.syscalls.begin(), analysis.syscalls.end(), 231) !=
              analysis.syscalls.end())
      << "exit_group is reachable from any program";
  EXPECT_GE(analysis.objects.size(), 2u) << "the binary and libc at least";
  EXPECT_NE(replies[2]["error"].get<std::string>().find("/nonexistent/app"), std::string::npos);
  EXPECT_EQ(worker.runs(), 0u);
}
