// Below syscall granularity in core: symbolic names from the headers, pid patterns of
// pseudo-files, which argument rules can meet in one call, the probe rules and result fields
// of two-argument features, and the CSV files beside dyn.csv.

#include "core/dyn_csv.h"
#include "core/probe.h"
#include "core/subfeatures.h"
#include "core/syscalls.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace core;

namespace {
int nr(const char* name) {
  return *SyscallTable::get().number(name);
}
} // namespace

TEST(FeatureSymbols, ComeFromTheHeaders) {
  constexpr uint64_t k_int = 0xffffffff;
  EXPECT_EQ(feature_symbol({nr("ioctl"), 1, 0x5401, k_int}), "TCGETS");
  EXPECT_EQ(feature_symbol({nr("ioctl"), 1, 0x5413, k_int}), "TIOCGWINSZ");
  EXPECT_EQ(feature_symbol({nr("ioctl"), 1, 0x12345678, k_int}), "") << "unknown: no guess";
  EXPECT_EQ(feature_symbol({nr("fcntl"), 1, 4, k_int}), "F_SETFL");
  EXPECT_EQ(feature_symbol({nr("prctl"), 0, 15, k_int}), "PR_SET_NAME");
  EXPECT_EQ(feature_symbol({nr("arch_prctl"), 0, 0x1002, k_int}), "ARCH_SET_FS");
  EXPECT_EQ(feature_symbol({nr("socket"), 0, 10, k_int}), "AF_INET6");
  EXPECT_EQ(feature_symbol({nr("socket"), 1, 2, 0xf}), "SOCK_DGRAM");
  EXPECT_EQ(feature_symbol({nr("madvise"), 2, 4, k_int}), "MADV_DONTNEED");
  EXPECT_EQ(feature_symbol({nr("clone"), 0, 0x100, 0x100}), "CLONE_VM");
  EXPECT_EQ(feature_symbol({nr("mmap"), 2, 0, k_int}), "PROT_NONE");
  EXPECT_EQ(feature_symbol({nr("mmap"), 3, 2, 0xf}), "MAP_PRIVATE");
  EXPECT_EQ(feature_symbol({nr("mmap"), 3, 0x20, 0x20}), "MAP_ANONYMOUS");
  EXPECT_EQ(feature_symbol({nr("mprotect"), 2, 4, 4}), "PROT_EXEC");
  EXPECT_EQ(feature_symbol({nr("setsockopt"), 1, 6, k_int, 2, 1, k_int}),
            "IPPROTO_TCP:TCP_NODELAY");
  EXPECT_EQ(feature_symbol({nr("futex"), 1, 393, k_int}),
            "FUTEX_WAIT_BITSET|FUTEX_PRIVATE_FLAG|FUTEX_CLOCK_REALTIME");
}

TEST(PseudoFiles, PidsBecomeOnePattern) {
  EXPECT_EQ(pseudo_file_pattern("/proc/1234/stat"), "/proc/[pid]/stat");
  EXPECT_EQ(pseudo_file_pattern("/proc/1/task/22/stat"), "/proc/[pid]/task/[tid]/stat");
  EXPECT_EQ(pseudo_file_pattern("/proc/12"), "/proc/[pid]");
  EXPECT_EQ(pseudo_file_pattern("/proc/self/stat"), "/proc/self/stat");
  // memcached names each of its threads through /proc/self/task/TID/comm.
  EXPECT_EQ(pseudo_file_pattern("/proc/self/task/104/comm"), "/proc/self/task/[tid]/comm");
  EXPECT_EQ(pseudo_file_pattern("/proc/self/task"), "/proc/self/task");
  EXPECT_EQ(pseudo_file_pattern("/proc/irq/5/x"), "/proc/irq/5/x")
      << "only a pid right below /proc";
  EXPECT_EQ(pseudo_file_pattern("/dev/pts/3"), "/dev/pts/3");
  EXPECT_TRUE(is_shared_object_path("/lib/x86_64-linux-gnu/libc.so.6"));
  EXPECT_TRUE(is_shared_object_path("libnuma.so"));
  EXPECT_FALSE(is_shared_object_path("/etc/ld.so.cache"));
  EXPECT_FALSE(is_shared_object_path("/usr/lib/.so"));
}

TEST(ArgRules, MatchAndTellWhichCanMeet) {
  const int ioctl = nr("ioctl");
  ArgRule tcgets = arg_rule({ioctl, 1, 0x5401, 0xffffffff}, Injection::stub);
  EXPECT_TRUE(tcgets.matches(ioctl, {1, 0xffffffff00005401, 0, 0, 0, 0})) << "upper half ignored";
  EXPECT_FALSE(tcgets.matches(ioctl, {1, 0x5413, 0, 0, 0, 0}));
  EXPECT_FALSE(tcgets.matches(nr("fcntl"), {1, 0x5401, 0, 0, 0, 0}));
  ArgRule flag = arg_rule({nr("mmap"), 3, 0x20, 0x20}, Injection::fake);
  EXPECT_TRUE(flag.matches(nr("mmap"), {0, 0, 0, 0x22, 0, 0}));
  ArgRule pair = arg_rule({nr("setsockopt"), 1, 1, 0xffffffff, 2, 2, 0xffffffff}, Injection::stub);
  EXPECT_TRUE(pair.matches(nr("setsockopt"), {3, 1, 2, 0, 4, 0}));
  EXPECT_FALSE(pair.matches(nr("setsockopt"), {3, 1, 9, 0, 4, 0})) << "level alone is not enough";

  EXPECT_TRUE(exclusive({ioctl, 1, 0x5401, 0xffffffff}, {ioctl, 1, 0x5413, 0xffffffff}));
  EXPECT_FALSE(exclusive({nr("mmap"), 2, 1, 1}, {nr("mmap"), 2, 2, 2})) << "PROT_READ|PROT_WRITE";
  EXPECT_FALSE(exclusive({nr("mmap"), 3, 2, 0xf}, {nr("mmap"), 3, 0x20, 0x20}));
  EXPECT_TRUE(exclusive({ioctl, 1, 1, 0xffffffff}, {nr("fcntl"), 1, 1, 0xffffffff}));
  EXPECT_TRUE(exclusive({nr("setsockopt"), 1, 1, 0xffffffff, 2, 2, 0xffffffff},
                        {nr("setsockopt"), 1, 1, 0xffffffff, 2, 9, 0xffffffff}));
}

TEST(ArgRules, TwoArgumentRulesTravelInProbes) {
  Probe p;
  p.args.push_back(
      arg_rule({nr("setsockopt"), 1, 1, 0xffffffff, 2, 2, 0xffffffff}, Injection::fake));
  p.paths.push_back({"/proc/[pid]/stat", PathAction::enoent});
  nlohmann::json j = p;
  EXPECT_EQ(j["args"][0]["arg2"], 2);
  EXPECT_EQ(j.get<Probe>(), p);
  EXPECT_EQ(p.describe(), "stub{} fake{} fake(setsockopt:arg1=0x1&0xffffffff,arg2=0x2&0xffffffff) "
                          "enoent(/proc/[pid]/stat)");
  nlohmann::json relative = j;
  relative["paths"][0]["path"] = "proc/x";
  EXPECT_THROW(relative.get<Probe>(), nlohmann::json::exception);
  nlohmann::json bad_arg = j;
  bad_arg["args"][0]["arg"] = 6;
  EXPECT_THROW(bad_arg.get<Probe>(), nlohmann::json::exception);
  ProbeOutcome o;
  o.works = true;
  o.arg_hits = {3};
  o.path_hits = {0};
  ProbeOutcome back = nlohmann::json(o).get<ProbeOutcome>();
  EXPECT_EQ(back.arg_hits, o.arg_hits);
  EXPECT_EQ(back.path_hits, o.path_hits);
}

TEST(DepthResults, RoundTripAndRenderBesideDynCsv) {
  ExploreResult r;
  r.binary = "/usr/sbin/nginx";
  r.syscalls = {{0, "read", 3, {{false}}, {{false}}}, {54, "setsockopt", 2, {{true}}, {{true}}}};
  FeatureResult f = feature_result({54, 1, 1, 0xffffffff, 2, 2, 0xffffffff}, 1);
  f.stub.runs = {false};
  f.fake.runs = {true};
  r.features = {f, feature_result({16, 1, 0x5401, 0xffffffff}, 4)};
  r.paths = {{"/proc/[pid]/stat", 7, {"openat"}, {{false}}, {{true, false}}}};
  r.static_syscalls = std::vector<int>{0, 1, 54};
  r.collective.ran = true;
  r.collective.all_stubs_work = false;
  CollectiveCheck::Conflict c;
  c.stubbed = {54};
  c.enoent_paths = {"/proc/self/maps"};
  c.faked_features = {f.key()};
  r.collective.conflicts = {c};
  r.collective.left_out.enoent_paths = {"/proc/self/maps"};
  r.collective.final_works = true;
  r.collective.runs = 9;
  nlohmann::json j = r;
  ExploreResult back = j.get<ExploreResult>();
  EXPECT_EQ(nlohmann::json(back), j);
  EXPECT_EQ(back.features[0].key(), f.key());
  EXPECT_EQ(back.collective.conflicts.front(), c);
  EXPECT_EQ(back.required(), std::vector<int>{0});

  EXPECT_EQ(write_features_csv(r.features),
            "# syscall, name, arg, value, mask, symbol, count, stub, fake, arg2, value2, mask2\n"
            "54,setsockopt,1,0x1,0xffffffff,SOL_SOCKET:SO_REUSEADDR,1,fails,works,2,0x2,"
            "0xffffffff\n"
            "16,ioctl,1,0x5401,0xffffffff,TCGETS,4,untested,untested,,,\n");
  EXPECT_EQ(write_pseudo_files_csv(r.paths),
            "# path, count, syscalls, enoent, empty\n/proc/[pid]/stat,7,openat,fails,unstable\n");
  EXPECT_EQ(write_coverage_csv(r), "# syscall, name, static, used, required\n"
                                   "0,read,Y,Y,Y\n1,write,Y,N,N\n54,setsockopt,Y,Y,N\n");
}
