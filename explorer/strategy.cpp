#include "explorer/strategy.h"

#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "explorer/cancel.h"
#include "util/error.h"
#include "util/log.h"

#include <fmt/format.h>
#include <sys/syscall.h>

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

constexpr const char* k_part_syscalls = "syscalls";
constexpr const char* k_part_features = "sub-features";
constexpr const char* k_part_paths = "pseudo-files";
constexpr const char* k_part_collective = "collective";

enum class BitKind { syscall, feature, path };

// One verdict bit: what one observation injects. Syscall bits inject a whole call, feature bits
// one value of a sub-feature argument, path bits one pseudo-file's fate.
struct Bit {
  BitKind kind = BitKind::syscall;
  int nr = -1;                                       // syscall and feature bits
  core::Injection injection = core::Injection::stub; // syscall and feature bits
  core::FeatureKey key;                              // feature bits
  core::PathRule path;                               // path bits
  double prior = -1; // estimated failure rate known beforehand (scheduling only); -1: none
};

Bit syscall_bit(int nr, core::Injection injection) {
  return Bit{.nr = nr, .injection = injection};
}

Bit feature_bit(const core::FeatureKey& key, core::Injection injection) {
  return Bit{.kind = BitKind::feature, .nr = key.nr, .injection = injection, .key = key};
}

Bit path_bit(const std::string& path, core::PathAction action) {
  return Bit{.kind = BitKind::path, .path = {path, action}};
}

// Adds the injection of `bit` to `probe`.
void add_to(const Bit& bit, core::Probe& probe) {
  switch (bit.kind) {
  case BitKind::syscall:
    (bit.injection == core::Injection::stub ? probe.stub : probe.fake).push_back(bit.nr);
    break;
  case BitKind::feature:
    probe.args.push_back(core::arg_rule(bit.key, bit.injection));
    break;
  case BitKind::path:
    probe.paths.push_back(bit.path);
    break;
  }
}

// True if `a` and `b` may share a probe: no call can be injected by both, so the hits counted
// per rule tell which one the app exercised.
bool compatible(const Bit& a, const Bit& b) {
  if (a.kind != b.kind) {
    return a.nr != b.nr; // a whole syscall and an argument rule of it cannot meet
  }
  switch (a.kind) {
  case BitKind::syscall:
    return a.nr != b.nr;
  case BitKind::feature:
    return core::exclusive(a.key, b.key);
  case BitKind::path:
    return a.path.path != b.path.path;
  }
  return false;
}

// True if the app made a call that `probe` injected for `bit` (its outcome counted hits).
bool exercised(const Bit& bit, const core::Probe& probe, const core::ProbeOutcome& outcome) {
  switch (bit.kind) {
  case BitKind::syscall:
    return outcome.hits.contains(bit.nr);
  case BitKind::feature: {
    core::ArgRule rule = core::arg_rule(bit.key, bit.injection);
    for (size_t i = 0; i < probe.args.size(); ++i) {
      if (probe.args[i] == rule) {
        return i < outcome.arg_hits.size() && outcome.arg_hits[i] > 0;
      }
    }
    return false;
  }
  case BitKind::path:
    for (size_t i = 0; i < probe.paths.size(); ++i) {
      if (probe.paths[i] == bit.path) {
        return i < outcome.path_hits.size() && outcome.path_hits[i] > 0;
      }
    }
    return false;
  }
  return false;
}

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
  // Its call was made only after the verdict in discovery (the app's shutdown): grouped with
  // the other such bits, screened never, and settled by a group run that made it only late.
  bool late = false;
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

// The fields every probe of an exploration carries (benchmark readiness).
core::Probe base_probe(const ExploreOptions& options) {
  core::Probe probe;
  probe.expect_ports = options.expect_ports;
  probe.expect_processes = options.expect_processes;
  probe.ready_timeout_ms = options.ready_timeout_ms;
  return probe;
}

// Settles verdict bits (one part of an exploration) by the strategy of `options`.
class Exploration {
public:
  // Explores `bits` of part `part` ("syscalls", "sub-features", "pseudo-files"); `discovery`
  // tells which calls were made only after the verdict (the app's shutdown).
  Exploration(std::string part, std::vector<Bit> bits, const core::Discovery& discovery,
              WorkerPool& pool, const ExploreOptions& options)
      : m_part(std::move(part)), m_pool(pool), m_options(options),
        m_replicas(std::max(1u, options.replicas)), m_bits(std::move(bits)) {
    std::set<int> late;
    if (!discovery.before_verdict.empty()) {
      for (const auto& [nr, count] : discovery.counts) {
        auto it = discovery.before_verdict.find(nr);
        uint64_t in_time = it != discovery.before_verdict.end() ? it->second : 0;
        // The exec that starts the app is counted but never injected: it does not count.
        if (nr == SYS_execve && in_time > 0) {
          --in_time;
        }
        if (in_time == 0) {
          late.insert(nr);
        }
      }
    }
    m_states.resize(m_bits.size());
    const FailurePriors& priors = options.priors ? *options.priors : loupe_priors();
    for (size_t i = 0; i < m_bits.size(); ++i) {
      double rate = m_bits[i].prior >= 0 ? m_bits[i].prior : 0.25; // 0.25: nothing known
      if (m_bits[i].kind == BitKind::syscall) {
        auto it = priors.find({m_bits[i].nr, m_bits[i].injection});
        rate = it != priors.end() ? it->second : rate;
      }
      m_states[i].risk = class_of(rate);
      if (m_bits[i].kind != BitKind::path && late.contains(m_bits[i].nr)) {
        m_states[i].late = true;
        m_states[i].risk = 0;
      }
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

  // Why the part was given up (its verdicts would not be true), if it was.
  const std::optional<std::string>& abandoned() const { return m_abandoned; }
  const std::vector<Bit>& bits() const { return m_bits; }
  const std::vector<BitState>& states() const { return m_states; }
  uint64_t runs() const { return m_runs; }
  const std::map<std::string, uint64_t>& runs_by_kind() const { return m_runs_by_kind; }

private:
  // ---- Loupe: one bit at a time, each replica in turn, on the first worker ----------------
  void run_loupe() {
    Dispatcher dispatcher(m_pool, 1);
    for (size_t i = 0; i < m_bits.size() && !m_abandoned; ++i) {
      while (m_states[i].runs.size() < m_replicas && !m_abandoned) {
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
    if (m_bits.empty()) {
      return;
    }
    Dispatcher dispatcher(m_pool, m_pool.size());
    if (m_options.screening == Screening::yes) {
      // Screening pays for the bits whose fate is uncertain: the likely failures run alone
      // at once (a screen would be the same run, cut short), the likely passes go to groups.
      for (size_t i = 0; i < m_bits.size(); ++i) {
        int risk = m_states[i].risk;
        if (m_states[i].late) {
          continue; // made after the verdict: the app gets ready as it did without it
        }
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
      while (dispatcher.has_free() && !m_abandoned) {
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
    // The shutdown-only bits, all in one group: their injections come after the verdict.
    if (std::optional<Task> late = late_group()) {
      return late;
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
    if (size == 1) {
      // Too few or too risky for groups of its own: what passed once (in any class) is
      // confirmed together rather than one at a time.
      if (std::optional<Task> confirm = confirmation_group(candidates)) {
        return confirm;
      }
      return Task{TaskKind::alone, {candidates.front()}, {}};
    }
    // Bits awaiting confirmation first, at most one from each earlier group (they are its
    // partners), then fresh ones: group k holds one bit of each of the k - 1 groups before it,
    // so m groups settle up to m (m - 1) / 2 bits, each passing twice with other partners.
    std::stable_partition(candidates.begin(), candidates.end(),
                          [&](size_t i) { return m_states[i].tentative > 0; });
    Task task{TaskKind::group, {}, {}};
    for (size_t i : candidates) {
      if (task.bits.size() >= size) {
        break;
      }
      if (m_states[i].risk != risk) {
        continue;
      }
      // A bit passing a group tentatively is confirmed only by a group without its former
      // partners: one of them may have kept its injection from mattering.
      bool apart = std::none_of(task.bits.begin(), task.bits.end(), [&](size_t m) {
        return m_states[i].partners.contains(m) || m_states[m].partners.contains(i);
      });
      // Members must be told apart by their hits (one bit per syscall, per pseudo-file...).
      bool distinct = std::all_of(task.bits.begin(), task.bits.end(),
                                  [&](size_t m) { return compatible(m_bits[i], m_bits[m]); });
      if (apart && distinct) {
        task.bits.push_back(i);
      }
    }
    if (task.bits.size() == 1) {
      task.kind = TaskKind::alone;
    }
    return task;
  }

  // A group of every available shutdown-only bit (members told apart by their hits), if any.
  std::optional<Task> late_group() const {
    constexpr size_t k_max_late = 32;
    Task task{TaskKind::group, {}, {}};
    for (size_t i = 0; i < m_bits.size() && task.bits.size() < k_max_late; ++i) {
      if (!available(i) || !m_states[i].late) {
        continue;
      }
      bool distinct = std::all_of(task.bits.begin(), task.bits.end(),
                                  [&](size_t m) { return compatible(m_bits[i], m_bits[m]); });
      if (distinct) {
        task.bits.push_back(i);
      }
    }
    if (task.bits.empty()) {
      return std::nullopt;
    }
    if (task.bits.size() == 1) {
      task.kind = TaskKind::alone;
    }
    return task;
  }

  // True if `outcome` injected calls of bit `i`'s syscall before the verdict. Pseudo-file
  // bits have no syscall of their own: false.
  bool injected_in_time(size_t i, const core::ProbeOutcome& outcome) const {
    int nr = m_bits[i].nr;
    auto hit = outcome.hits.find(nr);
    auto late = outcome.late_hits.find(nr);
    uint64_t hits = hit != outcome.hits.end() ? hit->second : 0;
    uint64_t late_hits = late != outcome.late_hits.end() ? late->second : 0;
    return hits > late_hits;
  }

  // The members of group run `task` that may have been injected before the verdict: a whole
  // syscall whose call was injected in time, a sub-feature exercised while some call of its
  // syscall was injected in time, any pseudo-file exercised (their hits are not told late
  // from in time). Until the verdict, the run was the app with these injections only.
  std::vector<size_t> injected_before_verdict(const Task& task, const core::Probe& probe,
                                              const core::ProbeOutcome& outcome) const {
    std::vector<size_t> out;
    for (size_t i : task.bits) {
      const Bit& bit = m_bits[i];
      bool in_time = bit.kind == BitKind::path
                         ? exercised(bit, probe, outcome)
                         : exercised(bit, probe, outcome) && injected_in_time(i, outcome);
      if (in_time) {
        out.push_back(i);
      }
    }
    return out;
  }

  // Records how long a run took to get ready. A probe then waits for readiness ten times the
  // median of this part's runs so far (the baseline's first run is a cold start, slower), at
  // least a second, at most what the options say.
  void saw_ready(double seconds) {
    constexpr size_t k_enough = 5;
    m_ready_ms.push_back(static_cast<int>(seconds * 1000));
    int most = m_options.ready_timeout_ms;
    if (m_ready_ms.size() < k_enough || most <= 0) {
      return;
    }
    std::vector<int> seen = m_ready_ms;
    auto middle = seen.begin() + static_cast<std::ptrdiff_t>(seen.size() / 2);
    std::nth_element(seen.begin(), middle, seen.end());
    m_ready_timeout_ms = std::clamp(*middle * 10, std::min(1000, most), most);
  }

  // A group of bits awaiting their confirming pass (tentative), none a former partner of
  // another: they passed once, so they are likely to pass together, and any two of them
  // already make a group worth running. Nothing when fewer than two fit.
  std::optional<Task> confirmation_group(const std::vector<size_t>& candidates) const {
    constexpr size_t k_max = 16;
    Task task{TaskKind::group, {}, {}};
    for (size_t i : candidates) {
      if (m_states[i].tentative == 0 || task.bits.size() >= k_max) {
        continue;
      }
      bool fits = std::all_of(task.bits.begin(), task.bits.end(), [&](size_t m) {
        return !m_states[i].partners.contains(m) && !m_states[m].partners.contains(i) &&
               compatible(m_bits[i], m_bits[m]);
      });
      if (fits) {
        task.bits.push_back(i);
      }
    }
    if (task.bits.size() < 2) {
      return std::nullopt;
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
  // a second group of former strangers, one bit of each earlier group: m groups of m - 1 do
  // for m (m - 1) / 2 bits, so larger groups would only leave the last ones short.
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
    // m groups of m - 1 settle m (m - 1) / 2 bits (see next_task()).
    double m = std::ceil((1 + std::sqrt(1 + 8 * static_cast<double>(n))) / 2);
    size_t design = static_cast<size_t>(m) - 1;
    return std::clamp<size_t>(std::min(size, design), k_min_size, std::min<size_t>(16, n));
  }

  core::Probe probe_of(const Task& task) const {
    core::Probe probe = base_probe(m_options);
    if (m_ready_timeout_ms > 0) {
      probe.ready_timeout_ms = m_ready_timeout_ms;
    }
    for (size_t i : task.bits) {
      add_to(m_bits[i], probe);
    }
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
    if (m_options.strategy == Strategy::group && outcome.ready_seconds > 0 &&
        (outcome.ended == core::ProbeEnd::ready || outcome.ended == core::ProbeEnd::judged)) {
      saw_ready(outcome.ready_seconds);
    }
    if (outcome.unreadable_paths > 0 || m_abandoned) {
      // The worker could not apply the path rules to every call: nothing here is a verdict.
      if (!m_abandoned) {
        m_abandoned = fmt::format(
            "{} not explored: the worker could not read the paths of {} calls (another user's "
            "processes need CAP_SYS_PTRACE; in a container, --cap-add SYS_PTRACE)",
            m_part, outcome.unreadable_paths);
        util::log::warn("{}", *m_abandoned);
      }
      return;
    }
    std::string kind = kind_name(task.kind);
    ++m_runs_by_kind[m_part == k_part_syscalls ? kind : m_part + "-" + kind];
    bool works = outcome.works && !outcome.infra_failure;
    core::Probe probe = probe_of(task);
    switch (task.kind) {
    case TaskKind::screen: {
      size_t i = task.bits.front();
      m_states[i].needs_screening = false;
      if (outcome.ended == core::ProbeEnd::ready) {
        int& risk = m_states[i].risk;
        if (!exercised(m_bits[i], probe, outcome)) {
          risk = std::min(risk + 1, k_classes - 1); // it serves the workload
        } else {
          // Its call was made at startup and the app got ready all the same: most failures a
          // prior counts are startup failures (of 31 such bits on nginx, 2 failed later), so
          // the least risky class, whose own failure rate then decides group sizes. Set-up-only
          // calls belong there the more: the workload never makes them.
          risk = 0;
        }
      } else {
        observe(i, works, false); // the whole one-at-a-time run happened (or died early)
      }
      break;
    }
    case TaskKind::alone:
      observe(task.bits.front(), works);
      break;
    case TaskKind::group: {
      std::vector<size_t> in_time = injected_before_verdict(task, probe, outcome);
      if (in_time.size() == 1) {
        // Until the verdict this run was the app with that one injection: the run of it alone,
        // pass or fail. (No other member was injected in time: none can have hidden or caused
        // anything.) The others learn nothing, unless shutdown-only (below).
        observe(in_time.front(), works);
      }
      if (works) {
        // Clean: no member was injected before the verdict, so until then the app ran as it
        // does unmodified. A shutdown-only member alone would run unmodified until its first
        // call too, which (as here, and in discovery) comes after the verdict, or never: this
        // run is that run's verdict, whether or not the member's call was made.
        bool clean = in_time.empty();
        for (size_t i : task.bits) {
          bool now = std::find(in_time.begin(), in_time.end(), i) != in_time.end();
          if (now) {
            m_states[i].late = false; // made in time for the verdict after all
            if (in_time.size() > 1) {
              // Only the others injected in time can have kept its injection from mattering.
              group_pass(i, in_time);
            }
          } else if (m_states[i].late && clean) {
            observe(i, true);
          } else if (++m_states[i].unexercised >= 2) {
            // Never injected in time: whatever the others did, this run says nothing of it.
            m_states[i].alone = true;
          }
        }
      } else {
        release(task.sibling); // nothing is known about it any more
        // Only members injected before the verdict can have made the test fail (with one, it
        // was observed above); with none, the failure is the app's own (flaky) and every
        // member stays suspected. The others are free again, as fresh as they were.
        if (in_time.size() != 1) {
          split(in_time.empty() ? task.bits : in_time);
        }
        report(task, probe, outcome);
        return;
      }
      break;
    }
    }
    // A passing first half makes its sibling the suspect; a failing single releases it.
    if (!task.sibling.empty()) {
      if (works) {
        suspect(task.sibling);
      } else {
        release(task.sibling);
      }
    }
    report(task, probe, outcome);
  }

  void report(const Task& task, const core::Probe& probe, const core::ProbeOutcome& outcome) {
    size_t settled_bits = 0;
    for (size_t i = 0; i < m_bits.size(); ++i) {
      settled_bits += settled(i) ? 1 : 0;
    }
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
    progress.part = m_part;
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

  std::string m_part;
  WorkerPool& m_pool;
  const ExploreOptions& m_options;
  unsigned m_replicas;
  std::vector<Bit> m_bits;
  std::vector<BitState> m_states;
  std::deque<Task> m_queue;
  std::pair<uint64_t, uint64_t> m_class_counts[k_classes]{}; // works, fails per class
  std::vector<int> m_ready_ms;      // how long the app took to get ready, per run that did
  int m_ready_timeout_ms = 0;       // what probes wait for readiness (0: the options' value)
  uint64_t m_runs = 0;
  std::map<std::string, uint64_t> m_runs_by_kind;
  Clock::time_point m_start;
  std::optional<std::string> m_abandoned;
};

// ---- the collective check ------------------------------------------------------------------

// True if `a` and `b` inject into the same thing (a syscall, a sub-feature, a pseudo-file).
bool same_target(const Bit& a, const Bit& b) {
  if (a.kind != b.kind) {
    return false;
  }
  switch (a.kind) {
  case BitKind::syscall:
    return a.nr == b.nr;
  case BitKind::feature:
    return a.key == b.key;
  case BitKind::path:
    return a.path.path == b.path.path;
  }
  return false;
}

// `bits` as one probe can hold them: the first bit of each target, and no argument rule of a
// syscall injected whole (the whole injection already covers it).
std::vector<Bit> consistent(const std::vector<Bit>& bits) {
  std::set<int> whole;
  for (const Bit& b : bits) {
    if (b.kind == BitKind::syscall) {
      whole.insert(b.nr);
    }
  }
  std::vector<Bit> out;
  for (const Bit& b : bits) {
    bool covered = b.kind == BitKind::feature && whole.contains(b.nr);
    bool repeated =
        std::any_of(out.begin(), out.end(), [&](const Bit& o) { return same_target(o, b); });
    if (!covered && !repeated) {
      out.push_back(b);
    }
  }
  // Syscalls first, then sub-features, then pseudo-files: the order conflicts are reported in.
  std::stable_sort(out.begin(), out.end(), [](const Bit& a, const Bit& b) {
    return static_cast<int>(a.kind) < static_cast<int>(b.kind);
  });
  return out;
}

// The bits of `bits` as an InjectionSet (results.json).
core::InjectionSet injection_set(const std::vector<Bit>& bits) {
  core::InjectionSet set;
  for (const Bit& b : bits) {
    bool stub = b.injection == core::Injection::stub;
    switch (b.kind) {
    case BitKind::syscall:
      (stub ? set.stubbed : set.faked).push_back(b.nr);
      break;
    case BitKind::feature:
      (stub ? set.stubbed_features : set.faked_features).push_back(b.key);
      break;
    case BitKind::path:
      (b.path.action == core::PathAction::enoent ? set.enoent_paths : set.empty_paths)
          .push_back(b.path.path);
      break;
    }
  }
  return set;
}

// Applies every working verdict at once; when the app then fails, finds a smallest conflicting
// subset by bisection (QuickXplain: halves that fail alone are searched alone, otherwise the
// part of each half that the other half needs), leaves its last member out, and checks again,
// until what remains works together.
class CollectiveChecker {
public:
  CollectiveChecker(WorkerPool& pool, const ExploreOptions& options)
      : m_pool(pool), m_options(options),
        m_workers(options.strategy == Strategy::loupe ? 1 : pool.size()) {}

  // Checks `stubs` (stub and ENOENT bits that work alone) and `fakes` (fake and empty ones).
  core::CollectiveCheck run(const std::vector<Bit>& stubs, const std::vector<Bit>& fakes) {
    m_start = Clock::now();
    core::CollectiveCheck check;
    check.ran = true;
    std::vector<Bit> s = consistent(stubs);
    std::vector<Bit> f = consistent(fakes);
    std::vector<Bit> both = combined(s, f);
    std::vector<std::vector<Bit>> sets;
    for (const std::vector<Bit>* set : {&s, &f, &both}) {
      if (!set->empty()) {
        sets.push_back(*set);
      }
    }
    std::vector<bool> works = test(sets);
    size_t next = 0;
    auto verdict = [&](const std::vector<Bit>& set) -> std::optional<bool> {
      return set.empty() ? std::nullopt : std::optional<bool>(works[next++]);
    };
    check.all_stubs_work = verdict(s);
    check.all_fakes_work = verdict(f);
    check.stubs_and_fakes_work = verdict(both);

    std::vector<Bit> s_left = check.all_stubs_work.value_or(true) ? s : reduce(s, check);
    std::vector<Bit> f_left = check.all_fakes_work.value_or(true) ? f : reduce(f, check);
    std::vector<Bit> final_set = combined(s_left, f_left);
    bool changed = s_left.size() != s.size() || f_left.size() != f.size();
    if (!final_set.empty()) {
      bool final_works = check.stubs_and_fakes_work.value_or(true);
      if (changed) {
        final_works = test({final_set}).front();
      }
      if (!final_works) {
        final_set = reduce(final_set, check);
      }
      if (!final_set.empty()) {
        check.final_works = true; // what remains passed its run
      }
    }
    check.runs = m_runs;
    return check;
  }

private:
  // `stubs` and `fakes` in one probe: a verdict that works both ways counts as a stub.
  static std::vector<Bit> combined(const std::vector<Bit>& stubs, const std::vector<Bit>& fakes) {
    std::vector<Bit> all = stubs;
    all.insert(all.end(), fakes.begin(), fakes.end());
    return consistent(all);
  }

  // Runs each of `sets` as one probe, on the workers at once; true where the app works.
  std::vector<bool> test(const std::vector<std::vector<Bit>>& sets) {
    std::vector<bool> works(sets.size(), false);
    Dispatcher dispatcher(m_pool, m_workers);
    size_t submitted = 0;
    size_t done = 0;
    while (done < sets.size()) {
      throw_if_cancelled();
      while (submitted < sets.size() && dispatcher.has_free()) {
        core::Probe probe = base_probe(m_options);
        for (const Bit& b : sets[submitted]) {
          add_to(b, probe);
        }
        dispatcher.submit(submitted, std::move(probe));
        ++submitted;
      }
      Dispatcher::Done finished = dispatcher.wait();
      ++done;
      ++m_runs;
      const core::ProbeOutcome& o = finished.outcome;
      works[finished.ticket] = o.works && !o.infra_failure;
      core::Probe probe = base_probe(m_options);
      for (const Bit& b : sets[finished.ticket]) {
        add_to(b, probe);
      }
      report(probe, works[finished.ticket], o);
    }
    return works;
  }

  // `a` followed by `b`.
  static std::vector<Bit> join(const std::vector<Bit>& a, const std::vector<Bit>& b) {
    std::vector<Bit> out = a;
    out.insert(out.end(), b.begin(), b.end());
    return out;
  }

  // A smallest subset C of `items` such that `base` + C fails, given that `base` + `items`
  // fails and `base` alone works.
  std::vector<Bit> min_conflict(const std::vector<Bit>& base, const std::vector<Bit>& items) {
    if (items.size() <= 1) {
      return items;
    }
    auto middle = items.begin() + static_cast<std::ptrdiff_t>(items.size() / 2);
    std::vector<Bit> first(items.begin(), middle);
    std::vector<Bit> second(middle, items.end());
    // Both halves at once when there are workers for it (the second run is often needed).
    std::vector<bool> works;
    if (m_workers >= 2) {
      works = test({join(base, first), join(base, second)});
    } else {
      works = test({join(base, first)});
      if (works[0]) {
        works.push_back(test({join(base, second)}).front());
      }
    }
    if (!works[0]) {
      return min_conflict(base, first);
    }
    if (!works[1]) {
      return min_conflict(base, second);
    }
    // Each half works with base: the conflict needs members of both.
    std::vector<Bit> from_first = min_conflict(join(base, second), first);
    std::vector<Bit> from_second = min_conflict(join(base, from_first), second);
    return join(from_first, from_second);
  }

  // Leaves members of conflicts out of the failing `items` until the rest works; returns it.
  std::vector<Bit> reduce(std::vector<Bit> items, core::CollectiveCheck& check) {
    for (;;) {
      std::vector<Bit> conflict = min_conflict({}, items);
      check.conflicts.push_back(injection_set(conflict));
      util::log::verbose("collective check: conflict {}", describe(conflict));
      // The last member goes: syscall verdicts are kept before sub-features and pseudo-files.
      const Bit& drop = conflict.back();
      core::InjectionSet dropped = injection_set({drop});
      append(check.left_out, dropped);
      std::erase_if(items, [&](const Bit& b) { return same_target(b, drop); });
      if (items.empty() || test({items}).front()) {
        return items;
      }
    }
  }

  static void append(core::InjectionSet& to, const core::InjectionSet& from) {
    auto add = [](auto& a, const auto& b) { a.insert(a.end(), b.begin(), b.end()); };
    add(to.stubbed, from.stubbed);
    add(to.faked, from.faked);
    add(to.stubbed_features, from.stubbed_features);
    add(to.faked_features, from.faked_features);
    add(to.enoent_paths, from.enoent_paths);
    add(to.empty_paths, from.empty_paths);
  }

  std::string describe(const std::vector<Bit>& bits) const {
    core::Probe probe;
    for (const Bit& b : bits) {
      add_to(b, probe);
    }
    return probe.describe();
  }

  void report(const core::Probe& probe, bool works, const core::ProbeOutcome& outcome) {
    util::log::verbose("collective {}: {} ({}, {:.2f} s){}", probe.describe(),
                       works ? "works" : "fails", core::to_string(outcome.ended), outcome.seconds,
                       outcome.note.empty() ? "" : " - " + outcome.note);
    if (m_options.progress) {
      Progress progress;
      progress.part = k_part_collective;
      progress.doing = fmt::format("collective: {}", works ? "works" : "fails");
      progress.runs = m_runs;
      progress.elapsed = std::chrono::duration<double>(Clock::now() - m_start).count();
      m_options.progress(progress);
    }
  }

  WorkerPool& m_pool;
  const ExploreOptions& m_options;
  size_t m_workers;
  uint64_t m_runs = 0;
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

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Runs `exploration` and adds its figures to `result` (its time as step `part`).
void run_part(Exploration& exploration, const std::string& part, core::ExploreResult& result) {
  Clock::time_point start = Clock::now();
  exploration.run();
  result.stats.probe_runs += exploration.runs();
  for (const auto& [kind, runs] : exploration.runs_by_kind()) {
    result.stats.runs[kind] += runs;
  }
  result.stats.step_seconds[part] = seconds_since(start);
}

// The observations of bit `i` of `exploration`.
const std::vector<bool>& runs_of(const Exploration& exploration, size_t i) {
  return exploration.states()[i].runs;
}

// The pseudo-files of `discovery` by pattern (core::pseudo_file_pattern), counts summed.
std::vector<core::PathResult> path_results(const core::Discovery& discovery) {
  std::map<std::string, core::PathResult> by_pattern;
  for (const auto& [path, use] : discovery.paths) {
    std::string pattern = core::pseudo_file_pattern(path);
    core::PathResult& r = by_pattern[pattern];
    r.path = pattern;
    r.count += use.count;
    for (const std::string& call : use.syscalls) {
      if (std::find(r.syscalls.begin(), r.syscalls.end(), call) == r.syscalls.end()) {
        r.syscalls.push_back(call);
      }
    }
  }
  std::vector<core::PathResult> out;
  for (auto& [pattern, r] : by_pattern) {
    std::sort(r.syscalls.begin(), r.syscalls.end());
    out.push_back(std::move(r));
  }
  return out;
}

template <typename T> bool wanted(const std::vector<T>& only, const T& item) {
  return only.empty() || std::find(only.begin(), only.end(), item) != only.end();
}

// Whether the pseudo-file `p` is explored: named in options.only_paths, or else named by one
// of options.only_syscalls (all when both are empty).
bool path_wanted(const ExploreOptions& options, const core::PathResult& p) {
  if (!options.only_paths.empty()) {
    return wanted(options.only_paths, p.path);
  }
  return options.only_syscalls.empty() ||
         std::any_of(p.syscalls.begin(), p.syscalls.end(), [&](const std::string& call) {
           std::optional<int> nr = core::SyscallTable::get().number(call);
           return nr && wanted(options.only_syscalls, *nr);
         });
}

// How likely a sub-feature of syscall `nr` fails with `injection`, from the whole syscall's
// verdict in `result`: a call that works injected whole most likely works for one value too.
double feature_prior(const core::ExploreResult& result, int nr, core::Injection injection) {
  const core::SyscallResult* whole = result.find(nr);
  if (whole == nullptr) {
    return -1;
  }
  core::Verdict v = (injection == core::Injection::stub ? whole->stub : whole->fake).merged();
  return v == core::Verdict::works ? 0.05 : v == core::Verdict::fails ? 0.45 : -1;
}

} // namespace

core::ExploreResult explore(const core::Discovery& discovery, WorkerPool& pool,
                            const ExploreOptions& options) {
  Clock::time_point start = Clock::now();
  if (pool.empty()) {
    throw util::Fatal("exploration needs at least one worker");
  }
  core::ExploreResult result;
  result.strategy = to_string(options.strategy);
  result.replicas = static_cast<int>(std::max(1u, options.replicas));
  result.discovery = discovery.backend;
  result.discovery_complete = discovery.complete;
  std::vector<Bit> collective_stubs;
  std::vector<Bit> collective_fakes;
  // Bits whose verdict "works" joins the collective check's stub or fake set.
  auto collect = [&](const Bit& bit, const core::Replicas& replicas, bool stub_side) {
    if (replicas.merged() == core::Verdict::works) {
      (stub_side ? collective_stubs : collective_fakes).push_back(bit);
    }
  };

  // Syscalls: every used one stubbed and faked, every stub first (Loupe's order).
  for (const auto& [nr, count] : discovery.counts) {
    result.syscalls.push_back({nr, core::SyscallTable::get().name(nr), count, {}, {}});
  }
  if (options.parts.syscalls) {
    std::vector<Bit> bits;
    for (core::Injection injection : {core::Injection::stub, core::Injection::fake}) {
      for (const auto& [nr, count] : discovery.counts) {
        if (wanted(options.only_syscalls, nr)) {
          bits.push_back(syscall_bit(nr, injection));
        }
      }
    }
    Exploration exploration(k_part_syscalls, bits, discovery, pool, options);
    run_part(exploration, k_part_syscalls, result);
    for (size_t i = 0; i < bits.size(); ++i) {
      auto it = std::find_if(result.syscalls.begin(), result.syscalls.end(),
                             [&](const core::SyscallResult& s) { return s.nr == bits[i].nr; });
      bool stub = bits[i].injection == core::Injection::stub;
      (stub ? it->stub : it->fake).runs = runs_of(exploration, i);
      collect(bits[i], stub ? it->stub : it->fake, stub);
    }
  }

  // Sub-features: each value alone, stubbed and faked, by a seccomp argument filter.
  for (const auto& [key, count] : discovery.features) {
    result.features.push_back(core::feature_result(key, count));
  }
  if (options.parts.features) {
    std::vector<Bit> bits;
    std::vector<size_t> entry; // the result.features entry of each bit
    const std::vector<int>& only = options.only_feature_syscalls.empty()
                                       ? options.only_syscalls
                                       : options.only_feature_syscalls;
    for (core::Injection injection : {core::Injection::stub, core::Injection::fake}) {
      for (size_t i = 0; i < result.features.size(); ++i) {
        if (wanted(only, result.features[i].nr)) {
          bits.push_back(feature_bit(result.features[i].key(), injection));
          bits.back().prior = feature_prior(result, result.features[i].nr, injection);
          entry.push_back(i);
        }
      }
    }
    Exploration exploration(k_part_features, bits, discovery, pool, options);
    run_part(exploration, k_part_features, result);
    for (size_t i = 0; i < bits.size(); ++i) {
      core::FeatureResult& f = result.features[entry[i]];
      bool stub = bits[i].injection == core::Injection::stub;
      (stub ? f.stub : f.fake).runs = runs_of(exploration, i);
      collect(bits[i], stub ? f.stub : f.fake, stub);
    }
  }

  // Pseudo-files: each made missing, then an empty file, by seccomp user notification.
  result.paths = path_results(discovery);
  if (options.parts.paths) {
    std::vector<Bit> bits;
    std::vector<size_t> entry;
    for (core::PathAction action : {core::PathAction::enoent, core::PathAction::empty}) {
      for (size_t i = 0; i < result.paths.size(); ++i) {
        if (path_wanted(options, result.paths[i])) {
          bits.push_back(path_bit(result.paths[i].path, action));
          entry.push_back(i);
        }
      }
    }
    Exploration exploration(k_part_paths, bits, discovery, pool, options);
    run_part(exploration, k_part_paths, result);
    if (exploration.abandoned()) {
      result.notes.push_back(*exploration.abandoned());
      bits.clear(); // every pseudo-file stays untested
    }
    for (size_t i = 0; i < bits.size(); ++i) {
      core::PathResult& p = result.paths[entry[i]];
      bool enoent = bits[i].path.action == core::PathAction::enoent;
      (enoent ? p.enoent : p.empty).runs = runs_of(exploration, i);
      collect(bits[i], enoent ? p.enoent : p.empty, enoent);
    }
  }

  // The collective check: the verdicts found one at a time, applied all at once.
  if (options.parts.collective && (!collective_stubs.empty() || !collective_fakes.empty())) {
    Clock::time_point step = Clock::now();
    CollectiveChecker checker(pool, options);
    result.collective = checker.run(collective_stubs, collective_fakes);
    result.stats.probe_runs += result.collective.runs;
    result.stats.runs[k_part_collective] += result.collective.runs;
    result.stats.step_seconds[k_part_collective] = seconds_since(step);
  }
  result.stats.step_seconds["exploration"] = seconds_since(start);
  return result;
}

} // namespace explorer
