// The injection programs lupa builds with libseccomp (no kernel needed): which injections stay
// in the kernel and which go to the supervisor, and the probes no filter can express.

#include "core/subfeatures.h"
#include "explorer/filter.h"

#include <gtest/gtest.h>

#include <sys/syscall.h>

using namespace explorer;
using core::Injection;

namespace {

core::ArgRule rule(int nr, unsigned arg, uint64_t value, uint64_t mask, Injection how) {
  return core::arg_rule({nr, arg, value, mask}, how);
}

} // namespace

TEST(InjectionFilter, ArgumentRulesStayInTheKernelWhenUnambiguous) {
  core::Probe p;
  p.args = {rule(SYS_ioctl, 1, 0x5401, 0xffffffff, Injection::stub),
            rule(SYS_ioctl, 1, 0x5413, 0xffffffff, Injection::fake),
            rule(SYS_mmap, 3, 0x20, 0x20, Injection::stub)};
  util::Result<FilterProgram> built = injection_filter(p, Delivery::errno_action);
  ASSERT_TRUE(built) << built.error();
  EXPECT_FALSE(built->listener) << "two ioctl requests cannot meet in one call";
  EXPECT_GT(built->code.size(), 8u);
  util::Result<FilterProgram> counted = injection_filter(p, Delivery::notify);
  ASSERT_TRUE(counted);
  EXPECT_TRUE(counted->listener);
}

TEST(InjectionFilter, RulesThatMayMeetGoToTheSupervisor) {
  core::Probe p;
  p.args = {rule(SYS_mmap, 2, 1, 1, Injection::stub), rule(SYS_mmap, 2, 2, 2, Injection::fake)};
  util::Result<FilterProgram> built = injection_filter(p, Delivery::errno_action);
  ASSERT_TRUE(built) << built.error();
  EXPECT_TRUE(built->listener) << "PROT_READ|PROT_WRITE matches both: the first rule decides";
}

TEST(InjectionFilter, PathRulesNeedTheSupervisor) {
  core::Probe p;
  p.paths = {{"/proc/self/maps", core::PathAction::enoent}};
  p.stub = {SYS_openat};
  util::Result<FilterProgram> built = injection_filter(p, Delivery::errno_action);
  ASSERT_TRUE(built) << built.error();
  EXPECT_TRUE(built->listener);
}

TEST(InjectionFilter, RefusesWhatOneProbeCannotDo) {
  core::Probe whole_and_arg;
  whole_and_arg.fake = {SYS_ioctl};
  whole_and_arg.args = {rule(SYS_ioctl, 1, 0x5401, 0xffffffff, Injection::stub)};
  util::Result<FilterProgram> a = injection_filter(whole_and_arg, Delivery::errno_action);
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().find("both whole and by argument"), std::string::npos) << a.error();
  core::Probe twice;
  twice.stub = {SYS_getpid};
  twice.fake = {SYS_getpid};
  EXPECT_FALSE(injection_filter(twice, Delivery::errno_action));
}
