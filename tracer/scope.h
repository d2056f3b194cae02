#pragma once
// Which tasks an eBPF measurement traces: one cgroup v2 (a container), running process trees,
// and/or trees started by the exec of a binary by a given process (the app started by the
// container's init or by lupa-explore, without the runtime's own syscalls before that exec).

#include "util/error.h"

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace tracer {

// An executable file as the kernel identifies it: device and inode.
struct BinaryId {
  uint64_t dev = 0; // st_dev as stat(2) returns it
  uint64_t ino = 0;

  // The id of the file at `path` (symlinks followed), or an error naming it. For a binary in a
  // container, pass /proc/<pid>/root/<path in the container>.
  static util::Result<BinaryId> of(const std::filesystem::path& path);
  // st_dev in the kernel's internal encoding (MAJOR << 20 | MINOR), as BPF reads i_sb->s_dev.
  uint64_t kernel_dev() const;

  bool operator==(const BinaryId&) const = default;
};

// A cgroup v2 directory.
struct Cgroup {
  std::filesystem::path path; // absolute, below the cgroup2 mount
  std::string relative;       // as /proc/<pid>/cgroup names it: "/docker/<id>"
  uint64_t id = 0;            // its inode number, which bpf_get_current_cgroup_id() returns
  unsigned level = 0;         // depth below the root cgroup (root = 0)
};

// A tree starts when `parent`, or a descendant of `parent` (up to four generations below it:
// lupa-explore runs an app through a per-run reaper), execs `binary` (any binary when unset).
// The exec itself is counted once, as strace counts it.
struct ExecTrigger {
  pid_t parent = 0;
  std::optional<BinaryId> binary;
};

struct Scope {
  std::optional<Cgroup> cgroup;            // only tasks in this cgroup or below it
  std::vector<pid_t> roots;                // running processes traced from now, with descendants
  std::optional<ExecTrigger> exec_trigger; // trees started by an exec
  // When set, calls count only while a task's image is this binary (Loupe's --only-consider,
  // for test suites whose harness runs the binary under test); other tasks are followed but
  // not counted, and the execve that makes a task run it is judged by the image it left.
  std::optional<BinaryId> only_binary;

  // True when every task of `cgroup` is traced (no tree was given).
  bool whole_cgroup() const { return cgroup.has_value() && roots.empty() && !exec_trigger; }
  // An error when the scope selects nothing.
  util::Result<void> validate() const;
  // One line for messages: "cgroup /docker/ab12 from the exec of 1234's child".
  std::string describe() const;
};

} // namespace tracer
