#pragma once
// Helpers of the runner's integration tests: is a container engine here, the lupa binary, and
// running a command with its output captured.

#include "docker/engine.h"
#include "docker/process.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace lupa_test {

inline const std::filesystem::path k_docker = "/usr/bin/docker";

// Why container tests cannot run here, or nullopt when they can (root and a running dockerd).
inline std::optional<std::string> docker_skip_reason() {
  if (::geteuid() != 0) {
    return "needs root (containers, eBPF, ptrace in containers)";
  }
  util::Result<docker::Engine> engine = docker::Engine::open(docker::EngineKind::docker);
  if (!engine) {
    return "no Docker engine here: " + engine.error();
  }
  return std::nullopt;
}

inline std::filesystem::path lupa_binary() {
  return std::filesystem::path(LUPA_BINARY_DIR) / "cli" / "lupa";
}
inline std::filesystem::path apps_dir() { return std::filesystem::path(LUPA_SOURCE_DIR) / "apps"; }

// Runs `program` with `args` (up to `timeout`), stdout and stderr apart.
inline docker::ProcessOutput run(const std::filesystem::path& program,
                                 const std::vector<std::string>& args,
                                 std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
  docker::RunSpec spec;
  spec.program = program;
  spec.args = args;
  spec.timeout = timeout;
  util::Result<docker::ProcessOutput> out = docker::run_program(spec);
  return out ? *out : docker::ProcessOutput{-1, false, "", out.error()};
}

// Runs `lupa` with `args`.
inline docker::ProcessOutput lupa(const std::vector<std::string>& args,
                                  std::chrono::milliseconds timeout = std::chrono::minutes(10)) {
  return run(lupa_binary(), args, timeout);
}

// Containers of lupa runs that still exist (any state).
inline std::vector<std::string> lupa_containers() {
  docker::ProcessOutput out =
      run(k_docker, {"ps", "-aq", "--filter", "label=lupa.run"}, std::chrono::seconds(30));
  std::vector<std::string> ids;
  for (const std::string& line : util::split(out.out, '\n')) {
    if (!util::trim(line).empty()) {
      ids.emplace_back(util::trim(line));
    }
  }
  return ids;
}

// The non-empty lines of `text`.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (const std::string& line : util::split(text, '\n')) {
    if (!util::trim(line).empty()) {
      out.push_back(line);
    }
  }
  return out;
}

} // namespace lupa_test
