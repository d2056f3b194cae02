#pragma once
// Exploration strategies: which probes to run, on which workers, to learn for everything
// discovery found whether the app still works without it. Used by lupa-explore with local
// workers and by the runner with container workers: `explore()` below is the ONE call that does
// all exploration after discovery, in four parts, each of which can be left out:
//
//   1. syscalls: every used syscall stubbed (-ENOSYS) and faked (returning 0);
//   2. sub-features: every recorded value of a sub-feature argument (core/subfeatures.h: ioctl
//      request, fcntl command, prctl option, socket domain and type, mmap flags, ...) stubbed
//      and faked alone, by a seccomp argument filter (core::ArgRule);
//   3. pseudo-files: every path under /proc, /sys, /dev the app named made missing (ENOENT)
//      and, separately, an empty file (core::PathRule, by seccomp user notification);
//   4. the collective check: every verdict that works alone applied at once (all stubs and
//      missing files; all fakes and empty files; both), conflicts found by bisection.
//
// A verdict bit (one item, one injection) needs `replicas` observations; they merge per bit,
// and a bit whose observations disagree is unstable (listed, never counted as "required").
// Parts 1-3 use the same strategy:
//
// loupe: Loupe's explore.py: one bit at a time, every stub then every fake, strictly
//   sequential on the first worker (which should use a fixed 0.4 s sleep and always test).
//
// group (default): group testing, driving all workers at once.
//   1. Screening (benchmark mode): each bit alone, only until the app is ready. A bit whose
//      app dies first fails right there (the exact one-at-a-time run, cut short where it would
//      have failed anyway); the others are marked by whether their call was made at startup.
//   2. Classes: each bit's failure risk is estimated from prior knowledge (failure rates over
//      the published Loupe database; for a sub-feature, its whole syscall's verdict), moved
//      to the least risky class when its call was made at startup and the app got ready all
//      the same (most failures are startup failures), up a class when the app got ready
//      without making it.
//   3. Groups: several bits of a class injected in one run (stubs and fakes mixed, members
//      told apart by the hits counted per rule: one bit per syscall, per pseudo-file, and
//      sub-features of one syscall only when no call can match two of them), group size
//      chosen from the failure rate seen so far in that class (Hwang's generalized binary
//      splitting): risky bits end up alone.
//      Until the verdict, a group run is the app with only the members whose calls were
//      injected in time (hits before the verdict; the supervisor counts the late ones). With
//      one such member the run is that member's run alone: its verdict, pass or fail. With
//      several, only they can have made the run fail (the split is among them) or kept one
//      another's injection from mattering (the partners below).
//      A passing group speaks only for the members injected in time (counted by seccomp user
//      notification); a member never injected in time learns nothing, and after two such
//      groups it is tested alone. Even such a member's pass is tentative when others were
//      injected in time too: one may have kept its injection from mattering (with geteuid
//      stubbed, nginx barely calls rt_sigprocmask, which it cannot do without otherwise), so
//      it counts once a second passing group without any of those partners confirms it.
//      Groups take the bits awaiting confirmation first, one from each earlier group, then
//      fresh ones: m groups of m - 1 settle m (m - 1) / 2 bits.
//      A failing group is split in halves; the first half runs, and if it passes the second is
//      suspected and split in turn (binary splitting), down to single bits. "fails" is only
//      ever concluded from a run of the bit alone (or one that was, until the verdict), so
//      interactions (bits that fail only together) never make a bit "required".
//   Shutdown-only bits (their call missing from discovery's before_verdict: made only after
//   the test script decided; the exec starting the app is never injected and does not count)
//   skip screening and go into one group together. A passing group in which no member was
//   injected before the verdict ("clean": until then the app ran unmodified) settles every
//   shutdown-only member "works": a run of it alone would run unmodified until its first call,
//   which comes after the verdict or never. A member injected in time after all is an
//   ordinary member from then on.
//   Once the least risky class is too small or too risky for groups of its own, bits awaiting
//   confirmation are confirmed together across classes instead of one at a time. A probe waits for readiness
//   ten times the median ready time of the part's runs so far (at least 1 s).
//   Verdicts are thus the one-at-a-time verdicts unless two different partners each hide a
//   bit's failure (tested on nginx: tests/explorer and bench/explore_nginx.sh).
//
// The collective check runs the three sets at once (concurrently); a failing set is bisected
// (QuickXplain) to a smallest conflicting subset, whose last member (sub-features and
// pseudo-files before syscalls) is left out, and the rest checked again until it works; then
// the stub and fake sets that remain are checked together. Conflicts, what was left out and
// the final check land in ExploreResult::collective; per-bit verdicts are never changed by it.

#include "core/discovery.h"
#include "core/result.h"
#include "explorer/worker.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace explorer {

enum class Strategy { group, loupe };

// "group" or "loupe".
const char* to_string(Strategy strategy);
// The strategy called `name`, if any.
std::optional<Strategy> strategy_from_string(std::string_view name);

// Whether the group strategy screens bits until readiness first (benchmark mode only).
enum class Screening { yes, no };

// Where an exploration stands.
struct Progress {
  std::string part;    // "syscalls", "sub-features", "pseudo-files" or "collective"
  std::string doing;   // the probe that just ended, and its outcome
  size_t settled = 0;  // verdict bits of the part with all their observations (0: collective)
  size_t total = 0;    // verdict bits of the part to settle
  uint64_t runs = 0;   // probe runs so far
  double elapsed = 0;  // seconds since the exploration began
  double eta = 0;      // estimated seconds left; 0 when unknown
};

// Receives `progress` after every probe.
using ProgressFn = std::function<void(const Progress& progress)>;

// What is known beforehand: the probability that the app fails with a bit injected alone, per
// (syscall, injection). Only the group strategy's scheduling uses it, never its verdicts.
using FailurePriors = std::map<std::pair<int, core::Injection>, double>;

// Failure rates seen over the published Loupe database (explorer/loupe_priors.inc).
const FailurePriors& loupe_priors();

// The parts of an exploration (see the top of this file); all run by default.
struct ExploreParts {
  bool syscalls = true;
  bool features = true;   // sub-features
  bool paths = true;      // pseudo-files
  bool collective = true; // uses the verdicts of the parts that ran
};

struct ExploreOptions {
  Strategy strategy = Strategy::group;
  unsigned replicas = 1;
  ExploreParts parts;
  // Explore only these syscalls; empty = every discovered syscall. Unless the two filters
  // below say otherwise, it also limits the sub-features (to those of these syscalls) and the
  // pseudo-files (to those these syscalls named).
  std::vector<int> only_syscalls;
  std::vector<int> only_feature_syscalls; // sub-features of these syscalls only
  std::vector<std::string> only_paths;    // these pseudo-file patterns only
  std::vector<int> expect_ports;   // benchmark readiness, from the baseline
  int expect_processes = 0;        // ditto
  int ready_timeout_ms = 0;        // ditto: how long a probe waits for readiness (0: default)
  Screening screening = Screening::no;
  std::optional<FailurePriors> priors; // default: loupe_priors(); bits absent: 1 in 4
  ProgressFn progress;             // optional
};

// Explores what `discovery` found with the workers of `pool` (driven concurrently, one probe
// per worker at a time), the parts `options.parts` asks for. Fills syscalls, features and paths
// (every discovered one; untested when its part did not run or a filter left it out),
// collective, strategy, replicas and stats (runs per kind, step_seconds per part and
// "exploration" in all); throws util::Fatal when a worker breaks.
core::ExploreResult explore(const core::Discovery& discovery, WorkerPool& pool,
                            const ExploreOptions& options);

} // namespace explorer
