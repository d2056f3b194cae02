#include "analysis/search.h"
#include "util/strings.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using analysis::Need;
using lupa_test::nr_of;
namespace fs = std::filesystem;

TEST(Usage, NeedOfAndCombination) {
  EXPECT_EQ(analysis::need_of(false, false), Need::required);
  EXPECT_EQ(analysis::need_of(true, false), Need::stub_only);
  EXPECT_EQ(analysis::need_of(false, true), Need::fake_only);
  EXPECT_EQ(analysis::need_of(true, true), Need::both);
  EXPECT_EQ(analysis::combine_needs({Need::both, Need::stub_only}), Need::stub_only);
  EXPECT_EQ(analysis::combine_needs({Need::both, Need::both}), Need::both);
  // One app only survives a stub, another only a fake: one OS cannot please both.
  EXPECT_EQ(analysis::combine_needs({Need::stub_only, Need::fake_only}), Need::required);
  EXPECT_EQ(analysis::combine_needs({Need::both, Need::required}), Need::required);
}

class SearchSynthetic : public ::testing::Test {
protected:
  void SetUp() override {
    lupa_test::write_run(m_root.path(), {"alpha",
                                         "benchmark-wrk",
                                         "a1",
                                         {{nr_of("read"), Need::required},
                                          {nr_of("write"), Need::both},
                                          {nr_of("close"), Need::stub_only},
                                          {nr_of("lseek"), Need::fake_only}}});
    lupa_test::write_run(m_root.path(), {"alpha",
                                         "suite",
                                         "a2",
                                         {{nr_of("write"), Need::fake_only},
                                          {nr_of("close"), Need::stub_only},
                                          {nr_of("mmap"), Need::required}}});
    lupa_test::write_run(m_root.path(),
                         {"beta",
                          "benchmark-x",
                          "b1",
                          {{nr_of("read"), Need::both}, {nr_of("close"), Need::fake_only}}});
    lupa_test::write_run(m_root.path(),
                         {"gamma", "suite", "g1", {{nr_of("read"), Need::required}}});
    auto dataset = analysis::load_dataset(m_root.path());
    ASSERT_TRUE(dataset) << dataset.error();
    m_dataset = std::move(*dataset);
  }

  util::TempDir m_root{"lupa-test-search"};
  analysis::Dataset m_dataset;
};

TEST_F(SearchSynthetic, AllWorkloadsMustPass) {
  analysis::AppUsage all =
      analysis::app_usage(*m_dataset.find("alpha"), analysis::WorkloadFilter::all);
  EXPECT_EQ(all.runs.size(), 2u);
  EXPECT_EQ(all.used.at(nr_of("read")), Need::required);
  EXPECT_EQ(all.used.at(nr_of("write")), Need::fake_only); // both in bench, fake-only in suite
  EXPECT_EQ(all.used.at(nr_of("close")), Need::stub_only);
  EXPECT_EQ(all.used.at(nr_of("lseek")), Need::fake_only);
  EXPECT_EQ(all.used.at(nr_of("mmap")), Need::required);
  analysis::AppUsage bench =
      analysis::app_usage(*m_dataset.find("alpha"), analysis::WorkloadFilter::bench);
  EXPECT_EQ(bench.used.at(nr_of("write")), Need::both);
  EXPECT_FALSE(bench.used.contains(nr_of("mmap")));
}

TEST_F(SearchSynthetic, PerSyscallAppsAndSetNeeds) {
  analysis::SearchResult r =
      analysis::search(m_dataset, {"alpha", "beta", "gamma"}, analysis::WorkloadFilter::bench);
  EXPECT_EQ(r.no_data, std::vector<std::string>{"gamma"}); // suite only: not "supported"
  ASSERT_EQ(r.apps.size(), 2u);
  auto find = [&](int nr) {
    auto it = std::find_if(r.syscalls.begin(), r.syscalls.end(),
                           [&](const analysis::SyscallApps& s) { return s.nr == nr; });
    return it == r.syscalls.end() ? nullptr : &*it;
  };
  const analysis::SyscallApps* read = find(nr_of("read"));
  ASSERT_TRUE(read);
  EXPECT_EQ(read->required_by, std::vector<std::string>{"alpha"});
  EXPECT_EQ(read->both, std::vector<std::string>{"beta"});
  EXPECT_EQ(read->set_need, Need::required);
  const analysis::SyscallApps* close = find(nr_of("close"));
  ASSERT_TRUE(close);
  EXPECT_EQ(close->stub_only, std::vector<std::string>{"alpha"});
  EXPECT_EQ(close->fake_only, std::vector<std::string>{"beta"});
  EXPECT_EQ(close->set_need, Need::required); // conflicting tolerances
  EXPECT_EQ(find(nr_of("write"))->set_need, Need::both);
  EXPECT_EQ(r.set_with(Need::fake_only), std::vector<int>{nr_of("lseek")});
}

TEST_F(SearchSynthetic, PrintsTableJsonAndCsv) {
  analysis::SearchResult r =
      analysis::search(m_dataset, {"alpha", "gamma"}, analysis::WorkloadFilter::bench);
  std::string table = analysis::format_search_table(r, analysis::ShowUsage::yes);
  EXPECT_NE(table.find("no data for this workload: gamma"), std::string::npos) << table;
  EXPECT_NE(table.find("stub-only: close"), std::string::npos) << table;
  nlohmann::json j = analysis::search_json(r);
  EXPECT_EQ(j["apps"][0]["app"], "alpha");
  EXPECT_EQ(j["apps"][0]["stub_only"], nlohmann::json::array({"close"}));
  EXPECT_EQ(j["apps"][0]["fake_only"], nlohmann::json::array({"lseek"}));
  EXPECT_EQ(j["no_data"], nlohmann::json::array({"gamma"}));
  std::string counts = analysis::format_search_csv(r, analysis::ShowUsage::no);
  EXPECT_EQ(counts, "app,runs,used,required,stub_only,fake_only,both\n"
                    "alpha,alpha/benchmark-wrk/a1,4,1,1,1,1\n");
  std::string rows = analysis::format_search_csv(r, analysis::ShowUsage::yes);
  EXPECT_NE(rows.find("alpha,3,close,stub-only\n"), std::string::npos) << rows;
}

TEST(SearchLoupedb, NginxAccept4IsStubOnly) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto dataset = analysis::load_dataset(root);
  ASSERT_TRUE(dataset) << dataset.error();
  analysis::SearchResult r = analysis::search(*dataset, {"nginx"}, analysis::WorkloadFilter::bench);
  ASSERT_EQ(r.apps.size(), 1u);
  EXPECT_EQ(r.apps[0].used.at(nr_of("accept4")), Need::stub_only);
  nlohmann::json j = analysis::search_json(r);
  auto stub_only = j["apps"][0]["stub_only"];
  EXPECT_NE(std::find(stub_only.begin(), stub_only.end(), "accept4"), stub_only.end());
  auto fake_only = j["apps"][0]["fake_only"];
  EXPECT_EQ(std::find(fake_only.begin(), fake_only.end(), "accept4"), fake_only.end());
}

// Counts recomputed from the raw dyn.csv text with a separate, minimal reader.
TEST(SearchLoupedb, CountsMatchAnIndependentReading) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto dataset = analysis::load_dataset(root);
  ASSERT_TRUE(dataset) << dataset.error();
  std::vector<std::string> star = {"*"};
  std::vector<std::string> apps = *analysis::select_apps(*dataset, star);
  analysis::SearchResult r = analysis::search(*dataset, apps, analysis::WorkloadFilter::bench);
  EXPECT_EQ(r.apps.size() + r.no_data.size(), 116u);
  for (const analysis::AppUsage& app : r.apps) {
    ASSERT_EQ(app.runs.size(), 1u);
    auto text = util::read_file(root / app.runs[0] / "data" / "dyn.csv");
    ASSERT_TRUE(text);
    size_t counts[4] = {0, 0, 0, 0};
    for (const std::string& line : util::split(*text, '\n')) {
      std::vector<std::string> f = util::split(util::trim(line), ',');
      if (f.size() != 5 || f[1] != "Y") {
        continue;
      }
      bool fake = f[2] == "Y" || f[4] == "Y";
      bool stub = f[3] == "Y" || f[4] == "Y";
      counts[stub && fake ? 3 : stub ? 1 : fake ? 2 : 0]++;
    }
    EXPECT_EQ(app.with(Need::required).size(), counts[0]) << app.app;
    EXPECT_EQ(app.with(Need::stub_only).size(), counts[1]) << app.app;
    EXPECT_EQ(app.with(Need::fake_only).size(), counts[2]) << app.app;
    EXPECT_EQ(app.with(Need::both).size(), counts[3]) << app.app;
  }
}
