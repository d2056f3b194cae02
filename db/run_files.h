#pragma once
// A new run, as the runner hands it over, and the files it becomes in the database:
//
//   <app>/<workload dir>/<run id>/
//     provenance.json          where, when and how (db/provenance.h)
//     results.json             core::ExploreResult: the source of truth of the verdicts
//     cmd.txt                  the command line that produced the run
//     <Dockerfile name>        the recipe of the experiment, byte for byte
//     <recipe name>            (optional) lupa's TOML recipe
//     <test script name>       (optional) the script judging each probe run
//     context/<name>           (optional) other build-context files
//     data/dyn.csv             Loupe's per-syscall verdicts, derived from results.json
//     data/static_binary.csv   (when static analysis ran) derived from results.json
//     data/features.csv        sub-feature verdicts, derived from results.json
//     data/pseudo_files.csv    /proc, /sys, /dev verdicts, derived from results.json
//                              (both formats: core/dyn_csv.h, as lupa-explore writes them)
//
// The CSV files are rendered here from results.json, never taken from the caller, so they
// cannot disagree with it (`lupa verify` checks exactly that on submitted runs).

#include "core/result.h"
#include "db/layout.h"
#include "db/provenance.h"
#include "util/error.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace db {

// How a file is stored in git.
enum class FileMode { regular, executable };

// One file given by the runner: its name (relative to the run directory or to context/) and
// contents.
struct RunFile {
  std::string name;
  std::string content;
  FileMode mode = FileMode::regular;

  bool operator==(const RunFile&) const = default;
};

// Everything the runner knows about a finished run.
struct NewRun {
  std::string app;
  Workload workload;
  RunFile dockerfile;                   // e.g. {"Dockerfile", "..."}
  std::optional<RunFile> recipe;        // e.g. {"recipe.toml", "..."}
  std::optional<RunFile> test_script;   // e.g. {"test.sh", "...", FileMode::executable}
  std::vector<RunFile> context;         // other build-context files (names may hold '/')
  std::string cmd;                      // cmd.txt: the command that produced the run
  core::ExploreResult result;
  Provenance provenance;                // run_id, app, workload and file hashes are filled in
};

// The files of one run directory, ready to be committed.
struct RunFiles {
  std::string app;
  Workload workload;
  std::string run_id;
  std::map<std::string, RunFile> files; // path relative to the run directory -> file
  std::string summary;                  // verdict summary for the commit message

  // "<app>/<workload dir>/<run id>".
  std::string key() const;
};

// True if `name` is acceptable as one path component in the database: [A-Za-z0-9._+-]+, not
// starting with '.', at most 128 characters.
bool is_safe_name(std::string_view name);

// True if `path` is '/'-separated safe names (see is_safe_name).
bool is_safe_path(std::string_view path);

// The provenance of `run` completed with app, workload, file hashes, replicas and strategy (from
// the result) and the run id.
util::Result<Provenance> complete_provenance(const NewRun& run);

// The files of `run` (see the top of this file); errors name the offending field.
util::Result<RunFiles> render_run(const NewRun& run);

// The new run stored in `run` (recipe files, cmd, result, provenance), read from `snapshot`,
// e.g. to run it again. Fails for Loupe runs (they hold no recipe).
util::Result<NewRun> stored_new_run(const Snapshot& snapshot, const RunData& run);

// `run` as the database would read it back (parses what render_run writes).
util::Result<RunData> run_data_of(const NewRun& run);

} // namespace db
