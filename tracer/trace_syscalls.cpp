#include "tracer/trace_syscalls.h"

#include "core/syscalls.h"
#include "tracer/discovery.h"
#include "util/fs.h"
#include "util/log.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

namespace tracer {

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000)));
}

void append_syscalls(std::string& out, const std::map<int, uint64_t>& counts,
                     const std::string& indent) {
  std::vector<std::pair<int, uint64_t>> rows(counts.begin(), counts.end());
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  uint64_t total = 0;
  for (const auto& [nr, count] : rows) {
    total += count;
  }
  for (const auto& [nr, count] : rows) {
    double percent = total ? 100.0 * static_cast<double>(count) / static_cast<double>(total) : 0;
    out += fmt::format("{}{:>6.2f} {:>12} {}\n", indent, percent, count,
                       core::SyscallTable::get().name(nr));
  }
  out += fmt::format("{}------ ------------ ----------------\n", indent);
  out += fmt::format("{}100.00 {:>12} total ({} syscalls)\n", indent, total, rows.size());
}

// The binary of --only-consider: inside the container with --container, else on this machine.
util::Result<BinaryId> only_binary_of(const TraceSyscallsOptions& options) {
  const std::string& name = *options.only_consider;
  std::filesystem::path path = name;
  if (options.container) {
    TRY_ASSIGN(pid_t init, container_init_pid(*options.container, options.engine));
    path = fmt::format("/proc/{}/root/{}", init, name);
  } else if (name.find('/') == std::string::npos) {
    path = util::find_in_path(name);
  }
  util::Result<BinaryId> id = BinaryId::of(path.empty() ? std::filesystem::path(name) : path);
  if (!id) {
    return util::error(fmt::format("--only-consider {}: {}", name, id.error()));
  }
  return id;
}

} // namespace

util::Result<Scope> resolve_scope(const TraceSyscallsOptions& options) {
  int selectors = (options.container ? 1 : 0) + (options.cgroup ? 1 : 0) +
                  (options.pids.empty() ? 0 : 1) + (options.command.empty() ? 0 : 1);
  if (selectors == 0) {
    return util::error("say what to trace: --container ID, --cgroup PATH, --pid PID or -- CMD");
  }
  if (options.container && options.cgroup) {
    return util::error("--container and --cgroup both select a cgroup: give one");
  }
  if (!options.command.empty() && selectors > 1) {
    return util::error("-- CMD traces the command only: it cannot be combined with "
                       "--container, --cgroup or --pid");
  }
  Scope scope;
  if (options.container) {
    util::Result<Cgroup> cgroup = container_cgroup(*options.container, options.engine);
    if (!cgroup) {
      return util::error(fmt::format("--container {}: {}", *options.container, cgroup.error()));
    }
    scope.cgroup = *cgroup;
  }
  if (options.only_consider) {
    TRY_ASSIGN(scope.only_binary, only_binary_of(options));
  }
  if (options.cgroup) {
    util::Result<Cgroup> cgroup = cgroup_at(*options.cgroup);
    if (!cgroup) {
      return util::error(fmt::format("--cgroup {}: {}", *options.cgroup, cgroup.error()));
    }
    scope.cgroup = *cgroup;
  }
  scope.roots = options.pids;
  return scope;
}

std::string format_table(const TraceReport& report, PerProcess per_process, Details details) {
  std::string out = "% calls        calls syscall\n------ ------------ ----------------\n";
  append_syscalls(out, report.discovery.counts, "");
  if (per_process == PerProcess::yes) {
    for (const ProcessCounts& p : report.processes) {
      out += fmt::format("\nprocess {} ({}), {} calls{}\n", p.tgid, p.comm, p.total(),
                         p.tgid == 0 ? ", processes beyond --max-processes merged" : "");
      append_syscalls(out, p.counts, "  ");
    }
  }
  const core::SyscallTable& table = core::SyscallTable::get();
  if (details == Details::yes && !report.discovery.features.empty()) {
    out += "\nsub-features (syscall arg=value[&mask]):\n";
    for (const auto& [key, count] : report.discovery.features) {
      std::string text = fmt::format("arg{}={:#x}&{:#x}", key.arg, key.value, key.mask);
      if (key.arg2 >= 0) {
        text += fmt::format(" arg{}={:#x}&{:#x}", key.arg2, key.value2, key.mask2);
      }
      out += fmt::format("  {:>12} {} {}\n", count, table.name(key.nr), text);
    }
  }
  if (details == Details::yes && !report.discovery.paths.empty()) {
    out += "\npseudo-files:\n";
    for (const auto& [path, use] : report.discovery.paths) {
      std::vector<std::string> calls(use.syscalls.begin(), use.syscalls.end());
      out += fmt::format("  {:>12} {} ({})\n", use.count, path, fmt::join(calls, ","));
    }
  }
  if (report.slots_exhausted != 0) {
    out += fmt::format("\nnote: {} processes beyond --max-processes were counted together\n",
                       report.slots_exhausted);
  }
  if (!report.discovery.complete) {
    out += fmt::format("\nINCOMPLETE: {}\n", report.discovery.incomplete_reason);
  }
  return out;
}

util::Result<int> trace_syscalls(const TraceSyscallsOptions& options, std::FILE* out) {
  if (options.duration && *options.duration <= 0) {
    return util::error(fmt::format("--duration {}: must be positive", *options.duration));
  }
  if (options.interval < 0) {
    return util::error(fmt::format("--interval {}: must not be negative", options.interval));
  }
  TRY_ASSIGN(Scope scope, resolve_scope(options));
  RunOptions run;
  run.probe = options.probe;
  run.only_binary = scope.only_binary;
  if (options.duration) {
    run.duration = to_ms(*options.duration);
  }
  run.interval = to_ms(options.interval);
  if (run.interval.count() > 0) {
    run.on_snapshot = [&](const TraceReport& report) {
      if (options.format == OutputFormat::json) {
        fmt::print(out, "{}\n", nlohmann::json(report).dump());
      } else {
        fmt::print(out, "--- after {:.1f} s ---\n{}\n", report.discovery.seconds,
                   format_table(report, PerProcess::no, Details::no));
      }
      std::fflush(out);
    };
  }

  TraceReport report;
  int exit_code = 0;
  if (!options.command.empty()) {
    TRY_ASSIGN(CommandTrace trace, discover_command(options.command, run));
    report = std::move(trace.report);
    exit_code = trace.exit_status;
  } else {
    if (!run.duration && scope.roots.empty()) {
      util::log::info("tracing {}; Ctrl-C to stop", scope.describe());
    }
    TRY_ASSIGN(ScopeTrace trace, trace_scope(scope, run));
    report = std::move(trace.report);
  }

  if (options.format == OutputFormat::json) {
    nlohmann::json j = report;
    if (!options.command.empty()) {
      j["exit_status"] = exit_code;
    }
    fmt::print(out, "{}\n", j.dump(2));
  } else {
    fmt::print(out, "{}", format_table(report, options.per_process, options.details));
  }
  if (!report.discovery.complete) {
    util::log::warn("the counts are incomplete: {}", report.discovery.incomplete_reason);
  }
  return exit_code;
}

} // namespace tracer
