// The exploration strategies against in-memory apps: group testing must reach the verdicts of
// one-at-a-time testing (Loupe's), with fewer runs when few bits fail.

#include "core/subfeatures.h"
#include "explorer/strategy.h"
#include "util/error.h"

#include "model_worker.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>

using namespace explorer;
using lupa_test::AppModel;
using lupa_test::Bit;
using lupa_test::ModelWorker;
using core::Injection;
using core::Verdict;

namespace {

core::Discovery discovery_of(int n, int first = 0) {
  core::Discovery d;
  d.backend = "model";
  for (int nr = first; nr < first + n; ++nr) {
    d.counts[nr] = 1;
  }
  return d;
}

WorkerPool pool_of(const AppModel& model, size_t workers) {
  WorkerPool pool;
  for (size_t i = 0; i < workers; ++i) {
    pool.push_back(std::make_unique<ModelWorker>(model));
  }
  return pool;
}

// Verdicts as "nr:stub-verdict/fake-verdict" lines, for readable comparisons.
std::string verdicts(const core::ExploreResult& result) {
  std::string out;
  for (const core::SyscallResult& s : result.syscalls) {
    out += std::to_string(s.nr) + ":" + core::to_string(s.stub.merged()) + "/" +
           core::to_string(s.fake.merged()) + "\n";
  }
  return out;
}

struct ModelRun {
  core::ExploreResult result;
  uint64_t runs = 0;
};

ModelRun explore_model(const AppModel& model, int n, Strategy strategy, size_t workers = 1,
                       Screening screening = Screening::no, unsigned replicas = 1,
                       FailurePriors priors = {},
                       std::optional<core::Discovery> discovery = std::nullopt) {
  WorkerPool pool = pool_of(model, workers);
  ExploreOptions options;
  options.priors = std::move(priors); // none by default: model syscalls are not real ones
  options.strategy = strategy;
  options.screening = screening;
  options.replicas = replicas;
  options.parts.collective = false; // run counts here are the strategy's own
  ModelRun run;
  run.result = explore(discovery ? *discovery : discovery_of(n), pool, options);
  run.runs = run.result.stats.probe_runs;
  return run;
}

// A random app: `rate` of the bits fail alone, some fail only in pairs, some mask others.
AppModel random_model(std::mt19937& rng, int n, double rate) {
  AppModel model;
  std::bernoulli_distribution fails(rate);
  std::bernoulli_distribution coin(0.5);
  std::uniform_int_distribution<int> pick(0, n - 1);
  for (int nr = 0; nr < n; ++nr) {
    for (Injection inj : {Injection::stub, Injection::fake}) {
      if (fails(rng)) {
        model.required.insert({nr, inj});
        if (coin(rng)) {
          model.startup_fatal.insert({nr, inj});
        }
      }
    }
    if (coin(rng)) {
      model.startup_calls.insert(nr);
    }
  }
  for (int k = 0; k < n / 8; ++k) {
    Bit a{pick(rng), coin(rng) ? Injection::stub : Injection::fake};
    Bit b{pick(rng), coin(rng) ? Injection::stub : Injection::fake};
    if (a.first != b.first) {
      model.fail_together.push_back({a, b});
    }
  }
  for (int k = 0; k < n / 10; ++k) {
    Bit a{pick(rng), Injection::stub};
    Bit b{pick(rng), Injection::fake};
    if (a.first != b.first && !model.required.contains(a)) {
      model.masks[a] = b; // e.g. a missing epoll_create1 makes libevent skip epoll_ctl
      model.required.insert(b);
    }
  }
  for (int k = 0; k < n / 10; ++k) {
    Bit a{pick(rng), Injection::stub};
    Bit b{pick(rng), coin(rng) ? Injection::stub : Injection::fake};
    if (a.first != b.first && !model.required.contains(a)) {
      model.defuses[a] = b; // e.g. geteuid stubbed: nginx barely calls rt_sigprocmask
      model.required.insert(b);
    }
  }
  if (n > 3) {
    model.never_called.insert(pick(rng));
  }
  // A few calls made only at shutdown, after the verdict (never failing the test): a group run
  // in which one member alone was injected in time is that member's run alone.
  auto involved = [&](int nr) {
    auto is = [nr](const Bit& b) { return b.first == nr; };
    bool in_pairs = std::any_of(model.fail_together.begin(), model.fail_together.end(),
                                [&](const auto& p) { return is(p.first) || is(p.second); });
    bool in_masks = std::any_of(model.masks.begin(), model.masks.end(),
                                [&](const auto& p) { return is(p.first) || is(p.second); });
    bool in_defuses = std::any_of(model.defuses.begin(), model.defuses.end(),
                                  [&](const auto& p) { return is(p.first) || is(p.second); });
    return in_pairs || in_masks || in_defuses || model.required.contains({nr, Injection::stub}) ||
           model.required.contains({nr, Injection::fake});
  };
  for (int k = 0; k < n / 6; ++k) {
    int nr = pick(rng);
    if (!involved(nr)) {
      model.shutdown_calls.insert(nr);
    }
  }
  return model;
}

} // namespace

TEST(LoupeStrategy, TriesEveryStubThenEveryFakeOneAtATime) {
  AppModel model;
  model.required = {{1, Injection::stub}, {2, Injection::fake}};
  WorkerPool pool = pool_of(model, 2);
  ExploreOptions options;
  options.strategy = Strategy::loupe;
  options.parts.collective = false;
  core::ExploreResult result = explore(discovery_of(3), pool, options);
  const auto& probes = static_cast<ModelWorker&>(*pool[0]).probes();
  ASSERT_EQ(probes.size(), 6u);
  EXPECT_EQ(static_cast<ModelWorker&>(*pool[1]).runs(), 0u) << "Loupe's strategy is sequential";
  EXPECT_EQ(probes[0].stub, std::vector<int>{0});
  EXPECT_EQ(probes[2].stub, std::vector<int>{2});
  EXPECT_EQ(probes[3].fake, std::vector<int>{0});
  EXPECT_EQ(verdicts(result), "0:works/works\n1:fails/works\n2:works/fails\n");
  EXPECT_EQ(result.strategy, "loupe");
  EXPECT_EQ(result.stats.probe_runs, 6u);
}

TEST(GroupStrategy, SameVerdictsAsOneAtATimeOnRandomApps) {
  std::mt19937 rng(20240601);
  std::uniform_int_distribution<int> size(1, 40);
  std::uniform_real_distribution<double> rate(0.0, 0.7);
  for (int trial = 0; trial < 150; ++trial) {
    int n = size(rng);
    AppModel model = random_model(rng, n, rate(rng));
    ModelRun loupe = explore_model(model, n, Strategy::loupe);
    size_t workers = 1 + static_cast<size_t>(trial % 3);
    Screening screening = trial % 2 == 0 ? Screening::yes : Screening::no;
    ModelRun group = explore_model(model, n, Strategy::group, workers, screening);
    ASSERT_EQ(verdicts(group.result), verdicts(loupe.result))
        << "trial " << trial << ", " << n << " syscalls, " << workers << " workers";
  }
}

TEST(GroupStrategy, FewRunsWhenFewBitsFail) {
  AppModel model;
  model.required = {{3, Injection::stub}, {17, Injection::fake}};
  for (int nr = 0; nr < 40; ++nr) {
    model.startup_calls.insert(nr);
  }
  ModelRun loupe = explore_model(model, 40, Strategy::loupe);
  ModelRun group = explore_model(model, 40, Strategy::group);
  EXPECT_EQ(verdicts(group.result), verdicts(loupe.result));
  EXPECT_EQ(loupe.runs, 80u);
  // Every pass is confirmed by a second group: m groups of m - 1 for m (m - 1) / 2 bits (m = 14
  // for 80; more in the groups of 8 Hwang's rule picks), plus the failures: 37 runs.
  EXPECT_LT(group.runs, 40u) << "group testing should need far fewer runs than 80";
}

TEST(GroupStrategy, PriorsSendLikelyFailuresAlone) {
  AppModel model;
  FailurePriors priors;
  for (int nr = 0; nr < 30; ++nr) {
    for (Injection inj : {Injection::stub, Injection::fake}) {
      bool fails = nr % 3 == 0;
      priors[{nr, inj}] = fails ? 0.9 : 0.05;
      if (fails) {
        model.required.insert({nr, inj});
      }
    }
  }
  ModelRun blind = explore_model(model, 30, Strategy::group);
  ModelRun informed = explore_model(model, 30, Strategy::group, 1, Screening::no, 1, priors);
  ModelRun loupe = explore_model(model, 30, Strategy::loupe);
  EXPECT_EQ(verdicts(informed.result), verdicts(loupe.result));
  EXPECT_EQ(verdicts(blind.result), verdicts(loupe.result));
  EXPECT_LT(informed.runs, blind.runs);
  EXPECT_LT(informed.runs, 40u) << "20 likely failures alone, 40 likely passes in a few groups";
}

TEST(GroupStrategy, TheBundledPriorsComeFromLoupesDatabase) {
  const FailurePriors& priors = loupe_priors();
  EXPECT_GT(priors.size(), 400u);
  // read (0) is required by nearly every app; faking close (3) is usually harmless.
  EXPECT_GT(priors.at({0, Injection::stub}), 0.9);
  EXPECT_LT(priors.at({3, Injection::fake}), 0.4);
}

TEST(GroupStrategy, AMaskedBitIsStillTestedAlone) {
  // Stubbing 0 keeps the app from calling 1 at all, so a group with both passes; 1 alone fails.
  AppModel model;
  model.masks[{0, Injection::stub}] = {1, Injection::stub};
  model.required = {{1, Injection::stub}};
  ModelRun group = explore_model(model, 2, Strategy::group);
  EXPECT_EQ(group.result.find(1)->stub.merged(), Verdict::fails);
  EXPECT_EQ(group.result.find(0)->stub.merged(), Verdict::works);
}

TEST(GroupStrategy, APartnerThatDefusesABitDoesNotMakeItWork) {
  // Stubbing 0 makes 1's stub harmless, though 1 is still called: like nginx's geteuid and
  // rt_sigprocmask.
  AppModel model;
  model.defuses[{0, Injection::stub}] = {1, Injection::stub};
  model.required = {{1, Injection::stub}};
  for (size_t workers : {1, 3}) {
    ModelRun group = explore_model(model, 6, Strategy::group, workers);
    EXPECT_EQ(group.result.find(1)->stub.merged(), Verdict::fails);
    EXPECT_EQ(group.result.find(0)->stub.merged(), Verdict::works);
  }
}

TEST(GroupStrategy, BitsThatFailOnlyTogetherAreNotRequired) {
  AppModel model;
  model.fail_together.push_back({{4, Injection::stub}, {5, Injection::stub}});
  ModelRun group = explore_model(model, 8, Strategy::group);
  EXPECT_EQ(group.result.find(4)->stub.merged(), Verdict::works);
  EXPECT_EQ(group.result.find(5)->stub.merged(), Verdict::works);
}

TEST(GroupStrategy, NeverCalledBitsEndUpTestedAlone) {
  AppModel model;
  model.never_called = {2};
  ModelRun group = explore_model(model, 4, Strategy::group);
  EXPECT_EQ(group.result.find(2)->stub.merged(), Verdict::works);
  EXPECT_EQ(group.result.find(2)->fake.merged(), Verdict::works);
}

TEST(GroupStrategy, ShutdownOnlyCallsAreSettledTogetherAndOnlyWhenLate) {
  AppModel model;
  model.shutdown_calls = {4, 5, 6, 7, 8};
  model.never_called = {9}; // made in discovery's shutdown, not in the probes' (killed first)
  // 3 looked like a shutdown call in discovery, but probes make it in time, and it matters.
  model.required = {{1, Injection::stub}, {2, Injection::fake}, {3, Injection::stub}};
  core::Discovery discovery = discovery_of(10);
  for (int nr : {0, 1, 2}) {
    discovery.before_verdict[nr] = 1;
  }
  ModelRun loupe = explore_model(model, 10, Strategy::loupe, 1, Screening::no, 1, {}, discovery);
  ModelRun group = explore_model(model, 10, Strategy::group, 1, Screening::no, 1, {}, discovery);
  EXPECT_EQ(verdicts(group.result), verdicts(loupe.result));
  EXPECT_EQ(group.result.find(3)->stub.merged(), Verdict::fails);
  // The six shutdown calls: both injections in one group each, no run alone.
  EXPECT_EQ(group.result.find(9)->stub.merged(), Verdict::works);
  EXPECT_EQ(group.result.find(9)->fake.merged(), Verdict::works);
  size_t alone = 0;
  for (const core::Probe& p : [&] {
         WorkerPool pool = pool_of(model, 1);
         ExploreOptions options;
         options.parts.collective = false;
         explore(discovery, pool, options);
         return dynamic_cast<ModelWorker&>(*pool.front()).probes();
       }()) {
    bool single = p.stub.size() + p.fake.size() == 1;
    bool shutdown = !p.stub.empty() ? p.stub.front() >= 4 : !p.fake.empty() && p.fake.front() >= 4;
    alone += single && shutdown ? 1 : 0;
  }
  EXPECT_EQ(alone, 0u);
  core::Discovery unknown = discovery;
  unknown.before_verdict.clear();
  ModelRun blind = explore_model(model, 10, Strategy::group, 1, Screening::no, 1, {}, unknown);
  EXPECT_EQ(verdicts(blind.result), verdicts(loupe.result));
  EXPECT_LT(group.runs, blind.runs) << "knowing the shutdown calls saves runs";
}

TEST(GroupStrategy, AGroupWithOneMemberInjectedInTimeIsThatMembersRunAlone) {
  // 1-7 are called only after the verdict: in a group with them, 0 is the only injection the
  // test can have seen, so the group's verdict is 0's, pass or fail, with no run of 0 alone.
  for (Injection failing : {Injection::stub, Injection::fake}) {
    AppModel model;
    model.required = {{0, failing}};
    model.shutdown_calls = {1, 2, 3, 4, 5, 6, 7};
    FailurePriors priors;
    for (int nr = 0; nr < 8; ++nr) {
      priors[{nr, Injection::stub}] = priors[{nr, Injection::fake}] = 0.02;
    }
    WorkerPool pool = pool_of(model, 1);
    ExploreOptions options;
    options.priors = priors;
    options.parts.collective = false;
    core::ExploreResult result = explore(discovery_of(8), pool, options);
    EXPECT_EQ(result.find(0)->stub.merged(), failing == Injection::stub ? Verdict::fails : Verdict::works);
    EXPECT_EQ(result.find(0)->fake.merged(), failing == Injection::fake ? Verdict::fails : Verdict::works);
    for (const core::Probe& p : dynamic_cast<ModelWorker&>(*pool.front()).probes()) {
      bool alone = p.stub.size() + p.fake.size() == 1;
      bool zero = !p.stub.empty() ? p.stub.front() == 0 : p.fake.front() == 0;
      EXPECT_FALSE(alone && zero) << "0 was run alone: " << p.describe();
    }
  }
}

TEST(GroupStrategy, ScreeningSettlesStartupFailuresWithoutTests) {
  AppModel model;
  model.required = {{0, Injection::stub}, {1, Injection::stub}};
  model.startup_fatal = model.required;
  model.startup_calls = {0, 1, 2, 3};
  ModelRun group = explore_model(model, 4, Strategy::group, 1, Screening::yes);
  EXPECT_EQ(group.result.find(0)->stub.merged(), Verdict::fails);
  EXPECT_EQ(group.result.find(1)->stub.merged(), Verdict::fails);
  EXPECT_EQ(group.result.stats.runs.at("screen"), 8u);
  EXPECT_EQ(group.result.find(0)->stub.runs.size(), 1u) << "no second run for a startup failure";
  EXPECT_EQ(group.result.find(1)->stub.runs.size(), 1u);
}

TEST(Replicas, EveryVerdictGetsEveryReplica) {
  AppModel model;
  model.required = {{1, Injection::fake}};
  for (Strategy strategy : {Strategy::loupe, Strategy::group}) {
    ModelRun run = explore_model(model, 6, strategy, 2, Screening::no, 3);
    for (const core::SyscallResult& s : run.result.syscalls) {
      // Group passes confirm each other in pairs: a bit may get one more observation.
      EXPECT_GE(s.stub.runs.size(), 3u) << to_string(strategy) << " " << s.nr;
      EXPECT_LE(s.stub.runs.size(), 4u) << to_string(strategy) << " " << s.nr;
      EXPECT_GE(s.fake.runs.size(), 3u) << to_string(strategy) << " " << s.nr;
    }
    EXPECT_EQ(run.result.find(1)->fake.merged(), Verdict::fails);
    EXPECT_EQ(run.result.replicas, 3);
  }
}

TEST(Replicas, AFlakyBitIsUnstableNotRequired) {
  AppModel model;
  model.flaky_every[{2, Injection::stub}] = 2; // fails every second run it takes part in
  ModelRun loupe = explore_model(model, 4, Strategy::loupe, 1, Screening::no, 4);
  EXPECT_EQ(loupe.result.find(2)->stub.merged(), Verdict::unstable);
  EXPECT_EQ(loupe.result.unstable(), std::vector<int>{2});
  // Group testing sees the bit's failures in group runs; whatever its runs say, a bit that
  // passed at least once is never "required".
  for (size_t workers : {1, 2}) {
    ModelRun group = explore_model(model, 4, Strategy::group, workers, Screening::no, 4);
    const core::Replicas& bit = group.result.find(2)->stub;
    EXPECT_NE(bit.merged(), Verdict::fails);
    bool mixed = std::count(bit.runs.begin(), bit.runs.end(), false) > 0;
    EXPECT_EQ(bit.merged() == Verdict::unstable, mixed);
    EXPECT_EQ(group.result.find(1)->stub.merged(), Verdict::works);
  }
}

TEST(Exploration, OnlySyscallsLeavesTheOthersUntested) {
  AppModel model;
  WorkerPool pool = pool_of(model, 1);
  ExploreOptions options;
  options.only_syscalls = {1};
  core::ExploreResult result = explore(discovery_of(3), pool, options);
  ASSERT_EQ(result.syscalls.size(), 3u);
  EXPECT_EQ(result.find(0)->stub.merged(), Verdict::untested);
  EXPECT_EQ(result.find(1)->stub.merged(), Verdict::works);
}

TEST(Exploration, ReportsProgressUpToTheTotal) {
  AppModel model;
  model.required = {{0, Injection::stub}};
  WorkerPool pool = pool_of(model, 1);
  std::vector<Progress> seen;
  ExploreOptions options;
  options.progress = [&](const Progress& p) {
    if (p.part == "syscalls") {
      seen.push_back(p);
    }
  };
  explore(discovery_of(5), pool, options);
  ASSERT_FALSE(seen.empty());
  EXPECT_EQ(seen.back().settled, 10u);
  EXPECT_EQ(seen.back().total, 10u);
  for (const Progress& p : seen) {
    EXPECT_GE(p.eta, 0.0);
    EXPECT_FALSE(p.doing.empty());
  }
}

namespace {
class BrokenWorker : public Worker {
public:
  core::ProbeOutcome run(const core::Probe&) override { throw util::Fatal("container died"); }
  std::string name() const override { return "broken"; }
};
} // namespace

TEST(Exploration, ABrokenWorkerStopsTheExploration) {
  WorkerPool pool;
  pool.push_back(std::make_unique<BrokenWorker>());
  EXPECT_THROW(explore(discovery_of(3), pool, {}), util::Fatal);
  WorkerPool empty;
  EXPECT_THROW(explore(discovery_of(3), empty, {}), util::Fatal);
}

// ---- sub-features, pseudo-files, the collective check ------------------------------------

namespace {

// A discovery with syscalls 0..n-1 plus sub-features of 16 (ioctl: values), 9 (mmap: flag
// bits and a masked type on one argument) and pseudo-files.
core::Discovery deep_discovery(int n) {
  core::Discovery d = discovery_of(n);
  for (uint64_t request : {0x5401, 0x5413, 0x5421, 0x5451}) {
    d.features[{16, 1, request, 0xffffffff}] = 2;
  }
  d.features[{9, 2, 0x1, 0x1}] = 5;                                 // PROT_READ
  d.features[{9, 2, 0x2, 0x2}] = 3;                                 // PROT_WRITE
  d.features[{9, 3, 0x2, 0xf}] = 4;                                 // MAP_PRIVATE
  d.features[{9, 3, 0x20, 0x20}] = 4;                               // MAP_ANONYMOUS
  core::FeatureKey sockopt{54, 1, 1, 0xffffffff, 2, 2, 0xffffffff}; // SOL_SOCKET:SO_REUSEADDR
  d.features[sockopt] = 1;
  for (const char* path : {"/proc/self/maps", "/sys/devices/system/cpu/online", "/dev/null",
                           "/proc/1234/stat", "/proc/99/stat"}) {
    d.paths[path] = {1, {"openat"}};
  }
  return d;
}

core::ArgRule rule(const core::FeatureKey& key, Injection injection) {
  return core::arg_rule(key, injection);
}

// Verdicts of features and paths, as lines.
std::string deep_verdicts(const core::ExploreResult& r) {
  std::string out;
  for (const core::FeatureResult& f : r.features) {
    out += fmt::format("{}:{}:{:#x}:{:#x}:{} {}/{}\n", f.syscall, f.arg, f.value, f.mask, f.arg2,
                       core::to_string(f.stub.merged()), core::to_string(f.fake.merged()));
  }
  for (const core::PathResult& p : r.paths) {
    out += fmt::format("{} {}/{}\n", p.path, core::to_string(p.enoent.merged()),
                       core::to_string(p.empty.merged()));
  }
  return out;
}

// The verdict of the bit named by model token `t` in `r`.
Verdict verdict_of(const core::ExploreResult& r, const std::string& t) {
  for (const core::FeatureResult& f : r.features) {
    for (Injection inj : {Injection::stub, Injection::fake}) {
      if (lupa_test::token(rule(f.key(), inj)) == t) {
        return (inj == Injection::stub ? f.stub : f.fake).merged();
      }
    }
  }
  for (const core::PathResult& p : r.paths) {
    for (core::PathAction a : {core::PathAction::enoent, core::PathAction::empty}) {
      if (lupa_test::token(core::PathRule{p.path, a}) == t) {
        return (a == core::PathAction::enoent ? p.enoent : p.empty).merged();
      }
    }
  }
  return Verdict::untested;
}

core::ExploreResult explore_deep(const AppModel& model, int n, Strategy strategy, size_t workers,
                                 bool collective, WorkerPool* keep = nullptr) {
  WorkerPool pool = pool_of(model, workers);
  ExploreOptions options;
  options.priors = FailurePriors{};
  options.strategy = strategy;
  options.parts.collective = collective;
  core::ExploreResult result = explore(deep_discovery(n), pool, options);
  if (keep != nullptr) {
    *keep = std::move(pool);
  }
  return result;
}

// Whether the model app works with everything of `set` injected at once.
bool model_works(const AppModel& model, const core::InjectionSet& set) {
  core::Probe probe;
  probe.stub = set.stubbed;
  probe.fake = set.faked;
  for (const core::FeatureKey& k : set.stubbed_features) {
    probe.args.push_back(rule(k, Injection::stub));
  }
  for (const core::FeatureKey& k : set.faked_features) {
    probe.args.push_back(rule(k, Injection::fake));
  }
  for (const std::string& p : set.enoent_paths) {
    probe.paths.push_back({p, core::PathAction::enoent});
  }
  for (const std::string& p : set.empty_paths) {
    probe.paths.push_back({p, core::PathAction::empty});
  }
  ModelWorker worker(model);
  return worker.run(probe).works;
}

} // namespace

TEST(DeepExploration, FeaturesAndPathsGetOneAtATimeVerdictsInGroups) {
  std::mt19937 rng(7);
  core::Discovery d = deep_discovery(6);
  std::vector<std::string> tokens;
  for (const auto& [key, count] : d.features) {
    for (Injection inj : {Injection::stub, Injection::fake}) {
      tokens.push_back(lupa_test::token(rule(key, inj)));
    }
  }
  for (std::string p :
       {"/proc/self/maps", "/sys/devices/system/cpu/online", "/dev/null", "/proc/[pid]/stat"}) {
    for (core::PathAction a : {core::PathAction::enoent, core::PathAction::empty}) {
      tokens.push_back(lupa_test::token(core::PathRule{p, a}));
    }
  }
  std::uniform_int_distribution<size_t> pick(0, tokens.size() - 1);
  for (int trial = 0; trial < 40; ++trial) {
    AppModel model;
    for (int k = 0; k < trial % 5; ++k) {
      model.required_items.insert(tokens[pick(rng)]);
    }
    model.fail_together_items.push_back({tokens[pick(rng)], tokens[pick(rng)]});
    core::ExploreResult loupe = explore_deep(model, 6, Strategy::loupe, 1, false);
    core::ExploreResult group = explore_deep(model, 6, Strategy::group, 1 + trial % 3, false);
    ASSERT_EQ(deep_verdicts(group), deep_verdicts(loupe)) << "trial " << trial;
    for (const std::string& t : model.required_items) {
      EXPECT_EQ(verdict_of(loupe, t), Verdict::fails) << t;
    }
  }
}

TEST(DeepExploration, PidPathsAreOnePatternAndSubFeaturesKeepTheirSymbols) {
  AppModel model;
  core::ExploreResult r = explore_deep(model, 3, Strategy::group, 1, false);
  ASSERT_EQ(r.paths.size(), 4u) << "two /proc/<pid>/stat paths are one pattern";
  EXPECT_EQ(r.paths[0].path, "/dev/null");
  EXPECT_EQ(r.paths[1].path, "/proc/[pid]/stat");
  EXPECT_EQ(r.paths[1].count, 2u);
  ASSERT_EQ(r.features.size(), 9u);
  auto tcgets = std::find_if(r.features.begin(), r.features.end(),
                             [](const core::FeatureResult& f) { return f.value == 0x5401; });
  ASSERT_NE(tcgets, r.features.end());
  EXPECT_EQ(tcgets->symbol, "TCGETS");
  EXPECT_EQ(tcgets->stub.merged(), Verdict::works);
  auto sockopt = std::find_if(r.features.begin(), r.features.end(),
                              [](const core::FeatureResult& f) { return f.arg2 == 2; });
  ASSERT_NE(sockopt, r.features.end());
  EXPECT_EQ(sockopt->symbol, "SOL_SOCKET:SO_REUSEADDR");
  EXPECT_GT(r.stats.runs["sub-features-group"] + r.stats.runs["sub-features-single"], 0u);
  EXPECT_GT(r.stats.runs["pseudo-files-group"] + r.stats.runs["pseudo-files-single"], 0u);
}

TEST(DeepExploration, AGroupNeverHoldsTwoRulesOneCallCouldMatch) {
  AppModel model;
  WorkerPool pool;
  explore_deep(model, 4, Strategy::group, 1, false, &pool);
  const auto& probes = static_cast<ModelWorker&>(*pool[0]).probes();
  size_t grouped = 0;
  for (const core::Probe& p : probes) {
    grouped += p.args.size() > 1 ? 1 : 0;
    for (size_t i = 0; i < p.args.size(); ++i) {
      for (size_t k = i + 1; k < p.args.size(); ++k) {
        const core::ArgRule& a = p.args[i];
        const core::ArgRule& b = p.args[k];
        EXPECT_TRUE(core::exclusive({a.nr, a.arg, a.value, a.mask, a.arg2, a.value2, a.mask2},
                                    {b.nr, b.arg, b.value, b.mask, b.arg2, b.value2, b.mask2}))
            << p.describe();
      }
    }
    std::set<std::string> paths;
    for (const core::PathRule& r : p.paths) {
      EXPECT_TRUE(paths.insert(r.path).second) << "one rule per path: " << p.describe();
    }
  }
  EXPECT_GT(grouped, 0u) << "sub-features were grouped";
}

TEST(DeepExploration, LoupeTriesEachFeatureAndPathAloneOnTheFirstWorker) {
  AppModel model;
  WorkerPool pool;
  core::ExploreResult r = explore_deep(model, 2, Strategy::loupe, 2, false, &pool);
  const auto& probes = static_cast<ModelWorker&>(*pool[0]).probes();
  EXPECT_EQ(static_cast<ModelWorker&>(*pool[1]).runs(), 0u);
  // 2 syscalls x 2, 9 features x 2, 4 path patterns x 2.
  ASSERT_EQ(probes.size(), 4u + 18u + 8u);
  for (const core::Probe& p : probes) {
    EXPECT_EQ(p.stub.size() + p.fake.size() + p.args.size() + p.paths.size(), 1u) << p.describe();
  }
  EXPECT_EQ(probes[4].args.front().injection, Injection::stub);
  EXPECT_EQ(probes[4 + 9].args.front().injection, Injection::fake);
  EXPECT_EQ(probes[22].paths.front().action, core::PathAction::enoent);
  EXPECT_EQ(probes[26].paths.front().action, core::PathAction::empty);
  EXPECT_GT(r.stats.step_seconds.count("sub-features"), 0u);
  EXPECT_GT(r.stats.step_seconds.count("pseudo-files"), 0u);
}

TEST(CollectiveCheck, HoldsWhenNothingConflicts) {
  AppModel model;
  model.required = {{1, Injection::stub}};
  core::ExploreResult r = explore_deep(model, 4, Strategy::group, 2, true);
  EXPECT_TRUE(r.collective.ran);
  EXPECT_EQ(r.collective.all_stubs_work, true);
  EXPECT_EQ(r.collective.all_fakes_work, true);
  EXPECT_EQ(r.collective.stubs_and_fakes_work, true);
  EXPECT_EQ(r.collective.final_works, true);
  EXPECT_TRUE(r.collective.conflicts.empty());
  EXPECT_EQ(r.collective.runs, 3u);
  EXPECT_EQ(r.collective.left_out.size(), 0u);
}

TEST(CollectiveCheck, FindsTheSmallestConflictsAndLeavesOneMemberOut) {
  for (size_t workers : {1, 3}) {
    AppModel model;
    std::string a = lupa_test::token(Bit{0, Injection::stub});
    std::string b = lupa_test::token(Bit{3, Injection::stub});
    core::FeatureKey tiocgwinsz{16, 1, 0x5413, 0xffffffff};
    std::string c = lupa_test::token(rule(tiocgwinsz, Injection::stub));
    std::string d = lupa_test::token(core::PathRule{"/dev/null", core::PathAction::enoent});
    std::string e = lupa_test::token(Bit{5, Injection::fake});
    std::string f = lupa_test::token(core::PathRule{"/proc/self/maps", core::PathAction::empty});
    model.fail_together_items = {{a, b}, {c, d, a}, {e, f}};
    core::ExploreResult r = explore_deep(model, 8, Strategy::group, workers, true);
    const core::CollectiveCheck& check = r.collective;
    EXPECT_EQ(check.all_stubs_work, false);
    EXPECT_EQ(check.all_fakes_work, false);
    EXPECT_EQ(check.final_works, true);
    ASSERT_GE(check.conflicts.size(), 2u);
    // Every conflict really fails, and without any one member it works (minimal).
    for (const core::InjectionSet& conflict : check.conflicts) {
      EXPECT_FALSE(model_works(model, conflict));
      EXPECT_GE(conflict.size(), 2u) << "every member works alone";
    }
    // The stub conflict {0, 3} and the fake one {5 faked, maps empty} are found as such.
    core::InjectionSet stub_pair;
    stub_pair.stubbed = {0, 3};
    EXPECT_NE(std::find(check.conflicts.begin(), check.conflicts.end(), stub_pair),
              check.conflicts.end());
    core::InjectionSet fake_pair;
    fake_pair.faked = {5};
    fake_pair.empty_paths = {"/proc/self/maps"};
    EXPECT_NE(std::find(check.conflicts.begin(), check.conflicts.end(), fake_pair),
              check.conflicts.end());
    // What is left after leaving out works together.
    EXPECT_EQ(check.left_out.size(), check.conflicts.size());
    EXPECT_EQ(check.left_out.empty_paths, std::vector<std::string>{"/proc/self/maps"})
        << "pseudo-files go before syscalls";
    EXPECT_GT(r.stats.step_seconds.count("collective"), 0u);
    // One-at-a-time verdicts are untouched by the check.
    EXPECT_EQ(r.find(0)->stub.merged(), Verdict::works);
    EXPECT_EQ(r.find(3)->stub.merged(), Verdict::works);
  }
}

TEST(CollectiveCheck, AVerdictThatDoesNotHoldAgainIsAConflictOfOne) {
  AppModel model;
  model.flaky_every[{2, Injection::fake}] = 2; // passes alone once, fails the next run
  WorkerPool pool = pool_of(model, 1);
  ExploreOptions options;
  options.priors = FailurePriors{};
  options.strategy = Strategy::loupe;
  options.parts.features = false;
  options.parts.paths = false;
  core::ExploreResult r = explore(discovery_of(1, 2), pool, options);
  ASSERT_EQ(r.find(2)->fake.merged(), Verdict::works);
  EXPECT_EQ(r.collective.all_fakes_work, false);
  ASSERT_FALSE(r.collective.conflicts.empty());
  core::InjectionSet alone;
  alone.faked = {2};
  EXPECT_EQ(r.collective.conflicts.front(), alone);
  EXPECT_EQ(r.collective.left_out, alone);
  EXPECT_EQ(r.collective.final_works, true) << "the stub verdict still holds";
}

TEST(DeepExploration, OnlySyscallsAlsoLimitsSubFeaturesAndPseudoFiles) {
  AppModel model;
  WorkerPool pool = pool_of(model, 1);
  ExploreOptions options;
  options.priors = FailurePriors{};
  options.only_syscalls = {16}; // ioctl: its sub-features, no path (openat is not explored)
  core::ExploreResult r = explore(deep_discovery(20), pool, options);
  for (const core::FeatureResult& f : r.features) {
    EXPECT_EQ(f.stub.merged() != Verdict::untested, f.nr == 16) << f.syscall;
  }
  for (const core::PathResult& p : r.paths) {
    EXPECT_EQ(p.enoent.merged(), Verdict::untested) << p.path;
  }
  options.only_syscalls = {257}; // openat names every pseudo-file of this discovery
  r = explore(deep_discovery(300), pool, options);
  for (const core::PathResult& p : r.paths) {
    EXPECT_EQ(p.enoent.merged(), Verdict::works) << p.path;
  }
  options.only_paths = {"/dev/null"};
  r = explore(deep_discovery(300), pool, options);
  for (const core::PathResult& p : r.paths) {
    EXPECT_EQ(p.enoent.merged() != Verdict::untested, p.path == "/dev/null") << p.path;
  }
}

TEST(DeepExploration, PseudoFilesAWorkerCannotReadStayUntested) {
  AppModel model;
  model.unreadable_paths = true;
  for (Strategy strategy : {Strategy::loupe, Strategy::group}) {
    core::ExploreResult r = explore_deep(model, 4, strategy, 2, true);
    for (const core::PathResult& p : r.paths) {
      EXPECT_EQ(p.enoent.merged(), Verdict::untested) << p.path;
      EXPECT_EQ(p.empty.merged(), Verdict::untested) << p.path;
    }
    ASSERT_EQ(r.notes.size(), 1u);
    EXPECT_NE(r.notes[0].find("CAP_SYS_PTRACE"), std::string::npos) << r.notes[0];
    EXPECT_TRUE(r.collective.left_out.enoent_paths.empty());
    EXPECT_EQ(r.find(0)->stub.merged(), Verdict::works) << "the other parts go on";
  }
}
