// `lupa reproduce RUN [--result results.json [--provenance provenance.json]] [--commit]`: a
// fresh result of a stored run's experiment, diffed per syscall against the stored one, with
// the provenance diff (did the environment change?). By default the runner rebuilds the image
// from the run's stored recipe files and explores again in containers (runner/reproduce.h);
// --result takes a result made elsewhere instead. --commit stores the fresh run (same run id:
// the stored run is replaced, history keeps the old one).

#include "cli/command.h"
#include "db/diff.h"
#include "db/store.h"
#include "explorer/cancel.h"
#include "runner/reproduce.h"
#include "util/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

struct ReproduceOptions {
  std::string run;
  std::string db = ".";
  std::string result;
  std::string provenance;
  bool commit = false;
  bool allow_dirty = false;
  bool json = false;
  std::string engine;
  unsigned jobs = 0;
  std::string explorer;
};

void run(const ReproduceOptions& o) {
  auto database = db::Database::open(o.db);
  if (!database) {
    throw util::Fatal(database.error());
  }
  auto info = database->find(o.run);
  if (!info) {
    throw util::Fatal(info.error());
  }
  std::optional<std::filesystem::path> provenance;
  if (!o.provenance.empty()) {
    provenance = o.provenance;
  }
  std::unique_ptr<db::RunProducer> producer;
  if (!o.result.empty()) {
    producer = std::make_unique<db::ResultFileProducer>(o.result, provenance);
  } else {
    runner::GenerateOptions g;
    if (!o.engine.empty()) {
      g.engine = docker::engine_from_string(o.engine);
    }
    g.jobs = o.jobs;
    g.explorer = o.explorer;
    explorer::install_cancel_handlers();
    producer = std::make_unique<runner::ContainerProducer>(g);
  }
  auto report = db::reproduce(*database, **info, *producer);
  if (!report) {
    throw util::Fatal(report.error());
  }
  if (o.json) {
    fmt::print("{}\n", db::diff_json(report->diff).dump(2));
  } else {
    fmt::print("{}", db::format_diff(report->diff));
  }
  if (o.commit) {
    auto store = db::Store::open(o.db, db::CreateMode::must_exist);
    if (!store) {
      throw util::Fatal(store.error());
    }
    db::CommitOptions options;
    options.dirty = o.allow_dirty ? db::DirtyPolicy::allow : db::DirtyPolicy::refuse;
    auto committed = store->commit_run(report->fresh, options);
    if (!committed) {
      throw util::Fatal(committed.error());
    }
    if (committed->commit.empty()) {
      fmt::print("nothing committed: {} already holds these files\n", report->fresh_key);
    } else {
      fmt::print("committed {} as {}\n", report->fresh_key, committed->commit.substr(0, 12));
    }
  }
  if (!report->diff.same_results()) {
    cli::set_exit_code(2); // like diff(1): 0 same, 2 different (1 is an error)
  }
}

} // namespace

LUPA_COMMAND(reproduce, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "reproduce", "Diff a fresh result of a stored run's experiment against the stored result");
  auto o = std::make_shared<ReproduceOptions>();
  cmd->add_option("run", o->run, "The stored run: <app>/<workload dir>/<id>, <app>/<workload dir> "
                                 "or a run id prefix")
      ->required();
  cmd->add_option("--db", o->db, "The results database")->capture_default_str();
  cmd->add_option("--result", o->result,
                  "results.json of a fresh run made elsewhere (default: run it again here)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--engine", o->engine, "docker or podman (default: the first running one)")
      ->check(CLI::IsMember({"docker", "podman"}));
  cmd->add_option("-j,--jobs", o->jobs, "Worker containers probing at once (default: one per core)");
  cmd->add_option("--explorer", o->explorer, "lupa-explore to mount into the containers");
  cmd->add_option("--provenance", o->provenance, "provenance.json of the fresh run")
      ->check(CLI::ExistingFile);
  cmd->add_flag("--commit", o->commit, "Commit the fresh run into the database");
  cmd->add_flag("--allow-dirty", o->allow_dirty, "With --commit: accept a dirty working tree");
  cmd->add_flag("--json", o->json, "Print the diff as JSON");
  cmd->callback([o] { run(*o); });
});
