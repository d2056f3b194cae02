#pragma once
// The paper's plots, regenerated from a results database with gnuplot: for each plot, a data
// file (the numbers), a gnuplot script, and the images (SVG, PDF, PNG), all in one directory.
//
// - cumulative: per syscall, the share of apps whose static binary contains it, that use it,
//   that require it; each curve sorted in decreasing order (Loupe paper, "API importance");
// - heatmap-required / heatmap-used / heatmap-static: the syscall table as a grid of 24
//   columns, each cell coloured by the share of apps requiring / using / statically containing
//   the syscall;
// - histogram: per app and workload, stacked counts of required, stub-only, fake-only and both
//   syscalls, beside the size of its static set. Any app list: missing data leaves a bar out.

#include "analysis/dataset.h"
#include "analysis/usage.h"

#include <filesystem>
#include <string>
#include <vector>

namespace plots {

enum class Format { svg, pdf, png };

// `format` as a file extension: "svg", "pdf" or "png".
const char* to_string(Format format);

// Parses `text`: a comma-separated list of svg, pdf, png.
util::Result<std::vector<Format>> parse_formats(std::string_view text);

// Cumulative plot data: shares (percent) sorted in decreasing order, one per syscall number.
struct CumulativeData {
  std::vector<std::string> apps;     // the apps counted (the same set for every curve)
  std::vector<std::string> excluded; // apps left out because they lack static data
  bool has_static = false;
  std::vector<double> static_binary; // empty unless has_static
  std::vector<double> dyn_used;
  std::vector<double> dyn_required;
};

// The cumulative data of `apps` (those with data). When any has a static set, only apps with
// both a static set and dynamic data are counted, so that all curves describe the same apps
// (as in Loupe); the others are listed in `excluded`.
CumulativeData cumulative_data(const std::vector<analysis::AppUsage>& apps);

// What a heatmap colours each syscall by.
enum class HeatmapMeasure { required, used, static_binary };

// `measure` as used in file names: "required", "used" or "static".
const char* to_string(HeatmapMeasure measure);

// Heatmap data: per syscall number, the share (percent) of `apps` counted.
struct HeatmapData {
  HeatmapMeasure measure = HeatmapMeasure::required;
  size_t apps = 0;           // apps counted (for static: apps with a static set)
  std::vector<double> share; // index: syscall number, 0..highest known or seen
};

// The heatmap data of `apps` (those with data) for `measure`.
HeatmapData heatmap_data(const std::vector<analysis::AppUsage>& apps, HeatmapMeasure measure);

// One bar of the histogram.
struct HistogramBar {
  std::string app;
  std::string label;       // "static", "bench" or "suite"
  size_t static_count = 0; // static bars only
  size_t required = 0;
  size_t stub_only = 0;
  size_t fake_only = 0;
  size_t both = 0;
};

// Histogram data for `apps` of `dataset`: per app, a static bar when a static set exists, then
// a bar per workload kind with data. `missing` receives "app: no X data" lines.
std::vector<HistogramBar> histogram_data(const analysis::Dataset& dataset,
                                         const std::vector<std::string>& apps,
                                         std::vector<std::string>& missing);

// The text of the data file gnuplot reads for `data` (one row per rank; columns in a header).
std::string cumulative_dat(const CumulativeData& data);
// The text of the data file for heatmap `data`: column, row, share, syscall number.
std::string heatmap_dat(const HeatmapData& data);
// The text of the data file for histogram `bars`: app, bar, then the five counts.
std::string histogram_dat(const std::vector<HistogramBar>& bars);

// One generated plot.
struct PlotFile {
  std::string name; // "cumulative", "heatmap-required", ...
  std::string title;
  std::filesystem::path data;                // the .dat file
  std::filesystem::path script;              // the .gp file
  std::vector<std::filesystem::path> images; // one per format
  std::vector<std::string> notes;            // what was left out and why
};

// What to plot.
struct PlotOptions {
  std::filesystem::path out;               // output directory (created)
  std::vector<std::string> apps;           // app names (as select_apps returns)
  std::vector<std::string> histogram_apps; // apps of the histogram (default: `apps`)
  analysis::WorkloadFilter workload = analysis::WorkloadFilter::bench;
  std::vector<Format> formats = {Format::svg, Format::pdf, Format::png};
  std::vector<std::string> kinds = {"cumulative", "heatmap", "histogram"};
};

// Writes the data files and scripts of the plots `options` asks for into `options.out` and runs
// gnuplot on them. Fails with one line (gnuplot missing, a script failing, an unwritable dir).
util::Result<std::vector<PlotFile>> generate_plots(const analysis::Dataset& dataset,
                                                   const PlotOptions& options);

// The apps of the paper's histogram (Loupe's `--paper-histogram-plot`).
const std::vector<std::string>& paper_histogram_apps();

// A `lupa plots` invocation.
struct PlotRequest {
  std::filesystem::path db;
  std::filesystem::path out;
  bool all = false;              // every paper plot with the paper's selections
  std::vector<std::string> apps; // default "*"
  std::string workload = "bench";
  std::string formats = "svg,pdf,png";
  std::vector<std::string> kinds; // cumulative, heatmap, histogram (default: all three)
};

// The paper plots of `dataset` into `out` in `formats`: cumulative and heatmaps over every app
// with benchmark data, the histogram over the paper's seven apps that exist (all apps if none).
util::Result<std::vector<PlotFile>> generate_paper_plots(const analysis::Dataset& dataset,
                                                         const std::filesystem::path& out,
                                                         const std::vector<Format>& formats);

// Loads `request.db`, generates the plots and returns the text to print (the files written).
util::Result<std::string> run_plots(const PlotRequest& request);

} // namespace plots
