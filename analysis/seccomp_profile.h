#pragma once
// Docker/OCI seccomp profiles made from a run: allow what the app requires, fail with ENOSYS
// what it tolerates stubbed, return 0 for what it tolerates faked, deny everything else with
// ENOSYS; and a check that runs a container under such a profile.
//
// Why ENOSYS for the rest: it is what a kernel without the syscall answers, so libc and
// runtimes take their fallback paths (clone3 -> clone, statx -> fstatat, faccessat2 ->
// faccessat, rseq registration skipped); EPERM would tell them "exists but refused" and many
// give up. Docker's own default profile answers ENOSYS to clone3 for that reason.
//
// Engines, as verified here: errnoRet 0 works on Docker 20.10/runc 1.1 and Podman 4.3 (the call
// returns 0 and does nothing). Docker 20.10 ignores `defaultErrnoRet` (its default errno stays
// EPERM), so the profile also names every other known syscall in an explicit ENOSYS rule; only
// numbers no table knows fall to the default.

#include "analysis/usage.h"
#include "util/error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace analysis {

// What a syscall the app tolerates both stubbed and faked gets.
enum class BothAs { stub, fake };

// Syscalls runc 1.1 makes after it installs the filter and before it execs the app, when the
// container runs without no-new-privileges (Docker's default): measured here with an
// SCMP_ACT_LOG profile; denying any of them makes `docker run` fail before the app starts.
const std::vector<std::string>& runtime_baseline();

struct ProfileOptions {
  BothAs both = BothAs::stub;
  std::vector<std::string> runtime_allow = runtime_baseline(); // always allowed
};

// A generated profile and what it did.
struct SeccompProfile {
  nlohmann::json json;
  size_t allowed = 0; // syscalls allowed for the app (required)
  size_t stubbed = 0;
  size_t faked = 0;
  size_t runtime = 0;                  // allowed for the container runtime only
  std::vector<std::string> overridden; // "name: stub-only -> allowed for the runtime"
};

// The profile for `usage` (one app's needs) under `options`; `origin` (a run key) is recorded
// in the rules' comments.
SeccompProfile make_seccomp_profile(const AppUsage& usage, const ProfileOptions& options,
                                    const std::string& origin);

// A container to run under a profile.
struct ContainerCheck {
  std::filesystem::path engine; // docker or podman executable
  std::string image;
  std::vector<std::string> command;     // the app: the container's command
  std::vector<std::string> test;        // run with `exec` in the running container; empty:
                                        // the command's own exit status is the test
  std::filesystem::path profile;        // the seccomp profile (JSON file)
  std::vector<std::string> run_options; // extra `run` options (e.g. --network=none)
  std::chrono::seconds timeout{60};
};

// How the check went.
struct CheckOutcome {
  bool passed = false;
  int exit_code = -1; // the test's (or the command's) exit status
  std::string output; // its output, then the container log when the test failed
};

// Runs `check.command` in `check.image` with `--security-opt seccomp=<profile>` and judges it
// by `check.test` (exit status 0 passes). The container is always removed. Fails (rather than
// "not passed") when the engine or profile is missing or the container cannot be created.
util::Result<CheckOutcome> run_with_profile(const ContainerCheck& check);

// A `lupa seccomp-profile` invocation.
struct ProfileRequest {
  std::filesystem::path run;    // the run directory (<app>/<workload>/<run id>)
  std::filesystem::path output; // where to write the profile; empty: stdout
  BothAs both = BothAs::stub;
  std::string engine = "docker"; // for the check: docker or podman (name or path)
  std::string check_image;       // when set, run the app under the profile
  std::vector<std::string> check_command;
  std::vector<std::string> check_test;
  std::vector<std::string> check_run_options;
};

// Makes the profile of `request.run`, writes it (atomically) or returns it, and runs the check
// when asked; returns the text to print. A failed check is an error naming the image.
util::Result<std::string> run_seccomp_profile(const ProfileRequest& request);

} // namespace analysis
