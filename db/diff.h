#pragma once
// Semantic diffs between two runs (`lupa diff`) and reproduction of a stored run
// (`lupa reproduce`): which syscalls appeared or vanished, which verdicts changed, which
// sub-features and pseudo-files changed, and whether the environment differed (provenance).
//
// Reproducing re-runs the experiment through a RunProducer: the runner implements it (rebuild
// the image from the stored recipe, explore again); ResultFileProducer takes a result made
// elsewhere (`lupa reproduce RUN --result results.json`).

#include "db/database.h"
#include "db/run_files.h"
#include "db/store.h"
#include "util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace db {

// One syscall whose verdict differs between two runs.
struct SyscallChange {
  int nr = -1;
  std::string name;
  SyscallClass before = SyscallClass::unused; // unused: absent from that run
  SyscallClass after = SyscallClass::unused;
  std::string detail; // replica-level detail when both runs are lupa runs ("stub: works -> fails")
};

// One sub-feature or pseudo-file whose verdicts differ ("" when absent on that side).
struct ItemChange {
  std::string item;
  std::string before;
  std::string after;
};

// Everything that differs between two runs.
struct RunDiff {
  std::string before; // run keys (or a description)
  std::string after;
  std::vector<SyscallChange> appeared; // used only after
  std::vector<SyscallChange> vanished; // used only before
  std::vector<SyscallChange> changed;  // used in both, class differs
  size_t unchanged = 0;                // used in both, same class
  std::vector<ItemChange> features;
  std::vector<ItemChange> paths;
  std::vector<int> static_added;       // static_binary.csv set
  std::vector<int> static_removed;
  bool provenance_compared = false;    // false when either run has no provenance (Loupe runs)
  std::vector<ProvenanceChange> provenance;

  // True when no syscall, feature, path or static set differs.
  bool same_results() const;
};

// The differences from `before` to `after`.
RunDiff diff_runs(const RunData& before, const RunData& after);

// `diff` as text for a terminal.
std::string format_diff(const RunDiff& diff);

// `diff` as JSON.
nlohmann::json diff_json(const RunDiff& diff);

// Produces a fresh run of a stored experiment.
class RunProducer {
public:
  virtual ~RunProducer() = default;
  // A new run of the experiment `stored` (its recipe files, cmd and last result and
  // provenance), with its own result and provenance.
  virtual util::Result<NewRun> produce(const NewRun& stored) = 0;
};

// A producer returning a result made elsewhere: results.json at `result`, and provenance.json
// at `provenance` (optional: without it the stored provenance is kept, with this host's kernel
// and date, and the engine and app-image fields cleared since they are unknown).
class ResultFileProducer : public RunProducer {
public:
  // A producer reading `result` (results.json) and, when given, `provenance`.
  ResultFileProducer(std::filesystem::path result, std::optional<std::filesystem::path> provenance);
  // `stored` with the result (and provenance) read from the files.
  util::Result<NewRun> produce(const NewRun& stored) override;

private:
  std::filesystem::path m_result;
  std::optional<std::filesystem::path> m_provenance;
};

// What a reproduction found.
struct ReproduceReport {
  std::string stored_key;
  NewRun fresh;
  std::string fresh_key; // the fresh run's key (same as stored_key when the experiment matches)
  RunDiff diff;
};

// The run `spec` names in the database at `db`: "[REV:]RUN", RUN as Database::find takes it,
// REV a revision of a git database (HEAD by default).
util::Result<RunData> load_spec(const std::filesystem::path& db, std::string_view spec);

// Re-runs the stored run `run` of `database` with `producer` and diffs the result against it.
util::Result<ReproduceReport> reproduce(const Database& database, const RunInfo& run,
                                        RunProducer& producer);

} // namespace db
