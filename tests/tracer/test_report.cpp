// tracer/report: raw kernel counts -> core::Discovery, per-process counts, loss accounting.
#include "core/syscalls.h"
#include "tracer/report.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <sys/mman.h>

using namespace tracer;

namespace {

int nr_of(const char* name) {
  return *core::SyscallTable::get().number(name);
}

RawSlot slot(uint32_t index, uint32_t tgid, std::string comm,
             std::initializer_list<std::pair<const char*, uint64_t>> counts) {
  RawSlot s{index, tgid, 1, std::move(comm), std::vector<uint64_t>(512, 0)};
  for (const auto& [name, count] : counts) {
    s.counts[static_cast<size_t>(nr_of(name))] = count;
  }
  return s;
}

} // namespace

TEST(SumPerCpu, SumsEachKeyOverItsCpus) {
  EXPECT_EQ(sum_per_cpu({1, 2, 3, 10, 20, 30}, 3), (std::vector<uint64_t>{6, 60}));
  EXPECT_EQ(sum_per_cpu({1, 2, 3, 4}, 1), (std::vector<uint64_t>{1, 2, 3, 4}));
  EXPECT_TRUE(sum_per_cpu({1, 2}, 0).empty());
}

TEST(MakeReport, SumsProcessesIntoOneDiscovery) {
  RawCounts raw;
  raw.slots.push_back(slot(0, 0, "", {{"getpid", 5}})); // overflow slot
  raw.slots.push_back(slot(2, 300, "child", {{"getppid", 7}, {"exit_group", 1}}));
  raw.slots.push_back(slot(1, 200, "parent", {{"getppid", 3}, {"wait4", 1}}));
  raw.slots.push_back(slot(3, 400, "idle", {}));
  TraceReport report = make_report(raw, 1.5);

  const core::Discovery& d = report.discovery;
  EXPECT_EQ(d.backend, "ebpf");
  EXPECT_EQ(d.seconds, 1.5);
  EXPECT_EQ(d.counts.at(nr_of("getppid")), 10U);
  EXPECT_EQ(d.counts.at(nr_of("getpid")), 5U);
  EXPECT_EQ(d.counts.size(), 4U);
  EXPECT_TRUE(d.complete);
  EXPECT_EQ(report.total_calls(), 17U);

  // Processes without calls are left out; by pid; the overflow slot last.
  ASSERT_EQ(report.processes.size(), 3U);
  EXPECT_EQ(report.processes[0].tgid, 200U);
  EXPECT_EQ(report.processes[1].tgid, 300U);
  EXPECT_EQ(report.processes[1].total(), 8U);
  EXPECT_EQ(report.processes[2].tgid, 0U);
  EXPECT_EQ(report.processes[2].comm, "(other processes)");
}

TEST(MakeReport, DecodesRawFeatureValuesWithCoreRules) {
  RawCounts raw;
  const int mmap = nr_of("mmap");
  raw.features.push_back({mmap, 2, 3, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, 4});
  raw.features.push_back({mmap, 2, 3, PROT_READ | PROT_WRITE, MAP_PRIVATE, 1});
  TraceReport report = make_report(raw, 0);
  const auto& f = report.discovery.features;
  EXPECT_EQ(f.at(core::FeatureKey{mmap, 2, PROT_READ, PROT_READ}), 5U);
  EXPECT_EQ(f.at(core::FeatureKey{mmap, 2, PROT_WRITE, PROT_WRITE}), 1U);
  EXPECT_EQ(f.at(core::FeatureKey{mmap, 3, MAP_PRIVATE, 0xf}), 5U);
  EXPECT_EQ(f.at(core::FeatureKey{mmap, 3, MAP_ANONYMOUS, MAP_ANONYMOUS}), 4U);
  EXPECT_EQ(f.at(core::FeatureKey{mmap, 3, 0, 0xfffffff0}), 1U);
}

TEST(MakeReport, MergesPathsNamedByDifferentSyscalls) {
  RawCounts raw;
  raw.paths.push_back({nr_of("openat"), "/proc/self/status", 2});
  raw.paths.push_back({nr_of("newfstatat"), "/proc/self/status", 1});
  raw.paths.push_back({nr_of("readlink"), "/proc/self/exe", 1});
  TraceReport report = make_report(raw, 0);
  const core::PathUse& use = report.discovery.paths.at("/proc/self/status");
  EXPECT_EQ(use.count, 3U);
  EXPECT_EQ(use.syscalls, (std::set<std::string>{"newfstatat", "openat"}));
  EXPECT_EQ(report.discovery.paths.size(), 2U);
}

TEST(MakeReport, AnyLossMakesTheDiscoveryIncomplete) {
  RawCounts raw;
  raw.slots.push_back(slot(1, 10, "app", {{"read", 1}}));
  raw.losses[Loss::feature_map_full] = 3;
  raw.losses[Loss::program_skipped] = 2;
  TraceReport report = make_report(raw, 0);
  EXPECT_FALSE(report.discovery.complete);
  EXPECT_EQ(report.discovery.lost_events, 5U);
  EXPECT_NE(report.discovery.incomplete_reason.find("3 sub-feature values dropped"),
            std::string::npos);
  EXPECT_NE(report.discovery.incomplete_reason.find("2 BPF program runs skipped"),
            std::string::npos);
}

TEST(MakeReport, MergedProcessesAreNotALoss) {
  RawCounts raw;
  raw.slots.push_back(slot(0, 0, "", {{"read", 4}}));
  raw.slots_exhausted = 9;
  TraceReport report = make_report(raw, 0);
  EXPECT_TRUE(report.discovery.complete);
  EXPECT_EQ(report.slots_exhausted, 9U);
}

TEST(MakeReport, MarkIncompleteKeepsEarlierReasons) {
  RawCounts raw;
  raw.losses[Loss::path_unreadable] = 1;
  TraceReport report = make_report(raw, 0);
  mark_incomplete(report, "the traced program never started");
  EXPECT_FALSE(report.discovery.complete);
  EXPECT_NE(report.discovery.incomplete_reason.find("1 path arguments unreadable; the traced"),
            std::string::npos);
}

TEST(MakeReport, JsonCarriesTheDiscoveryModel) {
  RawCounts raw;
  raw.slots.push_back(slot(1, 10, "app", {{"getppid", 2}}));
  raw.losses[Loss::track_failed] = 1;
  nlohmann::json j = make_report(raw, 0);
  core::Discovery back = j.at("discovery").get<core::Discovery>();
  EXPECT_EQ(back.backend, "ebpf");
  EXPECT_EQ(back.counts.at(nr_of("getppid")), 2U);
  EXPECT_FALSE(back.complete);
  EXPECT_EQ(j.at("processes")[0].at("syscalls").at("getppid"), 2);
  EXPECT_EQ(j.at("losses").size(), 1U);
}
