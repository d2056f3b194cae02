#pragma once
// A minimal ptrace discovery for the benchmark (PTRACE_SYSCALL on every syscall of a process
// tree, forks/clones/execs followed, entries counted): the cost of the ptrace technique until
// the explorer's ptrace discovery can be benchmarked in its place.

#include "util/error.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace bench {

struct PtraceCount {
  std::map<int, uint64_t> counts; // syscall number -> entries
  int exit_status = 0;            // of the command, as a shell reports it
  uint64_t total() const;
};

// Runs `argv` (looked up in PATH) under ptrace until its whole tree has exited.
util::Result<PtraceCount> ptrace_count(const std::vector<std::string>& argv);

} // namespace bench
