#include "analysis/seccomp_profile.h"

#include "analysis/subprocess.h"
#include "core/syscalls.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <random>
#include <set>

namespace fs = std::filesystem;

namespace analysis {

const std::vector<std::string>& runtime_baseline() {
  static const std::vector<std::string> names = {
      // Measured: runc 1.1.5 init between seccomp(2) and execve(2) (docker run, no
      // no-new-privileges), by logging a static program that only calls exit.
      "capget", "capset", "chdir", "close", "epoll_ctl", "execve", "faccessat2", "fcntl", "fstat",
      "fstatfs", "futex", "getcwd", "getdents64", "getpid", "getppid", "newfstatat", "openat",
      "prctl", "read", "setgid", "setgroups", "setuid", "write",
      // Go runtime calls runc init can make at any moment (signals, scheduling, memory).
      "exit", "exit_group", "gettid", "madvise", "mmap", "munmap", "nanosleep", "rt_sigaction",
      "rt_sigprocmask", "rt_sigreturn", "sched_yield", "sigaltstack", "tgkill"};
  return names;
}

namespace {

nlohmann::json rule(const std::vector<std::string>& names, int errno_ret, std::string comment) {
  nlohmann::json r;
  r["names"] = names;
  if (errno_ret < 0) {
    r["action"] = "SCMP_ACT_ALLOW";
  } else {
    r["action"] = "SCMP_ACT_ERRNO";
    r["errnoRet"] = errno_ret;
  }
  r["comment"] = std::move(comment);
  return r;
}

} // namespace

SeccompProfile make_seccomp_profile(const AppUsage& usage, const ProfileOptions& options,
                                    const std::string& origin) {
  const core::SyscallTable& table = core::SyscallTable::get();
  SeccompProfile profile;
  std::set<std::string> runtime(options.runtime_allow.begin(), options.runtime_allow.end());
  std::vector<std::string> allow, stub, fake;
  std::set<std::string> listed(runtime.begin(), runtime.end());
  for (const auto& [nr, need] : usage.used) {
    std::string name = table.name(nr);
    bool as_stub = need == Need::stub_only || (need == Need::both && options.both == BothAs::stub);
    if (runtime.contains(name)) {
      if (need != Need::required) {
        profile.overridden.push_back(fmt::format(
            "{}: {}, allowed because the container runtime needs it", name, to_string(need)));
      }
      continue;
    }
    listed.insert(name);
    if (need == Need::required) {
      allow.push_back(name);
    } else if (as_stub) {
      stub.push_back(name);
    } else {
      fake.push_back(name);
    }
  }
  std::vector<std::string> rest;
  for (int nr : table.all()) {
    std::string name = table.name(nr);
    if (!listed.contains(name)) {
      rest.push_back(name);
    }
  }

  nlohmann::json& j = profile.json;
  j["defaultAction"] = "SCMP_ACT_ERRNO";
  j["defaultErrnoRet"] = ENOSYS;
  j["architectures"] = {"SCMP_ARCH_X86_64"};
  j["syscalls"] = nlohmann::json::array();
  std::vector<std::string> runtime_names(runtime.begin(), runtime.end());
  j["syscalls"].push_back(rule(runtime_names, -1,
                               "lupa: needed by the container runtime (runc) between installing "
                               "this filter and starting the app"));
  if (!allow.empty()) {
    j["syscalls"].push_back(rule(allow, -1,
                                 fmt::format("lupa: required by {} ({}): works neither stubbed "
                                             "nor faked",
                                             usage.app, origin)));
  }
  if (!stub.empty()) {
    j["syscalls"].push_back(rule(stub, ENOSYS,
                                 fmt::format("lupa: stubbed, {} works when the call fails with "
                                             "ENOSYS",
                                             usage.app)));
  }
  if (!fake.empty()) {
    j["syscalls"].push_back(rule(fake, 0,
                                 fmt::format("lupa: faked, {} works when the call returns 0 "
                                             "without running",
                                             usage.app)));
  }
  j["syscalls"].push_back(rule(rest, ENOSYS,
                               "lupa: not used by the app: denied with ENOSYS (named because "
                               "Docker 20.10 ignores defaultErrnoRet and would answer EPERM)"));
  profile.allowed = allow.size();
  profile.stubbed = stub.size();
  profile.faked = fake.size();
  profile.runtime = runtime.size();
  return profile;
}

namespace {

std::string container_name() {
  std::random_device rd;
  return fmt::format("lupa-check-{:08x}{:08x}", rd(), rd());
}

} // namespace

util::Result<CheckOutcome> run_with_profile(const ContainerCheck& check) {
  if (!util::is_executable_file(check.engine)) {
    return util::error(fmt::format("{}: container engine not found (install docker.io or podman)",
                                   check.engine.string()));
  }
  std::error_code ec;
  if (!fs::is_regular_file(check.profile, ec)) {
    return util::error(fmt::format("{}: no such seccomp profile", check.profile.string()));
  }
  if (check.image.empty() || check.command.empty()) {
    return util::error("a profile check needs an image and a command");
  }
  std::string name = container_name();
  bool server = !check.test.empty();
  std::vector<std::string> run = {"run", "--name", name, "--security-opt",
                                  "seccomp=" + fs::absolute(check.profile).string()};
  run.push_back(server ? "--detach" : "--rm");
  run.insert(run.end(), check.run_options.begin(), check.run_options.end());
  run.push_back(check.image);
  run.insert(run.end(), check.command.begin(), check.command.end());
  std::string engine_name = check.engine.filename().string();

  // Removes the container; fails when it is still there (a runtime stuck in `create`).
  auto remove = [&]() -> util::Result<void> {
    for (int attempt = 0; attempt < 3; ++attempt) {
      (void)run_process(check.engine, {"rm", "--force", name}, std::chrono::seconds(20));
      util::Result<ProcessResult> inspect =
          run_process(check.engine, {"container", "inspect", name}, std::chrono::seconds(20));
      if (inspect && !inspect->timed_out && inspect->exit_code != 0) {
        return {};
      }
    }
    return util::error(fmt::format("{} container {} could not be removed (its runtime is stuck; "
                                   "kill its `runc init` process, then `{} rm -f {}`)",
                                   engine_name, name, engine_name, name));
  };

  util::Result<ProcessResult> started = run_process(check.engine, run, check.timeout);
  if (!started) {
    TRY(remove());
    return util::error(started.error());
  }
  CheckOutcome outcome;
  if (!server) {
    outcome.exit_code = started->exit_code;
    outcome.output = started->output;
    outcome.passed = !started->timed_out && started->exit_code == 0;
    if (started->timed_out) {
      TRY(remove());
      outcome.output += fmt::format("\n(killed after {} s)", check.timeout.count());
      return outcome;
    }
    // The engine's own failures (the container never ran): exit 125, or 126/127 with the
    // engine's message (an app may exit 126/127 itself, e.g. ld.so failing).
    bool engine_failed =
        started->exit_code == 125 ||
        ((started->exit_code == 126 || started->exit_code == 127) &&
         (started->output.find("OCI runtime") != std::string::npos ||
          started->output.find("Error response from daemon") != std::string::npos));
    if (engine_failed) {
      TRY(remove());
      std::vector<std::string> lines = util::split(util::trim(started->output), '\n');
      return util::error(fmt::format("{} run {}: {}", engine_name, check.image,
                                     lines.empty() ? std::string() : lines.back()));
    }
    return outcome;
  }
  if (started->timed_out || started->exit_code != 0) {
    TRY(remove());
    return util::error(
        fmt::format("{} run {}: {}", engine_name, check.image, util::trim(started->output)));
  }
  std::vector<std::string> exec = {"exec", name};
  exec.insert(exec.end(), check.test.begin(), check.test.end());
  util::Result<ProcessResult> tested = run_process(check.engine, exec, check.timeout);
  if (tested) {
    outcome.exit_code = tested->exit_code;
    outcome.output = tested->output;
    outcome.passed = !tested->timed_out && tested->exit_code == 0;
    if (!outcome.passed) {
      if (util::Result<ProcessResult> logs =
              run_process(check.engine, {"logs", name}, std::chrono::seconds(30))) {
        outcome.output += "\n--- container log:\n" + logs->output;
      }
    }
  }
  TRY(remove());
  if (!tested) {
    return util::error(tested.error());
  }
  return outcome;
}

util::Result<std::string> run_seccomp_profile(const ProfileRequest& request) {
  TRY_ASSIGN(AppRuns runs, load_run_dir(request.run));
  AppUsage usage = app_usage(runs, WorkloadFilter::all);
  ProfileOptions options;
  options.both = request.both;
  SeccompProfile profile = make_seccomp_profile(usage, options, usage.runs.front());
  std::string json = profile.json.dump(2) + "\n";
  std::string summary = fmt::format(
      "{}: {} required (allowed), {} stubbed (ENOSYS), {} faked (0), {} allowed for the "
      "container runtime; every other syscall fails with ENOSYS\n",
      usage.runs.front(), profile.allowed, profile.stubbed, profile.faked, profile.runtime);
  for (const std::string& o : profile.overridden) {
    summary += "  note: " + o + "\n";
  }
  if (request.output.empty() && request.check_image.empty()) {
    return json;
  }
  util::TempDir scratch("lupa-profile");
  fs::path written = request.output.empty() ? scratch.path() / "profile.json" : request.output;
  TRY(util::write_file_atomic(written, json));
  if (!request.output.empty()) {
    summary += fmt::format("profile written to {}\n", written.string());
  }
  if (request.check_image.empty()) {
    return summary;
  }
  ContainerCheck check;
  // Debian's client first: a newer one in /usr/local/bin may shadow it (../shared/PLATFORM.md).
  std::string engine = request.engine == "docker" && util::is_executable_file("/usr/bin/docker")
                           ? std::string("/usr/bin/docker")
                           : request.engine;
  TRY_ASSIGN(check.engine, find_program(engine, "install docker.io or podman"));
  check.image = request.check_image;
  check.command = request.check_command;
  check.test = request.check_test;
  check.profile = written;
  check.run_options = request.check_run_options;
  TRY_ASSIGN(CheckOutcome outcome, run_with_profile(check));
  if (!outcome.passed) {
    util::log::verbose("{}", outcome.output);
    std::vector<std::string> lines = util::split(util::trim(outcome.output), '\n');
    return util::error(fmt::format("{} under the profile: test failed (exit {}): {}", check.image,
                                   outcome.exit_code,
                                   lines.empty() ? std::string() : lines.back()));
  }
  summary +=
      fmt::format("check passed: {} ran under the profile and its test exited 0\n", check.image);
  return summary;
}

} // namespace analysis
