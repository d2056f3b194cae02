#include "core/syscalls.h"

#include <gtest/gtest.h>

using core::SyscallTable;

TEST(SyscallTable, KnowsClassicAndNewCalls) {
  const SyscallTable& t = SyscallTable::get();
  EXPECT_EQ(t.name(0), "read");
  EXPECT_EQ(t.name(59), "execve");
  EXPECT_EQ(t.number("clone3"), 435);
  EXPECT_EQ(t.number("openat2"), 437);
  EXPECT_EQ(t.number("io_uring_setup"), 425);
  EXPECT_EQ(t.number("close_range"), 436);
  EXPECT_GE(t.max_known(), 450);
}

TEST(SyscallTable, UnknownNumbersGetStableNames) {
  const SyscallTable& t = SyscallTable::get();
  EXPECT_FALSE(t.known(1000));
  EXPECT_EQ(t.name(1000), "syscall_1000");
  EXPECT_EQ(t.number("syscall_1000"), 1000);
  EXPECT_FALSE(t.number("no_such_call").has_value());
  EXPECT_FALSE(t.number("syscall_").has_value());
  EXPECT_FALSE(t.number("syscall_99999").has_value());
}

TEST(SyscallTable, GapsBetweenRangesAreUnknown) {
  // x86-64 numbers 335..423 are unassigned.
  EXPECT_FALSE(SyscallTable::get().known(400));
  EXPECT_TRUE(SyscallTable::get().known(424)); // pidfd_send_signal
}
