#include "analysis/plan.h"

#include "analysis/text_table.h"
#include "core/syscalls.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <set>

namespace analysis {

namespace {

bool can_stub(Need need) {
  return need == Need::stub_only || need == Need::both;
}
bool can_fake(Need need) {
  return need == Need::fake_only || need == Need::both;
}

std::vector<int> minus(const std::vector<int>& a, const std::set<int>& b) {
  std::vector<int> out;
  for (int nr : a) {
    if (!b.contains(nr)) {
      out.push_back(nr);
    }
  }
  return out;
}

double work_of(const PlanStep& step, const PlanCosts& costs) {
  return costs.implement * double(step.implement.size()) + costs.stub * double(step.stub.size()) +
         costs.fake * double(step.fake.size());
}

// The plan's header fields; `with_data` receives the apps that have data, in order.
Plan start_plan(PlanMode mode, const std::vector<AppUsage>& apps, const SupportedSet& supported,
                const PlanCosts& costs, std::vector<const AppUsage*>& with_data) {
  Plan plan;
  plan.mode = mode;
  plan.supported_source = supported.source;
  plan.supported_count = supported.numbers.size();
  plan.costs = costs;
  for (const AppUsage& app : apps) {
    if (app.has_data()) {
      with_data.push_back(&app);
      plan.apps.push_back(app.app);
    } else {
      plan.no_data.push_back(app.app);
    }
  }
  for (const std::string& u : supported.unknown) {
    plan.notes.push_back(u + " (ignored)");
  }
  return plan;
}

// Loupe's set-level usage (used_by_apps over the app list), labels corrected. Its merge is
// order-dependent: a syscall stub-only for one app and fake-only for a later one ends in no
// category at all. Kept as is: this only feeds the preamble Loupe prints.
struct LoupeSetUsage {
  std::vector<int> required, stub, fake, both;
};

LoupeSetUsage loupe_set_usage(const std::vector<const AppUsage*>& apps) {
  std::set<int> all;
  for (const AppUsage* app : apps) {
    for (const auto& entry : app->used) {
      all.insert(entry.first);
    }
  }
  LoupeSetUsage out;
  for (int nr : all) {
    std::optional<bool> isr, iss, isf, isb;
    for (const AppUsage* app : apps) {
      auto it = app->used.find(nr);
      if (it == app->used.end()) {
        continue;
      }
      Need need = it->second;
      if (need == Need::both) {
        if (iss || isf) { // "is not None"
          continue;
        }
        isr = false;
        iss = isf = isb = true;
      } else if (need == Need::stub_only) {
        isf = false;
        isb = false;
        if (iss) {
          continue;
        }
        isr = false;
        iss = true;
      } else if (need == Need::fake_only) {
        iss = false;
        isb = false;
        if (isf) {
          continue;
        }
        isr = false;
        isf = true;
      } else {
        isr = true;
        iss = isf = isb = false;
        break;
      }
    }
    if (isr.value_or(false)) {
      out.required.push_back(nr);
    } else if (isb.value_or(false)) {
      out.both.push_back(nr);
    } else if (iss.value_or(false)) {
      out.stub.push_back(nr);
    } else if (isf.value_or(false)) {
      out.fake.push_back(nr);
    }
  }
  return out;
}

// What the OS does with each syscall.
enum class OsState : unsigned char { unsupported, stubbed, faked, implemented };

// The OS being built, and which apps work on it.
class OsModel {
public:
  struct Actions {
    std::vector<int> implement;
    std::vector<int> stub;
    std::vector<int> fake;
  };

  OsModel(const std::vector<const AppUsage*>& apps, const std::set<int>& supported)
      : m_apps(apps), m_working(apps.size(), false) {
    int max_nr = core::SyscallTable::get().max_known();
    for (const AppUsage* app : apps) {
      if (!app->used.empty()) {
        max_nr = std::max(max_nr, app->used.rbegin()->first);
      }
    }
    for (int nr : supported) {
      max_nr = std::max(max_nr, nr);
    }
    m_state.assign(size_t(max_nr) + 1, OsState::unsupported);
    m_users.resize(m_state.size());
    for (int nr : supported) {
      m_state[nr] = OsState::implemented;
    }
    for (size_t i = 0; i < apps.size(); ++i) {
      for (const auto& [nr, need] : apps[i]->used) {
        m_users[nr].push_back(i);
      }
    }
  }

  size_t size() const { return m_apps.size(); }
  bool working(size_t app) const { return m_working[app]; }
  size_t working_count() const {
    return size_t(std::count(m_working.begin(), m_working.end(), true));
  }

  // The work that makes `app` work from the current state.
  Actions enable(size_t app, const PlanCosts& costs) const {
    Actions acts;
    for (const auto& [nr, need] : m_apps[app]->used) {
      OsState s = m_state[nr];
      if (ok(s, need)) {
        continue;
      }
      if (need == Need::required) {
        acts.implement.push_back(nr);
      } else if (s == OsState::unsupported) {
        if (can_stub(need) && can_fake(need)) {
          (prefer_fake(nr, costs) ? acts.fake : acts.stub).push_back(nr);
        } else {
          (can_stub(need) ? acts.stub : acts.fake).push_back(nr);
        }
      } else {
        // Stubbed but the app needs a fake, or the reverse: switch only if no working app
        // relies on the current behaviour, else implement.
        OsState target = need == Need::fake_only ? OsState::faked : OsState::stubbed;
        bool switchable = true;
        for (size_t user : m_users[nr]) {
          if (m_working[user] && !ok(target, m_apps[user]->used.at(nr))) {
            switchable = false;
          }
        }
        if (!switchable) {
          acts.implement.push_back(nr);
        } else {
          (target == OsState::faked ? acts.fake : acts.stub).push_back(nr);
        }
      }
    }
    return acts;
  }

  // The apps not yet working that would work after `acts`.
  std::vector<size_t> would_start_working(const Actions& acts) const {
    std::vector<OsState> state = m_state;
    std::vector<bool> candidate(m_apps.size(), false);
    auto set = [&](const std::vector<int>& nrs, OsState s) {
      for (int nr : nrs) {
        state[nr] = s;
        for (size_t user : m_users[nr]) {
          candidate[user] = !m_working[user];
        }
      }
    };
    set(acts.implement, OsState::implemented);
    set(acts.stub, OsState::stubbed);
    set(acts.fake, OsState::faked);
    std::vector<size_t> out;
    for (size_t i = 0; i < m_apps.size(); ++i) {
      if (candidate[i] && works_in(i, state)) {
        out.push_back(i);
      }
    }
    return out;
  }

  // Applies `acts` and returns the apps that start working, in order.
  std::vector<size_t> apply(const Actions& acts) {
    for (int nr : acts.implement) {
      m_state[nr] = OsState::implemented;
    }
    for (int nr : acts.stub) {
      m_state[nr] = OsState::stubbed;
    }
    for (int nr : acts.fake) {
      m_state[nr] = OsState::faked;
    }
    return sweep();
  }

  // Marks the apps that work now; returns those that just started.
  std::vector<size_t> sweep() {
    std::vector<size_t> started;
    for (size_t i = 0; i < m_apps.size(); ++i) {
      if (!m_working[i] && works_in(i, m_state)) {
        m_working[i] = true;
        started.push_back(i);
      }
    }
    return started;
  }

private:
  static bool ok(OsState s, Need need) {
    return s == OsState::implemented || (s == OsState::stubbed && can_stub(need)) ||
           (s == OsState::faked && can_fake(need));
  }

  bool works_in(size_t app, const std::vector<OsState>& state) const {
    for (const auto& [nr, need] : m_apps[app]->used) {
      if (!ok(state[nr], need)) {
        return false;
      }
    }
    return true;
  }

  // For a syscall an app tolerates either way: the cheaper action, else the one more of the
  // apps not yet working tolerate (stub on a tie).
  bool prefer_fake(int nr, const PlanCosts& costs) const {
    if (costs.fake != costs.stub) {
      return costs.fake < costs.stub;
    }
    size_t stubs = 0;
    size_t fakes = 0;
    for (size_t user : m_users[nr]) {
      if (!m_working[user]) {
        Need need = m_apps[user]->used.at(nr);
        stubs += can_stub(need);
        fakes += can_fake(need);
      }
    }
    return fakes > stubs;
  }

  std::vector<const AppUsage*> m_apps;
  std::vector<OsState> m_state;             // by syscall number
  std::vector<std::vector<size_t>> m_users; // by syscall number: apps using it
  std::vector<bool> m_working;
};

double actions_work(const OsModel::Actions& acts, const PlanCosts& costs) {
  return costs.implement * double(acts.implement.size()) + costs.stub * double(acts.stub.size()) +
         costs.fake * double(acts.fake.size());
}

// Records a step of the model-based planners.
void add_step(Plan& plan, const OsModel& model, const std::vector<const AppUsage*>& apps,
              size_t target, const OsModel::Actions& acts, const std::vector<size_t>& started) {
  PlanStep step;
  step.target = apps[target]->app;
  step.implement = acts.implement;
  step.stub = acts.stub;
  step.fake = acts.fake;
  std::sort(step.implement.begin(), step.implement.end());
  std::sort(step.stub.begin(), step.stub.end());
  std::sort(step.fake.begin(), step.fake.end());
  for (size_t i : started) {
    step.now_working.push_back(apps[i]->app);
  }
  step.work = work_of(step, plan.costs);
  step.total_work = (plan.steps.empty() ? 0 : plan.steps.back().total_work) + step.work;
  step.working = model.working_count();
  plan.steps.push_back(std::move(step));
}

std::string costs_text(const PlanCosts& costs) {
  return fmt::format("implement={:g} stub={:g} fake={:g}", costs.implement, costs.stub, costs.fake);
}

} // namespace

util::Result<PlanCosts> parse_plan_costs(std::string_view text) {
  PlanCosts costs;
  for (const std::string& part : util::split(text, ',')) {
    std::string_view item = util::trim(part);
    if (item.empty()) {
      continue;
    }
    size_t eq = item.find('=');
    std::string_view key = util::trim(item.substr(0, eq));
    double value = -1;
    if (eq != std::string_view::npos) {
      std::string_view v = util::trim(item.substr(eq + 1));
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
      if (ec != std::errc() || ptr != v.data() + v.size()) {
        value = -1;
      }
    }
    double* field = key == "implement" ? &costs.implement
                    : key == "stub"    ? &costs.stub
                    : key == "fake"    ? &costs.fake
                                       : nullptr;
    if (!field || value < 0 || !std::isfinite(value)) {
      return util::error(
          fmt::format("--costs: '{}' is not implement=N, stub=N or fake=N with N >= 0", item));
    }
    *field = value;
  }
  if (costs.implement <= 0) {
    return util::error("--costs: implement must be more than 0");
  }
  return costs;
}

const char* to_string(PlanMode mode) {
  return mode == PlanMode::loupe_greedy ? "loupe-greedy" : "work-ratio";
}

Plan loupe_greedy_plan(const std::vector<AppUsage>& apps, const SupportedSet& supported,
                       const PlanCosts& costs) {
  std::vector<const AppUsage*> with_data;
  Plan plan = start_plan(PlanMode::loupe_greedy, apps, supported, costs, with_data);
  plan.objective = "Loupe's greedy order (search --guide-support): next is the first app, in the "
                   "given order, with the fewest required syscalls not yet supported; stubs and "
                   "fakes are not counted";
  std::set<int> supported_now = supported.numbers;

  // Loupe's preamble: what the whole set needs that the list lacks.
  LoupeSetUsage set = loupe_set_usage(with_data);
  plan.missing_implement = minus(set.required, supported_now);
  plan.missing_stub = minus(set.stub, supported_now);
  plan.missing_fake = minus(set.fake, supported_now);

  // Apps whose required syscalls are all supported already.
  std::vector<const AppUsage*> remaining;
  for (const AppUsage* app : with_data) {
    if (minus(app->with(Need::required), supported_now).empty()) {
      plan.working_without_changes.push_back(app->app);
    } else {
      remaining.push_back(app);
    }
  }

  std::set<int> already_stubbed;
  std::set<int> already_faked;
  while (!remaining.empty()) {
    // The first app with the fewest syscalls left to implement (strictly fewer replaces).
    size_t next = 0;
    std::vector<int> next_impl = minus(remaining[0]->with(Need::required), supported_now);
    for (size_t i = 0; i < remaining.size(); ++i) {
      std::vector<int> impl = minus(remaining[i]->with(Need::required), supported_now);
      if (impl.size() < next_impl.size()) {
        next = i;
        next_impl = std::move(impl);
      }
    }
    const AppUsage& app = *remaining[next];
    std::vector<int> stubbable = app.with(Need::stub_only);
    for (int nr : app.with(Need::both)) {
      stubbable.push_back(nr);
    }
    std::sort(stubbable.begin(), stubbable.end());
    PlanStep step;
    step.target = app.app;
    step.implement = next_impl;
    step.stub = minus(minus(stubbable, supported_now), already_stubbed);
    step.fake = minus(minus(app.with(Need::fake_only), supported_now), already_faked);
    already_stubbed.insert(step.stub.begin(), step.stub.end());
    // As in Loupe: `already_faked = already_stubbed.union(fake_needed)`.
    already_faked = already_stubbed;
    already_faked.insert(step.fake.begin(), step.fake.end());
    supported_now.insert(next_impl.begin(), next_impl.end());
    step.now_working = {app.app};
    step.work = work_of(step, costs);
    step.total_work = (plan.steps.empty() ? 0 : plan.steps.back().total_work) + step.work;
    step.working = plan.working_without_changes.size() + plan.steps.size() + 1;
    plan.steps.push_back(std::move(step));
    remaining.erase(remaining.begin() + long(next));
  }
  plan.notes.push_back("labels corrected: Loupe prints its 'works faked' column as stubs and "
                       "its 'works stubbed' column as fakes; here stub means -ENOSYS works and "
                       "fake means returning 0 works");
  plan.notes.push_back("as in Loupe, 'working' assumes each step's stubs and fakes agree with "
                       "earlier ones; `lupa plan --compare` prices this order with an explicit "
                       "OS model");
  return plan;
}

Plan work_ratio_plan(const std::vector<AppUsage>& apps, const SupportedSet& supported,
                     const PlanCosts& costs) {
  std::vector<const AppUsage*> with_data;
  Plan plan = start_plan(PlanMode::work_ratio, apps, supported, costs, with_data);
  plan.objective = fmt::format(
      "most newly working apps per unit of work at every step (greedy budgeted maximum "
      "coverage: the curve 'apps working vs work' rises as early as possible); work = {}",
      costs_text(costs));
  OsModel model(with_data, supported.numbers);
  for (size_t i : model.sweep()) {
    plan.working_without_changes.push_back(with_data[i]->app);
  }
  while (model.working_count() < model.size()) {
    std::optional<size_t> best;
    OsModel::Actions best_acts;
    double best_score = -1;
    double best_work = 0;
    for (size_t i = 0; i < model.size(); ++i) {
      if (model.working(i)) {
        continue;
      }
      OsModel::Actions acts = model.enable(i, costs);
      double work = actions_work(acts, costs);
      size_t gain = model.would_start_working(acts).size();
      double score = work > 0 ? double(gain) / work : std::numeric_limits<double>::infinity();
      bool better =
          !best || score > best_score * (1 + 1e-12) ||
          (std::fabs(score - best_score) <= 1e-12 * std::max(1.0, best_score) && work < best_work);
      if (better) {
        best = i;
        best_acts = std::move(acts);
        best_score = score;
        best_work = work;
      }
    }
    std::vector<size_t> started = model.apply(best_acts);
    add_step(plan, model, with_data, *best, best_acts, started);
  }
  return plan;
}

Plan replay_order(const std::vector<AppUsage>& apps, const SupportedSet& supported,
                  const PlanCosts& costs, const std::vector<std::string>& order) {
  std::vector<const AppUsage*> with_data;
  Plan plan = start_plan(PlanMode::work_ratio, apps, supported, costs, with_data);
  plan.objective = "a given order, priced with the OS model";
  OsModel model(with_data, supported.numbers);
  for (size_t i : model.sweep()) {
    plan.working_without_changes.push_back(with_data[i]->app);
  }
  for (const std::string& name : order) {
    auto it = std::find_if(with_data.begin(), with_data.end(),
                           [&](const AppUsage* a) { return a->app == name; });
    if (it == with_data.end()) {
      continue;
    }
    size_t i = size_t(it - with_data.begin());
    if (model.working(i)) {
      continue; // started working as a side effect of an earlier step
    }
    OsModel::Actions acts = model.enable(i, costs);
    std::vector<size_t> started = model.apply(acts);
    add_step(plan, model, with_data, i, acts, started);
  }
  return plan;
}

std::string format_plan(const Plan& plan) {
  std::string out;
  auto names = [](const std::vector<int>& nrs) { return "[" + name_list(nrs) + "]"; };
  if (plan.mode == PlanMode::loupe_greedy) {
    out += "Missing a full implementation:\n" + names(plan.missing_implement) + "\n";
    out += "Missing a stub:\n" + names(plan.missing_stub) + "\n";
    out += "Missing a fake:\n" + names(plan.missing_fake) + "\n";
    out += fmt::format("Step by step support plan for: [{}] (starting from {}, {} syscalls)\n",
                       util::join(plan.apps, ", "), plan.supported_source, plan.supported_count);
    if (!plan.no_data.empty()) {
      out += fmt::format("- No data for this workload (not planned): [{}]\n",
                         util::join(plan.no_data, ", "));
    }
    if (!plan.working_without_changes.empty()) {
      out += fmt::format("- Supported without changes: [{}]\n",
                         util::join(plan.working_without_changes, ", "));
    }
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const PlanStep& s = plan.steps[i];
      out += fmt::format("- Step {} - to support {}\n", i + 1, s.target);
      if (!s.implement.empty()) {
        out += "  - implement " + names(s.implement) + "\n";
      }
      if (!s.stub.empty()) {
        out += "  - stub " + names(s.stub) + "\n";
      }
      if (!s.fake.empty()) {
        out += "  - fake " + names(s.fake) + "\n";
      }
    }
  } else {
    out += fmt::format("Support plan for {} app(s), starting from {} ({} syscalls)\n",
                       plan.apps.size(), plan.supported_source, plan.supported_count);
    out += "Objective: " + plan.objective + "\n";
    if (!plan.no_data.empty()) {
      out += fmt::format("No data for this workload (not planned): {}\n",
                         util::join(plan.no_data, ", "));
    }
    out += fmt::format("Working without changes ({}): {}\n", plan.working_without_changes.size(),
                       plan.working_without_changes.empty()
                           ? std::string("-")
                           : util::join(plan.working_without_changes, ", "));
    for (size_t i = 0; i < plan.steps.size(); ++i) {
      const PlanStep& s = plan.steps[i];
      out += fmt::format("Step {} (for {}; work {:g}, total {:g})\n", i + 1, s.target, s.work,
                         s.total_work);
      if (!s.implement.empty()) {
        out += "  implement " + names(s.implement) + "\n";
      }
      if (!s.stub.empty()) {
        out += "  stub      " + names(s.stub) + "\n";
      }
      if (!s.fake.empty()) {
        out += "  fake      " + names(s.fake) + "\n";
      }
      out += fmt::format("  now working (+{}, {}/{}): {}\n", s.now_working.size(), s.working,
                         plan.apps.size(), util::join(s.now_working, ", "));
    }
  }
  for (const std::string& note : plan.notes) {
    out += "Note: " + note + "\n";
  }
  return out;
}

nlohmann::json plan_json(const Plan& plan) {
  auto names = [](const std::vector<int>& nrs) {
    nlohmann::json out = nlohmann::json::array();
    for (int nr : nrs) {
      out.push_back(core::SyscallTable::get().name(nr));
    }
    return out;
  };
  nlohmann::json out;
  out["mode"] = to_string(plan.mode);
  out["objective"] = plan.objective;
  out["supported"] = {{"source", plan.supported_source}, {"count", plan.supported_count}};
  out["costs"] = {
      {"implement", plan.costs.implement}, {"stub", plan.costs.stub}, {"fake", plan.costs.fake}};
  out["apps"] = plan.apps;
  out["no_data"] = plan.no_data;
  out["working_without_changes"] = plan.working_without_changes;
  if (plan.mode == PlanMode::loupe_greedy) {
    out["missing"] = {{"implement", names(plan.missing_implement)},
                      {"stub", names(plan.missing_stub)},
                      {"fake", names(plan.missing_fake)}};
  }
  out["steps"] = nlohmann::json::array();
  for (const PlanStep& s : plan.steps) {
    out["steps"].push_back({{"target", s.target},
                            {"implement", names(s.implement)},
                            {"stub", names(s.stub)},
                            {"fake", names(s.fake)},
                            {"now_working", s.now_working},
                            {"work", s.work},
                            {"total_work", s.total_work},
                            {"working", s.working}});
  }
  out["notes"] = plan.notes;
  return out;
}

PlanFigures plan_figures(const Plan& plan) {
  PlanFigures f;
  f.steps = plan.steps.size();
  size_t n = plan.apps.size();
  size_t working = plan.working_without_changes.size();
  f.working = working;
  double half = std::ceil(0.5 * double(n));
  double ninety = std::ceil(0.9 * double(n));
  bool half_set = double(working) >= half;
  bool ninety_set = double(working) >= ninety;
  double area = 0;
  double prev_work = 0;
  for (const PlanStep& s : plan.steps) {
    area += double(working) * (s.total_work - prev_work);
    prev_work = s.total_work;
    working = s.working;
    f.implemented += s.implement.size();
    f.stubbed += s.stub.size();
    f.faked += s.fake.size();
    if (!half_set && double(working) >= half) {
      f.work_to_half = s.total_work;
      half_set = true;
    }
    if (!ninety_set && double(working) >= ninety) {
      f.work_to_90 = s.total_work;
      ninety_set = true;
    }
  }
  f.total_work = prev_work;
  f.working = working;
  f.area = n && prev_work > 0 ? area / (double(n) * prev_work) : 1.0;
  return f;
}

std::string format_plan_comparison(const Plan& loupe, const Plan& ours) {
  PlanFigures a = plan_figures(loupe);
  PlanFigures b = plan_figures(ours);
  std::string out = fmt::format(
      "Plan comparison: {} app(s) with data, starting from {} ({} syscalls); work = {}\n",
      ours.apps.size(), ours.supported_source, ours.supported_count, costs_text(ours.costs));
  if (!ours.no_data.empty()) {
    out += fmt::format("No data for this workload: {}\n", util::join(ours.no_data, ", "));
  }
  out += fmt::format("Working without changes: {}\n\n", ours.working_without_changes.size());
  // Both curves on one work horizon, so their areas compare.
  double horizon = std::max(a.total_work, b.total_work);
  auto area_at = [&](const Plan& plan) {
    size_t n = plan.apps.size();
    if (!n || horizon <= 0) {
      return 1.0;
    }
    double area = 0;
    double prev = 0;
    size_t working = plan.working_without_changes.size();
    for (const PlanStep& s : plan.steps) {
      area += double(working) * (s.total_work - prev);
      prev = s.total_work;
      working = s.working;
    }
    area += double(working) * (horizon - prev);
    return area / (double(n) * horizon);
  };
  TextTable figures({"figure", "Loupe's order", "work-ratio plan"},
                    {Align::left, Align::right, Align::right});
  figures.add_row({"steps", std::to_string(a.steps), std::to_string(b.steps)});
  figures.add_row(
      {"total work", fmt::format("{:g}", a.total_work), fmt::format("{:g}", b.total_work)});
  figures.add_row({"implemented", std::to_string(a.implemented), std::to_string(b.implemented)});
  figures.add_row({"stubbed", std::to_string(a.stubbed), std::to_string(b.stubbed)});
  figures.add_row({"faked", std::to_string(a.faked), std::to_string(b.faked)});
  figures.add_row({"work until 50% of apps work", fmt::format("{:g}", a.work_to_half),
                   fmt::format("{:g}", b.work_to_half)});
  figures.add_row({"work until 90% of apps work", fmt::format("{:g}", a.work_to_90),
                   fmt::format("{:g}", b.work_to_90)});
  figures.add_row({"area under apps-vs-work curve", fmt::format("{:.3f}", area_at(loupe)),
                   fmt::format("{:.3f}", area_at(ours))});
  out += figures.render();
  out += "\n";
  TextTable steps({"step", "Loupe: for", "+apps", "working", "work", "work-ratio: for", "+apps",
                   "working", "work"},
                  {Align::right, Align::left, Align::right, Align::right, Align::right, Align::left,
                   Align::right, Align::right, Align::right});
  size_t rows = std::max(loupe.steps.size(), ours.steps.size());
  for (size_t i = 0; i < rows; ++i) {
    std::vector<std::string> row{std::to_string(i + 1)};
    for (const Plan* plan : {&loupe, &ours}) {
      if (i < plan->steps.size()) {
        const PlanStep& s = plan->steps[i];
        row.push_back(s.target);
        row.push_back(std::to_string(s.now_working.size()));
        row.push_back(fmt::format("{}/{}", s.working, plan->apps.size()));
        row.push_back(fmt::format("{:g}", s.total_work));
      } else {
        row.insert(row.end(), {"", "", "", ""});
      }
    }
    steps.add_row(std::move(row));
  }
  out += steps.render();
  return out;
}

util::Result<std::string> run_plan(const PlanRequest& request) {
  TRY_ASSIGN(WorkloadFilter workload, parse_workload_filter(request.workload));
  if (workload == WorkloadFilter::all) {
    return util::error("--workload: a plan is for one workload kind: bench or suite");
  }
  TRY_ASSIGN(PlanCosts costs, parse_plan_costs(request.costs));
  TRY_ASSIGN(SupportedSet supported, resolve_supported(request.supported));
  TRY_ASSIGN(Dataset dataset, load_dataset(request.db));
  TRY_ASSIGN(std::vector<std::string> names, select_apps(dataset, request.apps));
  std::vector<AppUsage> apps;
  for (const std::string& name : names) {
    apps.push_back(app_usage(*dataset.find(name), workload));
  }
  if (request.compare) {
    Plan loupe = loupe_greedy_plan(apps, supported, costs);
    // Loupe's order: the apps it deems supported without changes (they may still need stubs
    // or fakes), then its steps.
    std::vector<std::string> order = loupe.working_without_changes;
    for (const PlanStep& s : loupe.steps) {
      order.push_back(s.target);
    }
    Plan loupe_priced = replay_order(apps, supported, costs, order);
    Plan ours = work_ratio_plan(apps, supported, costs);
    if (request.json) {
      nlohmann::json out;
      out["loupe_order"] = plan_json(loupe_priced);
      out["work_ratio"] = plan_json(ours);
      return out.dump(2) + "\n";
    }
    return format_plan_comparison(loupe_priced, ours);
  }
  Plan plan = request.mode == PlanMode::loupe_greedy ? loupe_greedy_plan(apps, supported, costs)
                                                     : work_ratio_plan(apps, supported, costs);
  return request.json ? plan_json(plan).dump(2) + "\n" : format_plan(plan);
}

} // namespace analysis
