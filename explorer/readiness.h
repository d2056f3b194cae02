#pragma once
// When is a benchmark app ready for its test? Instead of Loupe's fixed 0.4 s sleep, lupa watches
// the app's process tree through /proc:
//  - ready when it listens on every expected port (learnt from the baseline, or --ready-port)
//    with at least as many processes as the baseline had, and is quiet for a moment (busy
//    apps: once that held for a while);
//  - with no expected port: ready when it listens on something and is quiet for a moment, or,
//    for apps that never listen, when it is alive and quiet (no CPU time used) for a while;
//  - not ready when it settles (quiet) without listening on an expected port, or on timeout;
//  - exited when the whole tree is gone.

#include "explorer/config.h"
#include "explorer/spawn.h"

#include <set>
#include <vector>

namespace explorer {

enum class ReadyState { ready, not_ready, exited };

struct ReadyResult {
  ReadyState state = ReadyState::not_ready;
  std::set<int> ports; // TCP/UDP ports the tree listened on at the end of the wait
  int processes = 0;   // processes in the tree then
};

// What a ready app looks like, as learnt from the baseline.
struct ReadySignature {
  std::set<int> ports;
  int processes = 0;

  bool empty() const { return ports.empty() && processes == 0; }
};

// The decision rule, separated from /proc for testing: given what the tree listens on and how
// long it has been quiet, is it ready (true), not ready (false), or undecided (nullopt)?
struct ReadyObservation {
  std::set<int> ports;
  bool listening = false;
  int processes = 0;
  std::chrono::milliseconds quiet_for{0};     // since the tree last used CPU or changed
  std::chrono::milliseconds satisfied_for{0}; // since it matched the signature
  std::chrono::milliseconds waited{0};
};

// Whether `seen` matches `expected`.
bool matches(const ReadyObservation& seen, const ReadySignature& expected);

// The verdict for `seen` under `config` when a ready app looks like `expected`.
std::optional<bool> ready_decision(const ReadyObservation& seen, const ReadySignature& expected,
                                   const AppConfig& config);

// Waits until `tree` is ready by `config`, a ready app looking like `expected` (plus
// config.ready_port).
ReadyResult wait_ready(ProcessTree& tree, ReadySignature expected, const AppConfig& config);

} // namespace explorer
