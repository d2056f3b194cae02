#pragma once
// One lupa-explore run, end to end, as named steps:
//   validate -> baseline -> discovery -> static analysis -> exploration (explorer::explore():
//   syscalls, sub-features, pseudo-files, collective check) -> result files (results.json; with
//   --output-csv dyn.csv, features.csv, pseudo_files.csv, static_binary.csv, coverage.csv)
// plus the three modes the runner drives inside containers (--discover-only, --worker,
// --static-only).

#include "core/result.h"
#include "explorer/baseline.h"
#include "explorer/options.h"
#include "explorer/worker.h"

#include <iosfwd>
#include <string>

namespace explorer {

// The exploration settings for `app` once its baseline is known (readiness learnt from
// `baseline`, screening where it is safe): what lupa-explore and the runner both use.
ExploreOptions explore_options_for(const Baseline& baseline, const AppConfig& app,
                                   Strategy strategy, unsigned replicas,
                                   std::vector<int> only_syscalls);

// Runs what `options` asks for; returns the exit code. Throws util::Fatal on errors.
int run_session(Options& options);

// Serves probes for the runner with `worker`: reads request lines from `in`, writes
// {"ready": true} then one reply line per request to `out` (core/probe.h); returns at end of
// input. A malformed request or a failing probe gets an error reply; serving goes on. With
// `app`, discovery requests are served too (ptrace discovery of that app).
void serve_worker(Worker& worker, std::istream& in, std::ostream& out,
                  const AppConfig* app = nullptr);

// Loupe's human summary of `result` (used, required, stub-only, fake-only, both, unstable),
// followed by depth_text().
std::string summary_text(const core::ExploreResult& result);

// The summary below syscall granularity: sub-feature and pseudo-file verdicts, the static /
// used / required sets side by side with the coverage warning, the collective check.
std::string depth_text(const core::ExploreResult& result);

// Writes `files` (name -> content) into `dir` all or nothing: every file is written to a
// temporary name first, then all are renamed. `dir` is created if needed.
util::Result<void> write_files_atomically(const std::filesystem::path& dir,
                                          const std::vector<std::pair<std::string, std::string>>& files);

} // namespace explorer
