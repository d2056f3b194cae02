// lupa-explore end to end, as a user runs it: a static binary, Loupe's output files, one clear
// line and nothing half-written on bad input, the runner's modes, and Ctrl-C.

#include "core/discovery.h"
#include "core/dyn_csv.h"
#include "core/result.h"
#include "explorer_testutil.h"
#include "util/strings.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <thread>

using lupa_test::run_shell;
using lupa_test::script;
using lupa_test::slurp;
using lupa_test::testprog;

namespace {

std::string explore_command(const std::string& flags) {
  return lupa_test::lupa_explore().string() + " " + flags;
}

int lines(const std::string& text) {
  return static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

} // namespace

class Cli : public testing::Test {
protected:
  void SetUp() override {
    if (std::string why = lupa_test::tracing_unavailable(); !why.empty()) {
      GTEST_SKIP() << why;
    }
  }

  // Expects `flags` to fail with one error line containing `what`, and no output files.
  void expect_clean_failure(const std::string& flags, const std::string& what) {
    lupa_test::CommandResult r =
        run_shell(explore_command("-q --out " + out().string() + " " + flags), m_dir.path());
    EXPECT_NE(r.exit_code, 0) << flags;
    EXPECT_EQ(lines(r.err), 1) << r.err;
    EXPECT_TRUE(r.err.starts_with("lupa: error: ")) << r.err;
    EXPECT_NE(r.err.find(what), std::string::npos) << r.err;
    EXPECT_FALSE(std::filesystem::exists(out())) << "nothing may be written on failure";
  }

  std::filesystem::path out() const { return m_dir.path() / "out"; }

  util::TempDir m_dir{"lupa-test-cli"};
};

TEST_F(Cli, TheExplorerIsStaticallyLinked) {
  lupa_test::CommandResult file = run_shell("file -L " + lupa_test::lupa_explore().string(),
                                            m_dir.path());
  EXPECT_NE(file.out.find("statically linked"), std::string::npos) << file.out;
  lupa_test::CommandResult ldd = run_shell("ldd " + lupa_test::lupa_explore().string(),
                                           m_dir.path());
  EXPECT_NE((ldd.out + ldd.err).find("not a dynamic executable"), std::string::npos)
      << ldd.out << ldd.err;
}

TEST_F(Cli, ExploresASequentialProgramAndWritesLoupesFiles) {
  // sort judged by its output: the sorted lines must come out.
  std::ofstream(m_dir.path() / "input.txt") << "pear\napple\nfig\n";
  std::filesystem::path test = script(m_dir.path(), "sorted.sh",
                                      "#!/bin/sh\n[ \"$(cat \"$1\")\" = \"$(printf "
                                      "'apple\\nfig\\npear')\" ]\n");
  lupa_test::CommandResult r = run_shell(
      explore_command(fmt::format("--output-csv --jobs 2 --test-sequential --timeout 5 -t {} "
                                  "--out {} -b sort -- {}",
                                  test.string(), out().string(),
                                  (m_dir.path() / "input.txt").string())),
      m_dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string csv = slurp(out() / "dyn.csv");
  EXPECT_EQ(r.out, csv) << "with --output-csv, dyn.csv also goes to stdout, as explore.py did";
  util::Result<core::DynTable> table = core::parse_dyn_csv(csv, "dyn.csv");
  ASSERT_TRUE(table) << table.error();
  EXPECT_TRUE(table->warnings.empty()) << "written exactly, nothing to tolerate";
  EXPECT_TRUE(csv.starts_with("# syscall, used, works faked, works stubbed, works both\n"));
  core::ExploreResult result =
      nlohmann::json::parse(slurp(out() / "results.json")).get<core::ExploreResult>();
  EXPECT_EQ(result.mode, "sequential");
  EXPECT_EQ(result.strategy, "group");
  ASSERT_NE(result.find(1), nullptr) << "sort writes its output";
  EXPECT_EQ(result.find(1)->stub.merged(), core::Verdict::fails);
  for (const core::SyscallResult& s : result.syscalls) {
    EXPECT_NE(s.stub.merged(), core::Verdict::untested) << s.name;
    EXPECT_NE(s.fake.merged(), core::Verdict::untested) << s.name;
    EXPECT_TRUE(table->rows[s.nr].used);
  }
  for (const char* step : {"baseline", "discovery", "exploration", "total"}) {
    EXPECT_GT(result.stats.step_seconds[step], 0.0) << step;
  }
}

TEST_F(Cli, BadInputEndsInOneClearLine) {
  std::filesystem::path ok = script(m_dir.path(), "ok.sh", "#!/bin/sh\nexit 0\n");
  std::filesystem::path fails = script(m_dir.path(), "fails.sh", "#!/bin/sh\nexit 1\n");
  std::filesystem::path hangs = script(m_dir.path(), "hangs.sh", "#!/bin/sh\nsleep 300\n");
  std::filesystem::path not_exec = m_dir.path() / "plain.sh";
  std::ofstream(not_exec) << "#!/bin/sh\nexit 0\n";

  expect_clean_failure("-b /no/such/app", "binary '/no/such/app' not found");
  expect_clean_failure("-t " + not_exec.string() + " -b /bin/true",
                       "is not executable (chmod +x");
  expect_clean_failure("--test-sequential -t " + ok.string() + " -b /bin/false",
                       "baseline: the unmodified app failed: the app exited with status 1");
  expect_clean_failure("--test-sequential -t " + fails.string() + " -b /bin/true",
                       "baseline: the unmodified app does not pass its test");
  expect_clean_failure("--test-sequential -t " + ok.string() + " -b /bin/true",
                       "passes even when the app is not running");
  expect_clean_failure("--timeout 1 --test-sequential -t " + hangs.string() + " -b /bin/true",
                       "the test script did not finish within 1 s");
  expect_clean_failure(fmt::format("--ready-timeout 1 -t {} -b {} -- busy", fails.string(),
                                   testprog().string()),
                       "never became ready within 1 s");
  // Seen once in a full run: a `sleep 300` of the hanging test script still there when
  // checked. A process killed a moment ago gets a short while to go; a real leftover stays,
  // and the message says who its parent is.
  EXPECT_TRUE(lupa_test::process_gone_within(testprog().string() + " busy", std::chrono::seconds(3)))
      << lupa_test::describe_processes(testprog().string() + " busy");
  EXPECT_TRUE(lupa_test::process_gone_within("sleep 300", std::chrono::seconds(3)))
      << lupa_test::describe_processes("sleep 300");
}

TEST_F(Cli, DiscoverOnlyPrintsTheDiscovery) {
  lupa_test::CommandResult r = run_shell(
      explore_command("--discover-only --test-sequential -b " + testprog().string() +
                      " -- new-calls"),
      m_dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json discovery = nlohmann::json::parse(r.out);
  EXPECT_EQ(discovery["backend"], "ptrace");
  std::set<std::string> names;
  for (const nlohmann::json& s : discovery["syscalls"]) {
    names.insert(s["name"].get<std::string>());
  }
  EXPECT_TRUE(names.contains("clone3"));
  EXPECT_TRUE(names.contains("openat2"));
}

TEST_F(Cli, WorkerModeSpeaksJsonLines) {
  std::filesystem::path test = script(m_dir.path(), "hello.sh", "#!/bin/sh\ngrep -q hello \"$1\"\n");
  std::ofstream(m_dir.path() / "requests") << R"({"id": 1, "probe": {}}
{"id": 2, "probe": {"stub": [1]}}
)";
  lupa_test::CommandResult r = run_shell(
      explore_command("--worker --test-sequential -t " + test.string() + " -b /bin/echo -- hello"),
      m_dir.path(), m_dir.path() / "requests");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> replies = util::split(util::trim(r.out), '\n');
  ASSERT_EQ(replies.size(), 3u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(replies[0]), (nlohmann::json{{"ready", true}}));
  EXPECT_EQ(nlohmann::json::parse(replies[1])["outcome"]["works"], true);
  EXPECT_EQ(nlohmann::json::parse(replies[2])["outcome"]["works"], false);
}

TEST_F(Cli, WorkerModeDiscoversOnRequest) {
  std::filesystem::path test = script(m_dir.path(), "hello.sh", "#!/bin/sh\ngrep -q hello \"$1\"\n");
  std::ofstream(m_dir.path() / "requests") << R"({"id": 5, "discover": {}}
{"id": 6, "discover": "not an object"}
)";
  lupa_test::CommandResult r = run_shell(
      explore_command("--worker --test-sequential -t " + test.string() + " -b /bin/echo -- hello"),
      m_dir.path(), m_dir.path() / "requests");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> replies = util::split(util::trim(r.out), '\n');
  ASSERT_EQ(replies.size(), 3u) << r.out;
  nlohmann::json found = nlohmann::json::parse(replies[1]);
  EXPECT_EQ(found["id"], 5);
  EXPECT_EQ(found["discovery"]["backend"], "ptrace");
  core::Discovery d = found["discovery"].get<core::Discovery>();
  EXPECT_TRUE(d.counts.contains(SYS_write)) << "echo writes hello";
  EXPECT_TRUE(d.counts.contains(SYS_execve));
  nlohmann::json bad = nlohmann::json::parse(replies[2]);
  EXPECT_EQ(bad["id"], 6);
  EXPECT_TRUE(bad.contains("error"));
}

TEST_F(Cli, CtrlCStopsCleanly) {
  std::filesystem::path test = script(m_dir.path(), "slow.sh", "#!/bin/sh\nsleep 2\nexit 0\n");
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string out_flag = "--out=" + out().string();
    std::string bin = testprog().string();
    std::string t = test.string();
    ::execl(lupa_test::lupa_explore().c_str(), "lupa-explore", "-q", out_flag.c_str(), "-t",
            t.c_str(), "-b", bin.c_str(), "--", "serve", "18082", nullptr);
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500)); // in the baseline's test
  ::kill(pid, SIGINT);
  int status = 0;
  auto start = std::chrono::steady_clock::now();
  ::waitpid(pid, &status, 0);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_LT(seconds, 5.0);
  EXPECT_FALSE(std::filesystem::exists(out()));
  EXPECT_FALSE(lupa_test::process_running(testprog().string() + " serve 18082"));
}

TEST_F(Cli, ExploresBelowSyscallGranularityAndWritesTheFilesBesideDynCsv) {
  // ls --color=auto asks TCGETS whether it writes to a terminal; the test wants plain lines.
  std::filesystem::path test =
      script(m_dir.path(), "plain.sh",
             "#!/bin/sh\ngrep -qx bin \"$1\" && ! grep -q \"$(printf '\\033')\" \"$1\"\n");
  lupa_test::CommandResult r = run_shell(
      explore_command(fmt::format("-q --output-csv --test-sequential -t {} --out {} -b ls -- "
                                  "--color=auto /usr",
                                  test.string(), out().string())),
      m_dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* file : {"dyn.csv", "features.csv", "pseudo_files.csv", "static_binary.csv",
                           "coverage.csv", "results.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out() / file)) << file;
  }
  std::string features = slurp(out() / "features.csv");
  EXPECT_TRUE(features.starts_with(
      "# syscall, name, arg, value, mask, symbol, count, stub, fake, arg2, value2, mask2\n"));
  EXPECT_NE(features.find("16,ioctl,1,0x5401,0xffffffff,TCGETS,"), std::string::npos) << features;
  EXPECT_TRUE(
      slurp(out() / "pseudo_files.csv").starts_with("# path, count, syscalls, enoent, empty\n"));
  core::ExploreResult result =
      nlohmann::json::parse(slurp(out() / "results.json")).get<core::ExploreResult>();
  auto tcgets = std::find_if(result.features.begin(), result.features.end(),
                             [](const core::FeatureResult& f) { return f.symbol == "TCGETS"; });
  ASSERT_NE(tcgets, result.features.end());
  EXPECT_EQ(tcgets->stub.merged(), core::Verdict::works) << "not a terminal: as on a file";
  EXPECT_EQ(tcgets->fake.merged(), core::Verdict::fails) << "a terminal: colours and columns";
  EXPECT_EQ(result.find(16)->fake.merged(), core::Verdict::fails) << "ioctl faked whole";
  ASSERT_TRUE(result.static_syscalls);
  util::Result<std::vector<int>> statically =
      core::parse_static_csv(slurp(out() / "static_binary.csv"), "static_binary.csv");
  ASSERT_TRUE(statically) << statically.error();
  EXPECT_EQ(*statically, *result.static_syscalls);
  for (const core::SyscallResult& s : result.syscalls) {
    EXPECT_TRUE(std::binary_search(statically->begin(), statically->end(), s.nr))
        << s.name << " used but not found statically";
  }
  std::string coverage = slurp(out() / "coverage.csv");
  EXPECT_NE(coverage.find(",read,Y,Y,Y\n"), std::string::npos) << coverage;
  EXPECT_NE(coverage.find(",Y,N,N\n"), std::string::npos) << "reachable, never exercised";
  EXPECT_TRUE(result.collective.ran);
  EXPECT_EQ(result.collective.final_works, true);
  for (const char* step : {"syscalls", "sub-features", "pseudo-files", "static", "collective"}) {
    EXPECT_GT(result.stats.step_seconds[step], 0.0) << step;
  }
}

TEST_F(Cli, StaticOnlyPrintsTheAnalysis) {
  lupa_test::CommandResult r = run_shell(explore_command("--static-only -b ls"), m_dir.path());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json analysis = nlohmann::json::parse(r.out);
  EXPECT_EQ(analysis["binary"], "/usr/bin/ls");
  std::set<std::string> names;
  for (const nlohmann::json& s : analysis["syscalls"]) {
    names.insert(s["name"].get<std::string>());
  }
  for (const char* call : {"read", "write", "openat", "getdents64", "exit_group", "execve"}) {
    EXPECT_TRUE(names.contains(call)) << call;
  }
  std::set<std::string> roles;
  for (const nlohmann::json& o : analysis["objects"]) {
    roles.insert(o["role"].get<std::string>());
  }
  EXPECT_EQ(roles, (std::set<std::string>{"binary", "interpreter", "library"}));
  // With a discovery, the libraries the program opened at run time are read too.
  lupa_test::CommandResult d = run_shell(
      explore_command("--discover-only --test-sequential -b /usr/bin/ps -- aux"), m_dir.path());
  ASSERT_EQ(d.exit_code, 0) << d.err;
  std::ofstream(m_dir.path() / "ps.json") << d.out;
  lupa_test::CommandResult ps =
      run_shell(explore_command("--static-only --discovery " + (m_dir.path() / "ps.json").string() +
                                " -b /usr/bin/ps"),
                m_dir.path());
  ASSERT_EQ(ps.exit_code, 0) << ps.err;
  EXPECT_NE(ps.out.find("\"role\": \"loaded\""), std::string::npos) << "libnuma, by dlopen";

  std::filesystem::path shell_script = script(m_dir.path(), "app.sh", "#!/bin/sh\necho hi\n");
  lupa_test::CommandResult bad =
      run_shell(explore_command("--static-only -b " + shell_script.string()), m_dir.path());
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_EQ(lines(bad.err), 1) << bad.err;
  EXPECT_NE(bad.err.find("is not an ELF file"), std::string::npos) << bad.err;
  EXPECT_TRUE(bad.out.empty());
}

TEST_F(Cli, WorkerModeAppliesArgumentAndPathRules) {
  std::filesystem::path test =
      script(m_dir.path(), "version.sh", "#!/bin/sh\ngrep -q 'Linux version' \"$1\"\n");
  std::ofstream(m_dir.path() / "requests")
      << R"({"id": 1, "probe": {"paths": [{"path": "/proc/version", "action": "enoent"}]}}
{"id": 2, "probe": {"paths": [{"path": "/proc/cpuinfo", "action": "empty"}]}}
{"id": 3, "probe": {"args": [{"nr": 9, "arg": 3, "value": 32, "mask": 32, "injection": "stub"}]}}
{"id": 4, "probe": {"args": [{"nr": 16, "arg": 1, "value": 21537, "mask": 4294967295, "injection": "fake"}], "count_hits": true}}
{"id": 5, "probe": {"paths": [{"path": "proc/version", "action": "enoent"}]}}
)";
  lupa_test::CommandResult r =
      run_shell(explore_command("--worker --test-sequential -t " + test.string() +
                                " -b /bin/cat -- /proc/version"),
                m_dir.path(), m_dir.path() / "requests");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> replies = util::split(util::trim(r.out), '\n');
  ASSERT_EQ(replies.size(), 6u) << r.out;
  EXPECT_EQ(nlohmann::json::parse(replies[1])["outcome"]["works"], false);
  EXPECT_EQ(nlohmann::json::parse(replies[1])["outcome"]["path_hits"], nlohmann::json({1}));
  EXPECT_EQ(nlohmann::json::parse(replies[2])["outcome"]["works"], true);
  EXPECT_EQ(nlohmann::json::parse(replies[3])["outcome"]["works"], false) << "no anonymous memory";
  EXPECT_EQ(nlohmann::json::parse(replies[4])["outcome"]["works"], true);
  EXPECT_EQ(nlohmann::json::parse(replies[4])["outcome"]["arg_hits"], nlohmann::json({0}));
  EXPECT_TRUE(nlohmann::json::parse(replies[5]).contains("error")) << "a relative path rule";
}

TEST_F(Cli, PathRulesTheWorkerCannotApplyAreReported) {
  // Without CAP_SYS_PTRACE, the supervisor may not read the memory of an app that switched to
  // another user: the outcome says so (the strategy then takes no verdict from it).
  if (!util::is_executable_file("/usr/sbin/capsh") ||
      !util::is_executable_file("/usr/bin/setpriv") || ::geteuid() != 0) {
    GTEST_SKIP() << "needs root, capsh (libcap2-bin) and setpriv (util-linux)";
  }
  std::filesystem::path test =
      script(m_dir.path(), "version.sh", "#!/bin/sh\ngrep -q 'Linux version' \"$1\"\n");
  std::ofstream(m_dir.path() / "requests")
      << R"({"id": 1, "probe": {"paths": [{"path": "/proc/version", "action": "enoent"}]}})"
      << "\n";
  lupa_test::CommandResult r = run_shell(
      "/usr/sbin/capsh --drop=cap_sys_ptrace -- -c '" +
          explore_command("--worker --test-sequential -t " + test.string() +
                          " -b /usr/bin/setpriv -- --reuid=65534 --regid=65534 --clear-groups "
                          "/bin/cat /proc/version") +
          "'",
      m_dir.path(), m_dir.path() / "requests");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> replies = util::split(util::trim(r.out), '\n');
  ASSERT_EQ(replies.size(), 2u) << r.out;
  nlohmann::json reply = nlohmann::json::parse(replies[1]);
  ASSERT_TRUE(reply.contains("outcome")) << replies[1];
  EXPECT_GT(reply["outcome"].value("unreadable_paths", 0), 0) << replies[1];
}
