#pragma once
// Small results databases written in Loupe's layout for the analysis, plots and report tests,
// with files produced by core's writers (dyn.csv, static_binary.csv, results.json). Each run is
// described by its verdicts, so a test can compute expected figures on its own.

#include "analysis/usage.h"
#include "core/dyn_csv.h"
#include "core/result.h"
#include "core/syscalls.h"
#include "util/fs.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lupa_test {

// One run to write.
struct SynthRun {
  std::string app;
  std::string workload_dir; // "benchmark-x", "suite", ...
  std::string run_id = "0123456789abcdef0123456789abcdef";
  std::map<int, analysis::Need> used; // syscall -> verdict
  std::optional<std::vector<int>> static_used;
  bool results_json = false;                // write results.json (lupa run) besides dyn.csv
  std::vector<int> unstable;                // with results_json: stub verdict flips
  std::optional<nlohmann::json> provenance; // provenance.json contents
};

inline int nr_of(const char* name) {
  return *core::SyscallTable::get().number(name);
}

// Writes `run` under `root`; returns the run directory.
inline std::filesystem::path write_run(const std::filesystem::path& root, const SynthRun& run) {
  namespace fs = std::filesystem;
  fs::path dir = root / run.app / run.workload_dir / run.run_id;
  fs::create_directories(dir / "data");
  std::vector<core::DynRow> rows;
  if (run.results_json) {
    core::ExploreResult result;
    result.lupa_version = "0.1.0";
    result.binary = "/usr/bin/" + run.app;
    result.mode = "benchmark";
    result.strategy = "group";
    result.discovery = "ptrace";
    result.replicas = 2;
    for (const auto& [nr, need] : run.used) {
      core::SyscallResult s;
      s.nr = nr;
      s.name = core::SyscallTable::get().name(nr);
      s.count = 10 + nr;
      bool stub = need == analysis::Need::stub_only || need == analysis::Need::both;
      bool fake = need == analysis::Need::fake_only || need == analysis::Need::both;
      s.stub.runs = {stub, stub};
      s.fake.runs = {fake, fake};
      if (std::find(run.unstable.begin(), run.unstable.end(), nr) != run.unstable.end()) {
        s.stub.runs = {true, false};
      }
      result.syscalls.push_back(s);
    }
    result.static_syscalls = run.static_used;
    rows = core::dyn_rows(result);
    nlohmann::json j = result;
    (void)util::write_file_atomic(dir / "results.json", j.dump(2));
  } else {
    int max_nr = core::SyscallTable::get().max_known();
    for (int nr = 0; nr <= max_nr; ++nr) {
      core::DynRow row{nr};
      auto it = run.used.find(nr);
      if (it != run.used.end()) {
        row.used = true;
        row.can_stub =
            it->second == analysis::Need::stub_only || it->second == analysis::Need::both;
        row.can_fake =
            it->second == analysis::Need::fake_only || it->second == analysis::Need::both;
      }
      rows.push_back(row);
    }
  }
  (void)util::write_file_atomic(dir / "data" / "dyn.csv", core::write_dyn_csv(rows));
  if (run.static_used) {
    (void)util::write_file_atomic(dir / "data" / "static_binary.csv",
                                  core::write_static_csv(*run.static_used));
  }
  if (run.provenance) {
    (void)util::write_file_atomic(dir / "provenance.json", run.provenance->dump(2));
  }
  return dir;
}

} // namespace lupa_test
