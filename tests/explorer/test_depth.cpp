// Below syscall granularity on real Debian programs: argument rules enforced by seccomp
// argument filters, path rules by user notification (the supervisor reading paths from the
// caller), discovery of sub-features and pseudo-files compared with strace, static analysis
// against what the programs really call, and ps explored without its /proc files.

#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "explorer/discovery.h"
#include "explorer/local_worker.h"
#include "explorer/static_analysis.h"
#include "explorer/strategy.h"

#include "explorer_testutil.h"
#include "strace_discovery.h"

#include <gtest/gtest.h>

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <set>

using namespace explorer;
using lupa_test::script;
using lupa_test::slurp;

namespace {

constexpr uint64_t k_int = 0xffffffff;
constexpr uint64_t k_tcgets = 0x5401;
constexpr uint64_t k_fionbio = 0x5421;

core::ArgRule arg(int nr, unsigned index, uint64_t value, uint64_t mask, core::Injection how) {
  return core::arg_rule({nr, index, value, mask}, how);
}

core::Probe with_args(std::vector<core::ArgRule> rules, bool count_hits = false) {
  core::Probe p;
  p.args = std::move(rules);
  p.count_hits = count_hits;
  return p;
}

core::Probe with_path(const std::string& path, core::PathAction action) {
  core::Probe p;
  p.paths = {{path, action}};
  return p;
}

std::set<std::string> names_of(const std::map<int, uint64_t>& counts) {
  std::set<std::string> out;
  for (const auto& [nr, count] : counts) {
    out.insert(core::SyscallTable::get().name(nr));
  }
  return out;
}

std::string missing_from(const std::set<std::string>& used, const std::vector<int>& found) {
  std::set<std::string> have;
  for (int nr : found) {
    have.insert(core::SyscallTable::get().name(nr));
  }
  std::string out;
  for (const std::string& name : used) {
    if (!have.contains(name)) {
      out += name + " ";
    }
  }
  return out;
}

} // namespace

class Depth : public testing::Test {
protected:
  void SetUp() override {
    if (std::string why = lupa_test::tracing_unavailable(); !why.empty()) {
      GTEST_SKIP() << why;
    }
    if (!util::is_executable_file("/usr/bin/python3")) {
      GTEST_SKIP() << "/usr/bin/python3 is not installed";
    }
  }

  // A sequential run of `argv` judged by grep -q `pattern` on its output.
  AppConfig grep_app(std::vector<std::string> argv, const std::string& body) {
    AppConfig config;
    config.binary = argv.front();
    config.args.assign(argv.begin() + 1, argv.end());
    config.mode = Mode::sequential;
    config.timeout = std::chrono::seconds(10);
    config.test_script =
        script(m_dir.path(), fmt::format("test-{}.sh", m_scripts++), "#!/bin/sh\n" + body + "\n");
    config.scratch = m_dir.path();
    return config;
  }

  // A sequential run of `argv` whose output the test copies to copy() and accepts.
  AppConfig copying_app(std::vector<std::string> argv) {
    return grep_app(std::move(argv), fmt::format("cp \"$1\" {}", copy().string()));
  }

  std::filesystem::path copy() const { return m_dir.path() / "copy"; }

  core::Discovery discover_program(const std::vector<std::string>& argv) {
    AppConfig config = grep_app(argv, "true");
    config.test_script.reset();
    util::Result<core::Discovery> found = discover(config, {});
    EXPECT_TRUE(found) << found.error();
    return found ? *found : core::Discovery{};
  }

  util::TempDir m_dir{"lupa-test-depth"};
  int m_scripts = 0;
};

TEST_F(Depth, OneIoctlRequestIsStubbedOrFakedAlone) {
  // ls --color=auto asks TCGETS whether its output is a terminal: a faked TCGETS says yes
  // (colours, columns), a stubbed one says no, as the real answer on a file does.
  LocalWorker ls(grep_app({"/bin/ls", "--color=auto", "/usr"},
                          "grep -qx bin \"$1\" && ! grep -q \"$(printf '\\033')\" \"$1\""),
                 "ls");
  EXPECT_TRUE(ls.run({}).works);
  EXPECT_FALSE(
      ls.run(with_args({arg(SYS_ioctl, 1, k_tcgets, k_int, core::Injection::fake)})).works);
  EXPECT_TRUE(ls.run(with_args({arg(SYS_ioctl, 1, k_tcgets, k_int, core::Injection::stub)})).works);
  // The same verdict when the supervisor injects (counting hits) instead of the kernel.
  core::ProbeOutcome counted =
      ls.run(with_args({arg(SYS_ioctl, 1, k_tcgets, k_int, core::Injection::fake),
                        arg(SYS_ioctl, 1, k_fionbio, k_int, core::Injection::stub)},
                       true));
  EXPECT_FALSE(counted.works);
  ASSERT_EQ(counted.arg_hits.size(), 2u);
  EXPECT_GE(counted.arg_hits[0], 1u) << "TCGETS was asked";
  EXPECT_EQ(counted.arg_hits[1], 0u) << "ls never sets FIONBIO";
  // A flag bit, compared masked: no anonymous memory at all, and ls cannot start.
  EXPECT_FALSE(
      ls.run(with_args({arg(SYS_mmap, 3, MAP_ANONYMOUS, MAP_ANONYMOUS, core::Injection::stub)}))
          .works);
  core::Probe both;
  both.fake = {SYS_ioctl};
  both.args = {arg(SYS_ioctl, 1, k_tcgets, k_int, core::Injection::stub)};
  EXPECT_THROW(ls.run(both), util::Fatal) << "a syscall injected whole and by argument";
}

TEST_F(Depth, SetsockoptLevelAndNameSelectTogether) {
  LocalWorker py(grep_app({"/usr/bin/python3", "-S", "-c",
                           "import socket; s = socket.socket(); "
                           "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
                           "s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0); "
                           "print('reuse', s.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR))"},
                          "grep -qx 'reuse 1' \"$1\""),
                 "python3");
  ASSERT_TRUE(py.run({}).works);
  auto sockopt = [](uint64_t name, core::Injection how) {
    return core::arg_rule({SYS_setsockopt, 1, SOL_SOCKET, k_int, 2, name, k_int}, how);
  };
  core::ProbeOutcome stubbed = py.run(with_args({sockopt(SO_REUSEADDR, core::Injection::stub)}));
  EXPECT_FALSE(stubbed.works);
  EXPECT_NE(stubbed.note.find("Function not implemented"), std::string::npos) << stubbed.note;
  EXPECT_FALSE(py.run(with_args({sockopt(SO_REUSEADDR, core::Injection::fake)})).works)
      << "faked: the option is never set";
  EXPECT_TRUE(py.run(with_args({sockopt(SO_BROADCAST, core::Injection::stub)})).works)
      << "the level alone does not match";
  core::ProbeOutcome hits = py.run(with_args({sockopt(SO_KEEPALIVE, core::Injection::fake)}, true));
  EXPECT_EQ(hits.arg_hits, std::vector<uint64_t>{1}) << "one call matched level and name";
}

TEST_F(Depth, APseudoFileGoesMissingOrEmpty) {
  LocalWorker cat(grep_app({"/bin/cat", "/proc/version"}, "grep -q 'Linux version' \"$1\""), "cat");
  ASSERT_TRUE(cat.run({}).works);
  core::ProbeOutcome missing = cat.run(with_path("/proc/version", core::PathAction::enoent));
  EXPECT_FALSE(missing.works);
  EXPECT_NE(missing.note.find("No such file or directory"), std::string::npos) << missing.note;
  EXPECT_EQ(missing.path_hits, std::vector<uint64_t>{1});
  core::ProbeOutcome empty = cat.run(with_path("/proc/version", core::PathAction::empty));
  EXPECT_FALSE(empty.works);
  EXPECT_EQ(empty.ended, core::ProbeEnd::judged) << "cat read an empty file fine";
  core::ProbeOutcome other = cat.run(with_path("/proc/cpuinfo", core::PathAction::enoent));
  EXPECT_TRUE(other.works);
  EXPECT_EQ(other.path_hits, std::vector<uint64_t>{0});
}

TEST_F(Depth, AnEmptyPseudoFileLooksLikeOneToEveryCall) {
  // statx (coreutils stat), newfstatat (python), access, readlink, opens for writing and
  // O_DIRECTORY opens all see an empty regular file of mode 0644.
  LocalWorker stat(copying_app({"/usr/bin/stat", "-c", "%s:%F", "/proc/self/exe"}), "stat");
  ASSERT_TRUE(stat.run(with_path("/proc/self/exe", core::PathAction::empty)).works);
  EXPECT_EQ(slurp(copy()), "0:regular empty file\n");
  LocalWorker py(
      copying_app({"/usr/bin/python3", "-S", "-c",
                   "import os; s = os.stat('/proc/version'); "
                   "print(s.st_size, oct(s.st_mode), os.access('/proc/version', os.R_OK), "
                   "os.access('/proc/version', os.X_OK)); "
                   "open('/dev/null', 'w').write('hello'); print(repr(open('/dev/null').read()))"}),
      "python3");
  core::Probe empty;
  empty.paths = {{"/proc/version", core::PathAction::empty},
                 {"/dev/null", core::PathAction::empty}};
  core::ProbeOutcome outcome = py.run(empty);
  ASSERT_TRUE(outcome.works) << outcome.note;
  EXPECT_EQ(slurp(copy()), "0 0o100644 True False\n''\n") << "nothing written is read back";
  EXPECT_EQ(outcome.path_hits.size(), 2u);
  LocalWorker readlink(grep_app({"/bin/readlink", "/proc/self/exe"}, "grep -q readlink \"$1\""),
                       "readlink");
  ASSERT_TRUE(readlink.run({}).works);
  EXPECT_FALSE(readlink.run(with_path("/proc/self/exe", core::PathAction::empty)).works)
      << "an empty file is not a symbolic link";
  LocalWorker listdir(grep_app({"/usr/bin/python3", "-S", "-c",
                                "import os; print(len(os.listdir('/proc/self/fd')))"},
                               "grep -q '^[0-9]' \"$1\""),
                      "listdir");
  ASSERT_TRUE(listdir.run({}).works);
  core::ProbeOutcome dir = listdir.run(with_path("/proc/self/fd", core::PathAction::empty));
  EXPECT_FALSE(dir.works);
  EXPECT_NE(dir.note.find("Not a directory"), std::string::npos) << dir.note;
}

TEST_F(Depth, PidPathsMatchWhateverTheProcessIs) {
  LocalWorker sh(grep_app({"/bin/sh", "-c", "cat /proc/$$/stat"}, "grep -q '(sh)' \"$1\""), "sh");
  ASSERT_TRUE(sh.run({}).works);
  EXPECT_FALSE(sh.run(with_path("/proc/[pid]/stat", core::PathAction::enoent)).works);
  EXPECT_TRUE(sh.run(with_path("/proc/self/stat", core::PathAction::enoent)).works)
      << "/proc/self/stat is another path";
}

TEST_F(Depth, DiscoveryRecordsWhatStraceSees) {
  if (!util::is_executable_file("/usr/bin/strace")) {
    GTEST_SKIP() << "strace is not installed";
  }
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"/bin/ls", "--color=auto", "-la", "/usr"},
           // (into /dev/null for both: cat copies differently into a file)
           {"/bin/sh", "-c",
            "cat /proc/version /proc/self/stat /sys/devices/system/cpu/online >/dev/null"},
           {"/usr/bin/python3", "-S", "-c",
            "import socket; s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); "
            "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)"}}) {
    core::Discovery ours = discover_program(argv);
    util::Result<core::Discovery> theirs = lupa_test::strace_discovery(argv);
    ASSERT_TRUE(theirs) << theirs.error();
    EXPECT_EQ(lupa_test::set_differences(ours, *theirs), std::vector<std::string>{})
        << argv.front();
    EXPECT_FALSE(ours.features.empty()) << argv.front();
  }
  core::Discovery cat = discover_program({"/bin/cat", "/proc/version"});
  EXPECT_TRUE(cat.paths.contains("/proc/version"));
  EXPECT_TRUE(cat.features.contains({SYS_ioctl, 1, k_tcgets, k_int}) ||
              cat.features.contains({SYS_mmap, 2, PROT_READ, PROT_READ}));
  EXPECT_TRUE(cat.libraries.contains("/lib/x86_64-linux-gnu/libc.so.6")) << "what it opened";
}

TEST_F(Depth, StaticAnalysisCoversWhatProgramsCall) {
  for (const std::vector<std::string>& argv : std::vector<std::vector<std::string>>{
           {"/bin/ls", "-la", "/proc/self/"},
           {"/usr/bin/python3", "-c", "import subprocess; subprocess.run(['/bin/true'])"},
           {"/usr/bin/ps", "aux"},
           {lupa_test::testprog().string(), "new-calls"}}) {
    core::Discovery used = discover_program(argv);
    std::vector<std::string> loaded(used.libraries.begin(), used.libraries.end());
    util::Result<StaticAnalysis> found = analyze_static(argv.front(), loaded);
    ASSERT_TRUE(found) << found.error();
    EXPECT_EQ(missing_from(names_of(used.counts), found->syscalls), "")
        << argv.front() << ": used but not found statically";
    EXPECT_GT(found->syscalls.size(), used.counts.size()) << "a superset";
    EXPECT_GE(found->objects.size(), 3u) << "binary, libc, loader";
  }
  // ps opens libnuma with dlopen(): only what discovery saw it open tells about its calls.
  core::Discovery ps = discover_program({"/usr/bin/ps", "aux"});
  if (ps.counts.contains(SYS_get_mempolicy)) {
    util::Result<StaticAnalysis> alone = analyze_static("/usr/bin/ps");
    ASSERT_TRUE(alone);
    EXPECT_NE(missing_from({"get_mempolicy"}, alone->syscalls), "");
  }
  util::Result<StaticAnalysis> not_elf =
      analyze_static(lupa_test::script(m_dir.path(), "x.sh", "#!/bin/sh\n"));
  ASSERT_FALSE(not_elf);
  EXPECT_NE(not_elf.error().find("is not an ELF file"), std::string::npos) << not_elf.error();
}

TEST_F(Depth, PsExploredWithoutItsProcFilesGetsOneAtATimeVerdicts) {
  // ps lists itself from /proc/<pid>/stat; the test wants to see it.
  AppConfig config = grep_app({"/usr/bin/ps", "-e", "-o", "pid,comm"}, "grep -q ' ps$' \"$1\"");
  core::Discovery discovery = discover_program({"/usr/bin/ps", "-e", "-o", "pid,comm"});
  ASSERT_TRUE(discovery.paths.contains("/proc"));
  WorkerPool pool;
  pool.push_back(std::make_unique<LocalWorker>(config, "ps-0"));
  pool.push_back(std::make_unique<LocalWorker>(config, "ps-1"));
  ExploreOptions options;
  options.parts.syscalls = false;
  options.parts.features = false;
  options.strategy = Strategy::loupe;
  core::ExploreResult loupe = explore(discovery, pool, options);
  options.strategy = Strategy::group;
  core::ExploreResult group = explore(discovery, pool, options);
  auto verdicts = [](const core::ExploreResult& r) {
    std::string out;
    for (const core::PathResult& p : r.paths) {
      out += fmt::format("{}: {}/{}\n", p.path, core::to_string(p.enoent.merged()),
                         core::to_string(p.empty.merged()));
    }
    return out;
  };
  EXPECT_EQ(verdicts(group), verdicts(loupe));
  auto find = [&](const std::string& path) {
    auto it = std::find_if(group.paths.begin(), group.paths.end(),
                           [&](const core::PathResult& p) { return p.path == path; });
    return it == group.paths.end() ? nullptr : &*it;
  };
  const core::PathResult* proc = find("/proc");
  ASSERT_NE(proc, nullptr);
  EXPECT_EQ(proc->enoent.merged(), core::Verdict::fails) << "no /proc, no processes";
  const core::PathResult* stat = find("/proc/[pid]/stat");
  ASSERT_NE(stat, nullptr) << verdicts(group);
  EXPECT_EQ(stat->enoent.merged(), core::Verdict::fails) << "ps skips what it cannot read";
  EXPECT_GT(stat->count, 1u) << "one pattern for every process";
  EXPECT_TRUE(group.collective.ran);
  EXPECT_EQ(group.collective.final_works.value_or(true), true);
  std::cout << "ps: " << group.paths.size() << " pseudo-file patterns; one at a time "
            << loupe.stats.probe_runs << " runs, group " << group.stats.probe_runs
            << " runs (collective " << group.collective.runs << ")\n";
}
