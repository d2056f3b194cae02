#pragma once
// The seccomp programs lupa installs in an app right before its execve, built with libseccomp
// and exported as raw BPF so the launched child only has to call seccomp(2).
//
// - Discovery: every x86-64 system call stops at the tracer (SECCOMP_RET_TRACE): one ptrace
//   stop per call, and nothing before the exec is counted.
// - Injection: a stubbed call returns -ENOSYS, a faked one returns 0, without running
//   (SECCOMP_RET_ERRNO with 38 or 0). When the injections must be counted or depend on which
//   program makes the call (--only-consider), they go to a user-notification supervisor
//   (explorer/supervisor.h) instead. execve/execveat always do when injected: the app's own
//   first exec, made by lupa, must still succeed.
// - Sub-features: an argument rule becomes a conditional rule of the same actions
//   (SCMP_CMP_EQ, or SCMP_CMP_MASKED_EQ for masked values and flag bits), so a stubbed ioctl
//   request costs nothing more than a stubbed syscall. Rules of one syscall that could match the
//   same call with different injections go to the supervisor, which applies the first match.
// - Pseudo-files: every syscall that names a path goes to the supervisor (a seccomp filter
//   cannot read strings), which reads the path and decides.

#include "core/probe.h"
#include "util/error.h"

#include <linux/filter.h>

#include <vector>

namespace explorer {

// A BPF program ready for seccomp(SECCOMP_SET_MODE_FILTER).
struct FilterProgram {
  std::vector<sock_filter> code;
  bool listener = false;        // install with SECCOMP_FILTER_FLAG_NEW_LISTENER
  bool no_new_privs = false;    // set PR_SET_NO_NEW_PRIVS first (lupa lacks CAP_SYS_ADMIN)
};

// How injected calls reach the app.
enum class Delivery {
  errno_action, // SECCOMP_RET_ERRNO in the kernel (fastest); exec calls still notify
  notify,       // every injected call goes to the supervisor (counts hits, --only-consider)
};

// The discovery program: SECCOMP_RET_TRACE for every call of every ABI.
util::Result<FilterProgram> trace_all_filter();

// The injection program of `probe` (whole-syscall stubs and fakes, argument rules, path rules)
// delivered by `delivery`; fails when the probe injects one syscall twice.
util::Result<FilterProgram> injection_filter(const core::Probe& probe, Delivery delivery);

// True if the syscall `nr` replaces the process image (execve, execveat).
bool is_exec_syscall(int nr);

} // namespace explorer
