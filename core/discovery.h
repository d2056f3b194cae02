#pragma once
// What discovery found: the syscalls an app made (with counts), the sub-feature argument values
// and the pseudo-files it touched. Produced by the explorer's ptrace discovery and by the
// tracer's eBPF discovery alike, so the two can be compared field by field.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>

namespace core {

// A sub-feature key: argument `arg` of syscall `nr` had `value` (after `mask` when non-zero),
// and, for features selected by two arguments together (setsockopt level + name), argument
// `arg2` had `value2` (after `mask2`). core/subfeatures.h says which keys a call gives.
struct FeatureKey {
  int nr = -1;
  unsigned arg = 0;
  uint64_t value = 0;
  uint64_t mask = 0;
  int arg2 = -1; // -1: a single-argument feature
  uint64_t value2 = 0;
  uint64_t mask2 = 0;

  auto operator<=>(const FeatureKey&) const = default;
};

struct PathUse {
  uint64_t count = 0;
  std::set<std::string> syscalls; // names of the calls that named the path

  bool operator==(const PathUse&) const = default;
};

struct Discovery {
  std::string backend;                 // "ptrace" or "ebpf"
  std::map<int, uint64_t> counts;      // syscall number -> calls
  // Benchmark mode: the calls made before the app was ready (a subset of counts); the rest
  // served the workload. Empty when unknown (sequential mode, or not recorded).
  std::map<int, uint64_t> startup;
  // Benchmark mode: the calls made before the test script decided (startup + workload; a
  // subset of counts). A call missing here was made only at shutdown: it cannot change a
  // verdict. Empty when unknown.
  std::map<int, uint64_t> before_verdict;
  std::map<FeatureKey, uint64_t> features;
  std::map<std::string, PathUse> paths; // under /proc, /sys, /dev
  // Shared objects the app tried to open (dlopen() included), as named; empty when the
  // backend does not record them. Static analysis reads those that exist.
  std::set<std::string> libraries;
  bool complete = true;                // false when events were lost or a map filled up
  uint64_t lost_events = 0;
  std::string incomplete_reason;       // why complete is false
  double seconds = 0;                  // wall time of the discovery run
};

void to_json(nlohmann::json& j, const Discovery& d);
void from_json(const nlohmann::json& j, Discovery& d);

} // namespace core
