// `lupa verify [BRANCH|PATH] [--db DB] [--base REF]`: the gate for submitted results. A
// directory is verified whole (a git database as committed at its HEAD), and so is HEAD of DB when nothing is named; a branch of the git
// database DB is verified for what it adds relative to its merge base with REF (HEAD by
// default). Exit 0 when acceptable, 1 otherwise,
// every problem on one line.

#include "cli/command.h"
#include "db/verify.h"
#include "util/error.h"
#include "util/log.h"

#include <fmt/format.h>

#include <filesystem>

namespace {

struct VerifyCliOptions {
  std::string target;
  std::string db = ".";
  std::string base;
  bool show_warnings = false;
  db::VerifyOptions limits;
};

void run(const VerifyCliOptions& o) {
  util::Result<db::VerifyReport> report;
  std::error_code ec;
  if (!o.target.empty() && std::filesystem::is_directory(o.target, ec) && o.base.empty()) {
    // A git database is verified as committed (HEAD), not as a tree with its .git folder.
    bool repository = std::filesystem::exists(std::filesystem::path(o.target) / ".git", ec) ||
                      std::filesystem::is_regular_file(std::filesystem::path(o.target) / "HEAD", ec);
    report = repository ? db::verify_revision(o.target, "HEAD", o.limits)
                        : db::verify_path(o.target, o.limits);
  } else if (o.target.empty() && o.base.empty()) {
    report = db::verify_revision(o.db, "HEAD", o.limits);
  } else {
    report = db::verify_branch(o.db, o.target.empty() ? "HEAD" : o.target, o.base, o.limits);
  }
  if (!report) {
    throw util::Fatal(report.error());
  }
  for (const std::string& e : report->errors) {
    fmt::print("rejected: {}\n", e);
  }
  if (o.show_warnings) {
    for (const std::string& w : report->warnings) {
      fmt::print("tolerated: {}\n", w);
    }
  }
  std::string runs = fmt::format("{} runs checked", report->runs.size());
  if (!report->new_runs.empty() || !report->rerun_runs.empty()) {
    runs += fmt::format(" ({} new, {} re-run)", report->new_runs.size(), report->rerun_runs.size());
  }
  if (report->ok()) {
    fmt::print("verify: OK: {}: {}{}\n", report->target, runs,
               report->warnings.empty() ? ""
                                        : fmt::format(", {} tolerated Loupe drift warnings",
                                                      report->warnings.size()));
  } else {
    fmt::print("verify: REJECTED: {}: {}, {} problems\n", report->target, runs,
               report->errors.size());
    cli::set_exit_code(1);
  }
}

} // namespace

LUPA_COMMAND(verify, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("verify", "Check submitted results: layout, CSV schemas, run "
                                               "ids, hostile files, consistent verdicts");
  auto o = std::make_shared<VerifyCliOptions>();
  cmd->add_option("target", o->target, "A branch of --db (default HEAD) or a directory tree");
  cmd->add_option("--db", o->db, "The git results database holding the branch")->capture_default_str();
  cmd->add_option("--base", o->base, "Verify only what the branch adds to this revision (default HEAD)");
  cmd->add_option("--max-file-bytes", o->limits.max_file_bytes, "Largest file accepted")
      ->capture_default_str();
  cmd->add_option("--max-run-bytes", o->limits.max_run_bytes, "Largest run accepted")
      ->capture_default_str();
  cmd->add_flag("--warnings", o->show_warnings, "Also list the tolerated drift of Loupe runs");
  cmd->callback([o] { run(*o); });
});
