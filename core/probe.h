#pragma once
// A probe: one run of the application with some calls injected, judged by the test script.
// Probes are what the exploration strategy schedules and what a worker executes, in-process
// or in a container; the worker protocol is JSON lines (one request, one reply per line):
//
//   request:  {"id": 7, "probe": {"stub": [43], "fake": [], "args": [], "paths": []}}
//   reply:    {"id": 7, "outcome": {"works": true, "infra_failure": false, "test_exit": 0,
//              "ended": "judged", "seconds": 3.2, "note": ""}}
//   error:    {"id": 7, "error": "one line"}   (malformed request; "id" is null when unknown)
//   discovery (ptrace, by `lupa-explore --worker` only):
//     request: {"id": 8, "discover": {"expect_ports": [80], "expect_processes": 2}}
//     reply:   {"id": 8, "discovery": {...core::Discovery...}}
//   static analysis (by `lupa-explore --worker` only, in the app's file system):
//     request: {"id": 9, "static": {"binary": "/usr/sbin/nginx", "loaded": ["/lib/x.so"]}}
//     reply:   {"id": 9, "static": {...explorer::StaticAnalysis...}}
//
// A worker prints {"ready": true} once it accepts requests and exits at end of input.
// Optional probe fields (absent = false/empty): "without_app", "until_ready", "count_hits",
// "kill_at_verdict", "expect_ports", "expect_processes", "ready_timeout_ms"; optional outcome
// fields: "hits", "late_hits", "arg_hits", "path_hits", "unreadable_paths", "listening",
// "processes", "ready_seconds", "app_exit". An argument rule is {"nr", "arg", "value", "mask",
// "injection"} plus "arg2", "value2", "mask2" when it compares two arguments; a path rule is
// {"path", "action": "enoent"|"empty"}.

#include "core/result.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace core {

// Inject `injection` into syscall `nr` only when argument `arg` matches `value`
// (equality when `mask` is 0, else (arg & mask) == value), and, when `arg2` is not -1, argument
// `arg2` matches `value2` the same way (setsockopt's level + name). Enforced in the kernel by a
// seccomp argument filter (SCMP_CMP_EQ / SCMP_CMP_MASKED_EQ).
struct ArgRule {
  int nr = -1;
  unsigned arg = 0;
  uint64_t value = 0;
  uint64_t mask = 0;
  Injection injection = Injection::stub;
  int arg2 = -1;
  uint64_t value2 = 0;
  uint64_t mask2 = 0;

  // True if a call of `call_nr` with arguments `args` is one this rule injects into.
  bool matches(int call_nr, const std::array<uint64_t, 6>& args) const;
  bool operator==(const ArgRule&) const = default;
};

// Make the calls that name `path` (a pattern of core::pseudo_file_pattern) do `action`:
// ENOENT, or behave as if it were an empty regular file (opens get an empty file, the stat
// family describes one, access succeeds, readlink says EINVAL). Enforced by seccomp user
// notification: the supervisor reads each path from the caller's memory.
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
  // Baseline check: run only the test script, with no app running (it must fail).
  bool without_app = false;
  // Benchmark mode: stop as soon as the app is ready, without running the test (screening).
  // The outcome ends `ready` then, or as a normal probe when the app never got ready.
  bool until_ready = false;
  // Count the injected calls the app really made (seccomp user notification instead of a
  // plain errno action); the outcome's `hits` then says which injections were exercised.
  bool count_hits = false;
  // Benchmark mode: kill the app (SIGKILL) as soon as the test script has decided, so it makes
  // no call after the verdict (discovery of what the verdict depends on).
  bool kill_at_verdict = false;
  // Benchmark mode: the app is ready once its process tree listens on all these ports
  // (learnt from the baseline); empty = any listening socket, or alive and quiet.
  std::vector<int> expect_ports;
  // Benchmark mode: ... and once its tree has at least this many processes (0: any).
  int expect_processes = 0;
  // Benchmark mode: give up waiting for readiness after this long (0: the worker's default).
  int ready_timeout_ms = 0;

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
  app_failed,    // sequential mode: the app exited with a non-zero status (fails, as in Loupe)
  ready,         // the probe asked `until_ready` and the app became ready: no verdict
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
  std::map<int, uint64_t> hits; // injected calls made, per syscall (only with count_hits)
  // Benchmark mode: those of `hits` made after the test script had decided (shutdown): they
  // could not change this verdict.
  std::map<int, uint64_t> late_hits;
  std::vector<uint64_t> arg_hits;  // ... per argument rule, in the probe's order
  std::vector<uint64_t> path_hits; // ... per path rule (counted whenever path rules are given)
  // Path rules only: calls whose path the worker was not allowed to read (another user's
  // process without CAP_SYS_PTRACE), so the rules could not apply to them: no verdict.
  uint64_t unreadable_paths = 0;
  std::vector<int> listening;   // TCP/UDP ports the app's tree listened on when judged
  int processes = 0;            // processes in the app's tree when judged ready
  double ready_seconds = 0;     // benchmark mode: from the launch to readiness
  int app_exit = -1;            // sequential mode: the app's exit status (128+N: signal N)
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
