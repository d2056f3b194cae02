// Process trees under a reaper: every descendant is seen and ended, whatever it does.

#include "explorer/spawn.h"
#include "explorer_testutil.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <thread>

using namespace explorer;
using namespace std::chrono_literals;
using lupa_test::slurp;
using lupa_test::testprog;

namespace {

bool alive(pid_t pid) {
  // A zombie is not alive; it would be reaped by its parent.
  std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
  return !stat.empty() && stat.find(") Z") == std::string::npos;
}

std::unique_ptr<ProcessTree> launch(std::vector<std::string> argv,
                                    const std::filesystem::path& output) {
  LaunchSpec spec;
  spec.program = argv.front();
  spec.argv = std::move(argv);
  spec.output = output;
  util::Result<std::unique_ptr<ProcessTree>> tree = ProcessTree::launch(spec);
  EXPECT_TRUE(tree) << tree.error();
  return tree ? std::move(*tree) : nullptr;
}

} // namespace

class Spawn : public testing::Test {
protected:
  util::TempDir m_dir{"lupa-test-spawn"};
};

TEST_F(Spawn, ReportsExitStatusAndOutput) {
  auto tree = launch({"/bin/sh", "-c", "echo hello; echo oops >&2; exit 3"}, m_dir.path() / "o");
  ASSERT_TRUE(tree);
  ASSERT_TRUE(tree->wait_root(std::chrono::steady_clock::now() + 10s));
  EXPECT_EQ(tree->root_exit_code(), 3);
  EXPECT_EQ(slurp(m_dir.path() / "o"), "hello\noops\n");
  EXPECT_TRUE(tree->wait_empty(std::chrono::steady_clock::now() + 10s));
  EXPECT_FALSE(tree->launch_error());
}

TEST_F(Spawn, NamesAProgramThatCannotRun) {
  auto tree = launch({(m_dir.path() / "missing").string()}, m_dir.path() / "o");
  ASSERT_TRUE(tree);
  tree->wait_root(std::chrono::steady_clock::now() + 10s);
  ASSERT_TRUE(tree->launch_error());
  EXPECT_EQ(*tree->launch_error(), "cannot execute the program: No such file or directory");
}

TEST_F(Spawn, EndsEveryDescendantEvenDaemons) {
  // The fixture forks a child that calls setsid, forks again and exits: an orphaned daemon.
  auto tree = launch({testprog().string(), "daemon"}, m_dir.path() / "o");
  ASSERT_TRUE(tree);
  auto parent_of = [](pid_t pid) {
    std::string stat = slurp("/proc/" + std::to_string(pid) + "/stat");
    size_t end = stat.rfind(')');
    return end == std::string::npos ? -1 : std::atoi(stat.c_str() + end + 4);
  };
  pid_t daemon = -1;
  std::vector<pid_t> members;
  for (int i = 0; i < 200 && daemon < 0; ++i) {
    std::this_thread::sleep_for(10ms);
    members = tree->members();
    for (pid_t pid : members) {
      if (pid != tree->root() && alive(pid) && parent_of(pid) == tree->reaper()) {
        daemon = pid;
      }
    }
  }
  ASSERT_GT(daemon, 0) << "the daemon is adopted by the reaper, not by init";
  tree->terminate(200ms);
  for (pid_t pid : members) {
    EXPECT_FALSE(alive(pid)) << pid;
  }
}

TEST_F(Spawn, TheTreeDiesWithTheExplorer) {
  // A stand-in for lupa-explore launches a tree and is killed; its reaper must end the tree.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t explorer = ::fork();
  if (explorer == 0) {
    ::close(pipe_fds[0]);
    LaunchSpec spec;
    spec.program = "/bin/sleep";
    spec.argv = {"sleep", "1000"};
    spec.output = m_dir.path() / "o";
    util::Result<std::unique_ptr<ProcessTree>> tree = ProcessTree::launch(spec);
    pid_t root = tree ? (*tree)->root() : -1;
    [[maybe_unused]] ssize_t n = ::write(pipe_fds[1], &root, sizeof(root));
    ::pause();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  pid_t root = -1;
  ASSERT_EQ(::read(pipe_fds[0], &root, sizeof(root)), static_cast<ssize_t>(sizeof(root)));
  ::close(pipe_fds[0]);
  ASSERT_GT(root, 0);
  EXPECT_TRUE(alive(root));
  ::kill(explorer, SIGKILL);
  ::waitpid(explorer, nullptr, 0);
  bool gone = false;
  for (int i = 0; i < 500 && !gone; ++i) {
    std::this_thread::sleep_for(10ms);
    gone = !alive(root);
  }
  EXPECT_TRUE(gone) << "sleep " << root << " survived its explorer";
}

TEST_F(Spawn, SeveralThreadsLaunchAtOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        LaunchSpec spec;
        spec.program = "/bin/sh";
        spec.argv = {"sh", "-c", fmt::format("exit {}", t + i)};
        spec.output = m_dir.path() / fmt::format("o{}-{}", t, i);
        util::Result<std::unique_ptr<ProcessTree>> tree = ProcessTree::launch(spec);
        if (tree && (*tree)->wait_root(std::chrono::steady_clock::now() + 10s) &&
            (*tree)->root_exit_code() == t + i) {
          ++ok;
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  EXPECT_EQ(ok.load(), 20);
}
