#pragma once
// strace as the reference for the tracer's tests: runs `strace -f` on a command (one output
// file per process, sub-feature syscalls printed raw) and turns its output into a
// core::Discovery with the same rules (core/subfeatures.h) as eBPF and ptrace discovery.

#include "core/discovery.h"
#include "util/error.h"

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace lupa_test {

// Adds the syscalls of one strace output file's `text` (one process, strace -ff) to `out`.
util::Result<void> parse_strace_process(std::string_view text, core::Discovery& out);

// Runs `argv` under `strace -ff` with stdout and stdin on /dev/null; its Discovery.
util::Result<core::Discovery> strace_discovery(const std::vector<std::string>& argv);

// The syscall names of `d`, sorted.
std::vector<std::string> syscall_names(const core::Discovery& d);

// Differences between `a` and `b` in syscall set, feature keys and paths (counts ignored),
// one line each; empty when they agree.
std::vector<std::string> set_differences(const core::Discovery& a, const core::Discovery& b);

} // namespace lupa_test
