// `lupa trace syscalls` without the kernel: option checks and the table.
#include "core/syscalls.h"
#include "tracer/trace_syscalls.h"

#include <gtest/gtest.h>

using namespace tracer;

namespace {
int nr_of(const char* name) {
  return *core::SyscallTable::get().number(name);
}
} // namespace

TEST(TraceSyscalls, NeedsExactlyOneThingToTrace) {
  TraceSyscallsOptions options;
  util::Result<Scope> scope = resolve_scope(options);
  ASSERT_FALSE(scope);
  EXPECT_NE(scope.error().find("--container ID, --cgroup PATH, --pid PID or -- CMD"),
            std::string::npos);

  options.container = "a";
  options.cgroup = "/b";
  EXPECT_NE(resolve_scope(options).error().find("give one"), std::string::npos);

  options = {};
  options.command = {"ls"};
  options.pids = {1};
  EXPECT_NE(resolve_scope(options).error().find("cannot be combined"), std::string::npos);
}

TEST(TraceSyscalls, BadCgroupNamesTheOption) {
  TraceSyscallsOptions options;
  options.cgroup = "/lupa/no/such/cgroup";
  util::Result<Scope> scope = resolve_scope(options);
  ASSERT_FALSE(scope);
  EXPECT_TRUE(scope.error().starts_with("--cgroup /lupa/no/such/cgroup: ")) << scope.error();
}

TEST(TraceSyscalls, BadDurationIsRejectedBeforeTracing) {
  TraceSyscallsOptions options;
  options.command = {"true"};
  options.duration = -1;
  util::Result<int> code = trace_syscalls(options, stdout);
  ASSERT_FALSE(code);
  EXPECT_EQ(code.error(), "--duration -1: must be positive");
}

TEST(FormatTable, MostFrequentFirstWithTotalsAndLosses) {
  RawCounts raw;
  raw.slots.push_back({1, 77, 1, "app", std::vector<uint64_t>(512, 0)});
  raw.slots[0].counts[static_cast<size_t>(nr_of("read"))] = 3;
  raw.slots[0].counts[static_cast<size_t>(nr_of("getppid"))] = 1000;
  raw.paths.push_back({nr_of("openat"), "/proc/self/maps", 1});
  raw.losses[Loss::path_truncated] = 1;
  TraceReport report = make_report(raw, 0.5);

  std::string table = format_table(report, PerProcess::yes, Details::yes);
  size_t getppid = table.find("getppid");
  size_t read = table.find(" read\n");
  ASSERT_NE(getppid, std::string::npos);
  ASSERT_NE(read, std::string::npos);
  EXPECT_LT(getppid, read);
  EXPECT_NE(table.find("1003 total (2 syscalls)"), std::string::npos) << table;
  EXPECT_NE(table.find("process 77 (app), 1003 calls"), std::string::npos) << table;
  EXPECT_NE(table.find("/proc/self/maps (openat)"), std::string::npos) << table;
  EXPECT_NE(table.find("INCOMPLETE: 1 pseudo-file paths truncated"), std::string::npos) << table;

  std::string brief = format_table(report, PerProcess::no, Details::no);
  EXPECT_EQ(brief.find("process 77"), std::string::npos);
  EXPECT_EQ(brief.find("/proc/self/maps"), std::string::npos);
}
