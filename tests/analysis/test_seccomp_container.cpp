// Seccomp profiles checked on a real engine: Docker runs real programs under profiles made by
// `lupa seccomp-profile`. Images are built here from host files (`docker import`), named
// lupa-test-analysis-<pid>-*, and removed at the end.

#include "analysis/seccomp_profile.h"
#include "analysis/subprocess.h"
#include "core/dyn_csv.h"
#include "core/syscalls.h"
#include "util/strings.h"

#include "synthetic_db.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <iostream>
#include <regex>
#include <set>

namespace fs = std::filesystem;
using analysis::Need;
using namespace std::chrono_literals;

namespace {

const fs::path k_docker = "/usr/bin/docker";

analysis::ProcessResult run(const fs::path& program, const std::vector<std::string>& args,
                            std::chrono::seconds timeout = 120s) {
  auto r = analysis::run_process(program, args, timeout);
  EXPECT_TRUE(r) << r.error();
  return r.value_or(analysis::ProcessResult{});
}

// Why Docker cannot be used here, or empty.
std::string docker_unusable() {
  if (!util::is_executable_file(k_docker)) {
    return "docker is not installed (apt-get install docker.io)";
  }
  auto info = analysis::run_process(k_docker, {"info"}, 30s);
  if (!info || info->exit_code != 0) {
    return "dockerd is not running (scripts/install-deps.sh starts it)";
  }
  return {};
}

// The syscall names `command` makes on the host, from a full strace -f trace.
std::set<std::string> discover(const std::vector<std::string>& command) {
  util::TempDir dir("lupa-test-strace");
  fs::path trace = dir.path() / "trace";
  std::vector<std::string> args = {"-f", "-qq", "-o", trace.string(), "--"};
  args.insert(args.end(), command.begin(), command.end());
  run("/usr/bin/strace", args);
  std::set<std::string> names;
  std::regex call(R"(^(?:\d+\s+)?([a-z0-9_]+)\()");
  for (const std::string& line : util::split(util::read_file(trace).value_or(""), '\n')) {
    std::smatch m;
    if (std::regex_search(line, m, call)) {
      names.insert(m[1].str());
    }
  }
  return names;
}

// An image made of the host files `files` (with the libraries ldd names for them).
class HostImage {
public:
  HostImage(std::string name, const std::vector<fs::path>& files) : m_name(std::move(name)) {
    util::TempDir root("lupa-test-rootfs");
    std::set<fs::path> all(files.begin(), files.end());
    for (const fs::path& f : files) {
      analysis::ProcessResult ldd = run("/usr/bin/ldd", {f.string()});
      std::regex lib(R"((/[^ ]+) \(0x)");
      for (const std::string& line : util::split(ldd.output, '\n')) {
        std::smatch m;
        if (std::regex_search(line, m, lib)) {
          all.insert(m[1].str());
        }
      }
    }
    for (const fs::path& f : all) {
      fs::path dest = root.path() / f.relative_path();
      fs::create_directories(dest.parent_path());
      fs::copy_file(fs::canonical(f), dest, fs::copy_options::overwrite_existing);
      fs::permissions(dest, fs::status(fs::canonical(f)).permissions());
    }
    fs::create_directories(root.path() / "tmp");
    fs::permissions(root.path() / "tmp", fs::perms::all | fs::perms::sticky_bit);
    fs::create_directories(root.path() / "etc");
    (void)util::write_file_atomic(root.path() / "etc" / "passwd",
                                  "root:x:0:0:root:/root:/bin/sh\n");
    fs::path tar = root.path().parent_path() / (root.path().filename().string() + ".tar");
    run("/usr/bin/tar", {"-C", root.path().string(), "-cf", tar.string(), "."});
    analysis::ProcessResult imported = run(k_docker, {"import", tar.string(), m_name});
    fs::remove(tar);
    m_ok = imported.exit_code == 0;
    EXPECT_TRUE(m_ok) << imported.output;
  }
  ~HostImage() { run(k_docker, {"rmi", "--force", m_name}, 60s); }
  HostImage(const HostImage&) = delete;
  HostImage& operator=(const HostImage&) = delete;

  const std::string& name() const { return m_name; }
  bool ok() const { return m_ok; }

private:
  std::string m_name;
  bool m_ok = false;
};

std::string image_name(const char* what) {
  return fmt::format("lupa-test-analysis-{}-{}", getpid(), what);
}

// A run directory whose dyn.csv gives `verdicts` (by syscall name).
fs::path write_run(const fs::path& db, const std::string& app, const std::string& id,
                   const std::map<std::string, Need>& verdicts) {
  lupa_test::SynthRun r{app, "benchmark-check", id};
  for (const auto& [name, need] : verdicts) {
    if (std::optional<int> nr = core::SyscallTable::get().number(name)) {
      r.used[*nr] = need;
    }
  }
  return lupa_test::write_run(db, r);
}

fs::path lupa_binary() {
  return fs::path(LUPA_BINARY_DIR) / "cli" / "lupa";
}

} // namespace

// The profile's four behaviours, observed from inside a container: allowed, stubbed (ENOSYS),
// faked (0, no effect), and denied (ENOSYS, not Docker's EPERM).
TEST(SeccompContainer, ProfileStubsFakesAndDeniesWithEnosys) {
  if (std::string why = docker_unusable(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  if (!util::is_executable_file("/usr/bin/strace")) {
    GTEST_SKIP() << "strace is not installed (apt-get install strace)";
  }
  fs::path probe = fs::path(LUPA_BINARY_DIR) / "tests" / "analysis" / "lupa_seccomp_probe";
  HostImage image(image_name("probe"), {probe});
  ASSERT_TRUE(image.ok());
  std::string in_image = "/" + probe.relative_path().string();

  // Verdicts: everything the probe calls is required, except the four calls under study.
  std::map<std::string, Need> verdicts;
  for (const std::string& name : discover({probe.string(), "--check"})) {
    verdicts[name] = Need::required;
  }
  verdicts["exit_group"] = Need::required;
  verdicts["pause"] = Need::required; // --serve
  verdicts["mkdir"] = Need::fake_only;
  verdicts["sync"] = Need::stub_only;
  verdicts["uname"] = Need::both;
  verdicts.erase("sysinfo"); // unused: denied
  util::TempDir db("lupa-test-seccomp-db");
  fs::path run_dir = write_run(db.path(), "probe", "0001", verdicts);
  fs::path profile = db.path() / "profile.json";
  analysis::ProcessResult made =
      run(lupa_binary(), {"seccomp-profile", run_dir.string(), "-o", profile.string()});
  ASSERT_EQ(made.exit_code, 0) << made.output;

  analysis::ContainerCheck check{k_docker, image.name(), {in_image, "--check"},
                                 {},       profile,      {"--network=none"}};
  auto outcome = analysis::run_with_profile(check);
  ASSERT_TRUE(outcome) << outcome.error();
  EXPECT_TRUE(outcome->passed) << outcome->output;
  EXPECT_NE(outcome->output.find("mkdir=0 errno=0"), std::string::npos) << outcome->output;
  EXPECT_NE(outcome->output.find("created=0"), std::string::npos);
  EXPECT_NE(outcome->output.find("sync=-1 errno=38"), std::string::npos);
  EXPECT_NE(outcome->output.find("uname=-1 errno=38"), std::string::npos);
  EXPECT_NE(outcome->output.find("sysinfo=-1 errno=38"), std::string::npos);

  // Control: without the profile's rules the same check fails, so the check can fail.
  fs::path allow_all = db.path() / "allow.json";
  ASSERT_TRUE(util::write_file_atomic(allow_all, R"({"defaultAction":"SCMP_ACT_ALLOW"})"));
  check.profile = allow_all;
  auto control = analysis::run_with_profile(check);
  ASSERT_TRUE(control) << control.error();
  EXPECT_FALSE(control->passed) << control->output;
  EXPECT_NE(control->output.find("created=1"), std::string::npos) << control->output;

  // A long-running app and a test `exec`ed into it (the test runs under the profile too).
  check.profile = profile;
  check.command = {in_image, "--serve"};
  check.test = {in_image, "--check"};
  auto served = analysis::run_with_profile(check);
  ASSERT_TRUE(served) << served.error();
  EXPECT_TRUE(served->passed) << served->output;
}

// A real program (Debian's sqlite3 from the host) under the profile of its own measured
// verdicts: each used syscall stubbed alone and faked alone in a container, judged by the
// program's result. The profile must keep it working; breaking one required syscall must not.
TEST(SeccompContainer, RealProgramWorksUnderItsProfile) {
  if (std::string why = docker_unusable(); !why.empty()) {
    GTEST_SKIP() << why;
  }
  for (const char* tool : {"/usr/bin/strace", "/usr/bin/sqlite3"}) {
    if (!util::is_executable_file(tool)) {
      GTEST_SKIP() << tool << " is not installed";
    }
  }
  HostImage image(image_name("sqlite"), {"/usr/bin/sqlite3"});
  ASSERT_TRUE(image.ok());
  // The test is in the SQL: a wrong sum raises an error (malformed JSON), so sqlite3 exits 1.
  const std::string sql = "create table t(x); insert into t values(40),(2); select case when "
                          "sum(x) = 42 then 'ok' else json('x') end from t;";
  std::vector<std::string> command = {"/usr/bin/sqlite3", "-bail", "/tmp/t.db", sql};
  util::TempDir host_tmp("lupa-test-sqlite");
  std::set<std::string> used =
      discover({"/usr/bin/sqlite3", "-bail", (host_tmp.path() / "t.db").string(), sql});
  ASSERT_GT(used.size(), 10u);

  // Measure each verdict: one rule per container run, everything else allowed. The syscalls
  // the container runtime needs are allowed by every profile whatever their verdict, and
  // probing them can wedge runc itself (a faked close leaves `runc init` waiting forever), so
  // they are recorded as required without a probe.
  util::TempDir db("lupa-test-seccomp-sqlite");
  const std::vector<std::string>& runtime = analysis::runtime_baseline();
  auto works_with = [&](const std::string& name, int errno_ret) {
    nlohmann::json p = {
        {"defaultAction", "SCMP_ACT_ALLOW"},
        {"syscalls", {{{"names", {name}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", errno_ret}}}}};
    fs::path file = db.path() / "probe.json";
    EXPECT_TRUE(util::write_file_atomic(file, p.dump()));
    analysis::ContainerCheck check{k_docker, image.name(),       command, {},
                                   file,     {"--network=none"}, 30s};
    auto outcome = analysis::run_with_profile(check);
    // An error means the container never started (the runtime itself needs the call).
    return outcome && outcome->passed && outcome->output.find("ok") != std::string::npos;
  };
  std::map<std::string, Need> verdicts;
  for (const std::string& name : used) {
    bool probe = std::find(runtime.begin(), runtime.end(), name) == runtime.end();
    verdicts[name] =
        probe ? analysis::need_of(works_with(name, ENOSYS), works_with(name, 0)) : Need::required;
  }
  for (Need need : {Need::required, Need::stub_only, Need::fake_only, Need::both}) {
    std::vector<std::string> names;
    for (const auto& [name, n] : verdicts) {
      if (n == need) {
        names.push_back(name);
      }
    }
    std::cout << "sqlite3 " << analysis::to_string(need) << ": " << util::join(names, " ") << "\n";
  }
  fs::path run_dir = write_run(db.path(), "sqlite3", "0001", verdicts);
  std::vector<std::string> check_args = {"seccomp-profile",
                                         run_dir.string(),
                                         "-o",
                                         (db.path() / "sqlite.json").string(),
                                         "--check-image",
                                         image.name(),
                                         "--check-run-option=--network=none",
                                         "--"};
  check_args.insert(check_args.end(), command.begin(), command.end());
  analysis::ProcessResult checked = run(lupa_binary(), check_args, 300s);
  EXPECT_EQ(checked.exit_code, 0) << checked.output;
  EXPECT_NE(checked.output.find("check passed"), std::string::npos) << checked.output;

  // Break it: claim a required syscall (not one the runtime needs) can be stubbed.
  auto victim = std::find_if(verdicts.begin(), verdicts.end(), [&](const auto& v) {
    return v.second == Need::required &&
           std::find(runtime.begin(), runtime.end(), v.first) == runtime.end();
  });
  ASSERT_NE(victim, verdicts.end()) << "no required syscall outside the runtime baseline";
  verdicts[victim->first] = Need::stub_only;
  fs::path broken_dir = write_run(db.path(), "sqlite3", "0002", verdicts);
  check_args[1] = broken_dir.string();
  analysis::ProcessResult broken = run(lupa_binary(), check_args, 300s);
  std::cout << "stubbing " << victim->first << " (required) in the profile\n";
  EXPECT_NE(broken.exit_code, 0) << "stubbing " << victim->first << " should break sqlite3";
  EXPECT_NE(broken.output.find("test failed"), std::string::npos)
      << "stubbing " << victim->first << ": " << broken.output;
}
