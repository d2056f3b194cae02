// `lupa export sqlite OUT.db [--db DB] [--rev REV]`: the database as one SQLite file (schema and
// example queries in db/README.md).

#include "cli/command.h"
#include "db/database.h"
#include "db/sqlite_export.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

struct ExportOptions {
  std::string out;
  std::string db = ".";
  std::string revision;
};

void run(const ExportOptions& o) {
  auto database = db::Database::open(o.db, o.revision);
  if (!database) {
    throw util::Fatal(database.error());
  }
  auto report = db::export_sqlite(*database, o.out);
  if (!report) {
    throw util::Fatal(report.error());
  }
  fmt::print("exported {} runs of {} apps ({} verdict rows, {} static rows) to {} ({} bytes)\n",
             report->runs, report->apps, report->verdicts, report->static_rows, o.out,
             report->bytes);
}

} // namespace

LUPA_COMMAND(export, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("export", "Export the results database to another format");
  cmd->require_subcommand(1);
  auto o = std::make_shared<ExportOptions>();
  CLI::App* sqlite = cmd->add_subcommand("sqlite", "Write every run into one SQLite file "
                                                   "(schema: db/README.md)");
  sqlite->add_option("out", o->out, "The SQLite file to write (replaced atomically)")->required();
  sqlite->add_option("--db", o->db, "The results database (git repository or plain tree)")
      ->capture_default_str();
  sqlite->add_option("--rev", o->revision, "Export this revision of a git database (default HEAD)");
  sqlite->callback([o] { run(*o); });
});
