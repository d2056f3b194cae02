// The store on real libgit2 repositories, checked with the real `git`.

#include "db/database.h"
#include "db/store.h"
#include "dbtest.h"
#include "synthetic.h"
#include "util/fs.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

namespace fs = std::filesystem;
using lupa_test::git;

namespace {

db::Store open_store(const fs::path& path) {
  auto store = db::Store::open(path, db::CreateMode::create);
  if (!store) {
    throw std::runtime_error(store.error());
  }
  return std::move(*store);
}

db::CommitResult commit(db::Store& store, const db::NewRun& run,
                        db::DirtyPolicy dirty = db::DirtyPolicy::refuse) {
  auto result = store.commit_run(run, {dirty});
  if (!result) {
    throw std::runtime_error(result.error());
  }
  return *result;
}

} // namespace

TEST(Store, CommitsOneRunReadableByGit) {
  util::TempDir tmp("lupa-test-store");
  fs::path path = tmp.path() / "db";
  db::Store store = open_store(path);
  db::NewRun run = lupa_test::synthetic_run("nginx", "wrk", 1);
  db::CommitResult result = commit(store, run);
  ASSERT_EQ(result.added.size(), 1u);
  EXPECT_FALSE(result.commit.empty());

  auto files = db::render_run(run);
  ASSERT_TRUE(files) << files.error();
  std::string key = files->key();
  EXPECT_EQ(result.added.front(), key);

  // Real git reads it: one commit, fsck clean, working tree clean, files as rendered.
  lupa_test::Output log = git(path, "log --format='%s%n%(trailers:key=Lupa-Run,valueonly)'");
  ASSERT_EQ(log.status, 0) << log.text;
  EXPECT_NE(log.text.find("nginx/benchmark-wrk: "), std::string::npos) << log.text;
  EXPECT_NE(log.text.find(files->run_id), std::string::npos) << log.text;
  lupa_test::Output fsck = git(path, "fsck --strict --no-dangling");
  EXPECT_EQ(fsck.status, 0) << fsck.text;
  lupa_test::Output status = git(path, "status --porcelain");
  EXPECT_EQ(status.status, 0);
  EXPECT_EQ(status.text, "");
  for (const auto& [rel, file] : files->files) {
    auto on_disk = util::read_file(path / key / rel);
    ASSERT_TRUE(on_disk) << on_disk.error();
    EXPECT_EQ(*on_disk, file.content) << rel;
  }
  lupa_test::Output mode = git(path, "ls-tree HEAD " + key + "/test.sh");
  EXPECT_EQ(mode.text.substr(0, 6), "100755") << mode.text;
  // The file hashes in provenance.json are what `git hash-object` computes.
  lupa_test::Output hash = git(path, "hash-object " + key + "/Dockerfile");
  auto data = db::Database::open(path);
  ASSERT_TRUE(data) << data.error();
  auto loaded = data->load(data->runs().at(0));
  ASSERT_TRUE(loaded) << loaded.error();
  ASSERT_TRUE(loaded->provenance);
  EXPECT_EQ(loaded->provenance->dockerfile.hash + "\n", hash.text);
  EXPECT_EQ(loaded->provenance->run_id, files->run_id);
  EXPECT_EQ(db::compute_run_id(*loaded->provenance, *loaded->result), files->run_id);
}

TEST(Store, SameRunTwiceMakesNoCommitAndRerunReplaces) {
  util::TempDir tmp("lupa-test-store");
  db::Store store = open_store(tmp.path() / "db");
  db::NewRun run = lupa_test::synthetic_run("redis", "redis-benchmark", 2);
  commit(store, run);
  db::CommitResult again = commit(store, run);
  EXPECT_TRUE(again.commit.empty());
  EXPECT_EQ(again.unchanged.size(), 1u);

  // Same experiment, other verdicts and date: same run id, files replaced, history keeps both.
  db::NewRun rerun = run;
  rerun.result.syscalls.front().stub.runs = {!rerun.result.syscalls.front().stub.runs[0],
                                             !rerun.result.syscalls.front().stub.runs[0]};
  rerun.provenance.date = "2025-02-01T00:00:00Z";
  db::CommitResult replaced = commit(store, rerun);
  ASSERT_EQ(replaced.replaced.size(), 1u);
  EXPECT_EQ(replaced.replaced.front(), again.unchanged.front());
  lupa_test::Output count = git(tmp.path() / "db", "rev-list --count HEAD");
  EXPECT_EQ(count.text, "2\n");
  lupa_test::Output diff = git(tmp.path() / "db", "diff --stat HEAD~1 HEAD");
  EXPECT_NE(diff.text.find("dyn.csv"), std::string::npos) << diff.text;
  EXPECT_EQ(git(tmp.path() / "db", "status --porcelain").text, "");
}

TEST(Store, RefusesDirtyWorkingTreeUnlessAllowed) {
  util::TempDir tmp("lupa-test-store");
  fs::path path = tmp.path() / "db";
  db::Store store = open_store(path);
  auto first = db::render_run(lupa_test::synthetic_run("nginx", "wrk", 3));
  ASSERT_TRUE(first);
  commit(store, lupa_test::synthetic_run("nginx", "wrk", 3));
  ASSERT_TRUE(util::write_file_atomic(path / first->key() / "cmd.txt", "edited by hand\n"));

  auto refused = store.commit_run(lupa_test::synthetic_run("nginx", "wrk", 4), {});
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().find("uncommitted changes"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("cmd.txt"), std::string::npos) << refused.error();
  EXPECT_NE(refused.error().find("--allow-dirty"), std::string::npos) << refused.error();
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "1\n"); // nothing committed

  // An untracked file elsewhere is not in the way.
  ASSERT_TRUE(util::write_file_atomic(path / "notes.txt", "mine\n"));
  ASSERT_TRUE(util::write_file_atomic(path / first->key() / "cmd.txt",
                                      first->files.at("cmd.txt").content));
  commit(store, lupa_test::synthetic_run("nginx", "wrk", 4));

  // An untracked file where the run is about to be written is in the way.
  auto sixth = db::render_run(lupa_test::synthetic_run("nginx", "wrk", 6));
  fs::create_directories(path / sixth->key());
  ASSERT_TRUE(util::write_file_atomic(path / sixth->key() / "stray.txt", "mine\n"));
  auto in_the_way = store.commit_run(lupa_test::synthetic_run("nginx", "wrk", 6), {});
  ASSERT_FALSE(in_the_way);
  EXPECT_NE(in_the_way.error().find("untracked " + sixth->key() + "/stray.txt"), std::string::npos)
      << in_the_way.error();
  fs::remove_all(path / "nginx" / "benchmark-wrk" / sixth->run_id);

  ASSERT_TRUE(util::write_file_atomic(path / first->key() / "cmd.txt", "edited again\n"));
  db::CommitResult allowed =
      commit(store, lupa_test::synthetic_run("nginx", "wrk", 5), db::DirtyPolicy::allow);
  EXPECT_EQ(allowed.added.size(), 1u);
  EXPECT_EQ(*util::read_file(path / first->key() / "cmd.txt"), "edited again\n"); // kept
}

TEST(Store, NewestRunIsDecidedByHistoryNotName) {
  util::TempDir tmp("lupa-test-store");
  fs::path path = tmp.path() / "db";
  db::Store store = open_store(path);
  // Two runs of one app and workload; commit first the one the no-history rule prefers.
  db::NewRun a = lupa_test::synthetic_run("nginx", "wrk", 10);
  db::NewRun b = lupa_test::synthetic_run("nginx", "wrk", 11);
  auto info = [](const db::NewRun& run) {
    db::RunInfo r;
    r.ref = db::RunRef{run.app, run.workload, db::render_run(run)->run_id, {}};
    r.has_provenance = true;
    r.date = run.provenance.date;
    return r;
  };
  if (db::older_than(info(a), info(b))) {
    std::swap(a, b);
  }
  ASSERT_FALSE(db::older_than(info(a), info(b))); // without history, a would be the newest
  std::string id_a = info(a).ref.run_id;
  std::string id_b = info(b).ref.run_id;
  commit(store, a);
  commit(store, b);
  auto database = db::Database::open(path);
  ASSERT_TRUE(database) << database.error();
  const db::RunInfo* newest = database->latest("nginx", db::Workload{db::WorkloadKind::benchmark, "wrk"});
  ASSERT_NE(newest, nullptr);
  EXPECT_EQ(newest->ref.run_id, id_b);
  EXPECT_EQ(newest->history_rank, 0u);

  // Re-running a (same id, new results) makes it the newest again.
  a.result.syscalls.back().fake.runs = {true, false};
  commit(store, a);
  database = db::Database::open(path);
  ASSERT_TRUE(database) << database.error();
  newest = database->latest("nginx", db::WorkloadKind::benchmark);
  ASSERT_NE(newest, nullptr);
  EXPECT_EQ(newest->ref.run_id, id_a);
  ASSERT_EQ(database->latest_runs(db::WorkloadKind::benchmark).size(), 1u);
  EXPECT_TRUE(database->latest_runs(db::WorkloadKind::suite).empty());

  // An older revision sees the older state.
  auto older = db::Database::open(path, "HEAD~1");
  ASSERT_TRUE(older) << older.error();
  EXPECT_EQ(older->latest("nginx", db::WorkloadKind::benchmark)->ref.run_id, id_b);
}

TEST(Store, CompareAndSwapRetriesWhenGitMovesTheBranch) {
  util::TempDir tmp("lupa-test-store");
  fs::path path = tmp.path() / "db";
  db::Store store = open_store(path);
  commit(store, lupa_test::synthetic_run("nginx", "wrk", 20));

  fs::path sync = tmp.path() / "sync";
  fs::create_directories(sync);
  ::setenv("LUPA_TEST_PAUSE", ("before-ref-update:" + sync.string()).c_str(), 1);
  util::Result<db::CommitResult> result;
  std::thread writer([&] {
    auto other = db::Store::open(path, db::CreateMode::must_exist);
    result = other ? other->commit_run(lupa_test::synthetic_run("nginx", "wrk", 21), {})
                   : util::Result<db::CommitResult>(util::error(other.error()));
  });
  for (int i = 0; i < 2000 && !fs::exists(sync / "paused-before-ref-update"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(fs::exists(sync / "paused-before-ref-update"));
  // Another writer (plain git) moves the branch while lupa holds its new commit.
  lupa_test::Output external = git(path, "commit --allow-empty -q -m 'external writer'");
  EXPECT_EQ(external.status, 0) << external.text;
  ::unsetenv("LUPA_TEST_PAUSE");
  ASSERT_TRUE(util::write_file_atomic(sync / "resume", ""));
  writer.join();
  ASSERT_TRUE(result) << result.error();
  EXPECT_GE(result->retries, 1u);
  // Both landed: three commits, the external one in the middle.
  EXPECT_EQ(git(path, "rev-list --count HEAD").text, "3\n");
  EXPECT_EQ(git(path, "log -1 --format=%s HEAD~1").text, "external writer\n");
  EXPECT_EQ(git(path, "status --porcelain").text, "");
  EXPECT_EQ(git(path, "fsck --strict --no-dangling").status, 0);
}

TEST(Store, BareDatabaseHasNoWorkingTree) {
  util::TempDir tmp("lupa-test-store");
  fs::path path = tmp.path() / "bare.git";
  ASSERT_EQ(lupa_test::sh("git init -q --bare -b main " + path.string()).status, 0);
  auto store = db::Store::open(path, db::CreateMode::must_exist);
  ASSERT_TRUE(store) << store.error();
  EXPECT_TRUE(store->bare());
  auto result = store->commit_run(lupa_test::synthetic_run("memcached", "memtier", 30), {});
  ASSERT_TRUE(result) << result.error();
  EXPECT_EQ(git(path, "rev-list --count main").text, "1\n");
  EXPECT_EQ(git(path, "fsck --strict --no-dangling").status, 0);
}

TEST(Store, RefusesNonDatabaseDirectory) {
  util::TempDir tmp("lupa-test-store");
  ASSERT_TRUE(util::write_file_atomic(tmp.path() / "file.txt", "x"));
  auto store = db::Store::open(tmp.path(), db::CreateMode::create);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().find("not a lupa results database"), std::string::npos) << store.error();
}

TEST(Store, UpdateTreeAddsReplacesAndRemoves) {
  util::TempDir tmp("lupa-test-store");
  db::Store store = open_store(tmp.path() / "db");
  git_repository* repo = store.repo();
  git_oid blob_a, blob_b;
  ASSERT_EQ(git_blob_create_from_buffer(&blob_a, repo, "a", 1), 0);
  ASSERT_EQ(git_blob_create_from_buffer(&blob_b, repo, "b", 1), 0);
  auto t1 = db::update_tree(repo, nullptr,
                            {{"x/y/f", blob_a, GIT_FILEMODE_BLOB}, {"x/g", blob_b, GIT_FILEMODE_BLOB}});
  ASSERT_TRUE(t1) << t1.error();
  auto tree1 = db::git::lookup_tree(repo, *t1);
  ASSERT_TRUE(tree1);
  auto t2 = db::update_tree(repo, tree1->get(), {{"x/y/f", std::nullopt, GIT_FILEMODE_BLOB}});
  ASSERT_TRUE(t2) << t2.error();
  auto tree2 = db::git::lookup_tree(repo, *t2);
  ASSERT_TRUE(tree2);
  git_tree_entry* e = nullptr;
  EXPECT_NE(git_tree_entry_bypath(&e, tree2->get(), "x/y"), 0); // emptied directory removed
  ASSERT_EQ(git_tree_entry_bypath(&e, tree2->get(), "x/g"), 0);
  EXPECT_TRUE(git_oid_equal(git_tree_entry_id(e), &blob_b));
  git_tree_entry_free(e);
}

TEST(RunId, APartialExplorationIsAnotherExperiment) {
  db::NewRun run = lupa_test::synthetic_run("nginx", "wrk", 3);
  auto full = db::complete_provenance(run);
  ASSERT_TRUE(full) << full.error();
  ASSERT_FALSE(run.result.syscalls.empty());
  // The same run with one syscall left unexplored (--only-syscalls) gets another id.
  run.result.syscalls.front().stub.runs.clear();
  run.result.syscalls.front().fake.runs.clear();
  auto partial = db::complete_provenance(run);
  ASSERT_TRUE(partial) << partial.error();
  EXPECT_NE(partial->run_id, full->run_id);
  EXPECT_NE(db::run_id_document(*partial, run.result).find("\"unexplored\":["), std::string::npos);
}
