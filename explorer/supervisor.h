#pragma once
// The user-space side of injections delivered by seccomp user notification: a thread that
// answers each notified call with -ENOSYS (stub) or 0 (fake), or lets it run
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE) when it is
//  - the exec lupa itself makes to start the app (the caller still runs lupa's image), or
//  - made by a process whose executable is not the --only-consider binary, or
//  - a call no rule is about (a path that no path rule names, arguments no rule matches).
// Argument rules are matched on the call's arguments, first rule first. Path rules read the
// path from the caller's memory (process_vm_readv, or /proc/<pid>/mem) and make it missing
// (-ENOENT) or an empty regular file: an open gets an fd of an empty file
// (SECCOMP_IOCTL_NOTIF_ADDFD), the stat family the description of one (written into the caller's
// buffer), access succeeds unless X_OK is asked, readlink fails with EINVAL, chdir with ENOTDIR,
// exec with EACCES; the calls that do not read the file (chmod, chown, utimensat, truncate, xattrs,
// statfs, inotify, mknod, name_to_handle_at) run on the real path. It counts the injected calls per
// syscall, per argument rule and per path rule (`hits`): which injections the app exercised.

#include "core/probe.h"

#include <linux/seccomp.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace explorer {

// What the supervisor injects.
struct SupervisorRules {
  std::map<int, core::Injection> injected; // whole syscalls and how
  std::vector<core::ArgRule> args;         // sub-features, first match wins
  std::vector<core::PathRule> paths;       // pseudo-files
  // An empty regular file: read opens of "empty" paths get an fd of it (the supervisor opens
  // it); write opens get a fresh unnamed file in its directory, so nothing written is read back.
  std::filesystem::path empty_file;
  std::optional<std::filesystem::path> only_consider; // inject only into this executable
};

// The injected calls a supervisor answered.
struct SupervisorHits {
  std::map<int, uint64_t> syscalls; // per syscall number
  std::map<int, uint64_t> late;     // ... of those, made after mark_verdict()
  std::vector<uint64_t> args;       // per argument rule, in the rules' order
  std::vector<uint64_t> paths;      // per path rule
  // Paths the supervisor was not allowed to read (EPERM: a process of another user without
  // CAP_SYS_PTRACE): path rules could not be applied to those calls.
  uint64_t unreadable = 0;
};

class InjectionSupervisor {
public:
  // Serves `listener` (ownership taken) by `rules` on a new thread.
  InjectionSupervisor(int listener, SupervisorRules rules);
  // Stops serving (see `finish`).
  ~InjectionSupervisor();
  InjectionSupervisor(const InjectionSupervisor&) = delete;
  InjectionSupervisor& operator=(const InjectionSupervisor&) = delete;

  // Stops the thread and returns the injected calls. Call once the tree is gone: a call still
  // waiting for an answer would wait until its process is killed.
  SupervisorHits finish();
  // From now on, injected calls also count as late (made after the test script decided).
  void mark_verdict() { m_after_verdict.store(true); }

private:
  void serve();
  // Answers the notification `request` (a seccomp_notif).
  void answer(const seccomp_notif& request);
  // True if the call of `pid` to syscall `nr` must be injected.
  bool should_inject(pid_t pid, int nr);
  // The pseudo-file path rule the call (`nr` by `pid` with `args`) names, or -1.
  int path_rule_of(pid_t pid, int nr, const std::array<uint64_t, 6>& args);

  int m_listener;
  int m_stop;
  SupervisorRules m_rules;
  std::filesystem::path m_self_exe;
  SupervisorHits m_hits;
  std::atomic<bool> m_after_verdict{false};
  std::thread m_thread;
  bool m_finished = false;
};

// The executable of process `pid` (its /proc/<pid>/exe link), or empty when it is gone.
std::filesystem::path executable_of(pid_t pid);

// Reads `size` bytes at `address` of process `pid` into `out` with process_vm_readv, or
// through /proc/<pid>/mem where a seccomp profile refuses that call (Docker's default profile
// without CAP_SYS_PTRACE). Returns the bytes read, or -1 with errno set (EPERM: not allowed).
ssize_t read_memory(pid_t pid, uint64_t address, void* out, size_t size);

// Writes `size` bytes at `data` to `address` of process `pid` (the same two ways); true if all.
bool write_memory(pid_t pid, uint64_t address, const void* data, size_t size);

// The NUL-terminated string at `address` in the memory of process `pid` (at most `max` bytes),
// or nullopt when it cannot be read (errno EPERM when not allowed).
std::optional<std::string> read_string(pid_t pid, uint64_t address, size_t max = 4096);

} // namespace explorer
