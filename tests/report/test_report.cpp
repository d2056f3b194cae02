#include "analysis/subprocess.h"
#include "db/provenance.h"
#include "report/report.h"
#include "util/strings.h"

#include "synthetic_db.h"
#include "testutil.h"

#include <gtest/gtest.h>

#include <regex>

using analysis::Need;
using lupa_test::nr_of;
namespace fs = std::filesystem;

namespace {

const fs::path k_chromium = "/usr/bin/chromium";

// Every href/src value of `html`.
std::vector<std::string> references(const std::string& html) {
  std::vector<std::string> out;
  std::regex attr(R"re(\b(?:href|src)\s*=\s*"([^"]*)")re");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), attr); it != std::sregex_iterator();
       ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}

// Checks that every local href/src of `page` names an existing file; returns how many.
size_t expect_links_resolve(const fs::path& page, const std::string& html) {
  size_t n = 0;
  for (const std::string& ref : references(html)) {
    EXPECT_EQ(ref.find("://"), std::string::npos) << page << ": external reference " << ref;
    std::string path = ref.substr(0, ref.find('#'));
    if (path.empty()) {
      continue;
    }
    EXPECT_TRUE(fs::is_regular_file(page.parent_path() / path)) << page << ": broken link " << ref;
    ++n;
  }
  return n;
}

// The DOM Chromium builds for `page` after loading it (scripts run, images loaded).
std::string rendered_dom(const fs::path& page) {
  util::TempDir profile("lupa-test-chromium");
  auto run = analysis::run_process(
      k_chromium,
      {"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
       "--disable-background-networking", "--disable-component-update", "--disable-sync",
       "--user-data-dir=" + profile.path().string(), "--dump-dom", "file://" + page.string()},
      std::chrono::seconds(90));
  EXPECT_TRUE(run) << run.error();
  if (!run) {
    return {};
  }
  EXPECT_FALSE(run->timed_out);
  EXPECT_EQ(run->exit_code, 0) << run->output;
  return run->output;
}

// Checks Chromium rendered `page` with all its images loaded.
void expect_renders(const fs::path& page, size_t min_images) {
  std::string dom = rendered_dom(page);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(dom, m, std::regex(R"re(data-images="(\d+)")re")))
      << "the page's load script did not run:\n"
      << dom.substr(0, 2000);
  EXPECT_GE(std::stoul(m[1].str()), min_images);
  ASSERT_TRUE(std::regex_search(dom, m, std::regex(R"re(data-images-broken="(\d+)")re")));
  EXPECT_EQ(m[1].str(), "0") << page;
  EXPECT_GT(expect_links_resolve(page, dom), 0u);
}

class ReportSynthetic : public ::testing::Test {
protected:
  void SetUp() override {
    if (util::find_in_path("gnuplot").empty()) {
      GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
    }
    int read = nr_of("read"), write = nr_of("write"), sync = nr_of("sync"), mkdir = nr_of("mkdir");
    lupa_test::SynthRun lupa_run{
        "lupa-app",
        "benchmark-wrk",
        "5eed",
        {{read, Need::required}, {write, Need::both}, {sync, Need::stub_only}},
        std::vector<int>{read, write, sync, mkdir}};
    lupa_run.results_json = true;
    lupa_run.unstable = {sync};
    // A provenance as the runner writes it (db parses it when it loads the run).
    db::Provenance provenance;
    provenance.app = "lupa-app";
    provenance.workload = "benchmark-wrk";
    provenance.engine = "docker";
    provenance.engine_version = "20.10.24";
    provenance.kernel_release = "6.18";
    provenance.dockerfile = {"Dockerfile", std::string(40, '0')};
    lupa_run.provenance = nlohmann::json(provenance);
    lupa_test::write_run(m_db.path(), lupa_run);
    lupa_test::write_run(m_db.path(), {"old-app",
                                       "suite",
                                       "imported",
                                       {{read, Need::required}, {write, Need::fake_only}},
                                       std::vector<int>{read, write}});
    auto dataset = analysis::load_dataset(m_db.path());
    ASSERT_TRUE(dataset) << dataset.error();
    report::ReportOptions options;
    options.out = m_out.path() / "site";
    options.generator = "lupa test";
    auto files = report::write_report(*dataset, options);
    ASSERT_TRUE(files) << files.error();
    m_files = std::move(*files);
  }

  std::string page(const std::string& app) {
    return util::read_file(m_out.path() / "site" / "apps" / (app + ".html")).value_or("");
  }

  util::TempDir m_db{"lupa-test-report-db"};
  util::TempDir m_out{"lupa-test-report-out"};
  report::ReportFiles m_files;
};

} // namespace

TEST_F(ReportSynthetic, WritesIndexAppPagesAndPlots) {
  EXPECT_TRUE(fs::is_regular_file(m_files.index));
  EXPECT_EQ(m_files.app_pages.size(), 2u);
  EXPECT_EQ(m_files.plots.size(), 5u);
  std::string index = util::read_file(m_files.index).value_or("");
  EXPECT_NE(index.find("<a href=\"apps/lupa-app.html\">lupa-app</a>"), std::string::npos);
  EXPECT_NE(index.find("<img src=\"plots/cumulative.svg\""), std::string::npos);
  for (const fs::path& p : m_files.app_pages) {
    expect_links_resolve(p, util::read_file(p).value_or(""));
  }
  EXPECT_GE(expect_links_resolve(m_files.index, index), 2u + 5u * 5u);
}

TEST_F(ReportSynthetic, ShowsProvenanceUnstableVerdictsAndCoverage) {
  std::string lupa = page("lupa-app");
  EXPECT_NE(lupa.find("provenance.json: engine"), std::string::npos);
  EXPECT_NE(lupa.find("provenance.json: engine.version"), std::string::npos);
  EXPECT_NE(lupa.find("20.10.24"), std::string::npos);
  EXPECT_NE(lupa.find("results.json: lupa version"), std::string::npos);
  EXPECT_NE(lupa.find("Unstable verdicts (replicas disagreed; counted as required): sync"),
            std::string::npos)
      << lupa;
  EXPECT_NE(lupa.find("never exercised by the workload (their verdicts are unknown): mkdir"),
            std::string::npos);
  std::string old = page("old-app");
  EXPECT_NE(old.find("Provenance: not recorded"), std::string::npos);
  EXPECT_NE(old.find("Unstable verdicts: not recorded"), std::string::npos);
  EXPECT_NE(old.find("every statically reachable syscall was exercised"), std::string::npos);
}

TEST_F(ReportSynthetic, RendersInHeadlessChromium) {
  if (!util::is_executable_file(k_chromium)) {
    GTEST_SKIP() << k_chromium << " is not installed (apt-get install chromium)";
  }
  expect_renders(m_files.index, 5);
  expect_renders(m_files.app_pages.front(), 0);
}

TEST(ReportHtml, Escapes) {
  EXPECT_EQ(report::html_escape("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
}

TEST(ReportLoupedb, RendersThePublishedDatabase) {
  fs::path root = lupa_test::loupedb_path();
  if (root.empty()) {
    GTEST_SKIP() << lupa_test::k_no_loupedb;
  }
  if (util::find_in_path("gnuplot").empty()) {
    GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox)";
  }
  util::TempDir out("lupa-test-report-loupedb");
  auto text = report::run_report({root, out.path(), "*", "lupa test"});
  ASSERT_TRUE(text) << text.error();
  fs::path index = out.path() / "index.html";
  size_t pages = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(out.path() / "apps")) {
    std::string html = util::read_file(e.path()).value_or("");
    expect_links_resolve(e.path(), html);
    // loupedb-2023 records no provenance.
    EXPECT_NE(html.find("Provenance: not recorded"), std::string::npos) << e.path();
    ++pages;
  }
  EXPECT_EQ(pages, 116u);
  if (util::is_executable_file(k_chromium)) {
    expect_renders(index, 5);
  }
}
