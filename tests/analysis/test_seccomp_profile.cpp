#include "analysis/seccomp_profile.h"
#include "core/syscalls.h"

#include "synthetic_db.h"

#include <gtest/gtest.h>

#include <map>

using analysis::Need;
using lupa_test::nr_of;

namespace {

// The action each syscall name gets: "allow", "errno:<n>".
std::map<std::string, std::string> actions(const nlohmann::json& profile) {
  std::map<std::string, std::string> out;
  for (const nlohmann::json& rule : profile["syscalls"]) {
    std::string action = rule["action"] == "SCMP_ACT_ALLOW"
                             ? "allow"
                             : "errno:" + std::to_string(rule["errnoRet"].get<int>());
    for (const nlohmann::json& name : rule["names"]) {
      EXPECT_FALSE(out.contains(name.get<std::string>())) << name << " listed twice";
      out[name.get<std::string>()] = action;
    }
  }
  return out;
}

analysis::AppUsage usage() {
  analysis::AppUsage u;
  u.app = "demo";
  u.runs = {"demo/benchmark-x/1"};
  u.used = {{nr_of("socket"), Need::required},
            {nr_of("sync"), Need::stub_only},
            {nr_of("mkdir"), Need::fake_only},
            {nr_of("uname"), Need::both},
            {nr_of("getppid"), Need::stub_only}};
  return u;
}

} // namespace

TEST(SeccompProfile, AllowsRequiredStubsFakesAndDeniesTheRestWithEnosys) {
  analysis::SeccompProfile p = analysis::make_seccomp_profile(usage(), {}, "demo/benchmark-x/1");
  EXPECT_EQ(p.json["defaultAction"], "SCMP_ACT_ERRNO");
  EXPECT_EQ(p.json["defaultErrnoRet"], 38);
  std::map<std::string, std::string> a = actions(p.json);
  EXPECT_EQ(a["socket"], "allow");
  EXPECT_EQ(a["sync"], "errno:38");
  EXPECT_EQ(a["mkdir"], "errno:0");
  EXPECT_EQ(a["uname"], "errno:38"); // both: stubbed by default
  EXPECT_EQ(a["execve"], "allow");   // container runtime
  EXPECT_EQ(a["getppid"], "allow");  // runc needs it: the stub is overridden, and said so
  ASSERT_EQ(p.overridden.size(), 1u);
  EXPECT_NE(p.overridden[0].find("getppid"), std::string::npos);
  // Every syscall the table knows gets an explicit action (Docker 20.10 ignores
  // defaultErrnoRet), and the unused ones fail with ENOSYS.
  for (int nr : core::SyscallTable::get().all()) {
    EXPECT_TRUE(a.contains(core::SyscallTable::get().name(nr))) << nr;
  }
  EXPECT_EQ(a["clone3"], "errno:38");
  EXPECT_EQ(a["ptrace"], "errno:38");
  EXPECT_EQ(p.allowed, 1u);
  EXPECT_EQ(p.stubbed, 2u);
  EXPECT_EQ(p.faked, 1u);
}

TEST(SeccompProfile, BothCanBeFaked) {
  analysis::ProfileOptions options;
  options.both = analysis::BothAs::fake;
  analysis::SeccompProfile p = analysis::make_seccomp_profile(usage(), options, "x");
  EXPECT_EQ(actions(p.json)["uname"], "errno:0");
}
