#pragma once
// lupa-explore's command line: Loupe's explore.py flags (so Loupe recipes keep working) plus
// lupa's own. Parsing is separate from running so it can be tested.
//
//   lupa-explore [--output-csv] [-t TEST_SCRIPT] [--timeout S] [--test-sequential]
//                [--only-consider BIN] [--replicas N] [--out DIR] -b BINARY -- ARGS...
//   lupa-explore --static-only -b BINARY     (static analysis JSON on stdout)

#include "explorer/config.h"
#include "explorer/strategy.h"
#include "util/error.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace explorer {

// What lupa-explore is asked to do.
enum class Action {
  explore,       // baseline, discovery, exploration, result files
  discover_only, // discovery only; the Discovery JSON on stdout (for the runner)
  worker,        // serve probes: the JSON-lines protocol of core/probe.h on stdin/stdout
  static_only,   // static analysis only; its JSON on stdout (for the runner)
};

struct Options {
  Action action = Action::explore;
  AppConfig app;
  Strategy strategy = Strategy::group;
  unsigned replicas = 1;
  unsigned jobs = 1;                        // local workers run in parallel
  std::vector<std::string> only_syscalls;   // names or numbers, as given
  bool output_csv = false;                  // Loupe's dyn.csv (also printed on stdout)
  bool json = false;                        // results.json on stdout instead of a summary
  std::filesystem::path out;                // where result files go
  std::filesystem::path discovery;          // reuse this discovery JSON instead of tracing
  int verbosity = 1;                        // 0 quiet, 1 normal, 2 verbose, 3 debug
  bool startup_given = false;               // --readiness was given explicitly
  bool isolate_net = false;                 // --isolate-net
  ExploreParts parts; // --no-syscalls, --no-features, --no-pseudo-files, --no-collective
  bool static_analysis = true;              // --no-static
};

// Loupe's location for result files: `data/` in the run directory (here, the current one), as
// in <db>/<app>/<workload>/<id>/data/dyn.csv.
inline const std::filesystem::path k_default_out = "data";

// Parses `argv`. Returns std::nullopt to go on with `options` filled, or the exit code when
// parsing ended the program (--help printed, or a usage error printed on stderr).
std::optional<int> parse_command_line(int argc, const char* const* argv, Options& options);

// Checks what parsing cannot: the binary and test script exist and are executable, the
// --only-consider binary exists, the output directory can be created; makes paths absolute.
util::Result<void> validate(Options& options);

// The lupa-explore arguments that describe `app` under `strategy` (test script, timeout,
// mode, readiness, only-consider, then -b BINARY -- ARGS): what the runner appends to
// `lupa-explore --worker` or `--discover-only` in a container. Parsing them gives `app` back.
std::vector<std::string> app_arguments(const AppConfig& app, Strategy strategy);

// The syscall numbers of `names` (names or numbers), or an error naming the bad one.
util::Result<std::vector<int>> syscall_numbers(const std::vector<std::string>& names);

} // namespace explorer
