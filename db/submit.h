#pragma once
// `lupa submit --remote URL [--branch NAME] [--base main]`: offer new runs to a shared results
// database, ready for a pull request.
//
// The remote's base branch is fetched (into refs/lupa/submit-base); the runs of the local HEAD
// that the base lacks, or holds with other files (re-runs), are replayed on top of it, one
// commit per run, oldest first, on branch NAME (default "lupa/submit-<12 hex digits naming
// the runs>"); nothing else of the local history travels. The branch is pushed with libgit2
// (no force); if the push fails the local branch is removed again and nothing changed.

#include "util/error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace db {

// Where and how to submit.
struct SubmitOptions {
  std::string remote;       // URL (git://, file://, ssh://, https://) or path of the shared db
  std::string branch;       // branch to create; derived from the runs when empty
  std::string base = "main"; // the remote branch the submission targets
};

// One run offered for review.
struct SubmittedRun {
  std::string key;
  bool rerun = false;       // the base holds this run with other files
  std::string summary;      // verdict summary
  std::string environment;  // "lupa 0.1.0, kernel 6.18.0, docker 20.10" (lupa runs)
};

// What was pushed.
struct SubmitReport {
  std::string remote;
  std::string branch;
  std::string base;
  std::string base_commit;  // empty when the remote had no base branch
  std::string tip;          // the pushed commit
  std::vector<SubmittedRun> runs;
};

// Pushes the runs of the database at `db` that `options.remote`'s base branch lacks.
util::Result<SubmitReport> submit(const std::filesystem::path& db, const SubmitOptions& options);

// The text a reviewer needs: what is offered and how to check it.
std::string format_submit_report(const SubmitReport& report);

} // namespace db
