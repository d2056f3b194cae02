#pragma once
// `lupa generate`: lupa's main job. From a recipe (or a Loupe-style Dockerfile) to a run
// committed into the results database, with every container and temporary image cleaned up
// whatever happens. The steps, in order (generate.cpp reads as this list):
//
//   1. source     the recipe, or the Loupe Dockerfile with its app and workload names
//   2. database   opened (created when missing) and checked clean before any long work
//   3. engine     Docker or Podman, running
//   4. base image lupa-base (mmdebstrap + import when missing; no registry needed)
//   5. app image  built from the recipe's Dockerfile; its digest is recorded
//   6. app        what to run and how to judge it (the recipe, or the image's explore.py CMD)
//   7. workers    one container per parallel probe, each running lupa-explore --worker
//   8. baseline   the app passes its test, and the test fails without the app
//   9. discovery  eBPF from the host on the first worker's container, else ptrace inside one
//  10. static     what the binary and its libraries can reach, analysed in the container
//  11. exploration every used syscall, sub-feature and pseudo-file stubbed and faked, by the
//                 chosen strategy over all workers, then the collective check
//  12. result     results.json + provenance (engine, kernel, image digests, file hashes, timings)
//  13. commit     one atomic commit into the database

#include "db/run_files.h"
#include "db/store.h"
#include "docker/base_image.h"
#include "docker/engine.h"
#include "explorer/strategy.h"
#include "runner/discovery.h"
#include "util/error.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace runner {

struct GenerateOptions {
  // What to run: a lupa recipe, or (Loupe's way) a Dockerfile whose CMD calls explore.py,
  // with the app and workload names given.
  std::optional<std::filesystem::path> recipe;
  std::optional<std::filesystem::path> dockerfile;
  std::string app;
  std::optional<db::Workload> workload;

  std::filesystem::path db;                     // the results database (created when missing)
  db::DirtyPolicy dirty = db::DirtyPolicy::refuse;
  bool commit = true;                           // false: produce the run only (reproduce)

  std::optional<docker::EngineKind> engine;     // default: the first running one
  std::optional<explorer::Strategy> strategy;   // default: the recipe's, else group
  std::optional<unsigned> replicas;             // default: the recipe's
  unsigned jobs = 0;                            // worker containers (0: one per core)
  DiscoveryBackend discovery = DiscoveryBackend::automatic;
  std::vector<std::string> only_syscalls;       // explore only these (names or numbers)
  explorer::ExploreParts parts;                 // default: all (syscalls, sub-features,
                                                // pseudo-files, collective check)
  bool static_analysis = true;
  std::filesystem::path explorer;               // lupa-explore (empty: beside this program)
  docker::BaseImageOptions base;
  std::string cmd;                              // the command line, stored as cmd.txt
  bool discover_only = false;                   // stop after discovery (steps 1-9, one worker)
};

struct GenerateResult {
  db::NewRun run;
  std::string key;                        // <app>/<workload dir>/<run id>
  std::optional<db::CommitResult> commit; // when committed
  std::string summary;                    // the verdicts, as lupa-explore prints them
  unsigned workers = 0;
  ContainerDiscovery discovery;           // what discovery found (all that is filled when
                                          // discover_only)
};

// Runs the whole flow (see the top of this file). Errors are one line naming what is wrong.
util::Result<GenerateResult> generate(const GenerateOptions& options);

// lupa-explore as installed beside the running program (build tree: ../explorer/), or empty.
std::filesystem::path default_explorer();

// The image tag for `app` under `workload` ("lupa-app/nginx:benchmark-wrk").
std::string app_image_tag(const std::string& app, const db::Workload& workload);

} // namespace runner
