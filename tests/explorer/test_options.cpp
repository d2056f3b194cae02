// lupa-explore's command line: Loupe's explore.py flags and lupa's own.

#include "explorer/options.h"
#include "explorer/spawn.h"
#include "util/fs.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

using namespace explorer;

namespace {

std::optional<int> parse(std::vector<const char*> args, Options& options) {
  args.insert(args.begin(), "lupa-explore");
  return parse_command_line(static_cast<int>(args.size()), args.data(), options);
}

} // namespace

TEST(CommandLine, AcceptsLoupeBenchmarkRecipes) {
  Options o;
  ASSERT_EQ(parse({"--output-csv", "-t", "/root/nginx-test.sh", "-b", "/root/nginx/objs/nginx",
                   "--", "-p", "/root/nginx", "-g", "daemon off;"},
                  o),
            std::nullopt);
  EXPECT_TRUE(o.output_csv);
  EXPECT_EQ(o.app.test_script, std::filesystem::path("/root/nginx-test.sh"));
  EXPECT_EQ(o.app.binary, "/root/nginx/objs/nginx");
  EXPECT_EQ(o.app.args, (std::vector<std::string>{"-p", "/root/nginx", "-g", "daemon off;"}));
  EXPECT_EQ(o.app.mode, Mode::benchmark);
  EXPECT_EQ(o.app.timeout, std::chrono::milliseconds(4000)) << "explore.py's TEST_TIMEOUT";
  EXPECT_EQ(o.strategy, Strategy::group);
  EXPECT_EQ(o.app.startup, Startup::detect);
  EXPECT_EQ(o.out, k_default_out);
  EXPECT_EQ(o.action, Action::explore);
}

TEST(CommandLine, AcceptsLoupeTestSuiteRecipes) {
  Options o;
  ASSERT_EQ(parse({"--output-csv", "--only-consider", "/tmp/nginx/nginx/objs/nginx", "--timeout",
                   "600", "--test-sequential", "-t", "/root/nginx-test.sh", "-b", "/usr/bin/prove",
                   "--", "-m", "."},
                  o),
            std::nullopt);
  EXPECT_EQ(o.app.mode, Mode::sequential);
  EXPECT_EQ(o.app.timeout, std::chrono::milliseconds(600000));
  EXPECT_EQ(o.app.only_consider, std::filesystem::path("/tmp/nginx/nginx/objs/nginx"));
  EXPECT_EQ(o.app.args, (std::vector<std::string>{"-m", "."}));
}

TEST(CommandLine, LoupeStrategyUsesLoupesSleepUnlessToldOtherwise) {
  Options loupe;
  ASSERT_EQ(parse({"--strategy", "loupe", "-b", "x"}, loupe), std::nullopt);
  EXPECT_EQ(loupe.app.startup, Startup::fixed_sleep);
  EXPECT_EQ(loupe.app.fixed_sleep, std::chrono::milliseconds(400));
  EXPECT_EQ(loupe.app.on_early_exit, OnEarlyExit::run_test);
  Options detect;
  ASSERT_EQ(parse({"--strategy", "loupe", "--readiness", "detect", "-b", "x"}, detect),
            std::nullopt);
  EXPECT_EQ(detect.app.startup, Startup::detect);
}

TEST(CommandLine, LupasOwnFlags) {
  Options o;
  ASSERT_EQ(parse({"--json", "-vv", "--jobs", "3", "--replicas", "2", "--ready-port", "18080",
                   "--only-syscalls", "accept4,3", "--out", "/tmp/x", "--worker", "-b", "x"},
                  o),
            std::nullopt);
  EXPECT_TRUE(o.json);
  EXPECT_EQ(o.verbosity, 3);
  EXPECT_EQ(o.jobs, 3u);
  EXPECT_EQ(o.replicas, 2u);
  EXPECT_EQ(o.app.ready_port, 18080);
  EXPECT_EQ(o.only_syscalls, (std::vector<std::string>{"accept4", "3"}));
  EXPECT_EQ(o.out, "/tmp/x");
  EXPECT_EQ(o.action, Action::worker);
}

TEST(CommandLine, DepthFlags) {
  Options o;
  ASSERT_EQ(parse({"-b", "x"}, o), std::nullopt);
  EXPECT_TRUE(o.parts.syscalls && o.parts.features && o.parts.paths && o.parts.collective);
  EXPECT_TRUE(o.static_analysis) << "every part runs by default";
  Options off;
  ASSERT_EQ(parse({"--no-syscalls", "--no-features", "--no-pseudo-files", "--no-collective",
                   "--no-static", "-b", "x"},
                  off),
            std::nullopt);
  EXPECT_FALSE(off.parts.syscalls || off.parts.features || off.parts.paths ||
               off.parts.collective || off.static_analysis);
  Options analysis;
  ASSERT_EQ(parse({"--static-only", "-b", "/usr/sbin/nginx"}, analysis), std::nullopt);
  EXPECT_EQ(analysis.action, Action::static_only);
}

TEST(CommandLine, RejectsBadUsage) {
  Options o;
  testing::internal::CaptureStderr();
  testing::internal::CaptureStdout();
  EXPECT_NE(parse({"-t", "x"}, o), std::nullopt) << "-b is required";
  EXPECT_NE(parse({"--strategy", "fastest", "-b", "x"}, o), std::nullopt);
  EXPECT_NE(parse({"--replicas", "0", "-b", "x"}, o), std::nullopt);
  EXPECT_NE(parse({"--partial-support", "-b", "x"}, o), std::nullopt);
  EXPECT_NE(parse({"--worker", "--discover-only", "-b", "x"}, o), std::nullopt);
  EXPECT_NE(parse({"--static-only", "--worker", "-b", "x"}, o), std::nullopt);
  EXPECT_EQ(parse({"--help"}, o), 0);
  testing::internal::GetCapturedStdout();
  testing::internal::GetCapturedStderr();
}

TEST(SyscallNumbers, NamesAndNumbers) {
  EXPECT_EQ(syscall_numbers({"read", "288", "clone3"}).value(), (std::vector<int>{0, 288, 435}));
  util::Result<std::vector<int>> bad = syscall_numbers({"read", "fly"});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "--only-syscalls: 'fly' is not an x86-64 syscall");
}

class Validation : public testing::Test {
protected:
  util::TempDir m_dir{"lupa-test"};

  std::filesystem::path file(const std::string& name, mode_t mode) {
    std::filesystem::path p = m_dir.path() / name;
    std::ofstream(p) << "#!/bin/sh\nexit 0\n";
    ::chmod(p.c_str(), mode);
    return p;
  }

  Options options_for(std::filesystem::path binary) {
    Options o;
    o.app.binary = std::move(binary);
    o.out = m_dir.path() / "out";
    return o;
  }
};

TEST_F(Validation, FindsTheBinaryLikeAShellAndMakesPathsAbsolute) {
  Options o = options_for("ls");
  o.app.test_script = file("test.sh", 0755);
  ASSERT_TRUE(validate(o)) << validate(o).error();
  EXPECT_TRUE(o.app.binary.is_absolute());
  EXPECT_EQ(o.app.binary.filename(), "ls");
  EXPECT_FALSE(std::filesystem::exists(o.out)) << "nothing is created before the run ends";
}

TEST_F(Validation, KeepsTheNameASymlinkGivesTheBinary) {
  // Debian's /usr/bin/redis-server is a symlink to redis-check-rdb, and redis chooses what to
  // be from argv[0]: the app must run under the name it was given.
  std::filesystem::path link = m_dir.path() / "my-true";
  std::filesystem::create_symlink("/bin/true", link);
  Options o = options_for(link);
  ASSERT_TRUE(validate(o)) << validate(o).error();
  EXPECT_EQ(o.app.binary, link);
}

TEST_F(Validation, NamesWhatIsWrongInOneLine) {
  Options missing = options_for(m_dir.path() / "no-such-app");
  EXPECT_EQ(validate(missing).error(),
            "binary '" + (m_dir.path() / "no-such-app").string() + "' not found");

  Options not_exec = options_for("ls");
  std::filesystem::path script = file("test.sh", 0644);
  not_exec.app.test_script = script;
  EXPECT_EQ(validate(not_exec).error(), "test script '" + script.string() +
                                            "' is not executable (chmod +x " + script.string() +
                                            ")");

  Options only = options_for("ls");
  only.app.only_consider = m_dir.path() / "ghost";
  EXPECT_NE(validate(only).error().find("--only-consider"), std::string::npos);

  Options out = options_for("ls");
  out.out = file("a-file", 0644) / "data"; // a directory cannot be made inside a file
  EXPECT_NE(validate(out).error().find("cannot be created"), std::string::npos);

  // Parallel benchmark probes need network namespaces of their own.
  Options jobs = options_for("ls");
  jobs.jobs = 2;
  util::Result<void> parallel = validate(jobs);
  if (explorer::can_isolate_network()) {
    EXPECT_TRUE(parallel);
    EXPECT_EQ(jobs.app.net, NetIsolation::per_run);
  } else {
    EXPECT_NE(parallel.error().find("CAP_SYS_ADMIN"), std::string::npos);
  }
}

TEST(CommandLine, AppArgumentsParseBackToTheSameApp) {
  AppConfig app;
  app.binary = "/usr/bin/redis-server";
  app.args = {"--port", "6379", "--save", ""};
  app.test_script = "/.lupa/recipe/test.sh";
  app.timeout = std::chrono::milliseconds(2500);
  app.ready_log = "Ready to accept connections";
  app.ready_port = 6379;
  app.ready_timeout = std::chrono::milliseconds(7000);
  app.only_consider = "/usr/bin/redis-server";
  for (Strategy strategy : {Strategy::group, Strategy::loupe}) {
    std::vector<std::string> args = app_arguments(app, strategy);
    std::vector<const char*> argv{"--worker"};
    for (const std::string& a : args) {
      argv.push_back(a.c_str());
    }
    Options o;
    ASSERT_EQ(parse(argv, o), std::nullopt);
    EXPECT_EQ(o.action, Action::worker);
    EXPECT_EQ(o.strategy, strategy);
    EXPECT_EQ(o.app.binary, app.binary);
    EXPECT_EQ(o.app.args, app.args) << "an empty argument survives";
    EXPECT_EQ(o.app.test_script, app.test_script);
    EXPECT_EQ(o.app.timeout, app.timeout);
    EXPECT_EQ(o.app.ready_log, app.ready_log);
    EXPECT_EQ(o.app.ready_port, app.ready_port);
    EXPECT_EQ(o.app.ready_timeout, app.ready_timeout);
    EXPECT_EQ(o.app.only_consider, app.only_consider);
    EXPECT_EQ(o.app.mode, Mode::benchmark);
    EXPECT_EQ(o.app.startup, app.startup) << "the readiness is given, not derived";
    EXPECT_EQ(o.app.on_early_exit,
              strategy == Strategy::loupe ? OnEarlyExit::run_test : OnEarlyExit::fail_at_once);
  }
  app.mode = Mode::sequential;
  app.startup = Startup::fixed_sleep;
  std::vector<std::string> args = app_arguments(app, Strategy::group);
  std::vector<const char*> argv;
  for (const std::string& a : args) {
    argv.push_back(a.c_str());
  }
  Options o;
  ASSERT_EQ(parse(argv, o), std::nullopt);
  EXPECT_EQ(o.app.mode, Mode::sequential);
  EXPECT_EQ(o.app.startup, Startup::fixed_sleep) << "an explicit --readiness wins";
}
