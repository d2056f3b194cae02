#pragma once
// Bringing existing results into a git results database.
//
// `lupa import loupedb SRC --db DB`: every run of a Loupe-layout tree (the published
// loupedb-2023, a Loupe git clone, or a tree lupa runs were written to), files copied byte for
// byte, plus the `<OS>.syscalls` support lists and SRC/SOURCE.md (as `<SRC name>.SOURCE.md`).
// The import is one commit: it lands whole or not at all. Runs already present with identical
// files are skipped; a run present with other files stops the import before anything is
// written. Loupe's format drift is accepted and counted; a run that cannot be read (malformed
// CSV row, missing data/dyn.csv) stops the import with the run and file named.
//
// `lupa import run DIR... --db DB`: run directories (`.../<app>/<workload>/<id>/`) written by
// the runner, checked like a submission (db/verify.h), then committed one commit per run.

#include "db/store.h"
#include "util/error.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace db {

// What an import found and did.
struct ImportReport {
  std::string source;
  size_t runs = 0;                       // runs in the source
  size_t apps = 0;                       // distinct apps in the source
  size_t lupa_runs = 0;                  // of which lupa runs (with provenance.json)
  std::vector<std::string> added;        // run keys new in the database
  std::vector<std::string> unchanged;    // run keys already present, identical
  std::vector<std::string> os_lists;     // `<OS>.syscalls` files copied
  std::vector<std::string> unknown_names; // names in those lists that are not syscalls
  // Tolerated drift: description -> where ("file" or "file:line").
  std::map<std::string, std::vector<std::string>> drift;
  std::vector<std::string> commits;      // commits made (none when everything was present)
};

// Imports every run of the Loupe-layout tree `source` into the database at `db` (created when
// absent), as one commit.
util::Result<ImportReport> import_loupedb(const std::filesystem::path& source,
                                          const std::filesystem::path& db,
                                          const CommitOptions& options);

// Imports the lupa run directories `dirs` into the database at `db` (created when absent), one
// commit per run; all are checked before the first commit.
util::Result<ImportReport> import_runs(const std::vector<std::filesystem::path>& dirs,
                                       const std::filesystem::path& db,
                                       const CommitOptions& options);

} // namespace db
