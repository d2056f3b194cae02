#pragma once
// `lupa verify`: the gate a maintainer runs on submitted results. Everything that is not a
// well-formed run is rejected, each problem on one line naming the path:
// - layout: only `<app>/<benchmark-W|suite|suite-W>/<run id>/...` directories and, at the root,
//   `<OS>.syscalls` lists and `*.md` notes; names are [A-Za-z0-9._+-], never hidden, never
//   "." or ".." (a crafted git tree can hold such names: they would escape the tree);
// - entries: regular files and directories only: no symlinks, submodules or special files;
// - size and content: files at most `max_file_bytes`, runs at most `max_run_bytes`, text only
//   (no NUL byte, valid UTF-8);
// - new runs are lupa runs: provenance.json whose run id, app, workload and file hashes match
//   the directory and its contents; results.json consistent with itself (verdict words match
//   the replica outcomes, one outcome per replica, known syscall numbers and names);
//   data/dyn.csv, static_binary.csv, features.csv and pseudo_files.csv exactly what
//   results.json implies (no flag on an unused syscall, no verdict disagreeing);
// - a branch may add runs and re-run lupa runs, never delete a run or edit a Loupe run.
// Loupe runs already in the database are read tolerantly; their drift is reported as warnings.

#include "db/run_files.h"
#include "db/snapshot.h"
#include "util/error.h"

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace db {

// The limits verify applies.
struct VerifyOptions {
  uint64_t max_file_bytes = 1u << 20; // 1 MiB: dyn.csv is 4 KiB, results.json tens of KiB
  uint64_t max_run_bytes = 8u << 20;
};

// The verdict of a verification.
struct VerifyReport {
  std::string target;                  // what was verified ("DIR", "branch X against Y")
  std::vector<std::string> runs;       // run keys checked
  std::vector<std::string> new_runs;   // runs the branch adds
  std::vector<std::string> rerun_runs; // runs the branch changes (lupa runs re-run)
  std::vector<std::string> errors;     // "<path>: <problem>"
  std::vector<std::string> warnings;   // tolerated drift of Loupe runs

  // True when nothing was rejected.
  bool ok() const { return errors.empty(); }
};

// Verifies every run of the directory tree `dir` (Loupe runs tolerantly, lupa runs strictly).
util::Result<VerifyReport> verify_path(const std::filesystem::path& dir,
                                       const VerifyOptions& options);

// Verifies every run of revision `revision` (HEAD when empty) of the git database at `repo`.
util::Result<VerifyReport> verify_revision(const std::filesystem::path& repo,
                                           std::string_view revision, const VerifyOptions& options);

// Verifies what `branch` adds to the repository at `repo` relative to its merge base with
// `base` (HEAD when empty): new and changed entries strictly, deletions rejected.
util::Result<VerifyReport> verify_branch(const std::filesystem::path& repo, std::string_view branch,
                                         std::string_view base, const VerifyOptions& options);

// The lupa run directory `key` of `snapshot`, checked strictly as a new run; problems are
// appended to `report.errors`. Returns the run's files (path relative to the run -> file).
std::map<std::string, RunFile> check_new_run(const Snapshot& snapshot, const std::string& key,
                                             const VerifyOptions& options, VerifyReport& report);

// The files under run directory `key` of `snapshot` with their names, types, sizes and text
// checked (layout and content rules only); problems go to `report.errors`.
std::map<std::string, RunFile> collect_run_files(const Snapshot& snapshot, const std::string& key,
                                                 const VerifyOptions& options,
                                                 VerifyReport& report);

// True if `data` is text: no NUL byte and valid UTF-8.
bool is_text(std::string_view data);

} // namespace db
