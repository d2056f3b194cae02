#pragma once
// Launching a program under its own reaper, so the whole process tree it creates can be
// watched and killed as a unit, from several threads at once:
//
//   explorer --fork--> reaper (new session, child subreaper) --clone--> launched program
//
// The reaper adopts every orphan of the tree (PR_SET_CHILD_SUBREAPER: daemonizing children stay
// in it), reaps every exit, reports the launched program's exit and the end of the tree over a
// socket, and on request, or when the explorer dies, ends the whole tree: SIGTERM, a grace
// period, then SIGKILL until nothing is left. No stray process survives a run.
//
// A seccomp filter (explorer/filter.h) can be installed in the launched program right before
// its execve, so nothing lupa does before the exec is filtered or counted. A filter with a
// user-notification listener shares its fd table with the reaper until the exec (CLONE_FILES),
// so the listener reaches the explorer without the launched program making any system call
// after the filter is installed (any call could be one of those being injected).
//
// Code that runs after fork uses plain system calls only: the explorer is multithreaded.

#include "explorer/filter.h"
#include "util/error.h"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace explorer {

// Whether the launched program waits for a tracer before installing its filter and exec'ing.
enum class WaitForTracer { no, yes };

// The network namespace of the tree.
struct NetNamespace {
  enum class Kind {
    inherit, // lupa's own
    fresh,   // a new one with only loopback, up (needs CAP_SYS_ADMIN): no port clashes
    join,    // the one of another tree (`of`), e.g. a test script joining its app
  } kind = Kind::inherit;
  pid_t of = -1; // with join: a process in the namespace to join
};

// What to launch and how.
struct LaunchSpec {
  std::filesystem::path program;     // executed as is (absolute or relative to the cwd)
  std::vector<std::string> argv;     // argv[0] included
  std::filesystem::path output;      // receives stdout and stderr (created or truncated)
  const FilterProgram* filter = nullptr; // installed right before execve when set
  WaitForTracer wait_for_tracer = WaitForTracer::no;
  NetNamespace net;
};

// True if this process may create network namespaces (CAP_SYS_ADMIN).
bool can_isolate_network();

struct SharedLaunchState; // memory shared with the reaper and the launched program

// A launched program and its process tree, owned through its reaper.
class ProcessTree {
public:
  // Starts `spec` under a new reaper; returns once the launched process exists.
  static util::Result<std::unique_ptr<ProcessTree>> launch(const LaunchSpec& spec);

  // Ends the tree if still running (SIGKILL, no grace).
  ~ProcessTree();
  ProcessTree(const ProcessTree&) = delete;
  ProcessTree& operator=(const ProcessTree&) = delete;

  // The reaper's pid (the tree is its descendants).
  pid_t reaper() const { return m_reaper; }
  // The launched process's pid.
  pid_t root() const { return m_root; }

  // The seccomp listener of the launched program's filter (ownership passes to the caller);
  // waits up to `timeout` for it. -1 when the filter has none or the program died first.
  int take_listener(std::chrono::milliseconds timeout);
  // Lets a launched program that waits for its tracer go on (call after PTRACE_SEIZE).
  void tracer_attached();

  // Processes the reaper's news, waiting up to `timeout` for some.
  void poll(std::chrono::milliseconds timeout);
  // Waits until the launched process exits or `deadline` passes; true if it exited.
  bool wait_root(std::chrono::steady_clock::time_point deadline);
  // Waits until every process of the tree is gone or `deadline` passes; true if gone.
  bool wait_empty(std::chrono::steady_clock::time_point deadline);

  // True once the launched process exited; its wait status is then `root_status()`.
  bool root_exited() const { return m_root_exited; }
  int root_status() const { return m_root_status; }
  // The exit status as a shell reports it: the code, or 128+signal.
  int root_exit_code() const;
  // True once no process of the tree is left.
  bool empty() const { return m_empty; }
  // Why the launched program could not start (filter or execve failure), if it could not.
  std::optional<std::string> launch_error() const;

  // The live processes of the tree (the reaper's descendants), read from /proc.
  std::vector<pid_t> members() const;

  // Ends the tree: SIGTERM to every member, up to `grace` for them to exit, then SIGKILL until
  // nothing is left; returns once the reaper itself is reaped.
  void terminate(std::chrono::milliseconds grace);

private:
  ProcessTree() = default;
  void handle_message(int type, int value, int fd);

  pid_t m_reaper = -1;
  pid_t m_root = -1;
  int m_ctl = -1;
  int m_listener = -1;
  bool m_root_exited = false;
  int m_root_status = 0;
  bool m_empty = false;
  bool m_reaped = false;
  int m_reaper_error = 0;
  SharedLaunchState* m_shared = nullptr;
};

} // namespace explorer
