#pragma once
// An in-memory app for strategy tests: which verdict bits break it, which only break it
// together, which injection keeps another call from being made, which calls happen at startup.
// Sub-feature and pseudo-file bits are named by tokens (token() below) in `required_items` and
// `fail_together_items`, which whole-syscall bits may join too.

#include "explorer/worker.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

namespace lupa_test {

using Bit = std::pair<int, core::Injection>;

// The token of a whole-syscall bit, a sub-feature bit, a pseudo-file bit.
inline std::string token(const Bit& bit) {
  return fmt::format("sys:{}:{}", bit.first, core::to_string(bit.second));
}
inline std::string token(const core::ArgRule& r) {
  return fmt::format("arg:{}:{}:{:#x}:{:#x}:{}:{:#x}:{}", r.nr, r.arg, r.value, r.mask, r.arg2,
                     r.value2, core::to_string(r.injection));
}
inline std::string token(const core::PathRule& r) {
  return fmt::format("path:{}:{}", r.path, core::to_string(r.action));
}

struct AppModel {
  std::set<Bit> required;       // the app fails whenever this bit's call is injected
  std::set<Bit> startup_fatal;  // ... and dies at startup (subset of required)
  std::vector<std::pair<Bit, Bit>> fail_together; // each works alone, both together fail
  std::map<Bit, Bit> masks;     // when key is injected, the value's call is never made
  std::map<Bit, Bit> defuses;   // when key is injected, the value's call is made but harmless
  std::set<int> startup_calls;  // calls made before the app is ready
  std::set<int> never_called;   // calls discovery saw but probes never make
  std::set<int> shutdown_calls; // calls made only after the verdict (never fail the test)
  std::map<Bit, unsigned> flaky_every; // this required-looking bit fails one run in N
  std::set<std::string> required_items;                   // tokens: fails whenever injected
  std::vector<std::set<std::string>> fail_together_items; // each member alone works, all fail
  bool unreadable_paths = false; // the worker cannot read the paths of the app's calls
};

class ModelWorker : public explorer::Worker {
public:
  explicit ModelWorker(const AppModel& model) : m_model(model) {}

  core::ProbeOutcome run(const core::Probe& probe) override {
    std::lock_guard lock(m_mutex);
    ++m_runs;
    m_probes.push_back(probe);
    std::set<Bit> injected;
    for (int nr : probe.stub) {
      injected.insert({nr, core::Injection::stub});
    }
    for (int nr : probe.fake) {
      injected.insert({nr, core::Injection::fake});
    }
    std::set<Bit> active; // injected bits whose call is made
    for (const Bit& bit : injected) {
      bool masked = false;
      for (const auto& [masker, maskee] : m_model.masks) {
        masked = masked || (maskee == bit && injected.contains(masker));
      }
      if (!masked && !m_model.never_called.contains(bit.first)) {
        active.insert(bit);
      }
    }
    core::ProbeOutcome out;
    if (probe.without_app) {
      out.works = false;
      return out;
    }
    // Every token injected and exercised: whole syscalls, argument rules, path rules.
    std::set<std::string> tokens;
    for (const Bit& bit : active) {
      tokens.insert(token(bit));
    }
    for (const core::ArgRule& rule : probe.args) {
      bool called = !m_model.never_called.contains(rule.nr);
      out.arg_hits.push_back(called ? 1 : 0);
      if (called) {
        tokens.insert(token(rule));
      }
    }
    for (const core::PathRule& rule : probe.paths) {
      out.path_hits.push_back(1);
      tokens.insert(token(rule));
    }
    if (m_model.unreadable_paths && !probe.paths.empty()) {
      out.unreadable_paths = 3;
    }
    if (!probe.count_hits) {
      out.arg_hits.clear();
    }
    bool items_fail = false;
    for (const std::string& t : tokens) {
      items_fail = items_fail || m_model.required_items.contains(t);
    }
    for (const std::set<std::string>& together : m_model.fail_together_items) {
      items_fail =
          items_fail || std::all_of(together.begin(), together.end(),
                                    [&](const std::string& t) { return tokens.contains(t); });
    }
    if (probe.until_ready) {
      for (const Bit& bit : active) {
        if (m_model.startup_fatal.contains(bit)) {
          out.ended = core::ProbeEnd::app_exited;
          out.works = false;
          return out;
        }
        if (m_model.startup_calls.contains(bit.first) && probe.count_hits) {
          out.hits[bit.first] = 1;
        }
      }
      out.ended = core::ProbeEnd::ready;
      return out;
    }
    bool fails = items_fail;
    for (const Bit& bit : active) {
      bool defused = false;
      for (const auto& [defuser, defusee] : m_model.defuses) {
        defused = defused || (defusee == bit && injected.contains(defuser));
      }
      fails = fails || (m_model.required.contains(bit) && !defused);
      if (auto it = m_model.flaky_every.find(bit); it != m_model.flaky_every.end()) {
        fails = fails || (++m_flaky_count[bit] % it->second == 0);
      }
      if (probe.count_hits) {
        out.hits[bit.first] = 1;
        if (m_model.shutdown_calls.contains(bit.first)) {
          out.late_hits[bit.first] = 1;
        }
      }
    }
    for (const auto& [a, b] : m_model.fail_together) {
      fails = fails || (active.contains(a) && active.contains(b));
    }
    out.works = !fails;
    out.test_exit = fails ? 1 : 0;
    return out;
  }

  std::string name() const override { return "model"; }

  unsigned runs() const { return m_runs; }
  const std::vector<core::Probe>& probes() const { return m_probes; }

private:
  AppModel m_model;
  std::mutex m_mutex;
  unsigned m_runs = 0;
  std::vector<core::Probe> m_probes;
  std::map<Bit, unsigned> m_flaky_count;
};

} // namespace lupa_test
