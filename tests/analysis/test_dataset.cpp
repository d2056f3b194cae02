#include "analysis/dataset.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <gtest/gtest.h>

using analysis::Need;
using lupa_test::nr_of;
using lupa_test::SynthRun;
namespace fs = std::filesystem;

namespace {

db::RunRef ref(std::string app, std::string workload, std::string run_id) {
  return db::RunRef{app, *db::parse_workload_dir(workload), run_id, fs::path("/x") / run_id};
}

} // namespace

TEST(Dataset, SelectRunPrefersHashedRunsOverImported) {
  std::vector<db::RunRef> runs = {
      ref("nginx", "suite-nginx-tests", "imported"),
      ref("nginx", "suite-nginx-tests", "c7d2ac9eca329a756e7690251213b81f")};
  EXPECT_EQ(analysis::select_run(runs).run_id, "c7d2ac9eca329a756e7690251213b81f");
  std::reverse(runs.begin(), runs.end());
  EXPECT_EQ(analysis::select_run(runs).run_id, "c7d2ac9eca329a756e7690251213b81f");
}

TEST(Dataset, SelectRunThenTakesTheSmallestKeyWhateverTheInputOrder) {
  std::vector<db::RunRef> runs = {
      ref("lua", "benchmark-lua-test", "656835c7d071a93357c732822bc0ce5d"),
      ref("lua", "benchmark-lua-test", "5b48cb66be56e21425e0d1b0328c9cfc")};
  EXPECT_EQ(analysis::select_run(runs).run_id, "5b48cb66be56e21425e0d1b0328c9cfc");
  std::reverse(runs.begin(), runs.end());
  EXPECT_EQ(analysis::select_run(runs).run_id, "5b48cb66be56e21425e0d1b0328c9cfc");
  // Two workload directories of one kind (iperf3 has two benchmarks): the key decides.
  std::vector<db::RunRef> iperf = {ref("iperf3", "benchmark-iperf3-client", "b"),
                                   ref("iperf3", "benchmark-iperf-test", "a")};
  EXPECT_EQ(analysis::select_run(iperf).workload.name, "iperf-test");
}

TEST(Dataset, ParsesWorkloadFilters) {
  EXPECT_EQ(*analysis::parse_workload_filter("bench"), analysis::WorkloadFilter::bench);
  EXPECT_EQ(*analysis::parse_workload_filter("benchmark"), analysis::WorkloadFilter::bench);
  EXPECT_EQ(*analysis::parse_workload_filter("suite"), analysis::WorkloadFilter::suite);
  EXPECT_EQ(*analysis::parse_workload_filter("*"), analysis::WorkloadFilter::all);
  EXPECT_FALSE(analysis::parse_workload_filter("benchmarks"));
}

TEST(Dataset, LoadsOneRunPerAppAndWorkloadKind) {
  util::TempDir root("lupa-test-dataset");
  SynthRun a{"alpha", "benchmark-wrk", "imported", {{nr_of("read"), Need::required}}};
  SynthRun b{"alpha", "benchmark-wrk", "ffff", {{nr_of("write"), Need::required}}};
  SynthRun c{"alpha", "suite", "aaaa", {{nr_of("close"), Need::both}}};
  SynthRun d{"beta", "suite-tests", "bbbb", {{nr_of("openat"), Need::stub_only}}};
  for (const SynthRun& r : {a, b, c, d}) {
    lupa_test::write_run(root.path(), r);
  }
  auto dataset = analysis::load_dataset(root.path());
  ASSERT_TRUE(dataset) << dataset.error();
  ASSERT_EQ(dataset->apps.size(), 2u);
  const analysis::AppRuns* alpha = dataset->find("alpha");
  ASSERT_TRUE(alpha);
  ASSERT_TRUE(alpha->bench);
  EXPECT_EQ(alpha->bench->ref.run_id, "ffff");
  EXPECT_EQ(alpha->not_chosen, std::vector<std::string>{"alpha/benchmark-wrk/imported"});
  ASSERT_TRUE(alpha->suite);
  EXPECT_EQ(alpha->runs(analysis::WorkloadFilter::all).size(), 2u);
  EXPECT_EQ(alpha->runs(analysis::WorkloadFilter::suite).size(), 1u);
  const analysis::AppRuns* beta = dataset->find("beta");
  ASSERT_TRUE(beta);
  EXPECT_FALSE(beta->bench);
  EXPECT_TRUE(beta->runs(analysis::WorkloadFilter::bench).empty());
}

TEST(Dataset, RejectsADirectoryThatIsNotADatabase) {
  util::TempDir root("lupa-test-notdb");
  fs::create_directories(root.path() / "something" / "else");
  auto dataset = analysis::load_dataset(root.path());
  ASSERT_FALSE(dataset);
  EXPECT_NE(dataset.error().find("not a results database"), std::string::npos) << dataset.error();
  EXPECT_NE(dataset.error().find(root.path().string()), std::string::npos);
  EXPECT_FALSE(analysis::load_dataset(root.path() / "missing"));
}

TEST(Dataset, CorruptRunIsAnErrorNamingTheFile) {
  util::TempDir root("lupa-test-corrupt");
  fs::path dir =
      lupa_test::write_run(root.path(), {"gamma", "suite", "cccc", {{0, Need::required}}});
  ASSERT_TRUE(util::write_file_atomic(dir / "data" / "dyn.csv", "0,Y,N,N\n"));
  auto dataset = analysis::load_dataset(root.path());
  ASSERT_FALSE(dataset);
  EXPECT_NE(dataset.error().find("gamma/suite/cccc/data/dyn.csv:1"), std::string::npos)
      << dataset.error();
}

TEST(Dataset, SelectsAppsByNameListOrStar) {
  util::TempDir root("lupa-test-select");
  for (const char* app : {"a", "b", "c"}) {
    lupa_test::write_run(root.path(), {app, "suite", "dddd", {{0, Need::required}}});
  }
  auto dataset = analysis::load_dataset(root.path());
  ASSERT_TRUE(dataset) << dataset.error();
  std::vector<std::string> star = {"*"};
  EXPECT_EQ(*analysis::select_apps(*dataset, star), (std::vector<std::string>{"a", "b", "c"}));
  std::vector<std::string> list = {"c,a", "c"};
  EXPECT_EQ(*analysis::select_apps(*dataset, list), (std::vector<std::string>{"c", "a"}));
  std::vector<std::string> unknown = {"a,zz"};
  auto bad = analysis::select_apps(*dataset, unknown);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().find("'zz'"), std::string::npos);
  std::vector<std::string> empty = {" , "};
  auto none = analysis::select_apps(*dataset, empty);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().find("no application selected"), std::string::npos);
}

TEST(Dataset, LoadRunDirNeedsTheLayout) {
  util::TempDir root("lupa-test-rundir");
  fs::path dir =
      lupa_test::write_run(root.path(), {"delta", "benchmark-x", "eeee", {{1, Need::both}}});
  auto runs = analysis::load_run_dir(dir);
  ASSERT_TRUE(runs) << runs.error();
  EXPECT_EQ(runs->app, "delta");
  EXPECT_TRUE(runs->bench);
  EXPECT_FALSE(analysis::load_run_dir(root.path() / "delta"));
  fs::create_directories(root.path() / "odd" / "data");
  ASSERT_TRUE(util::write_file_atomic(root.path() / "odd" / "data" / "dyn.csv", "0,Y,N,N,N\n"));
  auto odd = analysis::load_run_dir(root.path() / "odd");
  ASSERT_FALSE(odd);
  EXPECT_NE(odd.error().find("not a run directory"), std::string::npos);
}

TEST(Dataset, ReadsThePublishedDatabase) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto dataset = analysis::load_dataset(root);
  ASSERT_TRUE(dataset) << dataset.error();
  EXPECT_EQ(dataset->apps.size(), 116u);
  const analysis::AppRuns* nginx = dataset->find("nginx");
  ASSERT_TRUE(nginx && nginx->suite);
  EXPECT_EQ(nginx->suite->ref.run_id, "c7d2ac9eca329a756e7690251213b81f"); // not "imported"
  size_t read = 0;
  size_t not_chosen = 0;
  for (const analysis::AppRuns& app : dataset->apps) {
    read += app.runs(analysis::WorkloadFilter::all).size();
    not_chosen += app.not_chosen.size();
  }
  EXPECT_EQ(read + not_chosen, 125u); // every run is either read or set aside
}
