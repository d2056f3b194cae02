#pragma once
// `lupa trace syscalls`: a container-aware `strace -c`. Counts the syscalls of a container, a
// cgroup, running processes or a command in the kernel, and prints them as a table (live every
// --interval, and at the end) or as JSON.

#include "tracer/cgroup.h"
#include "tracer/probe.h"
#include "tracer/report.h"
#include "util/error.h"

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace tracer {

enum class OutputFormat { table, json };
enum class PerProcess { yes, no };
enum class Details { yes, no };

struct TraceSyscallsOptions {
  std::optional<std::string> container; // a container name or id
  Engine engine = Engine::detect;
  std::optional<std::string> cgroup; // a cgroup v2 path
  std::vector<pid_t> pids;           // running process trees
  std::vector<std::string> command;  // a command to run and trace
  // Count only the calls of processes running this binary (a path in the container with
  // --container; looked up in PATH otherwise).
  std::optional<std::string> only_consider;
  std::optional<double> duration; // seconds
  double interval = 0;            // seconds between live tables; 0: final only
  OutputFormat format = OutputFormat::table;
  PerProcess per_process = PerProcess::no;
  Details details = Details::no; // sub-features and pseudo-files in the table
  ProbeOptions probe;
};

// The scope `options` selects (resolving --container, --cgroup and --only-consider), or an
// error naming the option at fault; for a command, only `only_binary` is set (the rest is
// discover_command's).
util::Result<Scope> resolve_scope(const TraceSyscallsOptions& options);

// The text table of `report`: calls per syscall (most frequent first), then, as asked, the
// per-process counts, the sub-feature values and the pseudo-files, then the losses.
std::string format_table(const TraceReport& report, PerProcess per_process, Details details);

// Runs the command, printing to `out`; the exit code for lupa (the traced command's status
// when one ran, else 0).
util::Result<int> trace_syscalls(const TraceSyscallsOptions& options, std::FILE* out);

} // namespace tracer
