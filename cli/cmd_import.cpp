// `lupa import loupedb SRC --db DB`: a Loupe-layout tree (the published loupedb-2023) into a git
// results database, in one commit. `lupa import run DIR... --db DB`: run directories written by
// the runner, checked like a submission, one commit per run.

#include "cli/command.h"
#include "db/importer.h"
#include "util/error.h"

#include <fmt/format.h>

#include <set>

namespace {

struct ImportOptions {
  std::string source;
  std::vector<std::string> dirs;
  std::string db = ".";
  bool allow_dirty = false;
};

db::CommitOptions commit_options(const ImportOptions& o) {
  db::CommitOptions options;
  options.dirty = o.allow_dirty ? db::DirtyPolicy::allow : db::DirtyPolicy::refuse;
  return options;
}

void print_report(const db::ImportReport& r, const std::string& db) {
  fmt::print("imported {} runs of {} apps from {} into {}: {} new, {} already present{}\n", r.runs,
             r.apps, r.source.empty() ? "run directories" : r.source, db, r.added.size(),
             r.unchanged.size(),
             r.commits.empty() ? " (nothing to commit)"
                               : fmt::format(" ({} commit{}, {})", r.commits.size(),
                                             r.commits.size() > 1 ? "s" : "",
                                             r.commits.back().substr(0, 12)));
  if (r.lupa_runs > 0) {
    fmt::print("  {} lupa runs (provenance checked), {} Loupe runs\n", r.lupa_runs,
               r.runs - r.lupa_runs);
  }
  if (!r.os_lists.empty()) {
    fmt::print("  {} OS support lists copied\n", r.os_lists.size());
  }
  for (const std::string& u : r.unknown_names) {
    fmt::print("  kept aside (not an x86-64 syscall): {}\n", u);
  }
  if (!r.drift.empty()) {
    fmt::print("  tolerated format drift:\n");
    for (const auto& [what, where] : r.drift) {
      std::set<std::string> files;
      for (const std::string& w : where) {
        files.insert(w.substr(0, w.find(':')));
      }
      std::string in_files = files.size() != where.size() ? fmt::format(" in {} files", files.size()) : "";
      fmt::print("    {:4} x {}{} (e.g. {})\n", where.size(), what, in_files, where.front());
    }
  }
}

} // namespace

LUPA_COMMAND(import, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("import", "Bring existing results into a git results database");
  cmd->require_subcommand(1);
  auto o = std::make_shared<ImportOptions>();

  CLI::App* loupedb = cmd->add_subcommand(
      "loupedb", "Import every run of a Loupe-layout tree (e.g. loupedb-2023) in one commit");
  loupedb->add_option("source", o->source, "The Loupe database (directory or git clone)")
      ->required()
      ->check(CLI::ExistingDirectory);
  loupedb->add_option("--db", o->db, "The results database (created when absent)")
      ->capture_default_str();
  loupedb->add_flag("--allow-dirty", o->allow_dirty, "Commit even if the working tree has changes");
  loupedb->callback([o] {
    auto report = db::import_loupedb(o->source, o->db, commit_options(*o));
    if (!report) {
      throw util::Fatal(report.error());
    }
    print_report(*report, o->db);
  });

  CLI::App* run = cmd->add_subcommand(
      "run", "Import run directories (<app>/<workload>/<id>/) written by the runner, one commit each");
  run->add_option("dirs", o->dirs, "Run directories")->required()->check(CLI::ExistingDirectory);
  run->add_option("--db", o->db, "The results database (created when absent)")->capture_default_str();
  run->add_flag("--allow-dirty", o->allow_dirty, "Commit even if the working tree has changes");
  run->callback([o] {
    std::vector<std::filesystem::path> dirs(o->dirs.begin(), o->dirs.end());
    auto report = db::import_runs(dirs, o->db, commit_options(*o));
    if (!report) {
      throw util::Fatal(report.error());
    }
    print_report(*report, o->db);
  });
});
