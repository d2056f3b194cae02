// `lupa seccomp-profile RUN [-o FILE] [--check-image IMG [--check-test CMD] -- COMMAND...]`:
// a Docker/OCI seccomp profile from a run: allow what is required, ENOSYS for what can be
// stubbed, 0 for what can be faked, ENOSYS for the rest; optionally run the app under it.

#include "analysis/seccomp_profile.h"
#include "cli/command.h"
#include "util/error.h"
#include "util/strings.h"

#include <fmt/format.h>

namespace {

struct Options {
  analysis::ProfileRequest request;
  std::string both = "stub";
  std::string test;
};

void run(Options& o) {
  o.request.both = o.both == "fake" ? analysis::BothAs::fake : analysis::BothAs::stub;
  for (const std::string& word : util::split(o.test, ' ')) {
    if (!word.empty()) {
      o.request.check_test.push_back(word);
    }
  }
  if (!o.request.check_image.empty() && o.request.check_command.empty()) {
    throw util::Fatal("--check-image needs the app's command after '--'");
  }
  util::Result<std::string> out = analysis::run_seccomp_profile(o.request);
  if (!out) {
    throw util::Fatal(out.error());
  }
  fmt::print("{}", *out);
}

} // namespace

LUPA_COMMAND(seccomp_profile, [](CLI::App& app) {
  CLI::App* cmd =
      app.add_subcommand("seccomp-profile", "Docker/OCI seccomp profile from a run's verdicts");
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
  cmd->add_option("--check-test", o->test,
                  "Test run with `exec` in the running container, split at spaces (exit 0 = "
                  "works); without it, the command's own exit status is the test");
  cmd->add_option("--check-run-option", o->request.check_run_options,
                  "Extra option for `run`, one per flag, e.g. --check-run-option=--network=none")
      ->allow_extra_args(false);
  cmd->add_option("command", o->request.check_command,
                  "After '--': the app's command in the container (for --check-image)");
  cmd->callback([o] { run(*o); });
});
