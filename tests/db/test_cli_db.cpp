// The database commands of the real `lupa` binary: processes killed mid-commit, two writers at
// once, and one clear error line with a non-zero exit for bad input.

#include "db/database.h"
#include "db/run_files.h"
#include "dbtest.h"
#include "synthetic.h"
#include "testutil.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;
using lupa_test::git;
using lupa_test::sh;

namespace {

std::string lupa() { return lupa_test::lupa_binary(); }

// Lines of `text` that are not empty.
std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& l : util::split(text, '\n')) {
    if (!l.empty()) {
      out.push_back(l);
    }
  }
  return out;
}

// Expects `command` to fail with exactly one line "lupa: error: ..." containing `needle`.
void expect_one_error_line(const std::string& command, const std::string& needle) {
  lupa_test::Output out = sh(command);
  EXPECT_NE(out.status, 0) << command << "\n" << out.text;
  std::vector<std::string> got = lines(out.text);
  ASSERT_EQ(got.size(), 1u) << command << "\n" << out.text;
  EXPECT_TRUE(got[0].starts_with("lupa: error: ")) << got[0];
  EXPECT_NE(got[0].find(needle), std::string::npos) << got[0];
}

class DbCli : public ::testing::Test {
protected:
  void SetUp() override {
    if (!fs::exists(lupa())) {
      GTEST_SKIP() << "the lupa binary is not built (" << lupa() << ")";
    }
    m_db = m_tmp.path() / "db";
    m_runs = m_tmp.path() / "runs";
  }

  fs::path run_dir(const std::string& app, uint64_t seed) {
    return lupa_test::write_run_dir(m_runs, lupa_test::synthetic_run(app, "wrk", seed));
  }

  std::string count() { return git(m_db, "rev-list --count HEAD").text; }

  util::TempDir m_tmp{"lupa-test-cli"};
  fs::path m_db;
  fs::path m_runs;
};

} // namespace

TEST_F(DbCli, KilledBeforeTheRefMovesLeavesNoTrace) {
  ASSERT_EQ(sh(lupa() + " import run " + run_dir("nginx", 1).string() + " --db " + m_db.string()).status, 0);
  std::string before = count();
  std::string status_before = git(m_db, "status --porcelain").text;
  for (const char* stage : {"objects-written", "before-ref-update"}) {
    fs::path sync = m_tmp.path() / fmt::format("sync-{}", stage);
    fs::create_directories(sync);
    lupa_test::Child child({lupa(), "import", "run", run_dir("redis", 2).string(), "--db", m_db.string()},
                           {fmt::format("LUPA_TEST_PAUSE={}:{}", stage, sync.string())},
                           sync / "log");
    ASSERT_TRUE(lupa_test::wait_for_file(sync / fmt::format("paused-{}", stage))) << stage;
    EXPECT_EQ(child.kill9(), 128 + SIGKILL);
    // No commit, a consistent repository, an untouched working tree.
    EXPECT_EQ(count(), before) << stage;
    EXPECT_EQ(git(m_db, "fsck --strict --no-dangling").status, 0) << stage;
    EXPECT_EQ(git(m_db, "status --porcelain").text, status_before) << stage;
  }
  // The next writer is not blocked (the lock died with the process) and lands whole.
  lupa_test::Output again = sh(lupa() + " import run " + run_dir("redis", 2).string() + " --db " + m_db.string());
  EXPECT_EQ(again.status, 0) << again.text;
  EXPECT_EQ(git(m_db, "rev-list --count HEAD").text, "2\n");
  EXPECT_EQ(git(m_db, "status --porcelain").text, "");
}

TEST_F(DbCli, KilledAfterTheRefMovesIsCompletedByTheNextWriter) {
  ASSERT_EQ(sh(lupa() + " import run " + run_dir("nginx", 1).string() + " --db " + m_db.string()).status, 0);
  fs::path sync = m_tmp.path() / "sync";
  fs::create_directories(sync);
  fs::path redis = run_dir("redis", 2);
  {
    lupa_test::Child child({lupa(), "import", "run", redis.string(), "--db", m_db.string()},
                           {"LUPA_TEST_PAUSE=after-ref-update:" + sync.string()}, sync / "log");
    ASSERT_TRUE(lupa_test::wait_for_file(sync / "paused-after-ref-update"));
    child.kill9();
  }
  // The run is complete in history (read from the objects) even though the checkout was cut.
  EXPECT_EQ(count(), "2\n");
  EXPECT_EQ(git(m_db, "fsck --strict --no-dangling").status, 0);
  lupa_test::Output verify = sh(lupa() + " verify --db " + m_db.string());
  EXPECT_EQ(verify.status, 0) << verify.text;
  auto database = db::Database::open(m_db);
  ASSERT_TRUE(database) << database.error();
  EXPECT_EQ(database->runs().size(), 2u);
  // The next writer finishes the working tree first, then commits its own run.
  lupa_test::Output next = sh(lupa() + " import run " + run_dir("haproxy", 3).string() + " --db " + m_db.string());
  EXPECT_EQ(next.status, 0) << next.text;
  EXPECT_EQ(count(), "3\n");
  EXPECT_EQ(git(m_db, "status --porcelain").text, "");
  std::string redis_key = fs::relative(redis, m_runs).string();
  EXPECT_TRUE(fs::exists(m_db / redis_key / "results.json"));
}

TEST_F(DbCli, TwoConcurrentWritersBothLand) {
  ASSERT_EQ(sh(lupa() + " import run " + run_dir("base", 0).string() + " --db " + m_db.string()).status, 0);
  std::vector<std::string> first = {lupa(), "import", "run"};
  std::vector<std::string> second = {lupa(), "import", "run"};
  for (uint64_t i = 1; i <= 6; ++i) {
    first.push_back(run_dir(fmt::format("left{}", i), i).string());
    second.push_back(run_dir(fmt::format("right{}", i), 100 + i).string());
  }
  for (auto* argv : {&first, &second}) {
    argv->push_back("--db");
    argv->push_back(m_db.string());
  }
  lupa_test::Child a(first, {}, m_tmp.path() / "a.log");
  lupa_test::Child b(second, {}, m_tmp.path() / "b.log");
  EXPECT_EQ(a.wait(), 0) << *util::read_file(m_tmp.path() / "a.log");
  EXPECT_EQ(b.wait(), 0) << *util::read_file(m_tmp.path() / "b.log");
  EXPECT_EQ(count(), "13\n"); // 1 + 6 + 6: nobody lost a commit
  EXPECT_EQ(git(m_db, "fsck --strict --no-dangling").status, 0);
  EXPECT_EQ(git(m_db, "status --porcelain").text, "");
  auto database = db::Database::open(m_db);
  ASSERT_TRUE(database) << database.error();
  EXPECT_EQ(database->runs().size(), 13u);
  EXPECT_EQ(lines(git(m_db, "log --format=%s").text).size(), 13u);
}

TEST_F(DbCli, BadInputGivesOneErrorLineAndNonZeroExit) {
  ASSERT_EQ(sh(lupa() + " import run " + run_dir("nginx", 1).string() + " --db " + m_db.string()).status, 0);
  std::string db = " --db " + m_db.string();

  // A run directory with a missing file.
  fs::path incomplete = run_dir("redis", 2);
  fs::remove(incomplete / "results.json");
  expect_one_error_line(lupa() + " import run " + incomplete.string() + db, "results.json: missing");
  // A malformed CSV row in a Loupe tree.
  fs::path loupe = m_tmp.path() / "loupe";
  fs::create_directories(loupe / "app/suite/imported/data");
  ASSERT_TRUE(util::write_file_atomic(loupe / "app/suite/imported/data/dyn.csv", "# h\n0,Y,N,N\n"));
  expect_one_error_line(lupa() + " import loupedb " + loupe.string() + db,
                        "app/suite/imported/data/dyn.csv:2: expected 5 columns");
  EXPECT_EQ(count(), "1\n");
  // An unknown run.
  expect_one_error_line(lupa() + " diff nginx/benchmark-wrk nosuchrun" + db, "no run 'nosuchrun'");
  // An unreachable remote.
  expect_one_error_line(lupa() + " submit --remote git://127.0.0.1:19499/none.git" + db, "cannot reach remote");
  // A missing object.
  std::string key = fs::relative(run_dir("nginx", 1), m_runs).string();
  std::string blob = git(m_db, "rev-parse HEAD:" + key + "/data/dyn.csv").text.substr(0, 40);
  fs::remove(m_db / ".git/objects" / blob.substr(0, 2) / blob.substr(2));
  fs::path out = m_tmp.path() / "out.db";
  expect_one_error_line(lupa() + " export sqlite " + out.string() + db, key + "/data/dyn.csv");
  EXPECT_FALSE(fs::exists(out));
  // Not a database at all.
  expect_one_error_line(lupa() + " export sqlite " + out.string() + " --db " + m_tmp.path().string() + "/nowhere",
                        "no such results database");
}

TEST_F(DbCli, VerifyRejectsAHostileBranchWithOneLinePerProblem) {
  ASSERT_EQ(sh(lupa() + " import run " + run_dir("nginx", 1).string() + " --db " + m_db.string()).status, 0);
  // A contributor edits a verdict by hand and adds a symlink, with the real git.
  ASSERT_EQ(git(m_db, "checkout -q -b hostile").status, 0);
  std::string key = fs::relative(run_dir("nginx", 1), m_runs).string();
  std::string dyn = *util::read_file(m_db / key / "data/dyn.csv");
  size_t row = dyn.find("\n0,");
  dyn.replace(row + 1, 9, dyn.substr(row + 1, 4) == "0,Y," ? "0,N,N,N,N" : "0,Y,Y,N,N");
  ASSERT_TRUE(util::write_file_atomic(m_db / key / "data/dyn.csv", dyn));
  fs::create_symlink("/etc/shadow", m_db / key / "shadow");
  ASSERT_EQ(git(m_db, "add -A").status, 0);
  ASSERT_EQ(git(m_db, "commit -q -m 'better results'").status, 0);
  ASSERT_EQ(git(m_db, "checkout -q main").status, 0);

  lupa_test::Output out = sh(lupa() + " verify hostile --base main --db " + m_db.string());
  EXPECT_EQ(out.status, 1) << out.text;
  std::vector<std::string> got = lines(out.text);
  ASSERT_GE(got.size(), 2u) << out.text;
  EXPECT_NE(out.text.find("rejected: " + key + "/shadow: symlink not allowed"), std::string::npos) << out.text;
  EXPECT_TRUE(got.back().starts_with("verify: REJECTED: hostile")) << out.text;
  lupa_test::Output ok = sh(lupa() + " verify main --base main --db " + m_db.string());
  EXPECT_EQ(ok.status, 0) << ok.text;
}

TEST_F(DbCli, ReproduceExitCodeSaysWhetherResultsDiffer) {
  db::NewRun run = lupa_test::synthetic_run("nginx", "wrk", 1);
  fs::path dir = lupa_test::write_run_dir(m_runs, run);
  ASSERT_EQ(sh(lupa() + " import run " + dir.string() + " --db " + m_db.string()).status, 0);
  std::string key = fs::relative(dir, m_runs).string();
  fs::path same = m_tmp.path() / "same.json";
  ASSERT_TRUE(util::write_file_atomic(same, nlohmann::json(run.result).dump()));
  lupa_test::Output unchanged = sh(lupa() + " reproduce " + key + " --result " + same.string() + " --db " + m_db.string());
  EXPECT_EQ(unchanged.status, 0) << unchanged.text;
  EXPECT_NE(unchanged.text.find("results: identical"), std::string::npos) << unchanged.text;

  run.result.syscalls.front().stub.runs = {!run.result.syscalls.front().stub.runs[0],
                                           !run.result.syscalls.front().stub.runs[0]};
  fs::path other = m_tmp.path() / "other.json";
  ASSERT_TRUE(util::write_file_atomic(other, nlohmann::json(run.result).dump()));
  lupa_test::Output changed = sh(lupa() + " reproduce " + key.substr(key.rfind('/') + 1, 8) + " --result " +
                                 other.string() + " --commit --db " + m_db.string());
  EXPECT_EQ(changed.status, 2) << changed.text;
  EXPECT_NE(changed.text.find("1 changed"), std::string::npos) << changed.text;
  EXPECT_NE(changed.text.find("committed " + key), std::string::npos) << changed.text;
  EXPECT_EQ(count(), "2\n");
  lupa_test::Output log = sh(lupa() + " log " + key + " --db " + m_db.string());
  EXPECT_EQ(lines(log.text).size(), 2u) << log.text;
  lupa_test::Output diff = sh(lupa() + " diff HEAD~1:" + key + " " + key + " --json --db " + m_db.string());
  ASSERT_EQ(diff.status, 0) << diff.text;
  EXPECT_EQ(nlohmann::json::parse(diff.text)["changed"].size(), 1u);
}
