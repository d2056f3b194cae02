#include "explorer/baseline.h"

#include <fmt/format.h>

namespace explorer {

namespace {

std::string with_note(std::string what, const std::string& note) {
  return note.empty() ? what : what + ": " + note;
}

// Why the unmodified app's probe `outcome` is not a pass, in one line.
std::string baseline_failure(const core::ProbeOutcome& outcome, const AppConfig& config) {
  double timeout = std::chrono::duration<double>(config.timeout).count();
  if (outcome.infra_failure) {
    return "baseline: the test script kept exiting 200 (infrastructure failure)";
  }
  switch (outcome.ended) {
  case core::ProbeEnd::app_exited:
    return with_note("baseline: the unmodified app exited before it was ready (a benchmark app "
                     "must keep running; use --test-sequential for programs that finish)",
                     outcome.note);
  case core::ProbeEnd::not_ready:
    return fmt::format(
        "baseline: the unmodified app never became ready within {:g} s ({}; set --ready-port "
        "or --ready-timeout)",
        std::chrono::duration<double>(config.ready_timeout).count(),
        config.ready_port ? fmt::format("it did not listen on port {}", *config.ready_port)
                          : std::string("it neither listened on a port nor went quiet"));
  case core::ProbeEnd::app_timeout:
    return fmt::format("baseline: the unmodified app did not finish within {:g} s (--timeout)",
                       timeout);
  case core::ProbeEnd::test_timeout:
    return fmt::format("baseline: the test script did not finish within {:g} s (--timeout)",
                       timeout);
  case core::ProbeEnd::app_failed:
    return with_note("baseline: the unmodified app failed", outcome.note);
  default:
    return with_note("baseline: the unmodified app does not pass its test", outcome.note);
  }
}

} // namespace

util::Result<Baseline> check_baseline(Worker& worker, const AppConfig& config) {
  Baseline baseline;
  core::Probe unmodified;
  core::ProbeOutcome app = worker.run(unmodified);
  ++baseline.runs;
  baseline.seconds = app.seconds;
  if (!app.works || app.ended == core::ProbeEnd::not_ready) {
    return util::error(baseline_failure(app, config));
  }
  baseline.ports = app.listening;
  baseline.processes = app.processes;
  baseline.ready_seconds = app.ready_seconds;
  if (config.test_script) {
    core::Probe no_app;
    no_app.without_app = true;
    core::ProbeOutcome alone = worker.run(no_app);
    ++baseline.runs;
    if (alone.works) {
      return util::error(fmt::format(
          "baseline: the test script {} passes even when the app is not running, so it cannot "
          "tell a working app from a broken one",
          config.test_script->string()));
    }
  }
  return baseline;
}

} // namespace explorer
