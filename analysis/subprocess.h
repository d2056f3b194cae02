#pragma once
// Running a program and collecting its output (Boost.Process), for gnuplot and container
// engines. Generic enough for util/; kept here until a shared one exists.

#include "util/error.h"

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace analysis {

// How a finished program ended.
struct ProcessResult {
  int exit_code = -1; // -1 when it was killed at the timeout
  bool timed_out = false;
  std::string output; // stdout and stderr, interleaved
};

// Runs `program` with `args` in `cwd` (the current directory when empty), stdin empty, and waits
// up to `timeout`; a program still running then is killed. Fails only when the program cannot
// be started.
util::Result<ProcessResult> run_process(const std::filesystem::path& program,
                                        const std::vector<std::string>& args,
                                        std::chrono::seconds timeout,
                                        const std::filesystem::path& cwd = {});

// `program` resolved like execvp: a path is kept, a bare name is looked up in $PATH. Fails with
// one line naming it (and `hint`) when it is not found.
util::Result<std::filesystem::path> find_program(const std::string& program,
                                                 const std::string& hint);

} // namespace analysis
