// `lupa trace syscalls --container ID | --cgroup PATH | --pid PID | -- CMD [ARGS...]`:
// a container-aware `strace -c` counting in the kernel with eBPF (tracer/trace_syscalls.h).

#include "cli/command.h"
#include "tracer/trace_syscalls.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <memory>

namespace {

void run(const tracer::TraceSyscallsOptions& options) {
  util::Result<int> code = tracer::trace_syscalls(options, stdout);
  if (!code) {
    // Capability problems come as one line per missing capability, then a HINT line.
    for (const std::string& line : util::split(code.error(), '\n')) {
      if (line.starts_with("HINT: ")) {
        util::log::write(util::log::Level::quiet, "", line);
      } else {
        util::log::error("{}", line);
      }
    }
    cli::set_exit_code(1);
    return;
  }
  cli::set_exit_code(*code);
}

} // namespace

LUPA_COMMAND(trace, [](CLI::App& app) {
  CLI::App* trace = app.add_subcommand("trace", "Trace what applications do in the kernel (eBPF)");
  trace->require_subcommand(1);
  CLI::App* cmd = trace->add_subcommand(
      "syscalls", "Count the syscalls of a container, a cgroup, processes or a command, in the "
                  "kernel (like a container-aware strace -c); needs CAP_BPF and CAP_PERFMON");
  auto options = std::make_shared<tracer::TraceSyscallsOptions>();
  auto engine = std::make_shared<std::string>("detect");
  auto json = std::make_shared<bool>(false);
  auto per_process = std::make_shared<bool>(false);
  auto details = std::make_shared<bool>(false);
  auto no_features = std::make_shared<bool>(false);
  auto no_paths = std::make_shared<bool>(false);

  cmd->add_option_function<std::string>(
      "--container", [options](const std::string& id) { options->container = id; },
      "A running container (name or id): trace its whole cgroup");
  cmd->add_option("--engine", *engine, "Container engine of --container")
      ->check(CLI::IsMember({"detect", "docker", "podman"}));
  cmd->add_option_function<std::string>(
      "--cgroup", [options](const std::string& path) { options->cgroup = path; },
      "A cgroup v2 (path below the cgroup2 mount, or absolute): trace every task in it");
  cmd->add_option("-p,--pid", options->pids, "Running process(es) to trace with descendants");
  cmd->add_option_function<std::string>(
      "--only-consider", [options](const std::string& bin) { options->only_consider = bin; },
      "Count only the calls of processes running BIN (a path inside the container with "
      "--container); the others are followed, not counted");
  cmd->add_option_function<double>(
      "-d,--duration", [options](double s) { options->duration = s; },
      "Stop after S seconds (default: when the command exits, or on Ctrl-C)");
  cmd->add_option("-i,--interval", options->interval, "Print the counts so far every S seconds");
  cmd->add_flag("--json", *json, "Print JSON (the core::Discovery model, processes, losses)");
  cmd->add_flag("-P,--per-process", *per_process, "Also print the counts of each process");
  cmd->add_flag("--details", *details, "Also print sub-feature values and pseudo-file paths");
  cmd->add_flag("--no-features", *no_features, "Do not record sub-feature argument values");
  cmd->add_flag("--no-paths", *no_paths, "Do not record /proc, /sys, /dev paths");
  cmd->add_option("--max-processes", options->probe.max_processes,
                  "Processes counted separately (more are counted together)")
      ->check(CLI::Range(2U, 1U << 16));
  cmd->add_option("command", options->command, "-- CMD [ARGS...]: a command to run and trace");

  cmd->callback([=] {
    options->engine = *engine == "docker"   ? tracer::Engine::docker
                      : *engine == "podman" ? tracer::Engine::podman
                                            : tracer::Engine::detect;
    options->format = *json ? tracer::OutputFormat::json : tracer::OutputFormat::table;
    options->per_process = *per_process ? tracer::PerProcess::yes : tracer::PerProcess::no;
    options->details = *details ? tracer::Details::yes : tracer::Details::no;
    options->probe.features =
        *no_features ? tracer::RecordFeatures::no : tracer::RecordFeatures::yes;
    options->probe.paths = *no_paths ? tracer::RecordPaths::no : tracer::RecordPaths::yes;
    run(*options);
  });
});
