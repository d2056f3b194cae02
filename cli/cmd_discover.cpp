// `lupa discover RECIPE [--discovery auto|ebpf|ptrace] [--json]`: the syscalls an app makes in
// its container under its workload, with counts (steps 1-9 of `lupa generate`, no exploration,
// nothing committed). Like `lupa trace syscalls`, but for a recipe.

#include "cli/command.h"
#include "core/syscalls.h"
#include "explorer/cancel.h"
#include "runner/generate.h"
#include "util/error.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace {

struct DiscoverCli {
  std::string recipe;
  std::string engine;
  std::string discovery = "auto";
  std::string explorer;
  bool json = false;
};

void run(const DiscoverCli& c) {
  runner::GenerateOptions o;
  o.recipe = c.recipe;
  o.discover_only = true;
  o.commit = false;
  if (!c.engine.empty()) {
    o.engine = docker::engine_from_string(c.engine);
  }
  o.discovery = *runner::discovery_backend_from_string(c.discovery);
  o.explorer = c.explorer;
  explorer::install_cancel_handlers();
  util::Result<runner::GenerateResult> result = runner::generate(o);
  if (!result) {
    throw util::Fatal(result.error());
  }
  const core::Discovery& d = result->discovery.discovery;
  if (c.json) {
    nlohmann::json j = d;
    if (!result->discovery.fallback.empty()) {
      j["fallback"] = result->discovery.fallback;
    }
    fmt::print("{}\n", j.dump(2));
    return;
  }
  const core::SyscallTable& table = core::SyscallTable::get();
  fmt::print("{:>10}  {:<4} {}\n", "calls", "nr", "syscall");
  for (const auto& [nr, count] : d.counts) {
    fmt::print("{:>10}  {:<4} {}\n", count, nr, table.name(nr));
  }
  fmt::print("{} syscalls ({} discovery{}), {} sub-feature values, {} pseudo-files\n",
             d.counts.size(), d.backend, d.complete ? "" : ", INCOMPLETE: " + d.incomplete_reason,
             d.features.size(), d.paths.size());
}

} // namespace

LUPA_COMMAND(discover, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "discover", "The syscalls a recipe's app makes in its container (no exploration)");
  auto c = std::make_shared<DiscoverCli>();
  cmd->add_option("recipe", c->recipe, "The recipe (apps/<app>/<workload>.toml)")->required();
  cmd->add_option("--engine", c->engine, "docker or podman (default: the first running one)")
      ->check(CLI::IsMember({"docker", "podman"}));
  cmd->add_option("--discovery", c->discovery,
                  "auto (eBPF when permitted, else ptrace), ebpf or ptrace")
      ->check(CLI::IsMember({"auto", "ebpf", "ptrace"}))
      ->capture_default_str();
  cmd->add_option("--explorer", c->explorer, "lupa-explore to mount into the containers");
  cmd->add_flag("--json", c->json, "Print the discovery as JSON");
  cmd->callback([c] { run(*c); });
});
