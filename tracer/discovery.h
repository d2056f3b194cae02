#pragma once
// eBPF syscall discovery: the API the runner, the explorer comparison tests and `lupa trace`
// use. Counting happens in the kernel (tracer/bpf/sysdisc.bpf.c); the result is a
// core::Discovery with backend "ebpf", directly comparable with ptrace discovery's.
//
// The runner's use, for an app started in a container by lupa-explore (pid P on the host),
// without the runtime's syscalls:
//
//   tracer::Scope scope;
//   scope.cgroup = TRY(tracer::cgroup_of_pid(P));           // optional extra filter
//   scope.exec_trigger = tracer::ExecTrigger{P, TRY(tracer::BinaryId::of(
//       fmt::format("/proc/{}/root{}", P, binary_in_container)))};
//   TRY_ASSIGN(auto discovery, tracer::EbpfDiscovery::start(scope));
//   ... let P exec the app, run the workload, stop the app ...
//   TRY_ASSIGN(tracer::TraceReport report, discovery->finish());
//   if (!report.discovery.complete) ... report.discovery.incomplete_reason ...
//
// and "everything in cgroup C": Scope{.cgroup = C}. ebpf_discovery_available() says whether
// this machine allows it (capabilities, BTF), so the caller can fall back to ptrace.

#include "tracer/probe.h"
#include "tracer/report.h"
#include "tracer/scope.h"
#include "util/error.h"

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tracer {

// Ok when eBPF discovery can run here (capabilities, kernel BTF), else why not (one line per
// missing piece, with a HINT).
util::Result<void> ebpf_discovery_available();

// A running eBPF discovery.
class EbpfDiscovery {
public:
  // Starts counting for `scope` with `options`, through `probe` (the BPF probe when null).
  static util::Result<std::unique_ptr<EbpfDiscovery>>
  start(const Scope& scope, const ProbeOptions& options = {},
        std::unique_ptr<SyscallProbe> probe = nullptr);

  EbpfDiscovery(const EbpfDiscovery&) = delete;
  EbpfDiscovery& operator=(const EbpfDiscovery&) = delete;
  // Detaches the probe if finish() was not called.
  ~EbpfDiscovery();

  // The counts so far; the probe stays attached.
  util::Result<TraceReport> snapshot();
  // Detaches the probe and returns the final counts.
  util::Result<TraceReport> finish();

private:
  EbpfDiscovery(Scope scope, std::unique_ptr<SyscallProbe> probe);
  util::Result<TraceReport> report();

  Scope m_scope;
  std::unique_ptr<SyscallProbe> m_probe;
  std::chrono::steady_clock::time_point m_start;
  bool m_stopped = false;
};

// Why a measurement ended.
enum class StopReason { exited, duration, interrupted };

// How long to measure and what to do meanwhile.
struct RunOptions {
  std::optional<std::chrono::milliseconds> duration; // stop after this long
  std::chrono::milliseconds interval{0};             // call on_snapshot this often (0: never)
  std::function<void(const TraceReport&)> on_snapshot;
  ProbeOptions probe;
  std::optional<BinaryId> only_binary; // discover_command: count only this binary's calls
};

// A traced command.
struct CommandTrace {
  TraceReport report;
  int exit_status = 0; // as a shell reports it: the exit code, or 128 + the signal
  StopReason stop = StopReason::exited;
};

// Runs `argv` (argv[0] looked up in PATH) with its whole process tree traced from its exec
// on: the eBPF counterpart of `strace -f -c -- argv`. Stops when the command exits; on
// SIGINT/SIGTERM or when `options.duration` passes, the command is terminated (SIGTERM, then
// SIGKILL after 2 s) and the counts so far are returned.
util::Result<CommandTrace> discover_command(const std::vector<std::string>& argv,
                                            const RunOptions& options,
                                            std::unique_ptr<SyscallProbe> probe = nullptr);

// A traced scope (a container, running processes).
struct ScopeTrace {
  TraceReport report;
  StopReason stop = StopReason::duration;
};

// Traces `scope` until `options.duration` passes or SIGINT/SIGTERM arrives (or, when the
// scope has roots, until they have all exited).
util::Result<ScopeTrace> trace_scope(const Scope& scope, const RunOptions& options,
                                     std::unique_ptr<SyscallProbe> probe = nullptr);

} // namespace tracer
