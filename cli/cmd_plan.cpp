// `lupa plan -db DB --supported FILE|OS -a APPS -w bench|suite [--greedy-loupe|--compare]`:
// the order in which an OS should implement, stub and fake syscalls to run a set of apps.

#include "analysis/plan.h"
#include "cli/command.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

struct Options {
  analysis::PlanRequest request;
  bool greedy_loupe = false;
};

void run(Options& o) {
  o.request.mode =
      o.greedy_loupe ? analysis::PlanMode::loupe_greedy : analysis::PlanMode::work_ratio;
  util::Result<std::string> out = analysis::run_plan(o.request);
  if (!out) {
    throw util::Fatal(out.error());
  }
  fmt::print("{}", *out);
}

} // namespace

LUPA_COMMAND(plan, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "plan", "Step-by-step OS support plan: what to implement, stub and fake, app by app");
  auto o = std::make_shared<Options>();
  cmd->add_option("--db,--database", o->request.db, "Results database (also -db)")->required();
  cmd->add_option("--supported", o->request.supported,
                  "Syscalls the OS supports: a file of names, or a shipped list (Browsix, "
                  "Freebsd, Fuchsia, Graphene, Gvisor, Hermitux, Kerla, LinuxNoLibc, Osv, "
                  "Unikraft, Zephyr)")
      ->required();
  cmd->add_option("-a,--apps", o->request.apps, "Apps: comma-separated names, or '*' for all")
      ->required();
  cmd->add_option("-w,--workload", o->request.workload, "bench or suite")->required();
  CLI::Option* loupe =
      cmd->add_flag("--greedy-loupe", o->greedy_loupe,
                    "Reproduce Loupe's greedy plan (search --guide-support), labels corrected");
  cmd->add_flag("--compare", o->request.compare,
                "Compare Loupe's order with the work-ratio plan (steps, apps working, work)")
      ->excludes(loupe);
  cmd->add_option(
      "--costs", o->request.costs,
      "Work per syscall: implement=N,stub=N,fake=N (default implement=10,stub=1,fake=1)");
  cmd->add_flag("--json", o->request.json, "Print JSON");
  cmd->callback([o] { run(*o); });
});
