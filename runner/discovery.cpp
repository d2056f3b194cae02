#include "runner/discovery.h"

#include "core/probe.h"
#include "tracer/cgroup.h"
#include "tracer/discovery.h"
#include "util/log.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace runner {

namespace {

constexpr unsigned k_attempts = 3; // as ptrace discovery: the test must pass while traced

// The probe that runs the app as the baseline did (readiness learnt from it).
core::Probe workload_probe(const explorer::Baseline& baseline) {
  core::Probe probe;
  probe.expect_ports = baseline.ports;
  probe.expect_processes = baseline.processes;
  return probe;
}

// One eBPF measurement of `probe` on `worker` within `scope`.
util::Result<tracer::TraceReport> measure(const tracer::Scope& scope, ContainerWorker& worker,
                                          const core::Probe& probe, core::ProbeOutcome& outcome) {
  TRY_ASSIGN(std::unique_ptr<tracer::EbpfDiscovery> discovery, tracer::EbpfDiscovery::start(scope));
  outcome = worker.run(probe);
  TRY_ASSIGN(tracer::TraceReport report, discovery->finish());
  if (report.triggers == 0) {
    tracer::mark_incomplete(report, "the app's exec was never seen in the container");
  }
  return report;
}

// The counts of `probe`, a run cut short at a phase's end (ready, or the verdict), when it
// ended there with nothing lost; else empty (phase unknown). `runs` counts the run.
util::Result<std::map<int, uint64_t>> phase_counts(const tracer::Scope& scope,
                                                   ContainerWorker& worker,
                                                   const core::Probe& probe, uint64_t& runs) {
  core::ProbeOutcome outcome;
  TRY_ASSIGN(tracer::TraceReport report, measure(scope, worker, probe, outcome));
  ++runs;
  bool ended_there = probe.until_ready ? outcome.ended == core::ProbeEnd::ready : outcome.works;
  if (!ended_there || !report.discovery.complete) {
    return std::map<int, uint64_t>{};
  }
  return std::move(report.discovery.counts);
}

// `phase` limited to the calls of `counts` (another run of the same app: a phase is a subset).
std::map<int, uint64_t> within(const std::map<int, uint64_t>& phase,
                               const std::map<int, uint64_t>& counts) {
  std::map<int, uint64_t> out;
  for (const auto& [nr, count] : phase) {
    if (auto it = counts.find(nr); it != counts.end()) {
      out[nr] = std::min(count, it->second);
    }
  }
  return out;
}

} // namespace

const char* to_string(DiscoveryBackend backend) {
  switch (backend) {
  case DiscoveryBackend::automatic:
    return "auto";
  case DiscoveryBackend::ebpf:
    return "ebpf";
  case DiscoveryBackend::ptrace:
    return "ptrace";
  }
  return "?";
}

std::optional<DiscoveryBackend> discovery_backend_from_string(std::string_view name) {
  for (DiscoveryBackend b :
       {DiscoveryBackend::automatic, DiscoveryBackend::ebpf, DiscoveryBackend::ptrace}) {
    if (name == to_string(b)) {
      return b;
    }
  }
  return std::nullopt;
}

util::Result<ContainerDiscovery> discover_ebpf(const ContainerSetup& setup, ContainerWorker& worker,
                                               const explorer::Baseline& baseline) {
  TRY(tracer::ebpf_discovery_available());
  pid_t pid = worker.host_pid();
  std::string root = fmt::format("/proc/{}/root", pid);
  tracer::Scope scope;
  TRY_ASSIGN(tracer::Cgroup cgroup, tracer::cgroup_of_pid(pid));
  if (cgroup.level == 0) {
    return util::error(fmt::format("container {} has no cgroup v2 of its own", worker.name()));
  }
  scope.cgroup = cgroup;
  TRY_ASSIGN(tracer::BinaryId binary, tracer::BinaryId::of(root + setup.app.binary.string()));
  scope.exec_trigger = tracer::ExecTrigger{pid, binary};
  if (setup.app.only_consider) {
    TRY_ASSIGN(scope.only_binary, tracer::BinaryId::of(root + setup.app.only_consider->string()));
  }

  ContainerDiscovery out;
  // Benchmark mode, the app's phases, each a run cut short: what it calls until it is ready
  // (set-up, recorded in results.json as under ptrace, where it is a free snapshot), and until
  // the test script decided (killed there: the calls missing are its shutdown, which the
  // strategy groups freely). Empty when the cut run did not end as it should.
  std::map<int, uint64_t> startup;
  std::map<int, uint64_t> before_verdict;
  if (setup.app.mode == explorer::Mode::benchmark) {
    core::Probe until_ready = workload_probe(baseline);
    until_ready.until_ready = true;
    TRY_ASSIGN(startup, phase_counts(scope, worker, until_ready, out.runs));
    core::Probe until_verdict = workload_probe(baseline);
    until_verdict.kill_at_verdict = true;
    TRY_ASSIGN(before_verdict, phase_counts(scope, worker, until_verdict, out.runs));
  }
  for (unsigned attempt = 1;; ++attempt) {
    core::ProbeOutcome outcome;
    TRY_ASSIGN(tracer::TraceReport report, measure(scope, worker, workload_probe(baseline), outcome));
    ++out.runs;
    if (!report.discovery.complete) {
      return util::error(fmt::format("eBPF discovery is incomplete: {}",
                                     report.discovery.incomplete_reason));
    }
    if (outcome.works) {
      out.discovery = std::move(report.discovery);
      out.discovery.startup = within(startup, out.discovery.counts);
      out.discovery.before_verdict = within(before_verdict, out.discovery.counts);
      return out;
    }
    if (attempt >= k_attempts) {
      return util::error(fmt::format(
          "the app failed its test {} times while traced by eBPF (last: {}{})", attempt,
          core::to_string(outcome.ended), outcome.note.empty() ? "" : ": " + outcome.note));
    }
    util::log::verbose("discovery: the test failed while traced ({}), again", outcome.note);
  }
}

util::Result<ContainerDiscovery> discover_ptrace(ContainerWorker& worker,
                                                 const explorer::Baseline& baseline) {
  ContainerDiscovery result;
  TRY_ASSIGN(result.discovery, worker.discover(workload_probe(baseline)));
  result.runs = 1;
  return result;
}

util::Result<ContainerDiscovery> discover_in_container(const ContainerSetup& setup,
                                                       ContainerWorker& worker,
                                                       const explorer::Baseline& baseline,
                                                       DiscoveryBackend backend) {
  if (backend == DiscoveryBackend::ptrace) {
    return discover_ptrace(worker, baseline);
  }
  util::Result<ContainerDiscovery> ebpf = discover_ebpf(setup, worker, baseline);
  if (ebpf || backend == DiscoveryBackend::ebpf) {
    return ebpf;
  }
  util::log::warn("eBPF discovery not used: {}; falling back to ptrace discovery in the container",
                  ebpf.error());
  TRY_ASSIGN(ContainerDiscovery ptrace, discover_ptrace(worker, baseline));
  ptrace.fallback = ebpf.error();
  return ptrace;
}

} // namespace runner
