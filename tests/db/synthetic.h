#pragma once
// Synthetic runs for the database tests and benchmarks: deterministic, realistic in size
// (40-90 used syscalls, a few sub-features and pseudo-files, Loupe-sized files).

#include "db/run_files.h"

#include <cstdint>
#include <filesystem>
#include <string>

namespace lupa_test {

// A new run of `app` under benchmark `workload`, its contents derived from `seed` (the same
// seed gives the same run; a different seed gives a different run id and verdicts).
db::NewRun synthetic_run(const std::string& app, const std::string& workload, uint64_t seed);

// Writes a Loupe-layout plain tree of `runs` lupa runs spread over `runs / runs_per_app` apps
// under `root` (with two OS support lists); returns the number of runs written.
size_t write_synthetic_tree(const std::filesystem::path& root, size_t runs, size_t runs_per_app);

// Writes `run` as a run directory under `root` (`<root>/<app>/<workload>/<id>/`), as the
// runner does before committing; returns the run directory.
std::filesystem::path write_run_dir(const std::filesystem::path& root, const db::NewRun& run);

} // namespace lupa_test
