// eBPF discovery against strace on the same deterministic programs: the same syscalls, the
// same sub-feature keys, the same pseudo-files (and, for the test program, the same counts).
#include "core/syscalls.h"
#include "tracer/discovery.h"
#include "util/strings.h"

#include "inttest_util.h"
#include "strace_discovery.h"

#include <gtest/gtest.h>

#include <cstdlib>

using namespace tracer;
using namespace lupa_test;

namespace {

struct Case {
  std::string name;
  std::vector<std::string> argv;
  bool exact_counts = false; // the program's counts do not vary between runs
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << c.name;
}

class EbpfVsStrace : public ::testing::TestWithParam<Case> {};

TEST_P(EbpfVsStrace, FindsWhatStraceFinds) {
  if (std::optional<std::string> reason = ebpf_skip_reason()) {
    GTEST_SKIP() << *reason;
  }
  if (util::find_in_path("strace").empty()) {
    GTEST_SKIP() << "strace is not installed";
  }
  const Case& c = GetParam();
  for (const std::string& a : {c.argv[0]}) {
    if (a.find('/') == std::string::npos && util::find_in_path(a).empty()) {
      GTEST_SKIP() << a << " is not installed";
    }
  }
  ::setenv("PYTHONHASHSEED", "0", 1);
  ::setenv("LC_ALL", "C", 1);

  util::Result<core::Discovery> reference = strace_discovery(c.argv);
  ASSERT_TRUE(reference) << reference.error();

  util::Result<CommandTrace> trace = [&] {
    NullStdio quiet;
    return discover_command(c.argv, RunOptions{});
  }();
  ASSERT_TRUE(trace) << trace.error();
  const core::Discovery& ebpf = trace->report.discovery;
  EXPECT_EQ(ebpf.backend, "ebpf");
  EXPECT_TRUE(ebpf.complete) << ebpf.incomplete_reason;
  EXPECT_EQ(trace->exit_status, 0);

  std::vector<std::string> diff = set_differences(ebpf, *reference);
  EXPECT_TRUE(diff.empty()) << util::join(diff, "\n");
  EXPECT_EQ(syscall_names(ebpf), syscall_names(*reference));
  if (c.exact_counts) {
    EXPECT_EQ(ebpf.counts, reference->counts);
    EXPECT_EQ(ebpf.features, reference->features);
  }
}

std::vector<Case> cases() {
  return {
      {"tracee_work", {LUPA_TRACEE, "work", "1000"}, true},
      {"ls", {"ls", "-la", "/proc/self/", "/dev/null"}},
      {"cat",
       {"cat", "/proc/self/status", "/sys/kernel/mm/transparent_hugepage/enabled", "/dev/null"}},
      {"sort", {"sort", "/etc/services"}},
      {"date", {"date", "+%s"}},
      {"python3",
       {"python3", "-c",
        "import os, socket; s = socket.socket(); s.close(); "
        "print(len(os.listdir('/proc/self/fd')))"}},
  };
}

INSTANTIATE_TEST_SUITE_P(Programs, EbpfVsStrace, ::testing::ValuesIn(cases()),
                         [](const auto& info) { return info.param.name; });

} // namespace
