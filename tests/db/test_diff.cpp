// Semantic run diffs and reproduction against stored runs.

#include "core/dyn_csv.h"
#include "core/syscalls.h"
#include "db/diff.h"
#include "db/store.h"
#include "dbtest.h"
#include "synthetic.h"
#include "testutil.h"
#include "util/fs.h"

#include "util/strings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace fs = std::filesystem;

namespace {

std::vector<int> numbers(const std::vector<db::SyscallChange>& changes) {
  std::vector<int> out;
  for (const db::SyscallChange& c : changes) {
    out.push_back(c.nr);
  }
  return out;
}

db::RunData data_of(const db::NewRun& run) {
  auto data = db::run_data_of(run);
  if (!data) {
    throw std::runtime_error(data.error());
  }
  return *data;
}

} // namespace

TEST(Diff, SyscallFeatureStaticAndProvenanceChanges) {
  db::NewRun before = lupa_test::synthetic_run("nginx", "wrk", 1);
  db::NewRun after = before;
  std::vector<core::SyscallResult>& calls = after.result.syscalls;
  int vanished = calls[1].nr;
  calls.erase(calls.begin() + 1);
  core::SyscallResult& changed = calls[2];
  bool stub_worked = changed.stub.runs[0];
  changed.stub.runs = {!stub_worked, !stub_worked};
  int changed_nr = changed.nr;
  int appeared = -1;
  for (int nr : core::SyscallTable::get().all()) {
    if (!before.result.find(nr)) {
      appeared = nr;
      break;
    }
  }
  core::SyscallResult fresh;
  fresh.nr = appeared;
  fresh.name = core::SyscallTable::get().name(appeared);
  fresh.stub.runs = {false, false};
  fresh.fake.runs = {false, false};
  calls.insert(std::lower_bound(calls.begin(), calls.end(), fresh,
                                [](const auto& a, const auto& b) { return a.nr < b.nr; }),
               fresh);
  after.result.features[0].fake.runs = {true, true};
  after.result.static_syscalls->push_back(appeared);
  std::sort(after.result.static_syscalls->begin(), after.result.static_syscalls->end());
  after.provenance.kernel_release = "6.19.1";

  db::RunDiff d = db::diff_runs(data_of(before), data_of(after));
  EXPECT_EQ(numbers(d.appeared), std::vector<int>{appeared});
  EXPECT_EQ(d.appeared[0].after, db::SyscallClass::required);
  EXPECT_EQ(numbers(d.vanished), std::vector<int>{vanished});
  ASSERT_EQ(numbers(d.changed), std::vector<int>{changed_nr});
  EXPECT_EQ(d.changed[0].detail, stub_worked ? "stub: works -> fails" : "stub: fails -> works");
  EXPECT_EQ(d.unchanged, before.result.syscalls.size() - 2);
  ASSERT_EQ(d.features.size(), 1u);
  EXPECT_EQ(d.features[0].after, "stub works, fake works");
  EXPECT_EQ(d.static_added, std::vector<int>{appeared});
  EXPECT_TRUE(d.provenance_compared);
  ASSERT_EQ(d.provenance.size(), 1u);
  EXPECT_EQ(d.provenance[0].field, "kernel.release");
  EXPECT_EQ(d.provenance[0].after, "6.19.1");
  EXPECT_FALSE(d.same_results());

  std::string text = db::format_diff(d);
  EXPECT_NE(text.find(fmt::format("+ {:<4} {}", appeared, core::SyscallTable::get().name(appeared))),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("kernel.release: 6.18.0 -> 6.19.1"), std::string::npos) << text;
  nlohmann::json j = db::diff_json(d);
  EXPECT_EQ(j["vanished"][0]["nr"], vanished);
  EXPECT_EQ(j["same_results"], false);

  db::RunDiff none = db::diff_runs(data_of(before), data_of(before));
  EXPECT_TRUE(none.same_results());
  EXPECT_TRUE(none.provenance.empty());
}

TEST(Diff, ReproduceAgainstAFreshResultAndCommitIt) {
  util::TempDir tmp("lupa-test-diff");
  fs::path path = tmp.path() / "db";
  auto store = db::Store::open(path, db::CreateMode::create);
  ASSERT_TRUE(store);
  db::NewRun stored = lupa_test::synthetic_run("redis", "bench", 9);
  ASSERT_TRUE(store->commit_run(stored, {}));
  std::string key = db::render_run(stored)->key();

  // A fresh result made elsewhere: one syscall now fails faked.
  core::ExploreResult fresh = stored.result;
  core::SyscallResult& s = fresh.syscalls.back();
  s.fake.runs = {true, false}; // unstable
  fs::path result_file = tmp.path() / "results.json";
  ASSERT_TRUE(util::write_file_atomic(result_file, nlohmann::json(fresh).dump()));

  auto database = db::Database::open(path);
  ASSERT_TRUE(database);
  auto info = database->find("redis/benchmark-bench");
  ASSERT_TRUE(info) << info.error();
  db::ResultFileProducer producer(result_file, std::nullopt);
  auto report = db::reproduce(*database, **info, producer);
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->fresh_key, key); // same experiment, same run id
  ASSERT_EQ(report->diff.changed.size(), 1u);
  EXPECT_EQ(report->diff.changed[0].nr, s.nr);
  EXPECT_EQ(report->diff.changed[0].after, db::SyscallClass::unstable);
  EXPECT_TRUE(report->diff.appeared.empty());
  EXPECT_TRUE(report->diff.vanished.empty());
  // The environment differs: this host, today, no engine recorded.
  std::set<std::string> fields;
  for (const db::ProvenanceChange& c : report->diff.provenance) {
    fields.insert(c.field);
  }
  EXPECT_TRUE(fields.contains("date"));
  EXPECT_TRUE(fields.contains("engine.name"));

  auto committed = store->commit_run(report->fresh, {});
  ASSERT_TRUE(committed) << committed.error();
  ASSERT_EQ(committed->replaced, std::vector<std::string>{key});
  auto old = db::load_spec(path, "HEAD~1:" + key);
  auto now = db::load_spec(path, key);
  ASSERT_TRUE(old) << old.error();
  ASSERT_TRUE(now) << now.error();
  db::RunDiff history = db::diff_runs(*old, *now);
  ASSERT_EQ(history.changed.size(), 1u);
  EXPECT_EQ(history.changed[0].nr, s.nr);
  auto log = db::run_history(path, key, 0);
  ASSERT_TRUE(log) << log.error();
  EXPECT_EQ(log->size(), 2u);
}

TEST(Diff, ReproducingALoupeRunSaysWhyNot) {
  fs::path source = lupa_test::loupedb_path();
  if (source.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto database = db::Database::open(source);
  ASSERT_TRUE(database);
  auto info = database->find("nginx/benchmark-wrk");
  ASSERT_TRUE(info) << info.error();
  db::ResultFileProducer producer("/nonexistent/results.json", std::nullopt);
  auto report = db::reproduce(*database, **info, producer);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("nginx/benchmark-wrk/7883824b5cbef4f66dd1c9bdcf7d6185: a Loupe run"),
            std::string::npos)
      << report.error();
}

TEST(Diff, TwoPublishedNginxSuiteRunsAgreeWithTheirCsvFiles) {
  fs::path source = lupa_test::loupedb_path();
  if (source.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  std::string older = "nginx/suite-nginx-tests/imported";
  std::string newer = "nginx/suite-nginx-tests/c7d2ac9eca329a756e7690251213b81f";
  auto a = db::load_spec(source, older);
  auto b = db::load_spec(source, newer);
  ASSERT_TRUE(a) << a.error();
  ASSERT_TRUE(b) << b.error();
  db::RunDiff d = db::diff_runs(*a, *b);

  // Recompute from the raw files, column by column (col 2 faked, col 3 stubbed, col 4 both).
  auto classes = [&](const std::string& key) {
    std::map<int, std::string> out;
    std::string text = *util::read_file(source / key / "data/dyn.csv");
    for (const std::string& line : util::split(text, '\n')) {
      std::vector<std::string> f = util::split(line, ',');
      if (line.empty() || line[0] == '#' || f.size() != 5 || f[1] != "Y") {
        continue;
      }
      bool fake = f[2] == "Y" || f[4] == "Y";
      bool stub = f[3] == "Y" || f[4] == "Y";
      out[std::stoi(f[0])] = stub && fake ? "both" : stub ? "stub-only" : fake ? "fake-only" : "required";
    }
    return out;
  };
  std::map<int, std::string> x = classes(older);
  std::map<int, std::string> y = classes(newer);
  std::vector<int> appeared, vanished, changed;
  for (const auto& [nr, cls] : y) {
    if (!x.contains(nr)) {
      appeared.push_back(nr);
    } else if (x[nr] != cls) {
      changed.push_back(nr);
    }
  }
  for (const auto& [nr, cls] : x) {
    if (!y.contains(nr)) {
      vanished.push_back(nr);
    }
  }
  EXPECT_EQ(numbers(d.appeared), appeared);
  EXPECT_EQ(numbers(d.vanished), vanished);
  EXPECT_EQ(numbers(d.changed), changed);
  EXPECT_FALSE(d.appeared.empty());
  EXPECT_FALSE(d.provenance_compared); // Loupe runs record none
}
