#pragma once
// How to run the application under test and judge it: shared by discovery, the local worker
// and lupa-explore's command line. Defaults follow Loupe's explore.py.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace explorer {

// Benchmark: the app serves while the test script drives it. Sequential: the app runs to
// completion (a test suite), then the test script judges its output.
enum class Mode { benchmark, sequential };

// How a benchmark probe waits before running the test script.
enum class Startup {
  detect,      // until the app's tree listens (or is alive and quiet): lupa's default
  fixed_sleep, // a fixed sleep, as Loupe does (0.4 s)
};

// What a benchmark probe does when the app's tree died before it was ready.
enum class OnEarlyExit {
  fail_at_once, // the probe fails without running the test (the baseline proved it would)
  run_test,     // run the test anyway (Loupe)
};

// Whether each run of the app gets its own network namespace (with its test script).
enum class NetIsolation {
  none,      // the host's network: runs of an app with fixed ports cannot overlap
  per_run,   // a fresh namespace per run (CAP_SYS_ADMIN): parallel runs, no port clashes
};

// "benchmark" or "sequential".
const char* to_string(Mode mode);

struct AppConfig {
  std::filesystem::path binary;       // the app (absolute)
  std::vector<std::string> args;      // its arguments (argv[1..])
  std::optional<std::filesystem::path> test_script; // gets the app's output file as $1
  Mode mode = Mode::benchmark;
  // Timeout of the test script, and of the app in sequential mode (Loupe's --timeout, 4 s).
  std::chrono::milliseconds timeout{4000};
  Startup startup = Startup::detect;
  std::chrono::milliseconds fixed_sleep{400}; // Loupe's WAIT_STARTUP_TIME
  std::chrono::milliseconds ready_timeout{10000};
  // The app counts as ready when it listens on this port (in addition to learnt ones).
  std::optional<int> ready_port;
  // The app counts as ready once this regular expression (ECMAScript) matches a line of its
  // output (stdout and stderr); the other readiness rules are then not used.
  std::optional<std::string> ready_log;
  // Alive and quiet: no CPU used by the tree for this long (apps that never listen; long
  // enough for servers that sleep a little before they listen).
  std::chrono::milliseconds quiet{1000};
  // With an expected port: quiet this long without listening on it = not ready.
  std::chrono::milliseconds settle{300};
  OnEarlyExit on_early_exit = OnEarlyExit::fail_at_once;
  // Inject into (and count) only processes running this executable (canonical path).
  std::optional<std::filesystem::path> only_consider;
  std::chrono::milliseconds kill_grace{150}; // SIGTERM to SIGKILL
  unsigned infra_retries = 2;               // test exit 200 retries (Loupe's LIMIT_RETRIES)
  std::filesystem::path scratch;            // where probe files go (a temp dir if empty)
  NetIsolation net = NetIsolation::none;
};

} // namespace explorer
