#pragma once
// The kernel-facing side of eBPF discovery, behind an interface so that the logic above it
// (aggregation, loss accounting, running a command, `lupa trace`) is unit-tested unprivileged
// with a mock. The real implementation (make_bpf_probe) loads tracer/bpf/sysdisc.bpf.c.

#include "tracer/scope.h"
#include "util/error.h"

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tracer {

enum class RecordFeatures { yes, no };
enum class RecordPaths { yes, no };

// Sizes and switches of one measurement.
struct ProbeOptions {
  RecordFeatures features = RecordFeatures::yes;
  RecordPaths paths = RecordPaths::yes;
  uint32_t max_processes = 64;        // per-process slots; later processes share one slot
  uint32_t max_feature_values = 8192; // distinct raw sub-feature values
  uint32_t max_paths = 8192;          // distinct (syscall, pseudo-file path) pairs
};

// Why a count may be missing. Every kind is counted in the kernel (or read from the kernel's
// own per-program counters) and makes a measurement incomplete.
enum class Loss {
  track_failed,     // a new task of a traced tree could not be marked (task storage)
  feature_map_full, // a sub-feature value did not fit in its map
  path_map_full,    // a path did not fit in its map
  path_unreadable,  // a path argument could not be read from the tracee's memory
  path_truncated,   // a pseudo-file path longer than the buffer
  nr_out_of_range,  // a syscall number outside the counted range (x32, invalid)
  count_missing,    // a counter index outside the counts map
  program_skipped,  // the kernel skipped a program run (recursion on one CPU)
};

// Every Loss value, in declaration order.
inline constexpr Loss k_all_losses[] = {
    Loss::track_failed,   Loss::feature_map_full, Loss::path_map_full, Loss::path_unreadable,
    Loss::path_truncated, Loss::nr_out_of_range,  Loss::count_missing, Loss::program_skipped,
};

// What `loss` means, for messages ("path arguments unreadable").
const char* describe(Loss loss);

// One process slot as read from the kernel.
struct RawSlot {
  uint32_t slot = 0;            // 0: the overflow slot shared by processes beyond max_processes
  uint32_t tgid = 0;            // the process (0 for the overflow slot)
  uint32_t execs = 0;           // execs seen while traced
  std::string comm;             // its command name at the last exec
  std::vector<uint64_t> counts; // calls per syscall number, summed over CPUs
};

// A distinct raw sub-feature argument value and its count.
struct RawFeature {
  int nr = -1;
  unsigned arg = 0;
  int arg2 = -1; // a second argument recorded with the first, or -1
  uint64_t value = 0;
  uint64_t value2 = 0;
  uint64_t count = 0;
};

// A pseudo-file path named by syscall `nr`, and how often.
struct RawPath {
  int nr = -1;
  std::string path;
  uint64_t count = 0;
};

// Everything a probe read from its maps.
struct RawCounts {
  std::vector<RawSlot> slots;
  std::vector<RawFeature> features;
  std::vector<RawPath> paths;
  std::map<Loss, uint64_t> losses; // only kinds that happened
  uint64_t slots_exhausted = 0;    // processes counted in the overflow slot
  uint64_t triggers = 0;           // exec triggers that started a traced tree
  uint64_t paths_retried = 0;      // paths read after their syscall (not resident before)
};

// A measurement in the kernel: start, read (any number of times), stop.
class SyscallProbe {
public:
  virtual ~SyscallProbe() = default;
  // Loads and attaches everything for `scope`; counting has started when this returns Ok.
  virtual util::Result<void> start(const Scope& scope, const ProbeOptions& options) = 0;
  // The counts so far (the probe may still be attached).
  virtual util::Result<RawCounts> read() = 0;
  // Detaches, so the machine's syscalls leave the traced slow path; the counts stay readable.
  virtual void stop() = 0;
};

// The libbpf implementation (needs CAP_BPF + CAP_PERFMON, or CAP_SYS_ADMIN).
std::unique_ptr<SyscallProbe> make_bpf_probe();

// Sums per-CPU counters: `values` holds `ncpu` values per key, key after key; the result
// holds one sum per key.
std::vector<uint64_t> sum_per_cpu(const std::vector<uint64_t>& values, unsigned ncpu);

} // namespace tracer
