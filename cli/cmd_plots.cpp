// `lupa plots --all -db DB -o DIR`: every plot of the Loupe paper, regenerated with gnuplot;
// or `lupa plots -db DB -o DIR [-a APPS] [-w W] [--plot KIND]...` for a chosen selection.

#include "cli/command.h"
#include "plots/plots.h"
#include "util/error.h"

#include <fmt/format.h>

namespace {

void run(const plots::PlotRequest& request) {
  util::Result<std::string> out = plots::run_plots(request);
  if (!out) {
    throw util::Fatal(out.error());
  }
  fmt::print("{}", *out);
}

} // namespace

LUPA_COMMAND(plots, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("plots", "Draw the paper's plots (gnuplot: SVG, PDF, PNG)");
  auto r = std::make_shared<plots::PlotRequest>();
  cmd->add_option("--db,--database", r->db, "Results database (also -db)")->required();
  cmd->add_option("-o,--output", r->out, "Output directory")->required();
  CLI::Option* all = cmd->add_flag(
      "--all", r->all,
      "Every paper plot: cumulative and heatmaps over all apps (benchmarks), histogram of the "
      "paper's seven apps");
  cmd->add_option("-a,--apps", r->apps, "Apps: comma-separated names, or '*' (default)")
      ->excludes(all);
  cmd->add_option("-w,--workload", r->workload, "bench (default), suite, or '*'")->excludes(all);
  cmd->add_option("--plot", r->kinds, "cumulative, heatmap, histogram (repeatable; default all)")
      ->check(CLI::IsMember({"cumulative", "heatmap", "histogram"}))
      ->excludes(all);
  cmd->add_option("--format", r->formats, "Comma-separated: svg, pdf, png (default all three)");
  cmd->callback([r] { run(*r); });
});
