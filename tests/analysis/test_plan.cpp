#include "analysis/plan.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

using analysis::AppUsage;
using analysis::Need;
using analysis::Plan;
using analysis::PlanStep;
using lupa_test::nr_of;

namespace {

AppUsage app(std::string name, std::map<int, Need> used) {
  AppUsage u;
  u.app = std::move(name);
  u.runs = {u.app + "/benchmark-x/0"};
  u.used = std::move(used);
  return u;
}

analysis::SupportedSet supported(std::set<int> numbers) {
  analysis::SupportedSet s;
  s.source = "test";
  s.numbers = std::move(numbers);
  return s;
}

// What the OS does with each syscall, replayed from a plan's steps independently of the planner.
enum class State { none, stub, fake, impl };

bool works(const AppUsage& a, const std::map<int, State>& os) {
  for (const auto& [nr, need] : a.used) {
    auto it = os.find(nr);
    State s = it == os.end() ? State::none : it->second;
    bool ok = s == State::impl ||
              (s == State::stub && (need == Need::stub_only || need == Need::both)) ||
              (s == State::fake && (need == Need::fake_only || need == Need::both));
    if (!ok) {
      return false;
    }
  }
  return true;
}

// Checks that every step's "now working" list is exactly what its actions achieve, and that
// all apps work at the end.
void expect_consistent(const Plan& plan, const std::vector<AppUsage>& apps,
                       const std::set<int>& initially) {
  std::map<int, State> os;
  for (int nr : initially) {
    os[nr] = State::impl;
  }
  std::set<std::string> working;
  for (const AppUsage& a : apps) {
    if (a.has_data() && works(a, os)) {
      working.insert(a.app);
    }
  }
  EXPECT_EQ(working, std::set<std::string>(plan.working_without_changes.begin(),
                                           plan.working_without_changes.end()));
  for (const PlanStep& s : plan.steps) {
    for (int nr : s.implement)
      os[nr] = State::impl;
    for (int nr : s.stub)
      os[nr] = State::stub;
    for (int nr : s.fake)
      os[nr] = State::fake;
    std::set<std::string> started;
    for (const AppUsage& a : apps) {
      if (a.has_data() && !working.contains(a.app) && works(a, os)) {
        started.insert(a.app);
      }
    }
    // Nothing that worked stops working.
    for (const AppUsage& a : apps) {
      if (working.contains(a.app)) {
        EXPECT_TRUE(works(a, os)) << a.app << " broke at the step for " << s.target;
      }
    }
    EXPECT_EQ(started, std::set<std::string>(s.now_working.begin(), s.now_working.end()))
        << "step for " << s.target;
    working.insert(started.begin(), started.end());
    EXPECT_EQ(s.working, working.size());
  }
  size_t with_data = 0;
  for (const AppUsage& a : apps) {
    with_data += a.has_data();
  }
  EXPECT_EQ(working.size(), with_data);
}

} // namespace

TEST(PlanLoupe, OrderTieBreakingAndCorrectedLabels) {
  int read = nr_of("read"), write = nr_of("write"), close = nr_of("close"), lseek = nr_of("lseek"),
      mmap = nr_of("mmap"), mprotect = nr_of("mprotect"), brk = nr_of("brk");
  std::vector<AppUsage> apps = {
      app("p", {{read, Need::required},
                {write, Need::required},
                {close, Need::stub_only},
                {lseek, Need::fake_only}}),
      app("q", {{read, Need::required}, {mmap, Need::required}, {mprotect, Need::required}}),
      app("r", {{read, Need::required}, {brk, Need::both}}),
      app("s", {{write, Need::required}, {brk, Need::both}}), AppUsage{"nodata"}};
  Plan plan = analysis::loupe_greedy_plan(apps, supported({read}), analysis::PlanCosts{});
  EXPECT_EQ(plan.no_data, std::vector<std::string>{"nodata"});
  // Loupe ignores stubs and fakes when it calls an app "supported without changes".
  EXPECT_EQ(plan.working_without_changes, std::vector<std::string>{"r"});
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[0].target, "p"); // p and s both need 1: the first in order wins
  EXPECT_EQ(plan.steps[0].implement, std::vector<int>{write});
  EXPECT_EQ(plan.steps[0].stub, std::vector<int>{close}); // stub-only: a stub (not "fake")
  EXPECT_EQ(plan.steps[0].fake, std::vector<int>{lseek});
  EXPECT_EQ(plan.steps[1].target, "s"); // write is supported now: nothing left to implement
  EXPECT_TRUE(plan.steps[1].implement.empty());
  EXPECT_EQ(plan.steps[1].stub, std::vector<int>{brk}); // "both" goes with the stubs
  EXPECT_EQ(plan.steps[2].target, "q");
  EXPECT_EQ(plan.steps[2].implement, (std::vector<int>{mmap, mprotect}));
  EXPECT_EQ(plan.missing_implement, (std::vector<int>{write, mmap, mprotect}));
  std::string text = analysis::format_plan(plan);
  EXPECT_NE(
      text.find(
          "- Step 1 - to support p\n  - implement [write]\n  - stub [close]\n  - fake [lseek]"),
      std::string::npos)
      << text;
  EXPECT_NE(text.find("- Supported without changes: [r]"), std::string::npos);
  EXPECT_NE(text.find("No data for this workload (not planned): [nodata]"), std::string::npos);
}

// Loupe sets already_faked = already_stubbed | fake_needed, forgetting earlier fakes: a fake
// is listed again after a step that stubs something.
TEST(PlanLoupe, ReplicatesTheAlreadyFakedBookkeeping) {
  int read = nr_of("read"), lseek = nr_of("lseek"), close = nr_of("close");
  std::vector<AppUsage> apps = {app("x", {{read, Need::required}, {lseek, Need::fake_only}}),
                                app("y", {{read, Need::required},
                                          {nr_of("write"), Need::required},
                                          {lseek, Need::fake_only},
                                          {close, Need::stub_only}}),
                                app("z", {{read, Need::required},
                                          {nr_of("mmap"), Need::required},
                                          {nr_of("brk"), Need::required},
                                          {lseek, Need::fake_only}})};
  Plan plan = analysis::loupe_greedy_plan(apps, supported({}), analysis::PlanCosts{});
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[0].fake, std::vector<int>{lseek});
  EXPECT_TRUE(plan.steps[1].fake.empty());                // remembered once
  EXPECT_EQ(plan.steps[2].fake, std::vector<int>{lseek}); // forgotten after y's stub, as in Loupe
}

TEST(PlanWorkRatio, TakesTheMostAppsPerUnitOfWork) {
  int brk = nr_of("brk"), mmap = nr_of("mmap");
  std::vector<AppUsage> apps = {
      app("big", {{nr_of("socket"), Need::required},
                  {nr_of("bind"), Need::required},
                  {nr_of("listen"), Need::required}}),
      app("a2", {{brk, Need::stub_only}, {mmap, Need::required}}),
      app("a1", {{brk, Need::stub_only}}),
      app("b1", {{mmap, Need::required}, {nr_of("read"), Need::required}}), AppUsage{"nodata"}};
  Plan plan = analysis::work_ratio_plan(apps, supported({nr_of("read")}), analysis::PlanCosts{});
  EXPECT_EQ(plan.no_data, std::vector<std::string>{"nodata"});
  ASSERT_EQ(plan.steps.size(), 3u);
  EXPECT_EQ(plan.steps[0].target, "a1"); // 1 app for 1 unit
  EXPECT_EQ(plan.steps[0].stub, std::vector<int>{brk});
  EXPECT_EQ(plan.steps[1].implement, std::vector<int>{mmap}); // 2 apps for 10 units
  EXPECT_EQ(
      std::set<std::string>(plan.steps[1].now_working.begin(), plan.steps[1].now_working.end()),
      (std::set<std::string>{"a2", "b1"}));
  EXPECT_EQ(plan.steps[2].target, "big");
  EXPECT_DOUBLE_EQ(plan.steps[2].total_work, 1 + 10 + 30);
  expect_consistent(plan, apps, {nr_of("read")});
  EXPECT_NE(plan.objective.find("per unit of work"), std::string::npos);
}

TEST(PlanWorkRatio, ConflictingToleranceIsImplementedNotSwitched) {
  int close = nr_of("close");
  std::vector<AppUsage> apps = {
      app("c1", {{close, Need::stub_only}}),
      app("c2", {{close, Need::fake_only}, {nr_of("read"), Need::required}})};
  Plan plan = analysis::work_ratio_plan(apps, supported({}), analysis::PlanCosts{});
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].stub, std::vector<int>{close});
  EXPECT_EQ(plan.steps[1].implement, (std::vector<int>{nr_of("read"), close}));
  expect_consistent(plan, apps, {});
}

TEST(PlanWorkRatio, EitherWayPicksWhatMoreWaitingAppsTolerate) {
  int close = nr_of("close");
  std::vector<AppUsage> apps = {
      app("d1", {{close, Need::both}}),
      app("d2", {{close, Need::fake_only}, {nr_of("read"), Need::required}})};
  Plan plan = analysis::work_ratio_plan(apps, supported({}), analysis::PlanCosts{});
  ASSERT_EQ(plan.steps.size(), 2u);
  EXPECT_EQ(plan.steps[0].fake, std::vector<int>{close});
  EXPECT_EQ(plan.steps[1].implement, std::vector<int>{nr_of("read")});
  expect_consistent(plan, apps, {});
}

TEST(PlanCosts, ParsesAndRejects) {
  auto c = analysis::parse_plan_costs("implement=3, stub=0.5");
  ASSERT_TRUE(c) << c.error();
  EXPECT_DOUBLE_EQ(c->implement, 3);
  EXPECT_DOUBLE_EQ(c->stub, 0.5);
  EXPECT_DOUBLE_EQ(c->fake, 1);
  EXPECT_FALSE(analysis::parse_plan_costs("implement=x"));
  EXPECT_FALSE(analysis::parse_plan_costs("cheap=1"));
  EXPECT_FALSE(analysis::parse_plan_costs("stub=-1"));
  EXPECT_FALSE(analysis::parse_plan_costs("implement=0"));
}

class PlanLoupedb : public ::testing::TestWithParam<const char*> {};

TEST_P(PlanLoupedb, BothPlannersAreConsistentAndWorkRatioIsNotWorse) {
  std::filesystem::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  auto dataset = analysis::load_dataset(root);
  ASSERT_TRUE(dataset) << dataset.error();
  auto os = analysis::resolve_supported(GetParam());
  ASSERT_TRUE(os) << os.error();
  std::vector<AppUsage> apps;
  for (const analysis::AppRuns& runs : dataset->apps) {
    apps.push_back(analysis::app_usage(runs, analysis::WorkloadFilter::bench));
  }
  analysis::PlanCosts costs;
  Plan loupe = analysis::loupe_greedy_plan(apps, *os, costs);
  EXPECT_EQ(loupe.no_data,
            (std::vector<std::string>{"django", "flask", "memcached", "python", "ruby"}));

  // Loupe's invariant, checked step by step: the target is the first remaining app (in name
  // order) with the fewest required syscalls not yet supported.
  std::set<int> sup = os->numbers;
  std::vector<const AppUsage*> remaining;
  for (const AppUsage& a : apps) {
    if (!a.has_data())
      continue;
    bool all = true;
    for (int nr : a.with(Need::required))
      all = all && sup.contains(nr);
    if (!all)
      remaining.push_back(&a);
  }
  ASSERT_EQ(remaining.size(), loupe.steps.size());
  auto missing = [&](const AppUsage* a) {
    size_t n = 0;
    for (int nr : a->with(Need::required))
      n += !sup.contains(nr);
    return n;
  };
  for (const PlanStep& s : loupe.steps) {
    const AppUsage* best = *std::min_element(
        remaining.begin(), remaining.end(),
        [&](const AppUsage* a, const AppUsage* b) { return missing(a) < missing(b); });
    EXPECT_EQ(s.target, best->app);
    EXPECT_EQ(s.implement.size(), missing(best));
    sup.insert(s.implement.begin(), s.implement.end());
    remaining.erase(std::find(remaining.begin(), remaining.end(), best));
  }

  Plan ours = analysis::work_ratio_plan(apps, *os, costs);
  expect_consistent(ours, apps, os->numbers);
  std::vector<std::string> order = loupe.working_without_changes;
  for (const PlanStep& s : loupe.steps)
    order.push_back(s.target);
  Plan priced = analysis::replay_order(apps, *os, costs, order);
  expect_consistent(priced, apps, os->numbers);
  analysis::PlanFigures a = analysis::plan_figures(priced);
  analysis::PlanFigures b = analysis::plan_figures(ours);
  EXPECT_EQ(a.working, b.working);
  EXPECT_LE(b.work_to_90, a.work_to_90);
  EXPECT_LE(b.work_to_half, a.work_to_half);
  std::string cmp = analysis::format_plan_comparison(priced, ours);
  EXPECT_NE(cmp.find("area under apps-vs-work curve"), std::string::npos);
  nlohmann::json j = analysis::plan_json(ours);
  EXPECT_EQ(j["steps"].size(), ours.steps.size());
}

INSTANTIATE_TEST_SUITE_P(Os, PlanLoupedb, ::testing::Values("Unikraft", "Gvisor"));
