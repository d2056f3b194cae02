// core/subfeatures: the keys both discoveries record (tested here, beside their eBPF user).
#include "core/subfeatures.h"
#include "core/syscalls.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/mman.h>
#include <sys/socket.h>

using namespace core;

namespace {
int nr_of(const char* name) {
  return *SyscallTable::get().number(name);
}
} // namespace

TEST(SubFeatures, ValueArgumentsAreMasked) {
  std::map<FeatureKey, uint64_t> keys;
  // An ioctl request passed sign-extended compares as its 32-bit value.
  add_feature_keys(nr_of("ioctl"), {3, 0xffffffffc0045401ULL, 0, 0, 0, 0}, 2, keys);
  ASSERT_EQ(keys.size(), 1U);
  EXPECT_EQ(keys.begin()->first, (FeatureKey{nr_of("ioctl"), 1, 0xc0045401ULL, 0xffffffffULL}));
  EXPECT_EQ(keys.begin()->second, 2U);
}

TEST(SubFeatures, SocketTypeIgnoresNonblockAndCloexec) {
  std::map<FeatureKey, uint64_t> keys;
  add_feature_keys(nr_of("socket"), {AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0}, 1,
                   keys);
  EXPECT_TRUE(keys.contains(FeatureKey{nr_of("socket"), 0, AF_INET, 0xffffffff}));
  EXPECT_TRUE(keys.contains(FeatureKey{nr_of("socket"), 1, SOCK_DGRAM, 0xf}));
  EXPECT_EQ(keys.size(), 2U);
}

TEST(SubFeatures, FlagSetsGiveOneKeyPerBit) {
  std::map<FeatureKey, uint64_t> keys;
  const int mmap = nr_of("mmap");
  add_feature_keys(mmap, {0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, 0, 0}, 1,
                   keys);
  EXPECT_TRUE(keys.contains(FeatureKey{mmap, 2, PROT_READ, PROT_READ}));
  EXPECT_TRUE(keys.contains(FeatureKey{mmap, 2, PROT_WRITE, PROT_WRITE}));
  EXPECT_TRUE(keys.contains(FeatureKey{mmap, 3, MAP_PRIVATE, 0xf})); // the map type is a value
  EXPECT_TRUE(keys.contains(FeatureKey{mmap, 3, MAP_ANONYMOUS, MAP_ANONYMOUS}));
  EXPECT_EQ(keys.size(), 4U);
  // PROT_NONE has no bit: one key "no flag" with the whole mask.
  std::map<FeatureKey, uint64_t> none;
  add_feature_keys(nr_of("mprotect"), {0, 4096, PROT_NONE}, 1, none);
  EXPECT_EQ(none.begin()->first, (FeatureKey{nr_of("mprotect"), 2, 0, 0xffffffff}));
}

TEST(SubFeatures, CloneFlagsLeaveOutTheExitSignal) {
  std::map<FeatureKey, uint64_t> keys;
  const int clone = nr_of("clone");
  add_feature_keys(clone, {0x1200011, 0, 0, 0, 0, 0}, 1, keys); // SIGCHLD | 2 flags
  EXPECT_EQ(keys.size(), 2U);
  EXPECT_TRUE(keys.contains(FeatureKey{clone, 0, 0x1000000, 0x1000000}));
  EXPECT_TRUE(keys.contains(FeatureKey{clone, 0, 0x200000, 0x200000}));
}

TEST(SubFeatures, SetsockoptLevelAndNameFormOneKey) {
  std::map<FeatureKey, uint64_t> keys;
  const int setsockopt = nr_of("setsockopt");
  add_feature_keys(setsockopt, {3, SOL_SOCKET, SO_REUSEADDR, 0, 4, 0}, 1, keys);
  ASSERT_EQ(keys.size(), 1U);
  FeatureKey key = keys.begin()->first;
  EXPECT_EQ(key.arg, 1U);
  EXPECT_EQ(key.value, static_cast<uint64_t>(SOL_SOCKET));
  EXPECT_EQ(key.arg2, 2);
  EXPECT_EQ(key.value2, static_cast<uint64_t>(SO_REUSEADDR));
  EXPECT_EQ(subfeature_arg_indices(setsockopt), (std::vector<unsigned>{1, 2}));
}

TEST(SubFeatures, EverySpecRecordsAtMostTwoArguments) {
  // The BPF program records two raw arguments per call.
  for (const SubFeatureSpec& spec : subfeature_specs()) {
    EXPECT_LE(subfeature_arg_indices(spec.nr).size(), 2U) << SyscallTable::get().name(spec.nr);
  }
  EXPECT_EQ(subfeature_specs().size(), 11U);
  EXPECT_TRUE(subfeature_arg_indices(nr_of("getppid")).empty());
}

TEST(SubFeatures, FeatureKeyWithSecondArgumentRoundTripsThroughJson) {
  Discovery d;
  FeatureKey key{nr_of("setsockopt"), 1, 1, 0xffffffff};
  key.arg2 = 2;
  key.value2 = 2;
  key.mask2 = 0xffffffff;
  d.features[key] = 3;
  d.features[FeatureKey{nr_of("ioctl"), 1, 0x5401, 0xffffffff}] = 1;
  nlohmann::json j = d;
  EXPECT_FALSE(j["features"][0].contains("arg2") && j["features"][1].contains("arg2"));
  EXPECT_EQ(j.get<Discovery>().features, d.features);
}

TEST(PseudoFiles, OnlyProcSysDevAndBelow) {
  EXPECT_TRUE(is_pseudo_file_path("/proc"));
  EXPECT_TRUE(is_pseudo_file_path("/proc/self/maps"));
  EXPECT_TRUE(is_pseudo_file_path("/sys/fs/selinux"));
  EXPECT_TRUE(is_pseudo_file_path("/dev/null"));
  EXPECT_FALSE(is_pseudo_file_path("/process"));
  EXPECT_FALSE(is_pseudo_file_path("/system/x"));
  EXPECT_FALSE(is_pseudo_file_path("/devices"));
  EXPECT_FALSE(is_pseudo_file_path("proc/self"));
  EXPECT_FALSE(is_pseudo_file_path("/etc/passwd"));
}

TEST(PseudoFiles, PathArgumentsOfFileSyscalls) {
  EXPECT_EQ(path_arg_index(nr_of("openat")), 1U);
  EXPECT_EQ(path_arg_index(nr_of("open")), 0U);
  EXPECT_EQ(path_arg_index(nr_of("newfstatat")), 1U);
  EXPECT_EQ(path_arg_index(nr_of("readlink")), 0U);
  EXPECT_EQ(path_arg_index(nr_of("execve")), 0U);
  EXPECT_FALSE(path_arg_index(nr_of("read")).has_value());
  std::vector<int> all = path_syscalls();
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_GE(all.size(), 25U);
}
