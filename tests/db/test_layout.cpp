#include "db/layout.h"
#include "testutil.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

TEST(Layout, ParsesWorkloadDirectories) {
  EXPECT_EQ(db::parse_workload_dir("benchmark-wrk"), (db::Workload{db::WorkloadKind::benchmark, "wrk"}));
  EXPECT_EQ(db::parse_workload_dir("suite"), (db::Workload{db::WorkloadKind::suite, ""}));
  EXPECT_EQ(db::parse_workload_dir("suite-nginx-tests")->name, "nginx-tests");
  EXPECT_FALSE(db::parse_workload_dir("benchmark-"));
  EXPECT_FALSE(db::parse_workload_dir("data"));
}

TEST(Layout, ReadsEveryPublishedRun) {
  std::filesystem::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto runs = db::scan_runs(root);
  ASSERT_TRUE(runs) << runs.error();
  std::set<std::string> apps;
  size_t warnings = 0;
  for (const db::RunRef& ref : *runs) {
    apps.insert(ref.app);
    auto data = db::load_run(ref);
    ASSERT_TRUE(data) << data.error();
    warnings += data->warnings.size();
  }
  EXPECT_EQ(apps.size(), 116u);
  EXPECT_EQ(runs->size(), 125u);
  EXPECT_GT(warnings, 0u); // the published data has drift (SOURCE.md)
}

TEST(Layout, NginxAccept4IsStubOnly) {
  std::filesystem::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  db::RunRef ref{"nginx", {db::WorkloadKind::benchmark, "wrk"}, "7883824b5cbef4f66dd1c9bdcf7d6185",
                 root / "nginx/benchmark-wrk/7883824b5cbef4f66dd1c9bdcf7d6185"};
  auto data = db::load_run(ref);
  ASSERT_TRUE(data) << data.error();
  const core::DynRow& accept4 = data->dyn.rows.at(288);
  EXPECT_TRUE(accept4.used);
  EXPECT_TRUE(accept4.can_stub);
  EXPECT_FALSE(accept4.can_fake);
}

TEST(Layout, ReadsOsSupportLists) {
  std::filesystem::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  for (const char* os : {"Browsix", "Freebsd", "Fuchsia", "Graphene", "Gvisor", "Hermitux", "Kerla",
                         "LinuxNoLibc", "Osv", "Unikraft", "Zephyr"}) {
    auto list = db::read_syscall_list(root / (std::string(os) + ".syscalls"));
    ASSERT_TRUE(list) << list.error();
    EXPECT_GT(list->numbers.size(), 10u) << os;
    for (const std::string& u : list->unknown) {
      EXPECT_NE(u.find("futimensat"), std::string::npos) << u; // the one non-syscall name
    }
  }
}
