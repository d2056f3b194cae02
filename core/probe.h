#pragma once
// A probe: one run of the application with some calls injected, judged by the test script.
// Probes are what the exploration strategy schedules and what a worker executes, in-process
// or in a container; the worker protocol is JSON lines (one request, one reply per line):
//
//   request:  {"id": 7, "probe": {"stub": [43], "fake": [], "args": [], "paths": []}}
//   reply:    {"id": 7, "outcome": {"works": true, "infra_failure": false, "test_exit": 0,
//              "ended": "judged", "seconds": 3.2, "note": ""}}
//
// A worker prints {"ready": true} once it accepts requests and exits at end of input.

#include "core/result.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace core {

// Inject `injection` into syscall `nr` only when argument `arg` matches `value`
// (equality when `mask` is 0, else (arg & mask) == value).
struct ArgRule {
  int nr = -1;
  unsigned arg = 0;
  uint64_t value = 0;
  uint64_t mask = 0;
  Injection injection = Injection::stub;

  bool operator==(const ArgRule&) const = default;
};

// Make the opens of `path` do `action`.
struct PathRule {
  std::string path;
  PathAction action = PathAction::enoent;

  bool operator==(const PathRule&) const = default;
};

struct Probe {
  std::vector<int> stub; // whole syscalls returning -ENOSYS
  std::vector<int> fake; // whole syscalls returning 0
  std::vector<ArgRule> args;
  std::vector<PathRule> paths;

  // True for the baseline: nothing injected.
  bool empty() const { return stub.empty() && fake.empty() && args.empty() && paths.empty(); }
  // A short human-readable description ("stub{accept4} fake{}").
  std::string describe() const;

  bool operator==(const Probe&) const = default;
};

// How a probe run ended.
enum class ProbeEnd {
  judged,        // the test script ran and its exit code decided
  app_exited,    // the app's process tree was gone before it was ready (fails)
  not_ready,     // the app never became ready; the test script still judged
  app_timeout,   // sequential mode: the app did not finish within the timeout (fails)
  test_timeout,  // the test script did not finish within the timeout (fails)
};

const char* to_string(ProbeEnd end);

struct ProbeOutcome {
  bool works = false;
  bool infra_failure = false; // test exited 200 on every try
  int test_exit = -1;         // -1 when the test script did not run
  ProbeEnd ended = ProbeEnd::judged;
  double seconds = 0;
  unsigned retries = 0; // infrastructure retries used
  std::string note;
};

void to_json(nlohmann::json& j, const ArgRule& rule);
void from_json(const nlohmann::json& j, ArgRule& rule);
void to_json(nlohmann::json& j, const PathRule& rule);
void from_json(const nlohmann::json& j, PathRule& rule);
void to_json(nlohmann::json& j, const Probe& probe);
void from_json(const nlohmann::json& j, Probe& probe);
void to_json(nlohmann::json& j, const ProbeOutcome& outcome);
void from_json(const nlohmann::json& j, ProbeOutcome& outcome);

} // namespace core
