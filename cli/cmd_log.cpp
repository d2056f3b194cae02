// `lupa log [RUN] [--db DB] [-n N]`: the commits of a git results database that changed runs,
// newest first (all runs, or one run's history).

#include "cli/command.h"
#include "db/database.h"
#include "util/error.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>

namespace {

struct LogOptions {
  std::string run;
  std::string db = ".";
  size_t limit = 0;
};

void run(const LogOptions& o) {
  std::string key;
  if (!o.run.empty()) {
    auto database = db::Database::open(o.db);
    if (!database) {
      throw util::Fatal(database.error());
    }
    auto info = database->find(o.run);
    if (!info) {
      throw util::Fatal(info.error());
    }
    key = (*info)->key();
  }
  auto history = db::run_history(o.db, key, o.limit);
  if (!history) {
    throw util::Fatal(history.error());
  }
  for (const db::HistoryEntry& e : *history) {
    std::time_t t = static_cast<std::time_t>(e.time);
    fmt::print("{} {:%Y-%m-%d %H:%M} {} ({} run{})\n", e.commit.substr(0, 12), fmt::gmtime(t),
               e.subject, e.runs.size(), e.runs.size() == 1 ? "" : "s");
  }
}

} // namespace

LUPA_COMMAND(log, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("log", "Commits of the results database that changed runs");
  auto o = std::make_shared<LogOptions>();
  cmd->add_option("run", o->run, "Only the history of this run");
  cmd->add_option("--db", o->db, "The results database (git)")->capture_default_str();
  cmd->add_option("-n,--max-count", o->limit, "At most this many commits");
  cmd->callback([o] { run(*o); });
});
