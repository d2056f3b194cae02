#include "tracer/capabilities.h"

#include <gtest/gtest.h>

using namespace tracer;

namespace {
CapabilitySet with(std::initializer_list<Capability> caps) {
  CapabilitySet set;
  for (Capability c : caps) {
    set.effective |= uint64_t{1} << static_cast<unsigned>(c);
  }
  return set;
}
} // namespace

TEST(Capabilities, SysAdminAloneIsEnough) {
  EXPECT_TRUE(missing_bpf_capabilities(with({Capability::sys_admin})).empty());
}

TEST(Capabilities, BpfAndPerfmonAreEnough) {
  EXPECT_TRUE(missing_bpf_capabilities(with({Capability::bpf, Capability::perfmon})).empty());
}

TEST(Capabilities, OneLinePerMissingCapabilityThenAHint) {
  std::vector<std::string> lines = missing_bpf_capabilities(with({}));
  ASSERT_EQ(lines.size(), 3U);
  EXPECT_TRUE(lines[0].starts_with("missing capability CAP_BPF"));
  EXPECT_TRUE(lines[1].starts_with("missing capability CAP_PERFMON"));
  EXPECT_TRUE(lines[2].starts_with("HINT: "));

  lines = missing_bpf_capabilities(with({Capability::bpf}));
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_TRUE(lines[0].starts_with("missing capability CAP_PERFMON"));
}

TEST(Capabilities, ReadsThisProcess) {
  util::Result<CapabilitySet> caps = current_capabilities();
  ASSERT_TRUE(caps) << caps.error();
  // Whatever this process holds, the check agrees with the set.
  EXPECT_EQ(check_bpf_capabilities().has_value(), missing_bpf_capabilities(*caps).empty());
}
