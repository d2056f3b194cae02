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
  std::optional<double> duration;    // seconds
  double interval = 0;               // seconds between live tables; 0: final only
  OutputFormat format = OutputFormat::table;
  PerProcess per_process = PerProcess::no;
  Details details = Details::no; // sub-features and pseudo-files in the table
  ProbeOptions probe;
};

// The scope `options` selects (resolving --container and --cgroup), or an error naming the
// option at fault; the command case is left to discover_command.
util::Result<Scope> resolve_scope(const TraceSyscallsOptions& options);

// The text table of `report`: calls per syscall (most frequent first), then, as asked, the
// per-process counts, the sub-feature values and the pseudo-files, then the losses.
std::string format_table(const TraceReport& report, PerProcess per_process, Details details);

// Runs the command, printing to `out`; the exit code for lupa (the traced command's status
// when one ran, else 0).
util::Result<int> trace_syscalls(const TraceSyscallsOptions& options, std::FILE* out);

} // namespace tracer
