#pragma once
// The user-space side of injections delivered by seccomp user notification: a thread that
// answers each notified call with -ENOSYS (stub) or 0 (fake), or lets it run
// (SECCOMP_USER_NOTIF_FLAG_CONTINUE) when it is
//  - the exec lupa itself makes to start the app (the caller still runs lupa's image), or
//  - made by a process whose executable is not the --only-consider binary.
// It counts the injected calls per syscall (`hits`): which injections the app exercised.

#include "core/result.h"

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <thread>

namespace explorer {

// What the supervisor injects.
struct SupervisorRules {
  std::map<int, core::Injection> injected; // whole syscalls and how
  std::optional<std::filesystem::path> only_consider; // inject only into this executable
};

class InjectionSupervisor {
public:
  // Serves `listener` (ownership taken) by `rules` on a new thread.
  InjectionSupervisor(int listener, SupervisorRules rules);
  // Stops serving (see `finish`).
  ~InjectionSupervisor();
  InjectionSupervisor(const InjectionSupervisor&) = delete;
  InjectionSupervisor& operator=(const InjectionSupervisor&) = delete;

  // Stops the thread and returns the injected calls per syscall. Call once the tree is gone:
  // a call still waiting for an answer would wait until its process is killed.
  std::map<int, uint64_t> finish();

private:
  void serve();
  // True if the call of `pid` to syscall `nr` must be injected.
  bool should_inject(pid_t pid, int nr);

  int m_listener;
  int m_stop;
  SupervisorRules m_rules;
  std::filesystem::path m_self_exe;
  std::map<int, uint64_t> m_hits;
  std::thread m_thread;
  bool m_finished = false;
};

// The executable of process `pid` (its /proc/<pid>/exe link), or empty when it is gone.
std::filesystem::path executable_of(pid_t pid);

} // namespace explorer
