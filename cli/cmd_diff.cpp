// `lupa diff RUN_A RUN_B [--db DB] [--json]`: the per-syscall semantic diff of two stored runs
// (verdicts changed, syscalls appeared or vanished, sub-features, pseudo-files) and of their
// provenance. A run is "[REV:]<app>/<workload dir>/<id>", "<app>/<workload dir>" (its newest
// run) or a run id prefix; REV reads another revision of a git database ("HEAD~1:nginx/...").

#include "cli/command.h"
#include "db/diff.h"
#include "util/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

struct DiffOptions {
  std::string before;
  std::string after;
  std::string db = ".";
  bool json = false;
};

void run(const DiffOptions& o) {
  auto before = db::load_spec(o.db, o.before);
  if (!before) {
    throw util::Fatal(before.error());
  }
  auto after = db::load_spec(o.db, o.after);
  if (!after) {
    throw util::Fatal(after.error());
  }
  db::RunDiff diff = db::diff_runs(*before, *after);
  if (o.json) {
    fmt::print("{}\n", db::diff_json(diff).dump(2));
  } else {
    fmt::print("{}", db::format_diff(diff));
  }
}

} // namespace

LUPA_COMMAND(diff, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("diff", "Semantic diff of two stored runs (verdicts, provenance)");
  auto o = std::make_shared<DiffOptions>();
  cmd->add_option("before", o->before, "[REV:]RUN: the earlier run")->required();
  cmd->add_option("after", o->after, "[REV:]RUN: the later run")->required();
  cmd->add_option("--db", o->db, "The results database")->capture_default_str();
  cmd->add_flag("--json", o->json, "Print the diff as JSON");
  cmd->callback([o] { run(*o); });
});
