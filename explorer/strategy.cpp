#include "explorer/strategy.h"

#include "core/syscalls.h"
#include "explorer/cancel.h"
#include "util/error.h"
#include "util/log.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace explorer {

const char* to_string(Strategy strategy) {
  return strategy == Strategy::group ? "group" : "loupe";
}

std::optional<Strategy> strategy_from_string(std::string_view name) {
  if (name == "group") {
    return Strategy::group;
  }
  if (name == "loupe") {
    return Strategy::loupe;
  }
  return std::nullopt;
}

namespace {

using Clock = std::chrono::steady_clock;

// ---- running probes on all workers at once -----------------------------------------------

// One thread per worker; probes go to free workers, outcomes come back in completion order.
// A worker counts as free again only once its outcome was taken: the next probe is then
// chosen knowing everything finished so far.
class Dispatcher {
public:
  struct Done {
    uint64_t ticket = 0;
    core::ProbeOutcome outcome;
    size_t slot = 0;
  };

  explicit Dispatcher(WorkerPool& pool, size_t max_workers) {
    size_t n = std::min(pool.size(), std::max<size_t>(1, max_workers));
    m_slots.resize(n);
    for (size_t i = 0; i < n; ++i) {
      m_threads.emplace_back([this, i, worker = pool[i].get()] { serve(i, *worker); });
    }
  }

  ~Dispatcher() {
    {
      std::lock_guard lock(m_mutex);
      m_stop = true;
    }
    m_wake.notify_all();
    for (std::thread& t : m_threads) {
      t.join();
    }
  }

  bool has_free() const {
    std::lock_guard lock(m_mutex);
    return std::any_of(m_slots.begin(), m_slots.end(), [](const Slot& s) { return !s.busy; });
  }

  size_t in_flight() const {
    std::lock_guard lock(m_mutex);
    return static_cast<size_t>(
        std::count_if(m_slots.begin(), m_slots.end(), [](const Slot& s) { return s.busy; }));
  }

  // Gives `probe` to a free worker (has_free() must be true).
  void submit(uint64_t ticket, core::Probe probe) {
    {
      std::lock_guard lock(m_mutex);
      for (Slot& slot : m_slots) {
        if (!slot.busy) {
          slot.busy = true;
          slot.pending = true;
          slot.ticket = ticket;
          slot.probe = std::move(probe);
          break;
        }
      }
    }
    m_wake.notify_all();
  }

  // The next finished probe; rethrows what a worker threw.
  Done wait() {
    std::unique_lock lock(m_mutex);
    m_done_cv.wait(lock, [this] { return !m_done.empty() || m_error; });
    if (m_error) {
      std::rethrow_exception(m_error);
    }
    Done done = std::move(m_done.front());
    m_done.pop_front();
    m_slots[done.slot].busy = false;
    return done;
  }

private:
  struct Slot {
    bool busy = false;
    bool pending = false;
    uint64_t ticket = 0;
    core::Probe probe;
  };

  void serve(size_t index, Worker& worker) {
    for (;;) {
      core::Probe probe;
      uint64_t ticket = 0;
      {
        std::unique_lock lock(m_mutex);
        m_wake.wait(lock, [&] { return m_stop || m_slots[index].pending; });
        if (m_stop) {
          return;
        }
        m_slots[index].pending = false;
        probe = m_slots[index].probe;
        ticket = m_slots[index].ticket;
      }
      Done done{ticket, {}, index};
      std::exception_ptr error;
      try {
        done.outcome = worker.run(probe);
      } catch (...) {
        error = std::current_exception();
      }
      {
        std::lock_guard lock(m_mutex);
        if (error) {
          m_error = error;
        } else {
          m_done.push_back(std::move(done));
        }
      }
      m_done_cv.notify_all();
    }
  }

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::condition_variable m_done_cv;
  std::vector<Slot> m_slots;
  std::deque<Done> m_done;
  std::exception_ptr m_error;
  bool m_stop = false;
  std::vector<std::thread> m_threads;
};

// ---- verdict bits --------------------------------------------------------------------------

struct Bit {
  int nr = -1;
  core::Injection injection = core::Injection::stub;
};

// Risk classes, least likely to fail first, with the failure rate each starts from.
constexpr int k_classes = 4;
constexpr double k_class_rate[k_classes] = {0.08, 0.25, 0.45, 0.75};

// The class of a bit failing with probability `rate`.
int class_of(double rate) {
  int c = 0;
  while (c + 1 < k_classes && rate > (k_class_rate[c] + k_class_rate[c + 1]) / 2) {
    ++c;
  }
  return c;
}

struct BitState {
  std::vector<bool> runs;
  bool alone = false;        // tested alone from now on
  unsigned unexercised = 0;  // passing groups that never made its call
  unsigned tentative = 0;    // passing groups that made its call, not yet confirmed
  std::set<size_t> partners; // the other members of those groups
  bool rated = false;        // counted in its class's failure rate
  bool busy = false;         // in a probe in flight, or reserved as a suspect half
  bool needs_screening = false;
  int risk = 1; // class, from priors then screening
};

enum class TaskKind { screen, alone, group };

const char* kind_name(TaskKind kind) {
  switch (kind) {
  case TaskKind::screen:
    return "screen";
  case TaskKind::alone:
    return "single";
  case TaskKind::group:
    return "group";
  }
  return "group";
}

// A probe to run: bits injected together, and for binary splitting the untested other half,
// suspected if this one passes.
struct Task {
  TaskKind kind = TaskKind::group;
  std::vector<size_t> bits;
  std::vector<size_t> sibling;
};

class Exploration {
public:
  Exploration(const core::Discovery& discovery, WorkerPool& pool, const ExploreOptions& options)
      : m_pool(pool), m_options(options), m_replicas(std::max(1u, options.replicas)) {
    std::set<int> only(options.only_syscalls.begin(), options.only_syscalls.end());
    for (const auto& [nr, count] : discovery.counts) {
      auto it = discovery.startup.find(nr);
      if (!discovery.startup.empty() && (it == discovery.startup.end() || it->second < count)) {
        m_used_after_ready.insert(nr);
      }
    }
    m_phases_known = !discovery.startup.empty();
    for (core::Injection injection : {core::Injection::stub, core::Injection::fake}) {
      for (const auto& [nr, count] : discovery.counts) {
        if (only.empty() || only.contains(nr)) {
          m_bits.push_back({nr, injection});
        }
      }
    }
    m_states.resize(m_bits.size());
    const FailurePriors& priors = options.priors ? *options.priors : loupe_priors();
    for (size_t i = 0; i < m_bits.size(); ++i) {
      auto it = priors.find({m_bits[i].nr, m_bits[i].injection});
      m_states[i].risk = class_of(it != priors.end() ? it->second : 0.25);
    }
  }

  // Runs the strategy; returns the observations per bit.
  void run() {
    m_start = Clock::now();
    if (m_pool.empty()) {
      throw util::Fatal("exploration needs at least one worker");
    }
    if (m_options.strategy == Strategy::loupe) {
      run_loupe();
    } else {
      run_group();
    }
  }

  const std::vector<Bit>& bits() const { return m_bits; }
  const std::vector<BitState>& states() const { return m_states; }
  uint64_t runs() const { return m_runs; }
  const std::map<std::string, uint64_t>& runs_by_kind() const { return m_runs_by_kind; }

private:
  // ---- Loupe: one bit at a time, each replica in turn, on the first worker ----------------
  void run_loupe() {
    Dispatcher dispatcher(m_pool, 1);
    for (size_t i = 0; i < m_bits.size(); ++i) {
      while (m_states[i].runs.size() < m_replicas) {
        throw_if_cancelled();
        Task task{TaskKind::alone, {i}, {}};
        dispatcher.submit(0, probe_of(task));
        Dispatcher::Done done = dispatcher.wait();
        finish(task, done.outcome);
      }
    }
  }

  // ---- group testing -----------------------------------------------------------------------
  void run_group() {
    Dispatcher dispatcher(m_pool, m_pool.size());
    if (m_options.screening == Screening::yes) {
      // Screening pays for the bits whose fate is uncertain: the likely failures run alone
      // at once (a screen would be the same run, cut short), the likely passes go to groups.
      for (size_t i = 0; i < m_bits.size(); ++i) {
        int risk = m_states[i].risk;
        if (risk == k_classes - 1) {
          m_states[i].alone = true;
        } else if (risk > 0) {
          m_states[i].needs_screening = true;
          m_queue.push_back({TaskKind::screen, {i}, {}});
        }
      }
    }
    std::map<uint64_t, Task> in_flight;
    uint64_t next_ticket = 1;
    for (;;) {
      throw_if_cancelled();
      while (dispatcher.has_free()) {
        std::optional<Task> task = next_task();
        if (!task) {
          break;
        }
        for (size_t i : task->bits) {
          m_states[i].busy = true;
        }
        for (size_t i : task->sibling) {
          m_states[i].busy = true;
        }
        dispatcher.submit(next_ticket, probe_of(*task));
        in_flight.emplace(next_ticket++, std::move(*task));
      }
      if (in_flight.empty()) {
        break; // nothing left to run: every bit is settled
      }
      Dispatcher::Done done = dispatcher.wait();
      auto it = in_flight.find(done.ticket);
      Task task = std::move(it->second);
      in_flight.erase(it);
      for (size_t i : task.bits) {
        m_states[i].busy = false;
      }
      finish(task, done.outcome);
    }
  }

  bool settled(size_t i) const { return m_states[i].runs.size() >= m_replicas; }

  bool available(size_t i) const {
    const BitState& s = m_states[i];
    return !s.busy && !s.needs_screening && !settled(i);
  }

  std::optional<Task> next_task() {
    if (!m_queue.empty()) {
      Task task = std::move(m_queue.front());
      m_queue.pop_front();
      return task;
    }
    for (size_t i = 0; i < m_bits.size(); ++i) {
      if (available(i) && m_states[i].alone) {
        return Task{TaskKind::alone, {i}, {}};
      }
    }
    // Groups are formed once screening is over: it tells which bits to group first, and a
    // group formed from the few bits screened so far would be needlessly small.
    if (std::any_of(m_states.begin(), m_states.end(),
                    [](const BitState& s) { return s.needs_screening; })) {
      return std::nullopt;
    }
    std::vector<size_t> candidates;
    for (size_t i = 0; i < m_bits.size(); ++i) {
      if (available(i)) {
        candidates.push_back(i);
      }
    }
    if (candidates.empty()) {
      return std::nullopt;
    }
    // The least risky bits first: they pass most often, in the largest groups.
    std::stable_sort(candidates.begin(), candidates.end(), [&](size_t a, size_t b) {
      return m_states[a].risk < m_states[b].risk;
    });
    int risk = m_states[candidates.front()].risk;
    size_t in_class = static_cast<size_t>(std::count_if(
        candidates.begin(), candidates.end(), [&](size_t i) { return m_states[i].risk == risk; }));
    size_t size = group_size(in_class, failure_rate(risk));
    Task task{size == 1 ? TaskKind::alone : TaskKind::group, {}, {}};
    std::set<int> syscalls; // one bit per syscall in a probe
    for (size_t i : candidates) {
      if (task.bits.size() >= size || m_states[i].risk != risk) {
        break;
      }
      // A bit passing a group tentatively is confirmed only by a group without its former
      // partners: one of them may have kept its injection from mattering.
      bool apart = std::none_of(task.bits.begin(), task.bits.end(), [&](size_t m) {
        return m_states[i].partners.contains(m) || m_states[m].partners.contains(i);
      });
      if (apart && syscalls.insert(m_bits[i].nr).second) {
        task.bits.push_back(i);
      }
    }
    if (task.bits.size() == 1) {
      task.kind = TaskKind::alone;
    }
    return task;
  }

  // The estimated share of failing bits of class `risk`: what was observed, starting from the
  // class's own rate (worth a few observations).
  double failure_rate(int risk) const {
    const auto& [works, fails] = m_class_counts[risk];
    constexpr double k_weight = 4;
    return (static_cast<double>(fails) + k_class_rate[risk] * k_weight) /
           (static_cast<double>(works + fails) + k_weight);
  }

  // Hwang's generalized binary splitting: with n bits of which about d fail, test groups of
  // 2^floor(log2((n - d + 1) / d)), or one at a time when n <= 2d - 2. Passes are confirmed by
  // a second group of former strangers (one bit of each first group: a grid's columns after
  // its rows), so groups larger than sqrt(n) would only make the columns many and short.
  // Each member needs two passing groups, and a failing member costs about log2(size) runs, so
  // groups pay only with few failures (<= 15%) and at least 4 members.
  static size_t group_size(size_t n, double rate) {
    constexpr double k_max_rate = 0.15;
    constexpr size_t k_min_size = 4;
    double d = std::max(1.0, rate * static_cast<double>(n));
    if (rate > k_max_rate || n < k_min_size || static_cast<double>(n) <= 2 * d - 2) {
      return 1;
    }
    double alpha = std::floor(std::log2((static_cast<double>(n) - d + 1) / d));
    size_t size = static_cast<size_t>(std::pow(2.0, std::max(0.0, alpha)));
    size_t grid = static_cast<size_t>(std::ceil(std::sqrt(static_cast<double>(n))));
    return std::clamp<size_t>(std::min(size, grid), k_min_size, std::min<size_t>(16, n));
  }

  core::Probe probe_of(const Task& task) const {
    core::Probe probe;
    for (size_t i : task.bits) {
      (m_bits[i].injection == core::Injection::stub ? probe.stub : probe.fake)
          .push_back(m_bits[i].nr);
    }
    probe.expect_ports = m_options.expect_ports;
    probe.expect_processes = m_options.expect_processes;
    probe.ready_timeout_ms = m_options.ready_timeout_ms;
    probe.until_ready = task.kind == TaskKind::screen;
    probe.count_hits = task.kind != TaskKind::alone;
    return probe;
  }

  // Records a run of bit `i`; `rated` says whether it counts toward its class's failure rate
  // (screening failures do not: the classes rate the bits that survive screening).
  void observe(size_t i, bool works, bool rated = true) {
    BitState& s = m_states[i];
    // A run of the bit itself is the evidence; group passes are not needed any more.
    s.tentative = 0;
    s.partners.clear();
    if (!s.rated && rated) {
      s.rated = true;
      auto& [w, f] = m_class_counts[s.risk];
      ++(works ? w : f);
    }
    s.runs.push_back(works);
    if (!works) {
      s.alone = true; // never again in a group: it would only make groups fail
    }
  }

  // Bit `i` passed in a group with `members`: the first such pass is tentative, a second one
  // with other partners confirms both.
  void group_pass(size_t i, const std::vector<size_t>& members) {
    BitState& s = m_states[i];
    if (s.tentative == 0) {
      if (s.runs.empty() && s.partners.empty()) {
        // Scheduling may believe a pass before its confirmation: groups grow sooner.
        ++m_class_counts[s.risk].first;
        s.rated = true;
      }
      s.tentative = 1;
      for (size_t m : members) {
        if (m != i) {
          s.partners.insert(m);
        }
      }
      return;
    }
    unsigned passes = s.tentative + 1;
    s.tentative = 0;
    s.partners.clear();
    // Each pass is an observation, up to the replicas asked for (results.json holds exactly
    // one outcome per replica: `lupa verify` checks it).
    for (unsigned k = 0; k < passes && s.runs.size() < m_replicas; ++k) {
      s.runs.push_back(true);
    }
  }

  void release(const std::vector<size_t>& bits) {
    for (size_t i : bits) {
      m_states[i].busy = false;
    }
  }

  // Splits the failing set `bits` (2 or more): the first half runs now, the second waits as
  // its suspected sibling.
  void split(const std::vector<size_t>& bits) {
    size_t half = bits.size() / 2;
    Task first{half == 1 ? TaskKind::alone : TaskKind::group,
               {bits.begin(), bits.begin() + static_cast<std::ptrdiff_t>(half)},
               {bits.begin() + static_cast<std::ptrdiff_t>(half), bits.end()}};
    m_queue.push_front(std::move(first));
  }

  // A set suspected to hold a failing bit: test it alone if single, else split it.
  void suspect(const std::vector<size_t>& bits) {
    release(bits);
    if (bits.size() == 1) {
      m_queue.push_front({TaskKind::alone, bits, {}});
    } else {
      split(bits);
    }
  }

  void finish(const Task& task, const core::ProbeOutcome& outcome) {
    ++m_runs;
    ++m_runs_by_kind[kind_name(task.kind)];
    bool works = outcome.works && !outcome.infra_failure;
    switch (task.kind) {
    case TaskKind::screen: {
      size_t i = task.bits.front();
      m_states[i].needs_screening = false;
      if (outcome.ended == core::ProbeEnd::ready) {
        int nr = m_bits[i].nr;
        int& risk = m_states[i].risk;
        if (!outcome.hits.contains(nr)) {
          risk = std::min(risk + 1, k_classes - 1); // it serves the workload
        } else if (m_phases_known && !m_used_after_ready.contains(nr)) {
          risk = std::max(risk - 1, 0); // set-up only, and the set-up survived
        }
      } else {
        observe(i, works, false); // the whole one-at-a-time run happened (or died early)
      }
      break;
    }
    case TaskKind::alone:
      observe(task.bits.front(), works);
      break;
    case TaskKind::group:
      if (works) {
        for (size_t i : task.bits) {
          if (outcome.hits.contains(m_bits[i].nr)) {
            group_pass(i, task.bits);
          } else if (++m_states[i].unexercised >= 2) {
            m_states[i].alone = true;
          }
        }
      } else {
        release(task.sibling); // nothing is known about it any more
        split(task.bits);
        report(task, outcome);
        return;
      }
      break;
    }
    // A passing first half makes its sibling the suspect; a failing single releases it.
    if (!task.sibling.empty()) {
      if (works) {
        suspect(task.sibling);
      } else {
        release(task.sibling);
      }
    }
    report(task, outcome);
  }

  void report(const Task& task, const core::ProbeOutcome& outcome) {
    size_t settled_bits = 0;
    for (size_t i = 0; i < m_bits.size(); ++i) {
      settled_bits += settled(i) ? 1 : 0;
    }
    core::Probe probe = probe_of(task);
    std::string verdict = outcome.ended == core::ProbeEnd::ready ? "ready"
                          : outcome.works                         ? "works"
                                                                  : "fails";
    util::log::verbose("{} {}: {} ({}, {:.2f} s){}", kind_name(task.kind), probe.describe(),
                       verdict, core::to_string(outcome.ended), outcome.seconds,
                       outcome.note.empty() ? "" : " - " + outcome.note);
    if (!m_options.progress) {
      return;
    }
    Progress progress;
    progress.doing = fmt::format("{} {}: {}", kind_name(task.kind), probe.describe(), verdict);
    progress.settled = settled_bits;
    progress.total = m_bits.size();
    progress.runs = m_runs;
    progress.elapsed = std::chrono::duration<double>(Clock::now() - m_start).count();
    if (settled_bits > 0 && settled_bits < m_bits.size()) {
      progress.eta = progress.elapsed / static_cast<double>(settled_bits) *
                     static_cast<double>(m_bits.size() - settled_bits);
    }
    m_options.progress(progress);
  }

  WorkerPool& m_pool;
  const ExploreOptions& m_options;
  unsigned m_replicas;
  std::vector<Bit> m_bits;
  std::vector<BitState> m_states;
  std::deque<Task> m_queue;
  std::pair<uint64_t, uint64_t> m_class_counts[k_classes]{}; // works, fails per class
  std::set<int> m_used_after_ready; // calls discovery saw after the app was ready
  bool m_phases_known = false;
  uint64_t m_runs = 0;
  std::map<std::string, uint64_t> m_runs_by_kind;
  Clock::time_point m_start;
};

} // namespace

const FailurePriors& loupe_priors() {
  static const FailurePriors priors = [] {
    struct Row {
      int nr;
      int used;
      int stub_works;
      int fake_works;
    };
    static constexpr Row k_rows[] = {
#include "explorer/loupe_priors.inc"
    };
    FailurePriors out;
    for (const Row& row : k_rows) {
      // Laplace's rule: one imaginary success and failure each.
      double n = row.used + 2.0;
      out[{row.nr, core::Injection::stub}] = 1.0 - (row.stub_works + 1.0) / n;
      out[{row.nr, core::Injection::fake}] = 1.0 - (row.fake_works + 1.0) / n;
    }
    return out;
  }();
  return priors;
}

core::ExploreResult explore(const core::Discovery& discovery, WorkerPool& pool,
                            const ExploreOptions& options) {
  Clock::time_point start = Clock::now();
  Exploration exploration(discovery, pool, options);
  exploration.run();

  core::ExploreResult result;
  result.strategy = to_string(options.strategy);
  result.replicas = static_cast<int>(std::max(1u, options.replicas));
  result.discovery = discovery.backend;
  result.discovery_complete = discovery.complete;
  for (const auto& [nr, count] : discovery.counts) {
    result.syscalls.push_back({nr, core::SyscallTable::get().name(nr), count, {}, {}});
  }
  const std::vector<Bit>& bits = exploration.bits();
  for (size_t i = 0; i < bits.size(); ++i) {
    auto it = std::find_if(result.syscalls.begin(), result.syscalls.end(),
                           [&](const core::SyscallResult& s) { return s.nr == bits[i].nr; });
    core::Replicas& replicas = bits[i].injection == core::Injection::stub ? it->stub : it->fake;
    replicas.runs = exploration.states()[i].runs;
  }
  result.stats.probe_runs = exploration.runs();
  result.stats.runs = exploration.runs_by_kind();
  result.stats.step_seconds["exploration"] =
      std::chrono::duration<double>(Clock::now() - start).count();
  return result;
}

} // namespace explorer
