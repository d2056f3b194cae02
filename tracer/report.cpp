#include "tracer/report.h"

#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <numeric>

namespace tracer {

const char* describe(Loss loss) {
  switch (loss) {
  case Loss::track_failed:
    return "new tasks of the traced tree not tracked";
  case Loss::feature_map_full:
    return "sub-feature values dropped (map full)";
  case Loss::path_map_full:
    return "pseudo-file paths dropped (map full)";
  case Loss::path_unreadable:
    return "path arguments unreadable";
  case Loss::path_truncated:
    return "pseudo-file paths truncated";
  case Loss::nr_out_of_range:
    return "syscalls with a number outside 0-511";
  case Loss::count_missing:
    return "counter updates without a counter";
  case Loss::program_skipped:
    return "BPF program runs skipped by the kernel";
  }
  return "unknown loss";
}

std::vector<uint64_t> sum_per_cpu(const std::vector<uint64_t>& values, unsigned ncpu) {
  std::vector<uint64_t> sums;
  if (ncpu == 0) {
    return sums;
  }
  sums.reserve(values.size() / ncpu);
  for (size_t key = 0; key + ncpu <= values.size(); key += ncpu) {
    sums.push_back(std::accumulate(values.begin() + static_cast<std::ptrdiff_t>(key),
                                   values.begin() + static_cast<std::ptrdiff_t>(key + ncpu),
                                   uint64_t{0}));
  }
  return sums;
}

uint64_t ProcessCounts::total() const {
  uint64_t sum = 0;
  for (const auto& [nr, count] : counts) {
    sum += count;
  }
  return sum;
}

uint64_t TraceReport::total_calls() const {
  uint64_t sum = 0;
  for (const auto& [nr, count] : discovery.counts) {
    sum += count;
  }
  return sum;
}

TraceReport make_report(const RawCounts& raw, double seconds) {
  TraceReport report;
  core::Discovery& d = report.discovery;
  d.backend = "ebpf";
  d.seconds = seconds;

  for (const RawSlot& slot : raw.slots) {
    ProcessCounts process{slot.tgid, slot.comm, slot.execs, {}};
    for (size_t nr = 0; nr < slot.counts.size(); ++nr) {
      if (slot.counts[nr] != 0) {
        process.counts[static_cast<int>(nr)] += slot.counts[nr];
        d.counts[static_cast<int>(nr)] += slot.counts[nr];
      }
    }
    if (!process.counts.empty()) {
      if (slot.slot == 0) {
        process.comm = "(other processes)";
      }
      report.processes.push_back(std::move(process));
    }
  }
  std::stable_sort(report.processes.begin(), report.processes.end(),
                   [](const ProcessCounts& a, const ProcessCounts& b) {
                     // The overflow slot (tgid 0) last.
                     return (a.tgid == 0 ? UINT32_MAX : a.tgid) <
                            (b.tgid == 0 ? UINT32_MAX : b.tgid);
                   });

  for (const RawFeature& f : raw.features) {
    std::array<uint64_t, 6> args{};
    if (f.arg < args.size()) {
      args[f.arg] = f.value;
    }
    if (f.arg2 >= 0 && static_cast<size_t>(f.arg2) < args.size()) {
      args[static_cast<size_t>(f.arg2)] = f.value2;
    }
    core::add_feature_keys(f.nr, args, f.count, d.features);
  }

  const core::SyscallTable& table = core::SyscallTable::get();
  for (const RawPath& p : raw.paths) {
    core::PathUse& use = d.paths[p.path];
    use.count += p.count;
    use.syscalls.insert(table.name(p.nr));
  }

  report.losses = raw.losses;
  report.slots_exhausted = raw.slots_exhausted;
  report.triggers = raw.triggers;
  report.paths_retried = raw.paths_retried;
  std::vector<std::string> reasons;
  for (Loss loss : k_all_losses) {
    auto it = raw.losses.find(loss);
    if (it != raw.losses.end() && it->second != 0) {
      d.lost_events += it->second;
      reasons.push_back(fmt::format("{} {}", it->second, describe(loss)));
    }
  }
  if (!reasons.empty()) {
    d.complete = false;
    d.incomplete_reason = util::join(reasons, "; ");
  }
  return report;
}

void mark_incomplete(TraceReport& report, const std::string& reason) {
  core::Discovery& d = report.discovery;
  d.complete = false;
  d.incomplete_reason = d.incomplete_reason.empty() ? reason : d.incomplete_reason + "; " + reason;
}

void to_json(nlohmann::json& j, const ProcessCounts& p) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [nr, count] : p.counts) {
    counts[core::SyscallTable::get().name(nr)] = count;
  }
  j = {{"tgid", p.tgid},
       {"comm", p.comm},
       {"execs", p.execs},
       {"calls", p.total()},
       {"syscalls", std::move(counts)}};
}

void to_json(nlohmann::json& j, const TraceReport& r) {
  nlohmann::json losses = nlohmann::json::object();
  for (const auto& [loss, count] : r.losses) {
    losses[describe(loss)] = count;
  }
  j = {{"discovery", r.discovery},      {"processes", r.processes},
       {"losses", std::move(losses)},   {"processes_merged", r.slots_exhausted},
       {"exec_triggers", r.triggers},   {"paths_retried", r.paths_retried},
       {"total_calls", r.total_calls()}};
}

} // namespace tracer
