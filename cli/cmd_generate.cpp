// `lupa generate RECIPE [--db DB]`: build the recipe's image, explore the app in containers and
// commit the run into the results database (runner/generate.h lists the steps).
// Loupe's form works too: `lupa generate -b|-s -db DB -a APP -w WORKLOAD -d Dockerfile`.

#include "cli/command.h"
#include "explorer/cancel.h"
#include "runner/generate.h"
#include "util/error.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

struct GenerateCli {
  std::string recipe;
  std::string db = "lupadb";
  bool benchmark = false; // Loupe's -b
  bool suite = false;     // Loupe's -s
  std::string app;
  std::string workload;
  std::string dockerfile;
  std::string engine;
  std::string strategy;
  unsigned replicas = 0;
  unsigned jobs = 0;
  std::string discovery = "auto";
  std::vector<std::string> only_syscalls;
  bool no_features = false;
  bool no_paths = false;
  bool no_collective = false;
  bool no_static = false;
  std::string explorer;
  bool allow_dirty = false;
  bool json = false;
  bool rebuild_base = false;
  std::vector<std::string> argv; // for cmd.txt
};

void run(const GenerateCli& c) {
  runner::GenerateOptions o;
  if (!c.recipe.empty()) {
    if (!c.dockerfile.empty()) {
      throw util::Fatal("give either a recipe or -d Dockerfile, not both");
    }
    o.recipe = c.recipe;
  } else if (!c.dockerfile.empty()) {
    if (c.benchmark == c.suite) {
      throw util::Fatal("-d Dockerfile needs exactly one of -b (benchmark) and -s (suite)");
    }
    if (c.benchmark && c.workload.empty()) {
      throw util::Fatal("-b: a benchmark needs its name: -w WORKLOAD");
    }
    o.dockerfile = c.dockerfile;
    o.app = c.app;
    o.workload = db::Workload{c.benchmark ? db::WorkloadKind::benchmark : db::WorkloadKind::suite,
                              c.workload};
  } else {
    throw util::Fatal("nothing to run: give a recipe (e.g. apps/nginx/wrk.toml) or Loupe's "
                      "-d Dockerfile -a APP -b|-s -w WORKLOAD");
  }
  o.db = c.db;
  o.dirty = c.allow_dirty ? db::DirtyPolicy::allow : db::DirtyPolicy::refuse;
  if (!c.engine.empty()) {
    o.engine = docker::engine_from_string(c.engine);
  }
  if (!c.strategy.empty()) {
    o.strategy = explorer::strategy_from_string(c.strategy);
  }
  if (c.replicas > 0) {
    o.replicas = c.replicas;
  }
  o.jobs = c.jobs;
  o.discovery = *runner::discovery_backend_from_string(c.discovery);
  o.only_syscalls = c.only_syscalls;
  o.parts.features = !c.no_features;
  o.parts.paths = !c.no_paths;
  o.parts.collective = !c.no_collective;
  o.static_analysis = !c.no_static;
  o.explorer = c.explorer;
  o.base.rebuild = c.rebuild_base;
  std::vector<std::string> quoted;
  for (const std::string& a : c.argv) {
    quoted.push_back(util::shell_quote(a));
  }
  o.cmd = "lupa " + util::join(quoted, " ") + "\n";

  explorer::install_cancel_handlers();
  util::Result<runner::GenerateResult> result = runner::generate(o);
  if (!result) {
    throw util::Fatal(result.error());
  }
  if (c.json) {
    nlohmann::json j = {{"key", result->key}, {"result", result->run.result}};
    if (result->commit) {
      j["commit"] = result->commit->commit;
    }
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("{}", result->summary);
  }
  if (result->commit) {
    if (result->commit->commit.empty()) {
      util::log::info("nothing committed: {} already holds this run", result->key);
    } else {
      util::log::info("committed {} into {} as {}", result->key, c.db,
                      result->commit->commit.substr(0, 12));
    }
  }
}

} // namespace

LUPA_COMMAND(generate, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "generate", "Build an app's image, explore it in containers, commit the run into a database");
  auto c = std::make_shared<GenerateCli>();
  cmd->add_option("recipe", c->recipe, "The recipe (apps/<app>/<workload>.toml)");
  cmd->add_option("--db", c->db, "The results database (created when missing)")
      ->capture_default_str();
  cmd->add_flag("-b", c->benchmark, "Loupe: the Dockerfile runs a benchmark (name it with -w)");
  cmd->add_flag("-s", c->suite, "Loupe: the Dockerfile runs a test suite");
  cmd->add_option("-a", c->app, "Loupe: the app's name");
  cmd->add_option("-w", c->workload, "Loupe: the workload's name");
  cmd->add_option("-d", c->dockerfile, "Loupe: a Dockerfile whose CMD calls explore.py");
  cmd->add_option("--engine", c->engine, "docker or podman (default: the first running one)")
      ->check(CLI::IsMember({"docker", "podman"}));
  cmd->add_option("--strategy", c->strategy,
                  "group (group testing, default) or loupe (one at a time, fixed sleep)")
      ->check(CLI::IsMember({"group", "loupe"}));
  cmd->add_option("--replicas", c->replicas, "Observations per verdict (default: the recipe's)")
      ->check(CLI::Range(1, 100));
  cmd->add_option("-j,--jobs", c->jobs, "Worker containers probing at once (default: one per core)")
      ->check(CLI::Range(1, 64));
  cmd->add_option("--discovery", c->discovery,
                  "auto (eBPF when permitted, else ptrace), ebpf or ptrace")
      ->check(CLI::IsMember({"auto", "ebpf", "ptrace"}))
      ->capture_default_str();
  cmd->add_option("--only-syscalls", c->only_syscalls, "Explore only these syscalls")
      ->delimiter(',');
  cmd->add_flag("--no-features", c->no_features,
                "Do not explore sub-features (ioctl requests, fcntl commands, socket domains...)");
  cmd->add_flag("--no-paths", c->no_paths, "Do not explore pseudo-files (/proc, /sys, /dev)");
  cmd->add_flag("--no-collective", c->no_collective,
                "Do not check the working verdicts all at once");
  cmd->add_flag("--no-static", c->no_static, "Do not analyse the binary statically");
  cmd->add_option("--explorer", c->explorer, "lupa-explore to mount into the containers");
  cmd->add_flag("--allow-dirty", c->allow_dirty, "Accept a database with uncommitted changes");
  cmd->add_flag("--rebuild-base", c->rebuild_base, "Make the base image again with mmdebstrap");
  cmd->add_flag("--json", c->json, "Print the run's results.json (and its key) on stdout");
  cmd->callback([c] {
    c->argv = cli::command_line();
    run(*c);
  });
});
