#include "core/probe.h"
#include "core/result.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace core;

TEST(Replicas, MergesPerVerdictBit) {
  EXPECT_EQ(Replicas{}.merged(), Verdict::untested);
  EXPECT_EQ((Replicas{{true, true}}).merged(), Verdict::works);
  EXPECT_EQ((Replicas{{false, false}}).merged(), Verdict::fails);
  EXPECT_EQ((Replicas{{true, false}}).merged(), Verdict::unstable);
}

TEST(ExploreResult, JsonRoundTripKeepsEverything) {
  ExploreResult r;
  r.binary = "/usr/sbin/nginx";
  r.args = {"-g", "daemon off;"};
  r.mode = "benchmark";
  r.replicas = 2;
  SyscallResult s{288, "accept4", 17, {{true, true}}, {{false, true}}};
  r.syscalls.push_back(s);
  r.features.push_back({16, "ioctl", 1, 0x5401, 0, "TCGETS", 3, {{true}}, {{false}}});
  r.paths.push_back({"/proc/self/maps", 1, {"openat"}, {{true}}, {{true}}});
  r.static_syscalls = std::vector<int>{0, 1, 288};
  r.collective.ran = true;
  r.collective.all_stubs_work = false;
  r.collective.conflicts.push_back({{1, 2}, {}});
  r.stats.step_seconds["discovery"] = 1.5;

  nlohmann::json j = r;
  EXPECT_EQ(j["unstable"], nlohmann::json::array({"accept4"}));
  ExploreResult back = j.get<ExploreResult>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.find(288)->fake.merged(), Verdict::unstable);
}

TEST(Probe, JsonRoundTripAndDescription) {
  Probe p;
  p.stub = {288};
  p.args.push_back({16, 1, 0x5401, 0, Injection::fake});
  p.paths.push_back({"/proc/cpuinfo", PathAction::empty});
  nlohmann::json j = p;
  EXPECT_EQ(j.get<Probe>(), p);
  EXPECT_EQ(p.describe(), "stub{accept4} fake{} fake(ioctl:arg1=0x5401) empty(/proc/cpuinfo)");
  nlohmann::json bad = {{"stub", {5000}}};
  EXPECT_THROW(bad.get<Probe>(), nlohmann::json::exception);
}
