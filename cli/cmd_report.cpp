// `lupa report -db DB -o DIR [-w W]`: a static HTML report (plots, per-app tables of static vs
// used vs required syscalls, unstable verdicts, coverage warnings, provenance).

#include "cli/command.h"
#include "report/report.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

void run(const report::ReportRequest& request) {
  util::Result<std::string> out = report::run_report(request);
  if (!out) {
    throw util::Fatal(out.error());
  }
  fmt::print("{}", *out);
}

} // namespace

LUPA_COMMAND(report, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("report", "Static HTML report of a results database");
  auto r = std::make_shared<report::ReportRequest>();
  r->generator = "lupa " LUPA_VERSION;
  cmd->add_option("--db,--database", r->db, "Results database (also -db)")->required();
  cmd->add_option("-o,--output", r->out, "Output directory")->required();
  cmd->add_option("-w,--workload", r->workload, "bench, suite, or '*' (default: all)");
  cmd->callback([r] { run(*r); });
});
