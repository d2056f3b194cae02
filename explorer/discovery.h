#pragma once
// Discovery by ptrace: which system calls does the app make, and how often?
//
// The app runs under its reaper (explorer/spawn.h) and waits until this process has seized it
// (PTRACE_SEIZE: fork, vfork, clone, exec and seccomp events, EXITKILL); then it installs a
// filter returning SECCOMP_RET_TRACE for every call and execs. Each call therefore costs one
// stop (PTRACE_SYSCALL would cost two), and nothing lupa does before the exec is counted, while
// the app's own execve is (as strace -f shows it). Threads, fork/vfork/clone/clone3, exec by a
// non-leader thread, exits, signals (re-injected) and group-stops (PTRACE_LISTEN) are handled.
// In benchmark mode the test script drives the app meanwhile, so the calls it triggers count.
//
// With --only-consider BIN, a call counts only when its process runs BIN (tracked on every
// exec; a new process inherits its parent's image).
//
// Below syscall granularity, each counted call also gives its sub-feature keys (the argument
// values of core/subfeatures.h) and, for calls naming a path, the path as named, read from the
// stopped caller's memory, when it lies under /proc, /sys or /dev (relative paths are not
// resolved, as the eBPF tracer does not either).

#include "core/discovery.h"
#include "explorer/config.h"
#include "util/error.h"

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

namespace explorer {

// One counted call, seen while its thread is stopped before the call runs.
struct SyscallEvent {
  pid_t tid = -1;
  int nr = -1;
  std::array<uint64_t, 6> args{};
};

// Called for every counted call (after discovery's own recording); runs on the tracer thread
// while `tid` is stopped, so it may read the tracee's memory.
using SyscallObserver = std::function<void(const SyscallEvent& event)>;

struct DiscoveryOptions {
  std::vector<int> expect_ports; // readiness (benchmark mode), as learnt from the baseline
  int expect_processes = 0;      // ditto
  SyscallObserver observer;      // optional
  unsigned attempts = 3;         // runs allowed for the test to pass under tracing
};

// Runs the app of `config` traced and returns what it called, or why discovery failed.
util::Result<core::Discovery> discover(const AppConfig& config, const DiscoveryOptions& options);

// How discovery's timeouts scale with ptrace's slowdown (app and test script).
inline constexpr int k_discovery_timeout_factor = 4;

} // namespace explorer
