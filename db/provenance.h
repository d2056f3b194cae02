#pragma once
// Where a run comes from: `provenance.json` in every run lupa writes, and the run id.
//
// The run id names the experiment, not its outcome: the first 32 hex digits of the git blob
// id (SHA-1) of a canonical JSON document (sorted keys, no spaces) holding
//   {"format": "lupa-run-id-1", "app", "workload" (directory name),
//    "files": {"dockerfile": {name, hash}, "recipe": {name, hash} | null,
//              "test_script": {name, hash} | null, "context": [{name, hash}...]},
//    "base_image_digest",
//    "explorer": {binary, args, mode, strategy, discovery, replicas, only_consider,
//                 unexplored (syscalls a partial exploration left out; absent when none),
//                 unexplored_features, unexplored_paths (how many were left untested; absent
//                 when none)}}
// where each hash is the file's git blob id (`git hash-object FILE`). The date, the kernel, the
// engine, the app image digest (it changes with every build) and the results are NOT part of
// it: re-running the same experiment elsewhere gives the same id, and the difference shows up
// as a provenance diff (`lupa reproduce`, `lupa diff`). 32 digits, like Loupe's md5 ids.

#include "core/result.h"
#include "util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace db {

// A file that defines the experiment: its name in the run directory and its git blob id.
struct FileHash {
  std::string name;
  std::string hash;

  bool operator==(const FileHash&) const = default;
};

// Everything known about how a run was produced.
struct Provenance {
  std::string run_id;
  std::string app;
  std::string workload;          // the workload directory name ("benchmark-wrk", "suite")
  std::string lupa_version;
  std::string date;              // ISO 8601 UTC ("2025-06-01T12:00:00Z")
  std::string kernel_release;    // uname -r
  std::string kernel_version;    // uname -v
  std::string machine;           // uname -m
  std::string engine;            // "docker", "podman"
  std::string engine_version;
  std::string base_image;        // the image recipes build FROM
  std::string base_image_digest; // "sha256:..."
  std::string app_image;
  std::string app_image_digest;
  FileHash dockerfile;
  std::optional<FileHash> recipe;
  std::optional<FileHash> test_script;
  std::vector<FileHash> context; // other build-context files, under context/ in the run
  int replicas = 1;
  std::string strategy;          // "group", "loupe"
  std::map<std::string, double> timings; // seconds per step: "build", "exploration", "total"...

  bool operator==(const Provenance&) const = default;
};

// `provenance` as JSON `j` (the provenance.json layout, "format": "lupa-provenance-1").
void to_json(nlohmann::json& j, const Provenance& provenance);
// `provenance` read from JSON `j`; throws nlohmann::json::exception on a malformed document.
void from_json(const nlohmann::json& j, Provenance& provenance);

// `provenance` as provenance.json text (pretty, trailing newline).
std::string write_provenance(const Provenance& provenance);

// Parses provenance.json `text`; `file` names it in errors.
util::Result<Provenance> parse_provenance(std::string_view text, std::string_view file);

// Fills what this host knows: lupa version, kernel (uname), machine and the date (now, UTC).
void fill_host_provenance(Provenance& provenance);

// The canonical JSON the run id hashes (see the top of this file), for `provenance` (app,
// workload, file hashes, base image digest) and the explorer settings of `result`.
std::string run_id_document(const Provenance& provenance, const core::ExploreResult& result);

// The run id of that experiment: 32 hex digits.
std::string compute_run_id(const Provenance& provenance, const core::ExploreResult& result);

// True if `id` looks like a run id (32 lowercase hex digits).
bool is_hashed_run_id(std::string_view id);

// One field that differs between two provenances.
struct ProvenanceChange {
  std::string field;  // "kernel_release", "timings.total", ...
  std::string before; // empty when absent
  std::string after;
};

// The fields that differ between `before` and `after`, in a fixed order (timings last).
std::vector<ProvenanceChange> diff_provenance(const Provenance& before, const Provenance& after);

// The lupa version compiled into the database library.
const char* lupa_version();

} // namespace db
