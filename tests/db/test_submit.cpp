// `lupa submit` against a real remote: a bare repository served by `git daemon` on 127.0.0.1.

#include "db/store.h"
#include "db/submit.h"
#include "db/verify.h"
#include "dbtest.h"
#include "synthetic.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <memory>

namespace fs = std::filesystem;
using lupa_test::git;

namespace {

// True if something accepts TCP connections on 127.0.0.1:`port`.
bool listening(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// True if 127.0.0.1:`port` can be bound now.
bool free_port(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// A port of 19400-19499 nobody listens on.
int unused_port() {
  for (int i = 0; i < 100; ++i) {
    int port = 19400 + (::getpid() + 37 + i) % 100;
    if (free_port(port)) {
      return port;
    }
  }
  return -1;
}

// `git daemon` serving `base` read-write on a port of 19400-19499, stopped on destruction.
class GitDaemon {
public:
  explicit GitDaemon(const fs::path& base) {
    for (int i = 0; i < 100 && m_port < 0; ++i) {
      int port = 19400 + (::getpid() + i) % 100;
      if (!free_port(port)) {
        continue;
      }
      auto child = std::make_unique<lupa_test::Child>(
          std::vector<std::string>{"/usr/bin/git", "daemon", "--reuseaddr", "--listen=127.0.0.1",
                                   fmt::format("--port={}", port), "--base-path=" + base.string(),
                                   "--export-all", "--enable=receive-pack", base.string()},
          std::vector<std::string>{}, base.parent_path() / "daemon.log");
      for (int k = 0; k < 200 && !listening(port); ++k) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      if (listening(port)) {
        m_port = port;
        m_child = std::move(child);
      }
    }
  }
  // The port, or -1 if the daemon could not start.
  int port() const { return m_port; }
  // git://127.0.0.1:<port>/<name>.
  std::string url(const std::string& name) const {
    return fmt::format("git://127.0.0.1:{}/{}", m_port, name);
  }

private:
  int m_port = -1;
  std::unique_ptr<lupa_test::Child> m_child;
};

class Submit : public ::testing::Test {
protected:
  void SetUp() override {
    if (lupa_test::sh("test -x /usr/lib/git-core/git-daemon").status != 0) {
      GTEST_SKIP() << "git daemon is not installed (apt-get install git)";
    }
    m_served = m_tmp.path() / "served";
    fs::create_directories(m_served);
    ASSERT_EQ(lupa_test::sh("git init -q --bare -b main " + (m_served / "shared.git").string()).status, 0);
    m_daemon = std::make_unique<GitDaemon>(m_served);
    ASSERT_GT(m_daemon->port(), 0) << "could not start git daemon on a port of 19400-19499";
    m_local = m_tmp.path() / "local";
    auto store = db::Store::open(m_local, db::CreateMode::create);
    ASSERT_TRUE(store) << store.error();
    m_store = std::make_unique<db::Store>(std::move(*store));
  }

  std::string commit(const db::NewRun& run) {
    auto result = m_store->commit_run(run, {});
    EXPECT_TRUE(result) << result.error();
    return db::render_run(run)->key();
  }

  util::TempDir m_tmp{"lupa-test-submit"};
  fs::path m_served;
  fs::path m_local;
  std::unique_ptr<GitDaemon> m_daemon;
  std::unique_ptr<db::Store> m_store;
};

} // namespace

TEST_F(Submit, PushesOnlyTheRunsTheRemoteLacksOnABranch) {
  fs::path remote = m_served / "shared.git";
  std::string url = m_daemon->url("shared.git");
  std::string a = commit(lupa_test::synthetic_run("nginx", "wrk", 1));

  // Seeding an empty shared database: its main branch is created.
  auto seed = db::submit(m_local, {url, "main", "main"});
  ASSERT_TRUE(seed) << seed.error();
  EXPECT_TRUE(seed->base_commit.empty());
  EXPECT_EQ(git(remote, "rev-list --count main").text, "1\n");

  // A new run and a re-run of the first one.
  std::string b = commit(lupa_test::synthetic_run("redis", "bench", 2));
  db::NewRun rerun = lupa_test::synthetic_run("nginx", "wrk", 1);
  rerun.result.syscalls.front().stub.runs = {true, true};
  rerun.result.syscalls.front().fake.runs = {true, true};
  EXPECT_EQ(commit(rerun), a);
  auto report = db::submit(m_local, {url, "", "main"});
  ASSERT_TRUE(report) << report.error();
  ASSERT_EQ(report->runs.size(), 2u);
  EXPECT_EQ(report->runs[0].key, b); // oldest first
  EXPECT_FALSE(report->runs[0].rerun);
  EXPECT_EQ(report->runs[1].key, a);
  EXPECT_TRUE(report->runs[1].rerun);
  EXPECT_TRUE(report->branch.starts_with("lupa/submit-")) << report->branch;
  EXPECT_EQ(report->base_commit, git(remote, "rev-parse main").text.substr(0, 40));

  // The remote holds the branch: two commits on top of main, touching only those runs.
  std::string branch = report->branch;
  EXPECT_EQ(git(remote, "rev-list --count main.." + branch).text, "2\n");
  lupa_test::Output files = git(remote, "diff --name-only main " + branch);
  for (const std::string& line : util::split(files.text, '\n')) {
    if (!line.empty()) {
      EXPECT_TRUE(line.starts_with(a + "/") || line.starts_with(b + "/")) << line;
    }
  }
  EXPECT_EQ(git(remote, "fsck --strict --no-dangling").status, 0);
  // What the reviewer runs passes.
  auto verdict = db::verify_branch(remote, branch, "main", {});
  ASSERT_TRUE(verdict) << verdict.error();
  EXPECT_TRUE(verdict->ok()) << (verdict->errors.empty() ? "" : verdict->errors[0]);
  EXPECT_EQ(verdict->new_runs, std::vector<std::string>{b});
  EXPECT_EQ(verdict->rerun_runs, std::vector<std::string>{a});
  std::string text = db::format_submit_report(*report);
  EXPECT_NE(text.find("lupa verify " + branch + " --base main"), std::string::npos) << text;
  EXPECT_NE(text.find("kernel 6.18.0, docker 20.10.24"), std::string::npos) << text;

  // Once merged, there is nothing left to submit.
  ASSERT_EQ(git(remote, "update-ref refs/heads/main " + branch).status, 0);
  auto nothing = db::submit(m_local, {url, "", "main"});
  ASSERT_FALSE(nothing);
  EXPECT_NE(nothing.error().find("nothing to submit"), std::string::npos) << nothing.error();
}

TEST_F(Submit, UnreachableRemoteChangesNothing) {
  commit(lupa_test::synthetic_run("nginx", "wrk", 1));
  std::string refs_before = git(m_local, "for-each-ref").text;
  int port = unused_port();
  ASSERT_GT(port, 0);
  auto report = db::submit(m_local, {fmt::format("git://127.0.0.1:{}/shared.git", port), "x", "main"});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("cannot reach remote git://127.0.0.1:"), std::string::npos) << report.error();
  EXPECT_EQ(git(m_local, "for-each-ref").text, refs_before);
  EXPECT_EQ(git(m_local, "status --porcelain").text, "");
}

TEST_F(Submit, RejectedPushRemovesTheLocalBranch) {
  fs::path remote = m_served / "shared.git";
  std::string url = m_daemon->url("shared.git");
  // The remote already has branch "taken" with unrelated history.
  fs::path other = m_tmp.path() / "other";
  auto other_store = db::Store::open(other, db::CreateMode::create);
  ASSERT_TRUE(other_store);
  ASSERT_TRUE(other_store->commit_run(lupa_test::synthetic_run("memcached", "m", 5), {}));
  ASSERT_TRUE(db::submit(other, {url, "taken", "main"}));

  commit(lupa_test::synthetic_run("nginx", "wrk", 1));
  std::string refs_before = git(m_local, "for-each-ref").text;
  auto report = db::submit(m_local, {url, "taken", "main"});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().find("nothing was submitted"), std::string::npos) << report.error();
  EXPECT_EQ(git(m_local, "rev-parse --verify -q refs/heads/taken").status, 1); // removed again
  EXPECT_EQ(git(remote, "rev-list --count taken").text, "1\n");               // remote untouched
}
