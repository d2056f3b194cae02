#include "plots/plots.h"
#include "util/strings.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <gtest/gtest.h>

#include <map>

using analysis::Need;
using lupa_test::nr_of;
namespace fs = std::filesystem;

namespace {

bool have_gnuplot() {
  return !util::find_in_path("gnuplot").empty();
}

// The numeric columns of a .dat file's data lines (comments skipped, quoted fields kept).
std::vector<std::vector<std::string>> dat_rows(const fs::path& file) {
  std::vector<std::vector<std::string>> rows;
  auto text = util::read_file(file);
  EXPECT_TRUE(text) << file;
  for (const std::string& line : util::split(text.value_or(""), '\n')) {
    if (line.empty() || line[0] == '#') {
      continue;
    }
    rows.push_back(util::split(line, '\t'));
  }
  return rows;
}

void expect_valid_images(const plots::PlotFile& plot) {
  ASSERT_EQ(plot.images.size(), 3u);
  for (const fs::path& image : plot.images) {
    auto bytes = util::read_file(image);
    ASSERT_TRUE(bytes) << image;
    if (image.extension() == ".svg") {
      boost::property_tree::ptree tree;
      try {
        boost::property_tree::read_xml(image.string(), tree);
      } catch (const std::exception& e) {
        FAIL() << image << " is not XML: " << e.what();
      }
      EXPECT_EQ(
          tree.get<std::string>("svg.title", ""), "lupa_" + [&] {
            std::string id = plot.name;
            std::replace(id.begin(), id.end(), '-', '_');
            return id;
          }());
      // The visible title is drawn (XML-escaped like any text).
      EXPECT_NE(bytes->find(plot.title.substr(0, 20)), std::string::npos) << image;
    } else if (image.extension() == ".png") {
      EXPECT_EQ(bytes->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8)) << image;
    } else {
      EXPECT_EQ(bytes->substr(0, 5), "%PDF-") << image;
    }
  }
}

class PlotsSynthetic : public ::testing::Test {
protected:
  void SetUp() override {
    if (!have_gnuplot()) {
      GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
    }
    int read = nr_of("read"), write = nr_of("write"), close = nr_of("close"),
        lseek = nr_of("lseek");
    lupa_test::write_run(
        m_root.path(), {"a",
                        "benchmark-w",
                        "1",
                        {{read, Need::required},
                         {write, Need::both},
                         {close, Need::stub_only},
                         {lseek, Need::fake_only}},
                        std::vector<int>{read, write, close, lseek, nr_of("mmap"), nr_of("exit")}});
    lupa_test::write_run(m_root.path(), {"b",
                                         "benchmark-w",
                                         "1",
                                         {{read, Need::required}, {write, Need::required}},
                                         std::vector<int>{read, write}});
    lupa_test::write_run(m_root.path(), {"c", "benchmark-w", "1", {{read, Need::both}}});
    lupa_test::write_run(m_root.path(), {"d", "suite", "1", {{read, Need::required}}});
    auto dataset = analysis::load_dataset(m_root.path());
    ASSERT_TRUE(dataset) << dataset.error();
    m_dataset = std::move(*dataset);
  }

  util::TempDir m_root{"lupa-test-plots-db"};
  util::TempDir m_out{"lupa-test-plots-out"};
  analysis::Dataset m_dataset;
};

} // namespace

TEST_F(PlotsSynthetic, CumulativeCountsOnlyAppsWithStaticAndDynamicData) {
  plots::PlotOptions options;
  options.out = m_out.path();
  options.apps = {"a", "b", "c", "d"};
  options.kinds = {"cumulative"};
  auto files = plots::generate_plots(m_dataset, options);
  ASSERT_TRUE(files) << files.error();
  ASSERT_EQ(files->size(), 1u);
  const plots::PlotFile& plot = files->front();
  expect_valid_images(plot);
  EXPECT_NE(plot.title.find("2 apps"), std::string::npos) << plot.title; // a and b
  ASSERT_EQ(plot.notes.size(), 1u);
  EXPECT_NE(plot.notes[0].find(": c"), std::string::npos); // c has no static set; d no bench

  // Expected, by hand: a and b. static: read, write in both; close, lseek, mmap, exit in a.
  // used: read, write in both; close, lseek in a. required: read in both; write in b.
  std::vector<std::vector<double>> expected = {{100, 100, 50, 50, 50, 50, 0}, // static
                                               {100, 100, 50, 50, 0, 0, 0},   // used
                                               {100, 50, 0, 0, 0, 0, 0}};     // required
  std::vector<std::vector<std::string>> rows = dat_rows(plot.data);
  // One row per syscall number, up to the highest one in the data (exit, in a's static set).
  ASSERT_EQ(rows.size(), size_t(nr_of("exit")) + 1);
  for (size_t i = 0; i < 7; ++i) {
    ASSERT_EQ(rows[i].size(), 4u);
    EXPECT_EQ(std::stoul(rows[i][0]), i);
    for (size_t c = 0; c < 3; ++c) {
      EXPECT_NEAR(std::stod(rows[i][c + 1]), expected[c][i], 1e-3) << "rank " << i << " col " << c;
    }
  }
}

TEST_F(PlotsSynthetic, HeatmapSharesPerSyscallNumber) {
  plots::PlotOptions options;
  options.out = m_out.path();
  options.apps = {"a", "b", "c", "d"};
  options.kinds = {"heatmap"};
  auto files = plots::generate_plots(m_dataset, options);
  ASSERT_TRUE(files) << files.error();
  ASSERT_EQ(files->size(), 3u); // required, used, static
  std::map<std::string, std::map<long, double>> share;
  for (const plots::PlotFile& plot : *files) {
    expect_valid_images(plot);
    for (const std::vector<std::string>& row : dat_rows(plot.data)) {
      ASSERT_EQ(row.size(), 4u);
      share[plot.name][std::stol(row[3])] = std::stod(row[2]);
    }
  }
  // required over a, b, c (3 apps with bench data): read required by a and b.
  EXPECT_NEAR(share["heatmap-required"][nr_of("read")], 200.0 / 3, 1e-3);
  EXPECT_NEAR(share["heatmap-required"][nr_of("write")], 100.0 / 3, 1e-3);
  EXPECT_NEAR(share["heatmap-required"][nr_of("close")], 0, 1e-9);
  EXPECT_NEAR(share["heatmap-used"][nr_of("read")], 100, 1e-3);
  EXPECT_NEAR(share["heatmap-used"][nr_of("close")], 100.0 / 3, 1e-3);
  // static over a and b only (c has none).
  EXPECT_NEAR(share["heatmap-static"][nr_of("mmap")], 50, 1e-3);
  EXPECT_NEAR(share["heatmap-static"][nr_of("openat")], 0, 1e-9);
}

TEST_F(PlotsSynthetic, HistogramTakesAnyAppListAndLeavesMissingBarsOut) {
  plots::PlotOptions options;
  options.out = m_out.path();
  options.apps = {"a", "d"};
  options.histogram_apps = {"a", "d", "zzz"};
  options.kinds = {"histogram"};
  auto files = plots::generate_plots(m_dataset, options);
  ASSERT_TRUE(files) << files.error();
  const plots::PlotFile& plot = files->front();
  expect_valid_images(plot);
  std::vector<std::vector<std::string>> rows = dat_rows(plot.data);
  std::vector<std::string> lines;
  for (const auto& r : rows) {
    lines.push_back(util::join(r, " "));
  }
  EXPECT_EQ(lines,
            (std::vector<std::string>{"\"a\" \"static\" 6 0 0 0 0", "\"a\" \"bench\" 0 1 1 1 1",
                                      "\"d\" \"suite\" 0 1 0 0 0"}));
  ASSERT_EQ(plot.notes.size(), 1u);
  EXPECT_NE(plot.notes[0].find("zzz: not in the database"), std::string::npos);
  EXPECT_NE(plot.notes[0].find("d: no bench data"), std::string::npos);
}

TEST(PlotsFormats, ParsesAndRejects) {
  auto f = plots::parse_formats("svg,png");
  ASSERT_TRUE(f);
  EXPECT_EQ(f->size(), 2u);
  EXPECT_FALSE(plots::parse_formats("svg,jpeg"));
  EXPECT_FALSE(plots::parse_formats(""));
}

TEST(PlotsLoupedb, RegeneratesEveryPaperPlot) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  if (!have_gnuplot()) {
    GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  }
  auto dataset = analysis::load_dataset(root);
  ASSERT_TRUE(dataset) << dataset.error();
  util::TempDir out("lupa-test-paperplots");
  auto files = plots::generate_paper_plots(
      *dataset, out.path(), {plots::Format::svg, plots::Format::pdf, plots::Format::png});
  ASSERT_TRUE(files) << files.error();
  std::vector<std::string> names;
  for (const plots::PlotFile& plot : *files) {
    names.push_back(plot.name);
    expect_valid_images(plot);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"cumulative", "heatmap-required", "heatmap-used",
                                             "heatmap-static", "histogram"}));
  // memcached has only a test suite: its benchmark bar is missing, and the plot says so.
  EXPECT_NE(util::join(files->back().notes, " ").find("memcached: no bench data"),
            std::string::npos);
}
