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

#include "util/error.h"

#include <filesystem>
#include <regex>
#include <set>
#include <string_view>
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
// config.ready_port); with config.ready_log, until that pattern appears in `output` (the file
// the app writes its output to).
ReadyResult wait_ready(ProcessTree& tree, ReadySignature expected, const AppConfig& config,
                       const std::filesystem::path& output = {});

// Scans a growing output file for a readiness pattern, line by line, reading only what is new.
class LogWatch {
public:
  // Watches `file` for a line matching `pattern` (ECMAScript); throws util::Fatal when the
  // pattern is not a valid regular expression.
  LogWatch(std::filesystem::path file, const std::string& pattern);
  // True once a complete line written so far matched (stays true).
  bool matched();

private:
  std::filesystem::path m_file;
  std::regex m_pattern;
  uint64_t m_offset = 0;
  std::string m_partial;
  bool m_matched = false;
};

// Checks that `pattern` is a valid ECMAScript regular expression; the error names `field`.
util::Result<void> check_pattern(const std::string& pattern, std::string_view field);

} // namespace explorer
