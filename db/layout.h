#pragma once
// The Loupe results-database layout, read from a directory tree (a git working tree or a plain
// copy such as ../shared/loupedb-2023):
//
//   <app>/<benchmark-W | suite | suite-W>/<run id>/{cmd.txt, Dockerfile*, data/dyn.csv,
//                                                   data/static_binary.csv, ...}
//   <OS>.syscalls at the root: newline-separated OS support lists.

#include "core/dyn_csv.h"
#include "core/result.h"
#include "util/error.h"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace db {

enum class WorkloadKind { benchmark, suite };

// "benchmark" or "suite".
const char* to_string(WorkloadKind kind);

// A workload directory name split into kind and name.
struct Workload {
  WorkloadKind kind = WorkloadKind::benchmark;
  std::string name; // "wrk" for benchmark-wrk; empty for a plain "suite"

  // The directory name: "benchmark-<name>", "suite" or "suite-<name>".
  std::string dir_name() const;
  bool operator==(const Workload&) const = default;
};

// Parses a workload directory name (`benchmark-W`, `suite`, `suite-W`).
std::optional<Workload> parse_workload_dir(std::string_view name);

// One run directory found in a tree.
struct RunRef {
  std::string app;
  Workload workload;
  std::string run_id;
  std::filesystem::path dir; // the run directory

  // "<app>/<workload dir>/<run id>", the run's path relative to the database root.
  std::string key() const;
};

// Every run directory under `root` that holds data/dyn.csv, sorted by key. Hidden entries
// (.git) and root files are skipped. Directories that do not fit the layout are reported in
// `skipped` (if given) rather than failing the scan.
util::Result<std::vector<RunRef>> scan_runs(const std::filesystem::path& root,
                                            std::vector<std::string>* skipped = nullptr);

// A run's data files, parsed.
struct RunData {
  RunRef ref;
  core::DynTable dyn;
  std::optional<std::vector<int>> static_used;     // data/static_binary.csv when present
  std::optional<core::ExploreResult> result;       // results.json when present (lupa runs)
  std::optional<std::string> cmd;                  // cmd.txt when present
  std::vector<std::string> warnings;               // tolerated format drift
};

// Reads and parses the files of `ref`; errors name the run and the file.
util::Result<RunData> load_run(const RunRef& ref);

// A parsed OS support list.
struct SyscallList {
  std::vector<int> numbers;          // ascending, unique
  std::vector<std::string> unknown;  // "<file>:<line>: unknown syscall 'x'" (e.g. futimensat,
                                     // a libc function listed by Gvisor.syscalls)
};

// A newline-separated syscall list (`<OS>.syscalls`): names, blank lines and '#' comments
// ignored. Names that are not x86-64 syscalls are kept aside in `unknown`, not fatal.
util::Result<SyscallList> read_syscall_list(const std::filesystem::path& file);

} // namespace db
