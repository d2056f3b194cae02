// `lupa export sqlite`: real SQLite files, queried with the real sqlite3 command line.

#include "db/database.h"
#include "db/sqlite_export.h"
#include "db/store.h"
#include "dbtest.h"
#include "synthetic.h"
#include "testutil.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace {

// sqlite3 `db` `sql`, output trimmed.
std::string query(const fs::path& db, const std::string& sql) {
  lupa_test::Output out = lupa_test::sh(fmt::format("sqlite3 -batch '{}' \"{}\"", db.string(), sql));
  EXPECT_EQ(out.status, 0) << sql << "\n" << out.text;
  return std::string(util::trim(out.text));
}

bool have_sqlite3() { return lupa_test::sh("sqlite3 -version").status == 0; }

} // namespace

TEST(Export, SyntheticDatabaseMatchesTheLibraryViewInSqlite3) {
  if (!have_sqlite3()) {
    GTEST_SKIP() << "the sqlite3 command line is not installed (apt-get install sqlite3)";
  }
  util::TempDir tmp("lupa-test-export");
  fs::path path = tmp.path() / "db";
  auto store = db::Store::open(path, db::CreateMode::create);
  ASSERT_TRUE(store) << store.error();
  for (uint64_t seed : {1, 2, 3, 4}) {
    ASSERT_TRUE(store->commit_run(lupa_test::synthetic_run(fmt::format("app{}", seed % 3), "wrk", seed), {}));
  }
  // app1 has two runs (seeds 1 and 4): the one committed last is the newest.
  auto database = db::Database::open(path);
  ASSERT_TRUE(database) << database.error();
  fs::path out = tmp.path() / "out.db";
  auto report = db::export_sqlite(*database, out);
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->runs, 4u);
  EXPECT_EQ(report->apps, 3u);
  EXPECT_GT(report->bytes, 0u);

  EXPECT_EQ(query(out, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query(out, "PRAGMA foreign_key_check"), "");
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM runs"), "4");
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM runs WHERE is_latest = 1"), "3");
  EXPECT_EQ(query(out, "SELECT value FROM meta WHERE key = 'commit'"), database->snapshot().commit());
  const db::RunInfo* newest = database->latest("app1", db::WorkloadKind::benchmark);
  ASSERT_NE(newest, nullptr);
  EXPECT_EQ(query(out, "SELECT path FROM runs r JOIN workloads w ON w.id = r.workload_id "
                       "JOIN apps a ON a.id = w.app_id WHERE a.name = 'app1' AND r.is_latest = 1"),
            newest->key());

  // Per class, the syscalls of the newest app1 run are those the library computes.
  auto data = database->load(*newest);
  ASSERT_TRUE(data) << data.error();
  std::map<std::string, std::vector<std::string>> expected;
  for (const auto& [nr, cls] : db::classify(*data)) {
    expected[db::to_string(cls)].push_back(std::to_string(nr));
  }
  for (const auto& [cls, numbers] : expected) {
    std::string got = query(out, fmt::format("SELECT GROUP_CONCAT(syscall, ',') FROM (SELECT syscall FROM "
                                             "latest_verdicts WHERE app = 'app1' AND class = '{}' "
                                             "ORDER BY syscall)",
                                             cls));
    EXPECT_EQ(got, util::join(numbers, ",")) << cls;
  }
  // Provenance columns and sub-features / pseudo-files are there.
  EXPECT_EQ(query(out, "SELECT COUNT(DISTINCT kernel_release) FROM runs"), "1");
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM features"), "4");
  EXPECT_EQ(query(out, "SELECT DISTINCT path FROM pseudo_files"), "/proc/self/status");
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM os_lists"), "0");
}

TEST(Export, DocumentedExampleQueriesRun) {
  fs::path source = lupa_test::loupedb_path();
  if (source.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  if (!have_sqlite3()) {
    GTEST_SKIP() << "the sqlite3 command line is not installed (apt-get install sqlite3)";
  }
  util::TempDir tmp("lupa-test-export");
  auto database = db::Database::open(source);
  ASSERT_TRUE(database) << database.error();
  fs::path out = tmp.path() / "loupedb.db";
  auto report = db::export_sqlite(*database, out);
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->runs, 125u);
  EXPECT_EQ(report->apps, 116u);
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM apps"), "116");
  EXPECT_EQ(query(out, "SELECT class FROM latest_verdicts WHERE app = 'nginx' AND kind = 'benchmark' "
                       "AND syscall_name = 'accept4'"),
            "stub-only");
  auto unikraft = database->os_list("Unikraft");
  ASSERT_TRUE(unikraft);
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM os_lists WHERE os = 'Unikraft'"),
            std::to_string(unikraft->numbers.size()));
  EXPECT_EQ(query(out, "SELECT name FROM os_list_unknown"), "futimensat");
  EXPECT_EQ(query(out, "SELECT COUNT(*) FROM runs WHERE format = 'loupe'"), "125");

  // Every SQL block of db/README.md runs on it and returns rows.
  auto readme = util::read_file(fs::path(LUPA_SOURCE_DIR) / "db/README.md");
  ASSERT_TRUE(readme) << readme.error();
  std::regex block("```sql\n([\\s\\S]*?)```");
  size_t blocks = 0;
  for (auto it = std::sregex_iterator(readme->begin(), readme->end(), block); it != std::sregex_iterator();
       ++it) {
    ++blocks;
    fs::path sql = tmp.path() / fmt::format("q{}.sql", blocks);
    ASSERT_TRUE(util::write_file_atomic(sql, (*it)[1].str()));
    lupa_test::Output result = lupa_test::sh(fmt::format("sqlite3 -batch '{}' < '{}'", out.string(), sql.string()));
    EXPECT_EQ(result.status, 0) << (*it)[1].str() << result.text;
    bool expect_rows = (*it)[1].str().find("format = 'lupa'") == std::string::npos &&
                       (*it)[1].str().find("'unstable'") == std::string::npos; // none in Loupe data
    if (expect_rows) {
      EXPECT_FALSE(result.text.empty()) << (*it)[1].str();
    }
  }
  EXPECT_GE(blocks, 5u);
}

TEST(Export, FailedExportLeavesNothingBehind) {
  util::TempDir tmp("lupa-test-export");
  fs::path path = tmp.path() / "db";
  auto store = db::Store::open(path, db::CreateMode::create);
  ASSERT_TRUE(store);
  db::NewRun run = lupa_test::synthetic_run("nginx", "wrk", 3);
  ASSERT_TRUE(store->commit_run(run, {}));
  std::string key = db::render_run(run)->key();
  std::string blob = lupa_test::git(path, "rev-parse HEAD:" + key + "/results.json").text;
  blob.pop_back();
  fs::remove(path / ".git/objects" / blob.substr(0, 2) / blob.substr(2));

  fs::path outdir = tmp.path() / "out";
  fs::create_directories(outdir);
  fs::path out = outdir / "results.db";
  ASSERT_TRUE(util::write_file_atomic(out, "previous export"));
  auto database = db::Database::open(path);
  ASSERT_TRUE(database) << database.error();
  auto report = db::export_sqlite(*database, out);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find(key + "/results.json"), std::string::npos) << report.error();
  EXPECT_EQ(*util::read_file(out), "previous export"); // untouched
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(outdir)) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1u); // no temporary file left

  auto nowhere = db::export_sqlite(*database, tmp.path() / "missing-dir" / "x.db");
  ASSERT_FALSE(nowhere);
  EXPECT_NE(nowhere.error().find("missing-dir"), std::string::npos) << nowhere.error();
}
