// The strace reference parser the integration tests rely on.
#include "core/syscalls.h"

#include "strace_discovery.h"

#include <gtest/gtest.h>

using namespace lupa_test;

namespace {
int nr_of(const char* name) {
  return *core::SyscallTable::get().number(name);
}
} // namespace

TEST(StraceParse, CountsSyscallsFeaturesAndPaths) {
  const char* text =
      "execve(\"./tracee\", [\"./tracee\", \"work\", \"3\"], 0x7ffc /* 37 vars */) = 0\n"
      "readlink(\"/proc/self/exe\", \"/tmp/tr/tracee\", 4096) = 14\n"
      "openat(AT_FDCWD, \"/proc/self/status\", O_RDONLY) = 3\n"
      "openat(AT_FDCWD, \"/etc/passwd\", O_RDONLY) = 3\n"
      "ioctl(0x3, 0x5401, 0x7ffde2733630)      = -1 ENOTTY (Inappropriate ioctl for device)\n"
      "setsockopt(0x3, 0x1, 0x2, 0x7ffde273362c, 0x4) = 0\n"
      "getppid()                               = 2229\n"
      "getppid()                               = 2229\n"
      "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED} ---\n"
      "exit_group(0)                           = ?\n"
      "+++ exited with 0 +++\n";
  core::Discovery d;
  ASSERT_TRUE(parse_strace_process(text, d));
  EXPECT_EQ(d.counts.at(nr_of("getppid")), 2U);
  EXPECT_EQ(d.counts.at(nr_of("openat")), 2U);
  EXPECT_EQ(d.counts.at(nr_of("exit_group")), 1U);
  EXPECT_EQ(d.counts.size(), 7U);
  EXPECT_TRUE(d.features.contains(core::FeatureKey{nr_of("ioctl"), 1, 0x5401, 0xffffffff}));
  EXPECT_EQ(d.features.size(), 2U);
  EXPECT_EQ(d.paths.size(), 2U);
  EXPECT_EQ(d.paths.at("/proc/self/exe").syscalls, std::set<std::string>{"readlink"});
}

TEST(StraceParse, UnknownSyscallIsAnError) {
  core::Discovery d;
  EXPECT_FALSE(parse_strace_process("frobnicate(1) = 0\n", d));
}

TEST(StraceParse, DifferencesNameWhatDiffers) {
  core::Discovery a;
  a.backend = "ebpf";
  core::Discovery b;
  b.backend = "strace";
  a.counts[nr_of("read")] = 1;
  b.counts[nr_of("read")] = 5; // counts are not compared
  EXPECT_TRUE(set_differences(a, b).empty());
  b.counts[nr_of("write")] = 1;
  b.paths["/dev/null"].syscalls = {"openat"};
  std::vector<std::string> diff = set_differences(a, b);
  ASSERT_EQ(diff.size(), 2U);
  EXPECT_EQ(diff[0], "syscall write only in strace (1 calls)");
  EXPECT_EQ(diff[1], "path /dev/null only in strace");
}
