// Discovery by ptrace + seccomp finds exactly what `strace -f` sees on the same run: real Debian
// programs and fixtures using threads, fork/vfork/clone3, exec from a thread, signals,
// group-stops and the newer calls (openat2, close_range, pidfd_open, faccessat2).

#include "core/syscalls.h"
#include "explorer/discovery.h"
#include "explorer_testutil.h"
#include "util/strings.h"

#include <gtest/gtest.h>

#include <regex>
#include <sys/syscall.h>
#include <set>

using namespace explorer;
using lupa_test::testprog;

namespace {

std::set<std::string> names(const std::map<int, uint64_t>& counts) {
  std::set<std::string> out;
  for (const auto& [nr, count] : counts) {
    out.insert(core::SyscallTable::get().name(nr));
  }
  return out;
}

std::string join(const std::set<std::string>& names) {
  std::string out;
  for (const std::string& n : names) {
    out += n + " ";
  }
  return out;
}

class Discovery : public testing::Test {
protected:
  void SetUp() override {
    if (std::string why = lupa_test::tracing_unavailable(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    // Both runs must see the same environment; the shell running strace fixes $PWD, and
    // programs like tar call getcwd only when $PWD is stale.
    ::setenv("PWD", std::filesystem::current_path().c_str(), 1);
  }

  core::Discovery discover_program(std::vector<std::string> command) {
    AppConfig config;
    config.binary = command.front();
    config.args.assign(command.begin() + 1, command.end());
    config.mode = Mode::sequential;
    config.timeout = std::chrono::seconds(20);
    config.scratch = m_dir.path();
    util::Result<core::Discovery> found = discover(config, {});
    EXPECT_TRUE(found) << found.error();
    return found ? *found : core::Discovery{};
  }

  // strace -f's counts for `command`, run with the same stdin (/dev/null) and output (a file).
  std::map<int, uint64_t> strace_counts(const std::vector<std::string>& command) {
    std::string line = "strace -f -qq -n -o " + (m_dir.path() / "strace.txt").string();
    for (const std::string& arg : command) {
      line += " " + util::shell_quote(arg);
    }
    std::system((line + " >" + (m_dir.path() / "out.txt").string() + " 2>&1 </dev/null").c_str());
    std::string trace = lupa_test::slurp(m_dir.path() / "strace.txt");
    std::map<int, uint64_t> counts;
    std::regex number(R"(\[\s*(\d+)\] )");
    for (auto it = std::sregex_iterator(trace.begin(), trace.end(), number);
         it != std::sregex_iterator(); ++it) {
      ++counts[std::stoi((*it)[1])];
    }
    return counts;
  }

  void expect_same_as_strace(const std::vector<std::string>& command) {
    if (!util::is_executable_file("/usr/bin/strace")) {
      GTEST_SKIP() << "strace is not installed";
    }
    core::Discovery ours = discover_program(command);
    std::map<int, uint64_t> theirs = strace_counts(command);
    ASSERT_FALSE(theirs.empty());
    EXPECT_EQ(join(names(ours.counts)), join(names(theirs))) << command.front();
    EXPECT_TRUE(ours.complete);
    EXPECT_EQ(ours.backend, "ptrace");
  }

  util::TempDir m_dir{"lupa-test-discovery"};
};

} // namespace

TEST_F(Discovery, LsMatchesStraceCallForCall) {
  core::Discovery ours = discover_program({"/bin/ls", "-la", "/usr"});
  EXPECT_EQ(ours.counts, strace_counts({"/bin/ls", "-la", "/usr"}))
      << "a deterministic program: even the counts agree";
  EXPECT_EQ(ours.counts.count(SYS_execve), 1u) << "the app's own execve is counted";
}

TEST_F(Discovery, CoreutilsMatchStrace) {
  expect_same_as_strace({"/bin/cat", "/etc/passwd"});
  expect_same_as_strace({"/usr/bin/sort", "/etc/services"});
  expect_same_as_strace({"/bin/date", "+%s"});
}

TEST_F(Discovery, TarWithItsGzipChildMatchesStrace) {
  expect_same_as_strace({"/bin/tar", "czf", (m_dir.path() / "x.tgz").string(), "-C",
                         LUPA_SOURCE_DIR, "core"});
}

TEST_F(Discovery, PythonSpawningAProcessMatchesStrace) {
  if (!util::is_executable_file("/usr/bin/python3")) {
    GTEST_SKIP() << "/usr/bin/python3 is not installed";
  }
  expect_same_as_strace(
      {"/usr/bin/python3", "-S", "-c", "import subprocess; subprocess.run(['/bin/true'])"});
}

TEST_F(Discovery, ThreadsForksExecsAndSignalsMatchStrace) {
  expect_same_as_strace({testprog().string(), "threads", "4"});
  expect_same_as_strace({testprog().string(), "vfork"});
  expect_same_as_strace({testprog().string(), "exec-thread"});
  expect_same_as_strace({testprog().string(), "signals"});
}

TEST_F(Discovery, FindsNewerSyscallsFromTheSystemTable) {
  core::Discovery found = discover_program({testprog().string(), "new-calls"});
  std::set<std::string> used = names(found.counts);
  for (const char* call : {"clone3", "openat2", "close_range", "pidfd_open", "faccessat2"}) {
    EXPECT_TRUE(used.contains(call)) << call << " missing from " << join(used);
  }
  expect_same_as_strace({testprog().string(), "new-calls"});
}

TEST_F(Discovery, CountsOnlyTheConsideredBinary) {
  // A shell harness runs the fixture: only the fixture's calls count.
  std::filesystem::path harness = lupa_test::script(
      m_dir.path(), "harness.sh",
      fmt::format("#!/bin/sh\necho harness\n{} sysinfo\necho done\n", testprog().string()));
  AppConfig config;
  config.binary = harness;
  config.mode = Mode::sequential;
  config.timeout = std::chrono::seconds(20);
  config.only_consider = std::filesystem::canonical(testprog());
  config.scratch = m_dir.path();
  util::Result<core::Discovery> found = discover(config, {});
  ASSERT_TRUE(found) << found.error();
  std::set<std::string> used = names(found->counts);
  EXPECT_TRUE(used.contains("sysinfo")) << join(used);
  EXPECT_FALSE(used.contains("wait4")) << "the shell waits for the fixture, not the fixture";
  EXPECT_FALSE(used.contains("execve")) << "the shell's exec of the fixture is the shell's call";

  core::Discovery everything = discover_program({harness.string()});
  EXPECT_TRUE(names(everything.counts).contains("wait4"));
}

TEST_F(Discovery, ABenchmarkAppIsDrivenByItsTest) {
  int port = 18085;
  AppConfig config;
  config.binary = testprog();
  config.args = {"serve", std::to_string(port)};
  config.test_script = lupa_test::script(
      m_dir.path(), "test.sh",
      fmt::format("#!/bin/bash\nexec 3<>/dev/tcp/127.0.0.1/{}\nread line <&3\n[ \"$line\" = ok ]\n",
                  port));
  config.scratch = m_dir.path();
  util::Result<core::Discovery> found = discover(config, {});
  ASSERT_TRUE(found) << found.error();
  std::set<std::string> used = names(found->counts);
  EXPECT_TRUE(used.contains("accept")) << "the test's connection was served: " << join(used);
  EXPECT_TRUE(names(found->startup).contains("listen"));
  // The server was already blocked in accept() when it got ready; the test's connection made
  // it accept again.
  EXPECT_GT(found->counts[SYS_accept], found->startup[SYS_accept]) << "accept serves the workload";
  EXPECT_FALSE(lupa_test::process_running(testprog().string() + " serve"));
}
