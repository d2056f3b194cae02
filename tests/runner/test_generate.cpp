// `lupa generate` end to end on real apps in real containers (Docker), through the real lupa
// binary: results committed into a git database, the Loupe-style Dockerfile, a test suite,
// eBPF and ptrace discovery agreeing, group testing agreeing with one-at-a-time, and bad
// input, Ctrl-C and SIGKILL leaving nothing behind.

#include "core/discovery.h"
#include "core/dyn_csv.h"
#include "core/result.h"
#include "core/syscalls.h"

#include "runner_testutil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <regex>
#include <sys/wait.h>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using namespace lupa_test;

namespace {

class GenerateTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (std::optional<std::string> why = docker_skip_reason()) {
      GTEST_SKIP() << *why;
    }
  }

  fs::path db() const { return m_dir.path() / "db"; }
  fs::path recipe(const std::string& app, const std::string& file) const {
    return apps_dir() / app / file;
  }

  // The one run directory of `app` in the database.
  fs::path run_dir(const std::string& app) const {
    for (const fs::directory_entry& workload : fs::directory_iterator(db() / app)) {
      for (const fs::directory_entry& run : fs::directory_iterator(workload.path())) {
        return run.path();
      }
    }
    return {};
  }

  core::ExploreResult result_of(const std::string& app) const {
    return nlohmann::json::parse(util::read_file(run_dir(app) / "results.json").value_or("{}"))
        .get<core::ExploreResult>();
  }

  std::vector<std::string> git_log() const {
    return lines_of(run("/usr/bin/git", {"-C", db().string(), "log", "--format=%s"}).out);
  }

  util::TempDir m_dir{"lupa-test-generate"};
};

// The verdict class of syscall `name` in `r` ("required", "stub-only", "fake-only", "both").
std::string verdict(const core::ExploreResult& r, const std::string& name) {
  std::optional<int> nr = core::SyscallTable::get().number(name);
  const core::SyscallResult* s = nr ? r.find(*nr) : nullptr;
  if (s == nullptr) {
    return "unused";
  }
  bool stub = s->stub.merged() == core::Verdict::works;
  bool fake = s->fake.merged() == core::Verdict::works;
  return stub && fake ? "both" : stub ? "stub-only" : fake ? "fake-only" : "required";
}

// The used syscalls of a discovery JSON text.
std::set<int> used_in(const std::string& json) {
  std::set<int> out;
  for (const auto& [nr, count] : nlohmann::json::parse(json).get<core::Discovery>().counts) {
    out.insert(nr);
  }
  return out;
}

std::string names(const std::set<int>& numbers) {
  std::vector<std::string> out;
  for (int nr : numbers) {
    out.push_back(core::SyscallTable::get().name(nr));
  }
  return util::join(out, " ");
}

} // namespace

TEST_F(GenerateTest, NginxUnderWrkIsExploredAndCommitted) {
  docker::ProcessOutput out =
      lupa({"generate", recipe("nginx", "wrk.toml").string(), "--db", db().string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  EXPECT_NE(out.out.find("Used system calls:"), std::string::npos) << out.out;

  // A real git repository, one commit for the run, readable by git itself.
  std::vector<std::string> log = git_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("nginx/benchmark-wrk: ", 0), 0u) << log[0];
  EXPECT_EQ(run("/usr/bin/git", {"-C", db().string(), "status", "--porcelain"}).out, "");
  EXPECT_EQ(lupa({"verify", db().string()}).exit_code, 0);

  fs::path dir = run_dir("nginx");
  for (const char* file : {"Dockerfile", "wrk.toml", "test-wrk.sh", "context/nginx.conf", "cmd.txt",
                           "provenance.json", "results.json", "data/dyn.csv"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / file)) << file;
  }
  core::ExploreResult r = result_of("nginx");
  EXPECT_GE(r.syscalls.size(), 30u);
  EXPECT_EQ(verdict(r, "accept4"), "stub-only") << "nginx falls back to accept";
  EXPECT_EQ(verdict(r, "listen"), "required");
  EXPECT_EQ(verdict(r, "epoll_wait"), "required");
  EXPECT_EQ(r.discovery, ::geteuid() == 0 ? "ebpf" : "ptrace");
  EXPECT_TRUE(r.unstable().empty());
  // Below syscall granularity, in the container too: static analysis of the image's nginx,
  // sub-features, and pseudo-files (read from workers running as nobody: SYS_PTRACE).
  ASSERT_TRUE(r.static_syscalls.has_value());
  EXPECT_GE(r.static_syscalls->size(), r.syscalls.size());
  EXPECT_TRUE(fs::is_regular_file(dir / "data" / "static_binary.csv"));
  EXPECT_FALSE(r.features.empty());
  ASSERT_FALSE(r.paths.empty());
  for (const core::PathResult& path : r.paths) {
    EXPECT_FALSE(path.enoent.runs.empty() && path.empty.runs.empty()) << path.path << " untested";
  }
  EXPECT_TRUE(r.collective.ran);

  // Loupe's dyn.csv agrees with results.json, row for row.
  util::Result<core::DynTable> table =
      core::parse_dyn_csv(util::read_file(dir / "data" / "dyn.csv").value_or(""), "dyn.csv");
  ASSERT_TRUE(table) << table.error();
  EXPECT_EQ(table->rows, core::dyn_rows(r));
  int accept4 = *core::SyscallTable::get().number("accept4");
  const core::DynRow& row = table->rows.at(static_cast<size_t>(accept4));
  EXPECT_TRUE(row.used && row.can_stub && !row.can_fake);

  // Provenance: the image digest is the engine's id of the image that ran.
  nlohmann::json p = nlohmann::json::parse(util::read_file(dir / "provenance.json").value_or("{}"));
  docker::ProcessOutput id = run(k_docker, {"image", "inspect", "--format", "{{.Id}}",
                                            p["images"]["app"]["name"].get<std::string>()});
  EXPECT_EQ(p["images"]["app"]["digest"].get<std::string>() + "\n", id.out);
  EXPECT_EQ(p["engine"]["name"], "docker");
  EXPECT_GT(p["timings"]["exploration"].get<double>(), 0.0);
  EXPECT_TRUE(lupa_containers().empty()) << "every worker container is gone";
}

TEST_F(GenerateTest, EbpfAndPtraceDiscoveryFindTheSameSyscalls) {
  fs::path nginx = recipe("nginx", "wrk.toml");
  docker::ProcessOutput ebpf = lupa({"discover", nginx.string(), "--discovery", "ebpf", "--json"});
  ASSERT_EQ(ebpf.exit_code, 0) << ebpf.err;
  docker::ProcessOutput ptrace = lupa({"discover", nginx.string(), "--discovery", "ptrace", "--json"});
  ASSERT_EQ(ptrace.exit_code, 0) << ptrace.err;
  std::set<int> by_ebpf = used_in(ebpf.out);
  std::set<int> by_ptrace = used_in(ptrace.out);
  EXPECT_GE(by_ebpf.size(), 30u);
  std::set<int> only_ebpf, only_ptrace;
  std::set_difference(by_ebpf.begin(), by_ebpf.end(), by_ptrace.begin(), by_ptrace.end(),
                      std::inserter(only_ebpf, only_ebpf.end()));
  std::set_difference(by_ptrace.begin(), by_ptrace.end(), by_ebpf.begin(), by_ebpf.end(),
                      std::inserter(only_ptrace, only_ptrace.end()));
  EXPECT_TRUE(only_ebpf.empty() && only_ptrace.empty())
      << "only eBPF: " << names(only_ebpf) << "; only ptrace: " << names(only_ptrace);
  EXPECT_EQ(nlohmann::json::parse(ebpf.out)["backend"], "ebpf");
  EXPECT_EQ(nlohmann::json::parse(ptrace.out)["backend"], "ptrace");
  // Both tell the calls made before the test decided from those of the shutdown.
  int exit_group = *core::SyscallTable::get().number("exit_group");
  int accept4 = *core::SyscallTable::get().number("accept4");
  for (const std::string* json : {&ebpf.out, &ptrace.out}) {
    core::Discovery d = nlohmann::json::parse(*json).get<core::Discovery>();
    EXPECT_TRUE(d.counts.contains(exit_group)) << d.backend;
    EXPECT_FALSE(d.before_verdict.contains(exit_group)) << d.backend << ": made at shutdown only";
    EXPECT_TRUE(d.before_verdict.contains(accept4)) << d.backend << ": made for the test";
  }
}

// Every other bundled server recipe works as shipped: its image builds from the base image, the
// app passes its own test in its container (and the test fails without it), and discovery
// finds what it calls. (nginx and sqlite3 are explored whole by the tests around this one.)
TEST_F(GenerateTest, EveryBundledServerPassesItsBaselineInItsContainer) {
  struct App {
    const char* name;
    const char* recipe;
  };
  for (const App& app : {App{"redis", "redis-benchmark.toml"}, App{"memcached", "memcslap.toml"},
                         App{"lighttpd", "wrk.toml"}, App{"haproxy", "wrk.toml"}}) {
    docker::ProcessOutput out = lupa({"discover", recipe(app.name, app.recipe).string(), "--json"});
    ASSERT_EQ(out.exit_code, 0) << app.name << ": " << out.err;
    core::Discovery d = nlohmann::json::parse(out.out).get<core::Discovery>();
    EXPECT_GE(d.counts.size(), 25u) << app.name;
    EXPECT_TRUE(d.complete) << app.name << ": " << d.incomplete_reason;
    bool accepts = d.counts.contains(*core::SyscallTable::get().number("accept4")) ||
                   d.counts.contains(*core::SyscallTable::get().number("accept"));
    EXPECT_TRUE(accepts) << app.name << " served its benchmark's connections";
  }
  EXPECT_TRUE(lupa_containers().empty()) << "every worker container is gone";
}

TEST_F(GenerateTest, GroupTestingReachesTheOneAtATimeVerdicts) {
  // A dozen of nginx's syscalls, with every kind of verdict among them, explored both ways.
  std::string subset = "accept4,setsockopt,geteuid,getpid,mkdir,ioctl,fcntl,prlimit64,epoll_ctl,"
                       "rt_sigsuspend,close,uname";
  fs::path nginx = recipe("nginx", "wrk.toml");
  docker::ProcessOutput loupe = lupa({"generate", nginx.string(), "--db", (m_dir.path() / "loupe").string(),
                                      "--strategy", "loupe", "--only-syscalls", subset});
  ASSERT_EQ(loupe.exit_code, 0) << loupe.err;
  docker::ProcessOutput group = lupa({"generate", nginx.string(), "--db", db().string(),
                                      "--only-syscalls", subset});
  ASSERT_EQ(group.exit_code, 0) << group.err;
  auto load = [](const fs::path& database) {
    for (const fs::directory_entry& run : fs::directory_iterator(database / "nginx" / "benchmark-wrk")) {
      return nlohmann::json::parse(util::read_file(run.path() / "results.json").value_or("{}"))
          .get<core::ExploreResult>();
    }
    return core::ExploreResult{};
  };
  core::ExploreResult one = load(m_dir.path() / "loupe");
  core::ExploreResult grouped = load(db());
  EXPECT_EQ(one.strategy, "loupe");
  EXPECT_EQ(grouped.strategy, "group");
  for (const std::string& name : util::split(subset, ',')) {
    EXPECT_EQ(verdict(grouped, name), verdict(one, name)) << name;
  }
  EXPECT_EQ(verdict(one, "accept4"), "stub-only");
}

TEST_F(GenerateTest, ALoupeStyleDockerfileRunsAsLoupeRanIt) {
  docker::ProcessOutput out =
      lupa({"generate", "-b", "-db", db().string(), "-a", "nginx", "-w", "wrk", "-d",
            recipe("loupe-nginx", "Dockerfile").string(), "--only-syscalls", "accept4,geteuid,listen"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  fs::path dir = run_dir("nginx");
  EXPECT_TRUE(fs::is_regular_file(dir / "Dockerfile"));
  EXPECT_TRUE(fs::is_regular_file(dir / "context" / "nginx-test.sh"))
      << "the COPYed test script is stored with the run";
  core::ExploreResult r = result_of("nginx");
  EXPECT_EQ(r.binary, "/usr/sbin/nginx");
  EXPECT_EQ(verdict(r, "accept4"), "stub-only");
  EXPECT_EQ(verdict(r, "listen"), "required");
  EXPECT_EQ(lupa({"verify", db().string()}).exit_code, 0);
}

TEST_F(GenerateTest, ATestSuiteRunsToCompletion) {
  docker::ProcessOutput out =
      lupa({"generate", recipe("sqlite3", "suite.toml").string(), "--db", db().string()});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  std::vector<std::string> log = git_log();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].rfind("sqlite3/suite-sql: ", 0), 0u) << log[0];
  core::ExploreResult r = result_of("sqlite3");
  EXPECT_EQ(r.mode, "sequential");
  EXPECT_EQ(verdict(r, "read"), "required");
  EXPECT_GE(r.syscalls.size(), 15u);
}

TEST_F(GenerateTest, BadInputEndsInOneClearLineAndLeavesNothing) {
  util::TempDir apps("lupa-test-bad-recipes");
  fs::path broken = apps.path() / "broken";
  fs::create_directories(broken);
  ASSERT_TRUE(util::write_file_atomic(broken / "Dockerfile",
                                      "FROM lupa-base:bookworm\nRUN echo no such package && false\n"));
  ASSERT_TRUE(util::write_file_atomic(
      broken / "run.toml", "app = \"broken\"\nworkload = \"run\"\nkind = \"benchmark\"\n"
                           "dockerfile = \"Dockerfile\"\nbinary = \"/bin/sleep\"\nargs = [\"60\"]\n"));
  // Unknown field: file, line and field, before anything is built.
  ASSERT_TRUE(util::write_file_atomic(apps.path() / "broken" / "typo.toml",
                                      "app = \"broken\"\nworkload = \"run\"\nkind = \"benchmark\"\n"
                                      "dockerfile = \"Dockerfile\"\nbinary = \"/bin/sleep\"\nreplica = 2\n"));
  docker::ProcessOutput typo = lupa({"generate", (broken / "typo.toml").string(), "--db", db().string()});
  EXPECT_EQ(typo.exit_code, 1);
  EXPECT_EQ(lines_of(typo.err),
            std::vector<std::string>{"lupa: error: " + (broken / "typo.toml").string() +
                                     ":6: replica: unknown field (known: app, args, binary, "
                                     "dockerfile, kind, network, only_consider, readiness, "
                                     "replicas, strategy, test_script, timeout, workdir, workload)"});
  // A Dockerfile that does not build.
  docker::ProcessOutput build = lupa({"generate", (broken / "run.toml").string(), "--db", db().string()});
  EXPECT_EQ(build.exit_code, 1);
  std::vector<std::string> build_lines = lines_of(build.err);
  ASSERT_FALSE(build_lines.empty());
  EXPECT_NE(build_lines.back().find("lupa: error: docker build of " + (broken / "Dockerfile").string() +
                                    " failed"),
            std::string::npos)
      << build.err;
  EXPECT_EQ(run(k_docker, {"image", "inspect", "lupa-app/broken:benchmark-run"}).exit_code, 1)
      << "no image left behind";
  // A binary the image lacks.
  ASSERT_TRUE(util::write_file_atomic(broken / "Dockerfile", "FROM lupa-base:bookworm\n"));
  ASSERT_TRUE(util::write_file_atomic(
      broken / "run.toml", "app = \"broken\"\nworkload = \"run\"\nkind = \"benchmark\"\n"
                           "dockerfile = \"Dockerfile\"\nbinary = \"/usr/sbin/no-such-app\"\n"));
  docker::ProcessOutput binary = lupa({"generate", (broken / "run.toml").string(), "--db", db().string()});
  EXPECT_EQ(binary.exit_code, 1);
  EXPECT_NE(lines_of(binary.err).back().find("binary '/usr/sbin/no-such-app' not found"),
            std::string::npos)
      << binary.err;
  // An app that never becomes ready: it listens on a port nobody waits on.
  ASSERT_TRUE(util::write_file_atomic(
      broken / "run.toml", "app = \"broken\"\nworkload = \"run\"\nkind = \"benchmark\"\n"
                           "dockerfile = \"Dockerfile\"\nbinary = \"/bin/sleep\"\nargs = [\"600\"]\n"
                           "[readiness]\nport = 8123\ntimeout = 2\n"));
  docker::ProcessOutput ready = lupa({"generate", (broken / "run.toml").string(), "--db", db().string()});
  EXPECT_EQ(ready.exit_code, 1);
  EXPECT_NE(lines_of(ready.err).back().find("lupa: error: "), std::string::npos) << ready.err;
  EXPECT_NE(ready.err.find("ready"), std::string::npos) << ready.err;

  EXPECT_TRUE(git_log().empty()) << "nothing was committed";
  EXPECT_TRUE(lupa_containers().empty()) << "no container left behind";

  // A dirty database is refused before any work.
  docker::ProcessOutput nginx_run = lupa({"generate", recipe("nginx", "wrk.toml").string(), "--db",
                                          db().string(), "--only-syscalls", "geteuid"});
  ASSERT_EQ(nginx_run.exit_code, 0) << nginx_run.err;
  fs::path results = run_dir("nginx") / "results.json";
  ASSERT_TRUE(util::write_file_atomic(results, "{}"));
  auto start = std::chrono::steady_clock::now();
  docker::ProcessOutput dirty = lupa({"generate", recipe("nginx", "wrk.toml").string(), "--db",
                                      db().string(), "--only-syscalls", "geteuid"});
  EXPECT_EQ(dirty.exit_code, 1);
  EXPECT_NE(dirty.err.find("uncommitted changes"), std::string::npos) << dirty.err;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s) << "refused before building";
  EXPECT_EQ(util::read_file(results).value_or(""), "{}") << "the user's change is kept";
}

TEST_F(GenerateTest, TheEngineNotRunningIsNamed) {
  docker::RunSpec spec;
  spec.program = "/usr/bin/env";
  spec.args = {"DOCKER_HOST=unix:///nonexistent/lupa.sock", lupa_binary().string(), "generate",
               recipe("nginx", "wrk.toml").string(), "--db", db().string(), "--engine", "docker"};
  util::Result<docker::ProcessOutput> out = docker::run_program(spec);
  ASSERT_TRUE(out) << out.error();
  EXPECT_EQ(out->exit_code, 1);
  EXPECT_EQ(lines_of(out->err), std::vector<std::string>{
                                    "lupa: error: dockerd is not running (HINT: start it with "
                                    "`dockerd &` as root, or run scripts/install-deps.sh)"});
}

// Starts `lupa generate` on nginx and returns its pid once exploration runs, with its stderr
// going to `log`.
pid_t start_nginx_generate(const fs::path& db, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string cmd = fmt::format("exec '{}' generate '{}' --db '{}' 2>'{}' >/dev/null",
                                  lupa_binary().string(),
                                  (apps_dir() / "nginx" / "wrk.toml").string(), db.string(),
                                  log.string());
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), nullptr);
    ::_exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (util::read_file(log).value_or("").find("exploration:") != std::string::npos) {
      std::this_thread::sleep_for(3s); // in the middle of it
      return pid;
    }
    std::this_thread::sleep_for(100ms);
  }
  return pid;
}

// Waits up to `timeout` for `pid`; its exit status, or -1 if it is still running.
int wait_for(pid_t pid, std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(50ms);
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  return -1;
}

TEST_F(GenerateTest, CtrlCStopsCleanly) {
  fs::path log = m_dir.path() / "stderr";
  pid_t pid = start_nginx_generate(db(), log);
  ASSERT_FALSE(lupa_containers().empty()) << util::read_file(log).value_or("");
  ::kill(pid, SIGINT);
  int status = wait_for(pid, 30s);
  EXPECT_EQ(status, 1) << util::read_file(log).value_or("");
  std::vector<std::string> lines = lines_of(util::read_file(log).value_or(""));
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back(), "lupa: error: interrupted");
  EXPECT_TRUE(lupa_containers().empty()) << "worker containers removed";
  EXPECT_TRUE(git_log().empty()) << "nothing committed";
  EXPECT_FALSE(fs::exists(db() / "nginx")) << "no half-written run directory";
}

TEST_F(GenerateTest, SigkillLeavesNoContainerBehind) {
  fs::path log = m_dir.path() / "stderr";
  pid_t pid = start_nginx_generate(db(), log);
  ASSERT_FALSE(lupa_containers().empty()) << util::read_file(log).value_or("");
  ::kill(pid, SIGKILL);
  wait_for(pid, 10s);
  // The workers read end of input and exit; --rm removes their containers.
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!lupa_containers().empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_TRUE(lupa_containers().empty());
  EXPECT_TRUE(git_log().empty());
}

TEST_F(GenerateTest, ReproduceRebuildsTheStoredRecipeAndDiffs) {
  docker::ProcessOutput first = lupa({"generate", recipe("nginx", "wrk.toml").string(), "--db",
                                      db().string(), "--only-syscalls", "accept4,listen,geteuid"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  std::string key = run_dir("nginx").lexically_relative(db()).string();
  // From the stored files alone: the recipe's folder is not used.
  docker::ProcessOutput again = lupa({"reproduce", key, "--db", db().string()});
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("after:  fresh run of the same experiment"), std::string::npos)
      << again.out;
  EXPECT_NE(again.out.find("results: identical"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("provenance: "), std::string::npos);
  EXPECT_EQ(git_log().size(), 1u) << "reproduce commits only with --commit";
}

TEST_F(GenerateTest, PodmanRunsTheSameRecipe) {
  if (!util::is_executable_file("/usr/bin/podman")) {
    GTEST_SKIP() << "podman is not installed (apt-get install podman)";
  }
  util::Result<docker::Engine> podman = docker::Engine::open(docker::EngineKind::podman);
  if (!podman) {
    GTEST_SKIP() << "podman does not work here: " << podman.error();
  }
  // The base image is imported into Podman's own store from the cached root file system.
  docker::ProcessOutput out =
      lupa({"generate", recipe("nginx", "wrk.toml").string(), "--db", db().string(), "--engine",
            "podman", "--only-syscalls", "accept4,listen,geteuid"});
  ASSERT_EQ(out.exit_code, 0) << out.err;
  core::ExploreResult r = result_of("nginx");
  EXPECT_EQ(verdict(r, "accept4"), "stub-only");
  EXPECT_EQ(verdict(r, "listen"), "required");
  nlohmann::json p =
      nlohmann::json::parse(util::read_file(run_dir("nginx") / "provenance.json").value_or("{}"));
  EXPECT_EQ(p["engine"]["name"], "podman");
  EXPECT_EQ(run("/usr/bin/podman", {"ps", "-aq", "--filter", "label=lupa.run"}).out, "")
      << "no podman container left";
}
