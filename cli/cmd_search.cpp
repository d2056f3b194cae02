// `lupa search -db DB -a APPS|'*' -w bench|suite|'*' [--show-usage] [--json|--csv]`: which
// syscalls the selected apps require, tolerate stubbed, faked, or both; and per syscall, which
// apps need it.

#include "analysis/search.h"
#include "cli/command.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

struct Options {
  analysis::SearchRequest request;
  bool show_usage = false;
  bool json = false;
  bool csv = false;
};

void run(Options& o) {
  o.request.show = o.show_usage ? analysis::ShowUsage::yes : analysis::ShowUsage::no;
  o.request.format = o.json  ? analysis::OutputFormat::json
                     : o.csv ? analysis::OutputFormat::csv
                             : analysis::OutputFormat::table;
  util::Result<std::string> out = analysis::run_search(o.request);
  if (!out) {
    throw util::Fatal(out.error());
  }
  fmt::print("{}", *out);
}

} // namespace

LUPA_COMMAND(search, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "search", "Which syscalls apps require, or tolerate stubbed (ENOSYS) or faked (0)");
  auto o = std::make_shared<Options>();
  cmd->add_option("--db,--database", o->request.db, "Results database (also -db)")->required();
  cmd->add_option("-a,--apps", o->request.apps, "Apps: comma-separated names, or '*' for all")
      ->required();
  cmd->add_option("-w,--workload", o->request.workload, "bench, suite, or '*' (all of them)")
      ->required();
  cmd->add_flag("--show-usage", o->show_usage,
                "List the syscalls per app and category, and which apps need each syscall");
  CLI::Option* json = cmd->add_flag("--json", o->json, "Print JSON");
  cmd->add_flag("--csv", o->csv,
                "Print CSV: per-app counts, or (with --show-usage) one row per app and syscall")
      ->excludes(json);
  cmd->callback([o] { run(*o); });
});
