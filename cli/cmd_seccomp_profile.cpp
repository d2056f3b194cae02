// `lupa seccomp-profile RUN [-o FILE] [--check-image IMG --check-command ... [--check-test ...]]`:
// a Docker/OCI seccomp profile from a run: allow what is required, ENOSYS for what can be
// stubbed, 0 for what can be faked, ENOSYS for the rest; optionally run the app under it.

#include "analysis/seccomp_profile.h"
#include "cli/command.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

struct Options {
  analysis::ProfileRequest request;
  std::string both = "stub";
};

void run(Options& o) {
  o.request.both = o.both == "fake" ? analysis::BothAs::fake : analysis::BothAs::stub;
  util::Result<std::string> out = analysis::run_seccomp_profile(o.request);
  if (!out) {
    throw util::Fatal(out.error());
  }
  fmt::print("{}", *out);
}

} // namespace

LUPA_COMMAND(seccomp_profile, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("seccomp-profile",
                                     "Docker/OCI seccomp profile from a run's verdicts");
  auto o = std::make_shared<Options>();
  cmd->add_option("run", o->request.run, "Run directory: <db>/<app>/<workload>/<run id>")
      ->required();
  cmd->add_option("-o,--output", o->request.output, "Write the profile here (default: stdout)");
  cmd->add_option("--both", o->both,
                  "What a syscall that works stubbed and faked gets: stub (ENOSYS) or fake (0)")
      ->check(CLI::IsMember({"stub", "fake"}));
  cmd->add_option("--engine", o->request.engine, "Container engine for the check (docker, podman)");
  cmd->add_option("--check-image", o->request.check_image,
                  "Run this image under the profile and fail unless its test passes");
  cmd->add_option("--check-command", o->request.check_command,
                  "The app's command in the container (its exit status is the test when no "
                  "--check-test is given)");
  cmd->add_option("--check-test", o->request.check_test,
                  "Test command run with `exec` in the running container (exit 0 = works)");
  cmd->add_option("--check-run-option", o->request.check_run_options,
                  "Extra option for `run` (repeatable), e.g. --network=none");
  cmd->callback([o] { run(*o); });
});
