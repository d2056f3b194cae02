// `lupa submit --remote URL [--branch NAME] [--base main] [--db DB]`: push the runs the shared
// database lacks on a new branch, ready for a pull request, and print what a reviewer needs.

#include "cli/command.h"
#include "db/submit.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

struct SubmitCliOptions {
  std::string db = ".";
  db::SubmitOptions submit;
};

void run(const SubmitCliOptions& o) {
  auto report = db::submit(o.db, o.submit);
  if (!report) {
    throw util::Fatal(report.error());
  }
  fmt::print("{}", db::format_submit_report(*report));
}

} // namespace

LUPA_COMMAND(submit, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("submit", "Push new runs to a shared results database on a "
                                               "branch, ready for a pull request");
  auto o = std::make_shared<SubmitCliOptions>();
  cmd->add_option("--remote", o->submit.remote, "The shared database (git URL or path)")->required();
  cmd->add_option("--branch", o->submit.branch, "Branch to push (default: lupa/submit-<hash>)");
  cmd->add_option("--base", o->submit.base, "The remote branch the runs are offered to")
      ->capture_default_str();
  cmd->add_option("--db", o->db, "The local results database")->capture_default_str();
  cmd->callback([o] { run(*o); });
});
