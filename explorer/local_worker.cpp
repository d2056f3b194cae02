#include "explorer/local_worker.h"

#include "explorer/cancel.h"
#include "explorer/filter.h"
#include "explorer/procfs.h"
#include "explorer/readiness.h"
#include "explorer/spawn.h"
#include "explorer/supervisor.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <thread>

namespace explorer {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds k_test_grace{100};
constexpr milliseconds k_infra_pause{500};

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The last non-empty line of the file at `path`, shortened, for messages.
std::string last_line(const std::filesystem::path& path) {
  util::Result<std::string> text = util::read_file(path);
  if (!text) {
    return "";
  }
  std::vector<std::string> lines = util::split(util::trim(*text), '\n');
  std::string line = lines.empty() ? "" : std::string(util::trim(lines.back()));
  if (line.size() > 200) {
    line = line.substr(0, 200) + "...";
  }
  return line;
}

// Sleeps `duration` while watching `tree`; returns early if the tree is gone.
void watch_for(ProcessTree& tree, milliseconds duration) {
  Clock::time_point deadline = Clock::now() + duration;
  while (!tree.empty() && Clock::now() < deadline) {
    throw_if_cancelled();
    auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    tree.poll(std::clamp(left, milliseconds(0), milliseconds(20)));
  }
}

// Waits for the root of `tree` until `deadline`, giving way to cancellation.
bool wait_root(ProcessTree& tree, Clock::time_point deadline) {
  while (!tree.root_exited() && Clock::now() < deadline) {
    throw_if_cancelled();
    tree.wait_root(std::min(deadline, Clock::now() + milliseconds(50)));
  }
  return tree.root_exited();
}

// Injection rules of `probe` for the supervisor; "empty" pseudo-files are `empty_file`.
SupervisorRules supervisor_rules(const core::Probe& probe, const AppConfig& config,
                                 const std::filesystem::path& empty_file) {
  SupervisorRules rules;
  for (int nr : probe.stub) {
    rules.injected[nr] = core::Injection::stub;
  }
  for (int nr : probe.fake) {
    rules.injected[nr] = core::Injection::fake;
  }
  rules.args = probe.args;
  rules.paths = probe.paths;
  rules.empty_file = empty_file;
  rules.only_consider = config.only_consider;
  return rules;
}

std::vector<std::string> app_argv(const AppConfig& config) {
  std::vector<std::string> argv{config.binary.string()};
  argv.insert(argv.end(), config.args.begin(), config.args.end());
  return argv;
}

} // namespace

const char* to_string(Mode mode) { return mode == Mode::benchmark ? "benchmark" : "sequential"; }

NetNamespace app_network(const AppConfig& config) {
  NetNamespace net;
  net.kind = config.net == NetIsolation::per_run ? NetNamespace::Kind::fresh
                                                 : NetNamespace::Kind::inherit;
  return net;
}

// Where the test script of a run whose app tree is `app` runs: with the app.
NetNamespace test_network(const AppConfig& config, const ProcessTree* app) {
  NetNamespace net = app_network(config);
  if (app != nullptr && net.kind == NetNamespace::Kind::fresh) {
    net.kind = NetNamespace::Kind::join;
    net.of = app->reaper();
  }
  return net;
}

TestRun run_test_script(const AppConfig& config, const std::filesystem::path& output,
                        const std::filesystem::path& log, NetNamespace net) {
  TestRun run;
  LaunchSpec spec;
  spec.net = net;
  spec.program = *config.test_script;
  spec.argv = {config.test_script->string(), output.string()};
  spec.output = log;
  util::Result<std::unique_ptr<ProcessTree>> tree = ProcessTree::launch(spec);
  if (!tree) {
    throw util::Fatal(fmt::format("cannot run the test script {}: {}",
                                  config.test_script->string(), tree.error()));
  }
  wait_root(**tree, Clock::now() + config.timeout);
  if (std::optional<std::string> failure = (*tree)->launch_error()) {
    throw util::Fatal(fmt::format("cannot run the test script {}: {}",
                                  config.test_script->string(), *failure));
  }
  if ((*tree)->root_exited()) {
    run.exit_code = (*tree)->root_exit_code();
  } else {
    run.timed_out = true;
  }
  // Whatever the script left behind goes with it.
  (*tree)->terminate(k_test_grace);
  return run;
}

LocalWorker::LocalWorker(AppConfig config, std::string name)
    : m_config(std::move(config)), m_name(std::move(name)) {}

core::ProbeOutcome LocalWorker::run(const core::Probe& probe) {
  Clock::time_point start = Clock::now();
  core::ProbeOutcome outcome;
  for (unsigned attempt = 0;; ++attempt) {
    outcome = run_once(probe);
    outcome.retries = attempt;
    if (outcome.test_exit != 200) {
      break;
    }
    if (attempt >= m_config.infra_retries) {
      outcome.infra_failure = true;
      outcome.works = false;
      outcome.note = fmt::format("the test script exited 200 (infrastructure failure) {} times",
                                 attempt + 1);
      break;
    }
    util::log::verbose("{}: test exited 200 (infrastructure failure), retrying {}", m_name,
                       probe.describe());
    std::this_thread::sleep_for(k_infra_pause);
  }
  outcome.seconds = seconds_since(start);
  return outcome;
}

core::ProbeOutcome LocalWorker::run_once(const core::Probe& probe) {
  Clock::time_point start = Clock::now();
  throw_if_cancelled();
  std::filesystem::path parent =
      m_config.scratch.empty() ? std::filesystem::temp_directory_path() : m_config.scratch;
  util::TempDir dir(fmt::format("probe-{}-{}", util::sanitize_name(m_name), m_sequence++),
                    parent);
  std::filesystem::path output = dir.path() / "output.log";
  std::filesystem::path test_log = dir.path() / "test.log";
  core::ProbeOutcome outcome;

  // Judges the app by the test script (or, without one, by Loupe's rules). `app_tree` is the
  // app's tree when it still runs (benchmark mode), `tree` the one to watch without a test.
  ProcessTree* app_tree = nullptr;
  auto judge = [&](core::ProbeEnd end, ProcessTree* tree) {
    outcome.ended = end;
    if (!m_config.test_script) {
      // No test script: a benchmark app must survive the test period; a sequential one
      // already exited 0.
      if (tree != nullptr) {
        watch_for(*tree, m_config.timeout);
        outcome.works = !tree->empty();
        outcome.note = outcome.works ? "" : "the app died during the test period";
      } else {
        outcome.works = true;
      }
      return;
    }
    TestRun test = run_test_script(m_config, output, test_log, test_network(m_config, app_tree));
    if (test.timed_out) {
      outcome.ended = core::ProbeEnd::test_timeout;
      outcome.works = false;
      outcome.note = fmt::format("the test script did not finish within {} ms",
                                 m_config.timeout.count());
      return;
    }
    outcome.test_exit = test.exit_code;
    outcome.works = test.exit_code == 0;
    if (!outcome.works) {
      std::string line = last_line(test_log);
      outcome.note = fmt::format("the test script exited {}{}{}", test.exit_code,
                                 line.empty() ? "" : ": ", line);
    }
  };

  if (probe.without_app) {
    util::Result<void> created = util::write_file_atomic(output, "");
    if (!created) {
      throw util::Fatal(created.error());
    }
    if (!m_config.test_script) {
      throw util::Fatal("a probe without the app needs a test script");
    }
    judge(core::ProbeEnd::judged, nullptr);
    return outcome;
  }

  // The app, with the probe's injections installed right before its exec.
  std::optional<FilterProgram> filter;
  std::filesystem::path empty_file = dir.path() / "empty";
  if (!probe.paths.empty()) {
    if (util::Result<void> created = util::write_file_atomic(empty_file, ""); !created) {
      throw util::Fatal(created.error());
    }
  }
  if (!probe.empty()) {
    Delivery delivery = probe.count_hits || m_config.only_consider ? Delivery::notify
                                                                    : Delivery::errno_action;
    util::Result<FilterProgram> built = injection_filter(probe, delivery);
    if (!built) {
      throw util::Fatal(built.error());
    }
    filter = std::move(*built);
  }
  LaunchSpec spec;
  spec.program = m_config.binary;
  spec.argv = app_argv(m_config);
  spec.output = output;
  spec.filter = filter ? &*filter : nullptr;
  spec.net = app_network(m_config);
  util::Result<std::unique_ptr<ProcessTree>> launched = ProcessTree::launch(spec);
  if (!launched) {
    throw util::Fatal(launched.error());
  }
  ProcessTree& tree = **launched;
  std::optional<InjectionSupervisor> supervisor;
  if (filter && filter->listener) {
    int listener = tree.take_listener(milliseconds(10000));
    if (listener >= 0) {
      supervisor.emplace(listener, supervisor_rules(probe, m_config, empty_file));
    }
  }
  auto fail_launch = [&] {
    if (std::optional<std::string> failure = tree.launch_error()) {
      throw util::Fatal(fmt::format("{}: {}", m_config.binary.string(), *failure));
    }
  };

  if (m_config.mode == Mode::sequential) {
    bool exited = wait_root(tree, Clock::now() + m_config.timeout);
    fail_launch();
    if (!exited) {
      outcome.ended = core::ProbeEnd::app_timeout;
      outcome.note = fmt::format("the app did not finish within {} ms", m_config.timeout.count());
      tree.terminate(m_config.kill_grace);
    } else {
      outcome.app_exit = tree.root_exit_code();
      tree.terminate(m_config.kill_grace); // what it left running
      if (outcome.app_exit != 0) {
        outcome.ended = core::ProbeEnd::app_failed;
        std::string line = last_line(output);
        outcome.note = fmt::format("the app exited with status {}{}{}", outcome.app_exit,
                                   line.empty() ? "" : ": ", line);
      } else {
        judge(core::ProbeEnd::judged, nullptr);
      }
    }
  } else {
    std::chrono::milliseconds kill_grace = m_config.kill_grace;
    ReadyResult ready;
    if (m_config.startup == Startup::fixed_sleep) {
      watch_for(tree, m_config.fixed_sleep);
      ready.state = tree.empty() ? ReadyState::exited : ReadyState::ready;
      if (!tree.empty()) {
        std::vector<pid_t> members = tree.members();
        ready.ports = tree_listening(members).ports;
        ready.processes = static_cast<int>(members.size());
      }
    } else {
      AppConfig config = m_config;
      if (probe.ready_timeout_ms > 0) {
        config.ready_timeout = std::chrono::milliseconds(probe.ready_timeout_ms);
      }
      ready = wait_ready(
          tree,
          {std::set<int>(probe.expect_ports.begin(), probe.expect_ports.end()),
           probe.expect_processes},
          config, output);
    }
    outcome.ready_seconds = seconds_since(start);
    fail_launch();
    outcome.listening.assign(ready.ports.begin(), ready.ports.end());
    outcome.processes = ready.processes;
    if (ready.state == ReadyState::exited && m_config.on_early_exit == OnEarlyExit::fail_at_once) {
      outcome.ended = core::ProbeEnd::app_exited;
      std::string line = last_line(output);
      outcome.note = fmt::format("the app exited before it was ready{}{}",
                                 line.empty() ? "" : ": ", line);
    } else if (ready.state == ReadyState::ready && probe.until_ready) {
      outcome.ended = core::ProbeEnd::ready;
      kill_grace = std::chrono::milliseconds(0); // screening: how it ends tells nothing
    } else {
      app_tree = &tree;
      judge(ready.state == ReadyState::not_ready ? core::ProbeEnd::not_ready
                                                 : core::ProbeEnd::judged,
            &tree);
      // What the app calls from here on (its shutdown) cannot change the verdict.
      if (supervisor) {
        supervisor->mark_verdict();
      }
      if (probe.kill_at_verdict) {
        kill_grace = std::chrono::milliseconds(0);
      }
    }
    tree.terminate(kill_grace);
  }
  if (supervisor) {
    SupervisorHits hits = supervisor->finish();
    outcome.unreadable_paths = hits.unreadable;
    outcome.hits = std::move(hits.syscalls);
    outcome.late_hits = std::move(hits.late);
    if (probe.count_hits || !probe.paths.empty()) {
      outcome.arg_hits = std::move(hits.args);
      outcome.path_hits = std::move(hits.paths);
    }
  }
  return outcome;
}

} // namespace explorer
