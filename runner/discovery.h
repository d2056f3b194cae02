#pragma once
// Discovery for the runner: which syscalls does the app make in its container, under its
// workload? By eBPF from the host when this process may load BPF programs (the container's
// cgroup, from the exec of the app's binary by the worker's explorer: neither the runtime nor
// lupa-explore nor the test script is counted), else by ptrace in the same container (the
// worker's explorer traces the app), with a message saying why. Either way the app runs in the
// first worker's container right after its baseline, like every probe after it.

#include "docker/engine.h"
#include "explorer/baseline.h"
#include "runner/container_worker.h"
#include "util/error.h"

#include <optional>
#include <string>
#include <string_view>

namespace runner {

enum class DiscoveryBackend { automatic, ebpf, ptrace };

// "auto", "ebpf" or "ptrace".
const char* to_string(DiscoveryBackend backend);
// The backend called `name`, if any.
std::optional<DiscoveryBackend> discovery_backend_from_string(std::string_view name);

// What the runner's discovery found, and how.
struct ContainerDiscovery {
  core::Discovery discovery;
  std::string fallback; // why eBPF was not used or not trusted (empty: it was, or not asked)
  uint64_t runs = 0;    // app runs it took
};

// Discovers the syscalls of the app of `setup` with `backend` in `worker`'s container (the
// runner's first worker; `baseline`'s readiness applies).
util::Result<ContainerDiscovery> discover_in_container(const ContainerSetup& setup,
                                                       ContainerWorker& worker,
                                                       const explorer::Baseline& baseline,
                                                       DiscoveryBackend backend);

// eBPF discovery only (see above); an error when eBPF is unavailable or lost events.
util::Result<ContainerDiscovery> discover_ebpf(const ContainerSetup& setup, ContainerWorker& worker,
                                               const explorer::Baseline& baseline);

// ptrace discovery only, by `worker`'s explorer in its container.
util::Result<ContainerDiscovery> discover_ptrace(ContainerWorker& worker,
                                                 const explorer::Baseline& baseline);

} // namespace runner
