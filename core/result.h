#pragma once
// The result of exploring one application under one workload: what it used and what it can
// live without. Written by the explorer (results.json), merged by the runner, stored by db,
// read by analysis/plots/report. Defined once, here.

#include "core/discovery.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace core {

// How a call is made to misbehave in a probe run.
enum class Injection {
  stub, // the call returns -ENOSYS without running
  fake, // the call returns 0 without running
};

// What a pseudo-file probe does to the opens of one path.
enum class PathAction {
  enoent, // the open fails with ENOENT
  empty,  // the open succeeds on an empty file
};

// A verdict merged over replicas.
enum class Verdict {
  untested, // never probed (or not applicable)
  works,    // the test passed in every replica
  fails,    // the test failed in every replica
  unstable, // replicas disagree: reported, never silently counted as "required"
};

// "works", "fails", ... as written in results.json.
const char* to_string(Verdict verdict);
// "stub" or "fake".
const char* to_string(Injection injection);
// "enoent" or "empty".
const char* to_string(PathAction action);

// The per-replica outcomes of one verdict bit (true = the app still worked).
struct Replicas {
  std::vector<bool> runs;

  // The merged verdict: untested if empty, works/fails if unanimous, unstable otherwise.
  Verdict merged() const;
};

// One used system call.
struct SyscallResult {
  int nr = -1;
  std::string name;
  uint64_t count = 0; // calls seen during discovery
  Replicas stub;      // app works with the call returning -ENOSYS
  Replicas fake;      // app works with the call returning 0
};

// One value of the argument that selects a sub-feature of a syscall (ioctl request, fcntl
// command, prctl option, socket domain...).
struct FeatureResult {
  int nr = -1;          // the syscall
  std::string syscall;  // its name
  unsigned arg = 0;     // argument index (0-based)
  uint64_t value = 0;   // the argument value (after `mask` when mask != 0)
  uint64_t mask = 0;    // 0: compared for equality; else the bits compared (flag sets)
  std::string symbol;   // symbolic name where the headers give one, else empty
  uint64_t count = 0;
  Replicas stub;
  Replicas fake;
  // Features selected by two arguments together (setsockopt's level + name): argument `arg2`
  // (-1: none) had `value2` (after `mask2`).
  int arg2 = -1;
  uint64_t value2 = 0;
  uint64_t mask2 = 0;

  // The discovery key this entry stands for.
  FeatureKey key() const { return {nr, arg, value, mask, arg2, value2, mask2}; }
};

// One path under /proc, /sys or /dev that the app opened or inspected.
struct PathResult {
  std::string path;
  uint64_t count = 0;
  std::vector<std::string> syscalls; // which calls named it (openat, stat, readlink...)
  Replicas enoent;
  Replicas empty;
};

// Verdicts applied together: whole syscalls stubbed and faked, sub-features stubbed and faked,
// pseudo-files missing (ENOENT) and empty.
struct InjectionSet {
  std::vector<int> stubbed;
  std::vector<int> faked;
  std::vector<FeatureKey> stubbed_features;
  std::vector<FeatureKey> faked_features;
  std::vector<std::string> enoent_paths;
  std::vector<std::string> empty_paths;

  // Number of injections in the set.
  size_t size() const;
  bool operator==(const InjectionSet&) const = default;
};

// Outcome of applying every working verdict at once: the whole stub set (stubbed syscalls and
// sub-features, missing pseudo-files), the whole fake set (faked ones, empty pseudo-files), and
// both together (a verdict that works both ways counted as a stub).
struct CollectiveCheck {
  bool ran = false;
  std::optional<bool> all_stubs_work;
  std::optional<bool> all_fakes_work;
  std::optional<bool> stubs_and_fakes_work;
  // Smallest conflicting subsets found by bisection: each fails together although each of its
  // members works alone (a single member: a verdict that did not hold again).
  using Conflict = InjectionSet;
  std::vector<Conflict> conflicts;
  // What was taken out of the working sets (one member per conflict) so that the rest works
  // together; `final_works` is the check of what remains, both sets at once.
  InjectionSet left_out;
  std::optional<bool> final_works;
  uint64_t runs = 0; // probe runs of the check
};

// Figures of one exploration.
struct RunStats {
  uint64_t probe_runs = 0;     // app runs judged by the test script (baseline included)
  uint64_t infra_retries = 0;  // test exit 200 retries
  std::map<std::string, uint64_t> runs; // app runs by kind: "baseline", "screen", "group", ...
  std::map<std::string, double> step_seconds; // "baseline", "discovery", "exploration", ...
};

struct ExploreResult {
  std::string lupa_version;
  std::string binary;
  std::vector<std::string> args;
  std::string mode;      // "benchmark" or "sequential"
  std::string strategy;  // "group" or "loupe"
  std::string discovery; // "ptrace" or "ebpf"
  bool discovery_complete = true; // false when events were lost
  int replicas = 1;
  std::optional<std::string> only_consider;

  std::vector<SyscallResult> syscalls; // used syscalls, ascending by number
  std::vector<FeatureResult> features;
  std::vector<PathResult> paths;
  std::optional<std::vector<int>> static_syscalls; // from static analysis, when done
  CollectiveCheck collective;
  RunStats stats;
  std::vector<std::string> notes; // what could not be explored, and why (one line each)

  // The entry for syscall `nr`, or nullptr.
  const SyscallResult* find(int nr) const;
  // Syscalls whose verdicts are unstable in either bit.
  std::vector<int> unstable() const;
  // Syscalls the app cannot do without: both verdicts "fails".
  std::vector<int> required() const;
};

void to_json(nlohmann::json& j, const ExploreResult& result);
void from_json(const nlohmann::json& j, ExploreResult& result);

} // namespace core
