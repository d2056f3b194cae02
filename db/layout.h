#pragma once
// The Loupe results-database layout, read from a directory tree (a git working tree or a plain
// copy such as ../shared/loupedb-2023):
//
//   <app>/<benchmark-W | suite | suite-W>/<run id>/{cmd.txt, Dockerfile*, data/dyn.csv,
//                                                   data/static_binary.csv, ...}
//   <OS>.syscalls at the root: newline-separated OS support lists.

#include "core/dyn_csv.h"
#include "core/result.h"
#include "db/provenance.h"
#include "db/snapshot.h"
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

// The files of a run directory (relative to it) that lupa itself writes or reads.
inline constexpr const char* k_dyn_csv = "data/dyn.csv";
inline constexpr const char* k_static_csv = "data/static_binary.csv";
inline constexpr const char* k_static_sources_csv = "data/static_sources.csv";
inline constexpr const char* k_features_csv = "data/features.csv";
inline constexpr const char* k_pseudo_files_csv = "data/pseudo_files.csv";
inline constexpr const char* k_results_json = "results.json";
inline constexpr const char* k_provenance_json = "provenance.json";
inline constexpr const char* k_cmd_txt = "cmd.txt";

// Every run directory under `root` that holds data/dyn.csv, sorted by key. Hidden entries
// (.git) and root files are skipped. Directories that do not fit the layout are reported in
// `skipped` (if given) rather than failing the scan.
util::Result<std::vector<RunRef>> scan_runs(const std::filesystem::path& root,
                                            std::vector<std::string>* skipped = nullptr);

// The same scan over `snapshot` (a directory or a git tree); `RunRef::dir` is set only for
// directory snapshots.
util::Result<std::vector<RunRef>> scan_runs(const Snapshot& snapshot,
                                            std::vector<std::string>* skipped = nullptr);

// Loupe's runs (dyn.csv and friends only) and lupa's (with provenance.json and results.json).
enum class RunFormat { loupe, lupa };

// "loupe" or "lupa".
const char* to_string(RunFormat format);

// A run's data files, parsed.
struct RunData {
  RunRef ref;
  RunFormat format = RunFormat::loupe;
  core::DynTable dyn;
  std::optional<std::vector<int>> static_used;     // data/static_binary.csv when present
  std::optional<std::vector<int>> static_sources;  // data/static_sources.csv when present
  std::optional<core::ExploreResult> result;       // results.json when present (lupa runs)
  std::optional<Provenance> provenance;            // provenance.json when present (lupa runs)
  std::optional<std::string> cmd;                  // cmd.txt when present
  std::vector<std::string> warnings;               // tolerated format drift
};

// Reads and parses the files of `ref` from the directory `ref.dir`; errors name the run and
// the file.
util::Result<RunData> load_run(const RunRef& ref);

// Reads and parses the files of `ref` from `snapshot`; errors name the run and the file. A run
// with provenance.json must also hold results.json.
util::Result<RunData> load_run(const Snapshot& snapshot, const RunRef& ref);

// How a used syscall fares, from the merged verdicts (or the dyn.csv flags of Loupe runs).
enum class SyscallClass {
  unused,    // not used by the app under this workload
  required,  // used, and neither stubbing nor faking works
  stub_only, // works stubbed (-ENOSYS), not faked
  fake_only, // works faked (returns 0), not stubbed
  both,      // works stubbed and faked
  unstable,  // replicas disagreed (lupa runs only)
};

// "unused", "required", "stub-only", "fake-only", "both", "unstable".
const char* to_string(SyscallClass cls);

// The class of each syscall number `run` mentions (used or flagged), ascending by number.
std::vector<std::pair<int, SyscallClass>> classify(const RunData& run);

// Counts of used syscalls per class.
struct VerdictSummary {
  size_t used = 0;
  size_t required = 0;
  size_t stub_only = 0;
  size_t fake_only = 0;
  size_t both = 0;
  size_t unstable = 0;

  // "42 used: 20 required, 10 stub-only, 5 fake-only, 7 both, 0 unstable".
  std::string text() const;
};

// The verdict summary of `run`.
VerdictSummary summarize(const RunData& run);

// A parsed OS support list.
struct SyscallList {
  std::vector<int> numbers;          // ascending, unique
  std::vector<std::string> unknown;  // "<file>:<line>: unknown syscall 'x'" (e.g. futimensat,
                                     // a libc function listed by Gvisor.syscalls)
  std::vector<std::string> unknown_names; // the same names, bare
};

// A newline-separated syscall list (`<OS>.syscalls`): names, blank lines and '#' comments
// ignored. Names that are not x86-64 syscalls are kept aside in `unknown`, not fatal.
util::Result<SyscallList> read_syscall_list(const std::filesystem::path& file);

// Parses the syscall list `text` (named `file` in messages), as read_syscall_list does.
SyscallList parse_syscall_list(std::string_view text, std::string_view file);

} // namespace db
