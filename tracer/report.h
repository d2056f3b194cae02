#pragma once
// What an eBPF measurement found, built from a probe's raw counts: the core::Discovery (the
// same model ptrace discovery fills, so the two compare field by field), the per-process
// counts, and the loss accounting that decides whether the Discovery can be trusted.

#include "core/discovery.h"
#include "tracer/probe.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tracer {

// The syscalls of one traced process.
struct ProcessCounts {
  uint32_t tgid = 0;              // 0: the processes that shared the overflow slot
  std::string comm;               // command name at its last exec
  uint32_t execs = 0;             // execs seen while traced
  std::map<int, uint64_t> counts; // syscall number -> calls
  // The sum of `counts`.
  uint64_t total() const;
};

struct TraceReport {
  core::Discovery discovery;            // backend "ebpf"
  std::vector<ProcessCounts> processes; // by tgid (the overflow slot last)
  std::map<Loss, uint64_t> losses;      // kinds that happened
  uint64_t slots_exhausted = 0;         // processes beyond max_processes (counted, but merged)
  uint64_t triggers = 0;                // exec triggers that started a traced tree
  uint64_t paths_retried = 0;           // paths read after their syscall (not resident before)
  // The number of syscalls counted.
  uint64_t total_calls() const;
};

// The report of `raw`, measured over `seconds`. Any loss makes discovery.complete false, with
// lost_events the sum of the losses and incomplete_reason naming each kind.
TraceReport make_report(const RawCounts& raw, double seconds);

// Marks `report` incomplete for `reason` (a condition above the probe, e.g. the exec trigger
// never fired), keeping earlier reasons.
void mark_incomplete(TraceReport& report, const std::string& reason);

// `p` as JSON: tgid, comm, execs, calls and {syscall name: count}.
void to_json(nlohmann::json& j, const ProcessCounts& p);
// `r` as JSON: the Discovery (core's model), processes, losses and the trace's facts.
void to_json(nlohmann::json& j, const TraceReport& r);

} // namespace tracer
