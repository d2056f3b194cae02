// Importing Loupe trees and run directories; the published loupedb-2023 read in place and as
// an imported git database; bad input refused with nothing written.

#include "db/database.h"
#include "db/importer.h"
#include "dbtest.h"
#include "synthetic.h"
#include "testutil.h"
#include "util/fs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <set>

namespace fs = std::filesystem;
using lupa_test::git;

namespace {

size_t distinct_files(const std::vector<std::string>& where) {
  std::set<std::string> files;
  for (const std::string& w : where) {
    files.insert(w.substr(0, w.find(':')));
  }
  return files.size();
}

// A small Loupe-layout tree: two apps, Loupe-format CSVs written by hand.
fs::path write_loupe_tree(const fs::path& root) {
  std::string dyn = "# syscall, used, works faked, works stubbed, works both\n";
  for (int nr = 0; nr < 335; ++nr) {
    dyn += fmt::format("{},{},N,{},N\n", nr, nr < 20 ? 'Y' : 'N', nr % 3 == 0 && nr < 20 ? 'Y' : 'N');
  }
  for (const char* dir : {"redis/benchmark-redis-benchmark/0123456789abcdef0123456789abcdef",
                          "sqlite/suite/imported"}) {
    fs::create_directories(root / dir / "data");
    EXPECT_TRUE(util::write_file_atomic(root / dir / "data/dyn.csv", dyn));
    EXPECT_TRUE(util::write_file_atomic(root / dir / "cmd.txt", "loupe generate\n"));
  }
  EXPECT_TRUE(util::write_file_atomic(root / "Unikraft.syscalls", "read\nwrite\nnot_a_call\n"));
  return root;
}

} // namespace

TEST(Import, LoupedbTotalsDriftAndByteIdenticalCopy) {
  fs::path source = lupa_test::loupedb_path();
  if (source.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  util::TempDir tmp("lupa-test-import");
  fs::path path = tmp.path() / "db";
  auto report = db::import_loupedb(source, path, {});
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->runs, 125u);
  EXPECT_EQ(report->apps, 116u);
  EXPECT_EQ(report->added.size(), 125u);
  EXPECT_EQ(report->commits.size(), 1u);
  EXPECT_EQ(report->os_lists.size(), 11u);
  ASSERT_EQ(report->unknown_names.size(), 1u);
  EXPECT_NE(report->unknown_names[0].find("Gvisor.syscalls"), std::string::npos);
  EXPECT_NE(report->unknown_names[0].find("futimensat"), std::string::npos);

  // The drift SOURCE.md lists, counted.
  const auto& drift = report->drift;
  ASSERT_TRUE(drift.contains("dyn.csv with 336 rows (Loupe writes 335)"));
  EXPECT_EQ(drift.at("dyn.csv with 336 rows (Loupe writes 335)").size(), 18u);
  EXPECT_EQ(distinct_files(drift.at("dyn.csv rows with non-exclusive flag columns")), 18u);
  ASSERT_EQ(drift.at("dyn.csv without a header line").size(), 1u);
  EXPECT_NE(drift.at("dyn.csv without a header line")[0].find("envoy/"), std::string::npos);
  const auto& unused_flagged = drift.at("dyn.csv rows with used=N but a works flag Y");
  EXPECT_EQ(unused_flagged.size(), 3u);
  EXPECT_EQ(distinct_files(unused_flagged), 1u);
  EXPECT_NE(unused_flagged[0].find("h2o/"), std::string::npos);
  EXPECT_EQ(drift.at("static_binary.csv without a final newline").size(), 86u);
  EXPECT_EQ(drift.at("static_binary.csv without a header line").size(), 10u);

  // A real git repository, the data copied byte for byte.
  EXPECT_EQ(git(path, "fsck --strict --no-dangling").status, 0);
  EXPECT_EQ(git(path, "status --porcelain").text, "");
  lupa_test::Output diff = lupa_test::sh(fmt::format("diff -r -x .git -x '*SOURCE.md' '{}' '{}'",
                                                     source.string(), path.string()));
  EXPECT_EQ(diff.status, 0) << diff.text;
  EXPECT_TRUE(fs::exists(path / "loupedb-2023.SOURCE.md"));

  // Importing again changes nothing.
  auto again = db::import_loupedb(source, path, {});
  ASSERT_TRUE(again) << again.error();
  EXPECT_TRUE(again->added.empty());
  EXPECT_EQ(again->unchanged.size(), 125u);
  EXPECT_TRUE(again->commits.empty());
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "1\n");
}

TEST(Import, LoupedbNewestRunsInPlaceAndAfterImportAgree) {
  fs::path source = lupa_test::loupedb_path();
  if (source.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  util::TempDir tmp("lupa-test-import");
  ASSERT_TRUE(db::import_loupedb(source, tmp.path() / "db", {}));
  auto plain = db::Database::open(source);
  auto imported = db::Database::open(tmp.path() / "db");
  ASSERT_TRUE(plain) << plain.error();
  ASSERT_TRUE(imported) << imported.error();
  EXPECT_FALSE(plain->is_git());
  EXPECT_TRUE(imported->is_git());
  EXPECT_EQ(plain->runs().size(), 125u);
  EXPECT_EQ(plain->app_count(), 116u);
  EXPECT_EQ(plain->os_list_files().size(), 11u);

  // nginx has a hashed suite run and an "imported" one: the hashed run is the newest.
  db::Workload suite{db::WorkloadKind::suite, "nginx-tests"};
  const db::RunInfo* nginx = plain->latest("nginx", suite);
  ASSERT_NE(nginx, nullptr);
  EXPECT_EQ(nginx->ref.run_id, "c7d2ac9eca329a756e7690251213b81f");
  // lua has two hashed runs: the smaller id.
  const db::RunInfo* lua = plain->latest("lua", db::WorkloadKind::benchmark);
  ASSERT_NE(lua, nullptr);
  EXPECT_EQ(lua->ref.run_id, "5b48cb66be56e21425e0d1b0328c9cfc");

  // One import commit does not separate them: the git database agrees with the plain rule.
  for (db::WorkloadKind kind : {db::WorkloadKind::benchmark, db::WorkloadKind::suite}) {
    std::vector<const db::RunInfo*> a = plain->latest_runs(kind);
    std::vector<const db::RunInfo*> b = imported->latest_runs(kind);
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i]->key(), b[i]->key());
    }
  }
  // One newest run per app and workload kind; one per app and workload directory.
  std::set<std::string> app_kinds;
  std::set<std::string> groups;
  size_t newest = 0;
  for (const db::RunInfo& r : plain->runs()) {
    app_kinds.insert(r.ref.app + "/" + db::to_string(r.ref.workload.kind));
    groups.insert(r.ref.app + "/" + r.ref.workload.dir_name());
    newest += r.latest ? 1 : 0;
  }
  EXPECT_EQ(plain->latest_runs(db::WorkloadKind::benchmark).size() +
                plain->latest_runs(db::WorkloadKind::suite).size(),
            app_kinds.size());
  EXPECT_EQ(newest, groups.size());
  EXPECT_EQ(groups.size(), 123u); // lua and nginx's suite have two runs each
  auto gvisor = imported->os_list("Gvisor");
  ASSERT_TRUE(gvisor) << gvisor.error();
  EXPECT_EQ(gvisor->unknown_names, std::vector<std::string>{"futimensat"});
}

TEST(Import, MalformedCsvRowStopsTheImportAndWritesNothing) {
  util::TempDir tmp("lupa-test-import");
  fs::path source = write_loupe_tree(tmp.path() / "src");
  fs::path bad = source / "sqlite/suite/imported/data/dyn.csv";
  std::string text = *util::read_file(bad);
  text.replace(text.find("7,Y,N,N,N"), 9, "7,Y,maybe,N,N");
  ASSERT_TRUE(util::write_file_atomic(bad, text));
  fs::path path = tmp.path() / "db";
  auto report = db::import_loupedb(source, path, {});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("sqlite/suite/imported/data/dyn.csv:9"), std::string::npos)
      << report.error();
  EXPECT_NE(report.error().find("works faked"), std::string::npos) << report.error();
  EXPECT_FALSE(fs::exists(path)); // no database created
}

TEST(Import, RunDirectoryMissingItsCsvIsNamed) {
  util::TempDir tmp("lupa-test-import");
  fs::path source = write_loupe_tree(tmp.path() / "src");
  fs::remove(source / "redis/benchmark-redis-benchmark/0123456789abcdef0123456789abcdef/data/dyn.csv");
  // Into an existing database: nothing may change.
  fs::path path = tmp.path() / "db";
  auto store = db::Store::open(path, db::CreateMode::create);
  ASSERT_TRUE(store) << store.error();
  ASSERT_TRUE(store->commit_run(lupa_test::synthetic_run("nginx", "wrk", 1), {}));
  auto report = db::import_loupedb(source, path, {});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("redis/benchmark-redis-benchmark/0123456789abcdef0123456789abcdef: "
                                "no data/dyn.csv"),
            std::string::npos)
      << report.error();
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "1\n");
  EXPECT_EQ(git(path, "status --porcelain").text, "");
}

TEST(Import, ConflictingRunIsRefusedAndOtherTreesExtendTheDatabase) {
  util::TempDir tmp("lupa-test-import");
  fs::path source = write_loupe_tree(tmp.path() / "src");
  fs::path path = tmp.path() / "db";
  auto first = db::import_loupedb(source, path, {});
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->added.size(), 2u);
  ASSERT_EQ(first->unknown_names.size(), 1u);
  EXPECT_NE(first->unknown_names[0].find("not_a_call"), std::string::npos);

  // Same key, other contents: refused, nothing written.
  ASSERT_TRUE(util::write_file_atomic(source / "sqlite/suite/imported/cmd.txt", "changed\n"));
  auto conflict = db::import_loupedb(source, path, {});
  ASSERT_FALSE(conflict);
  EXPECT_NE(conflict.error().find("sqlite/suite/imported: already in the database with other contents"),
            std::string::npos)
      << conflict.error();
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "1\n");

  // Another tree extends it.
  fs::path other = tmp.path() / "other";
  lupa_test::write_synthetic_tree(other, 3, 3);
  auto more = db::import_loupedb(other, path, {});
  ASSERT_TRUE(more) << more.error();
  EXPECT_EQ(more->added.size(), 3u);
  EXPECT_EQ(more->lupa_runs, 3u);
  auto database = db::Database::open(path);
  ASSERT_TRUE(database) << database.error();
  EXPECT_EQ(database->runs().size(), 5u);
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "2\n");
}

TEST(Import, RunDirectoriesOneCommitEachAfterChecks) {
  util::TempDir tmp("lupa-test-import");
  fs::path out = tmp.path() / "runner-out";
  fs::path a = lupa_test::write_run_dir(out, lupa_test::synthetic_run("nginx", "wrk", 1));
  fs::path b = lupa_test::write_run_dir(out, lupa_test::synthetic_run("redis", "bench", 2));
  fs::path path = tmp.path() / "db";
  auto report = db::import_runs({a, b}, path, {});
  ASSERT_TRUE(report) << report.error();
  EXPECT_EQ(report->commits.size(), 2u);
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "2\n");
  EXPECT_EQ(git(path, "fsck --strict --no-dangling").status, 0);

  // A tampered run (dyn.csv edited by hand) is refused before anything is committed.
  fs::path c = lupa_test::write_run_dir(out, lupa_test::synthetic_run("haproxy", "wrk", 3));
  std::string dyn = *util::read_file(c / "data/dyn.csv");
  size_t row = dyn.find("\n0,");
  dyn.replace(row + 1, 9, dyn.substr(row + 1, 4) == "0,Y," ? "0,N,N,N,N" : "0,Y,N,N,N");
  ASSERT_TRUE(util::write_file_atomic(c / "data/dyn.csv", dyn));
  fs::path d = lupa_test::write_run_dir(out, lupa_test::synthetic_run("lighttpd", "wrk", 4));
  auto refused = db::import_runs({d, c}, path, {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("haproxy/benchmark-wrk/"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("data/dyn.csv: syscall 0 (read)"), std::string::npos) << refused.error();
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "2\n");
}

TEST(Import, CorruptAndIncompleteRepositoriesGiveOneClearError) {
  util::TempDir tmp("lupa-test-import");
  fs::path path = tmp.path() / "db";
  auto store = db::Store::open(path, db::CreateMode::create);
  ASSERT_TRUE(store);
  db::NewRun run = lupa_test::synthetic_run("nginx", "wrk", 7);
  ASSERT_TRUE(store->commit_run(run, {}));
  std::string key = db::render_run(run)->key();

  // A missing object: the run and the file are named.
  std::string blob = git(path, "rev-parse HEAD:" + key + "/data/dyn.csv").text;
  blob.pop_back();
  fs::remove(path / ".git/objects" / blob.substr(0, 2) / blob.substr(2));
  auto database = db::Database::open(path);
  ASSERT_TRUE(database) << database.error(); // the trees are intact
  auto loaded = database->load(database->runs().at(0));
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find(key + "/data/dyn.csv"), std::string::npos) << loaded.error();
  EXPECT_NE(loaded.error().find(blob), std::string::npos) << loaded.error();

  // A corrupt object (garbage instead of zlib data): named too.
  std::string tree = git(path, "rev-parse HEAD:" + key.substr(0, key.find('/'))).text;
  tree.pop_back();
  fs::path object = path / ".git/objects" / tree.substr(0, 2) / tree.substr(2);
  fs::permissions(object, fs::perms::owner_write, fs::perm_options::add);
  ASSERT_TRUE(util::write_file_atomic(object, "this is not a git object"));
  auto corrupt = db::Database::open(path);
  ASSERT_FALSE(corrupt);
  EXPECT_NE(corrupt.error().find("nginx"), std::string::npos) << corrupt.error();

  // A broken HEAD.
  ASSERT_TRUE(util::write_file_atomic(path / ".git/HEAD", "garbage\n"));
  auto broken = db::Database::open(path);
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().find(path.string()), std::string::npos) << broken.error();
  auto writer = db::Store::open(path, db::CreateMode::create);
  ASSERT_FALSE(writer); // never mistaken for a plain directory to initialise
  EXPECT_NE(writer.error().find("HEAD"), std::string::npos) << writer.error();
}
