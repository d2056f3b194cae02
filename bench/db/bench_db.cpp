// bench_db: how long the results database takes to import and export, and how that grows.
//
//   bench_db [--sizes 1000,10000] [--loupedb DIR] [--commits 20] [--tmp DIR]
//
// 1. loupedb-2023: `import loupedb` into a new git database, `export sqlite`, reading it back.
// 2. Synthetic plain trees of each size (lupa runs, 4 per app): import, open (scan + history),
//    export; per-run times and the ratio of the largest size to the smallest (1.0 = linear).
// 3. Incremental commits (`commit_run`) into each synthetic database: per-commit time and ratio.
// Timings on a shared 2-core machine are noisy: compare the ratios, not the absolute times.

#include "db/database.h"
#include "db/importer.h"
#include "db/sqlite_export.h"
#include "db/store.h"
#include "synthetic.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <sys/resource.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <stdexcept>

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

// CPU seconds (user + system) this process has used so far.
double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Wall-clock and CPU seconds of one step.
struct Timing {
  double wall = 0;
  double cpu = 0;
};

Timing timing_of(const std::function<void()>& f) {
  auto start = Clock::now();
  double cpu = cpu_seconds();
  f();
  return {std::chrono::duration<double>(Clock::now() - start).count(), cpu_seconds() - cpu};
}

double seconds_of(const std::function<void()>& f) { return timing_of(f).wall; }

template <typename T> T must(util::Result<T> r, const char* what) {
  if (!r) {
    throw std::runtime_error(fmt::format("{}: {}", what, r.error()));
  }
  return std::move(*r);
}

uint64_t tree_bytes(const fs::path& dir) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) {
      total += e.file_size();
    }
  }
  return total;
}

struct SizeFigures {
  size_t runs = 0;
  double write_tree = 0;
  Timing import;
  Timing open;
  Timing export_sqlite;
  uint64_t sqlite_bytes = 0;
  uint64_t git_bytes = 0;
  Timing commit; // per incremental commit
};

SizeFigures measure_size(const fs::path& work, size_t runs, size_t commits) {
  SizeFigures f;
  f.runs = runs;
  fs::path tree = work / fmt::format("tree-{}", runs);
  fs::path db_path = work / fmt::format("db-{}", runs);
  f.write_tree = seconds_of([&] { lupa_test::write_synthetic_tree(tree, runs, 4); });
  f.import = timing_of([&] {
    db::ImportReport r = must(db::import_loupedb(tree, db_path, {}), "import");
    if (r.added.size() != runs) {
      throw std::runtime_error(fmt::format("imported {} runs, expected {}", r.added.size(), runs));
    }
  });
  std::optional<db::Database> database;
  f.open = timing_of([&] { database = must(db::Database::open(db_path), "open"); });
  fs::path out = work / fmt::format("export-{}.db", runs);
  f.export_sqlite = timing_of([&] { must(db::export_sqlite(*database, out), "export"); });
  f.sqlite_bytes = fs::file_size(out);
  f.git_bytes = tree_bytes(db_path / ".git");
  db::Store store = must(db::Store::open(db_path, db::CreateMode::must_exist), "store");
  f.commit = timing_of([&] {
    for (size_t i = 0; i < commits; ++i) {
      db::NewRun run = lupa_test::synthetic_run(fmt::format("new{:03}", i), "wrk", 1'000'000 + i);
      must(store.commit_run(run, {}), "commit");
    }
  });
  f.commit.wall /= static_cast<double>(commits);
  f.commit.cpu /= static_cast<double>(commits);
  fs::remove_all(tree);
  fs::remove_all(db_path);
  fs::remove(out);
  return f;
}

} // namespace

int main(int argc, char** argv) {
  std::vector<size_t> sizes = {1000, 10000};
  fs::path loupedb = fs::path(LUPA_SOURCE_DIR) / ".." / "shared" / "loupedb-2023";
  size_t commits = 20;
  fs::path tmp_parent = fs::temp_directory_path();
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    std::string value = argv[i + 1];
    if (flag == "--sizes") {
      sizes.clear();
      for (const std::string& s : util::split(value, ',')) {
        sizes.push_back(std::stoul(s));
      }
    } else if (flag == "--loupedb") {
      loupedb = value;
    } else if (flag == "--commits") {
      commits = std::stoul(value);
    } else if (flag == "--tmp") {
      tmp_parent = value;
    } else {
      fmt::print(stderr, "usage: bench_db [--sizes 1000,10000] [--loupedb DIR] [--commits N] [--tmp DIR]\n");
      return 2;
    }
  }
  try {
    util::TempDir work("lupa-bench-db", tmp_parent);

    // 1. The published database.
    std::error_code ec;
    if (fs::is_directory(loupedb, ec)) {
      fs::path db_path = work.path() / "loupedb";
      db::ImportReport report;
      double import = seconds_of([&] { report = must(db::import_loupedb(loupedb, db_path, {}), "import"); });
      std::optional<db::Database> database;
      double open = seconds_of([&] { database = must(db::Database::open(db_path), "open"); });
      fs::path out = work.path() / "loupedb.db";
      db::ExportReport exported;
      double exp = seconds_of([&] { exported = must(db::export_sqlite(*database, out), "export"); });
      fmt::print("loupedb-2023: {} runs of {} apps\n", report.runs, report.apps);
      fmt::print("  import loupedb   {:8.3f} s  ({:.2f} ms/run), git objects {:.1f} MiB\n", import,
                 1000 * import / report.runs, tree_bytes(db_path / ".git") / 1048576.0);
      fmt::print("  open (scan+hist) {:8.3f} s\n", open);
      fmt::print("  export sqlite    {:8.3f} s  ({:.2f} ms/run), {} verdict rows, file {:.1f} KiB\n",
                 exp, 1000 * exp / exported.runs, exported.verdicts, exported.bytes / 1024.0);
    } else {
      fmt::print("loupedb-2023: absent at {} (skipped)\n", loupedb.string());
    }

    // 2 and 3. Synthetic databases.
    std::vector<SizeFigures> figures;
    for (size_t n : sizes) {
      figures.push_back(measure_size(work.path(), n, commits));
    }
    fmt::print("\nsynthetic databases (lupa runs, 4 per app); per-run ms as wall/cpu\n");
    fmt::print("{:>7} {:>7} {:>13} {:>13} {:>13} {:>10} {:>8} {:>15}\n", "runs", "write", "import",
               "open", "export", "sqlite KiB", "git MiB", "commit ms");
    auto per_run = [](const Timing& t, double n) {
      return fmt::format("{:.3f}/{:.3f}", 1000 * t.wall / n, 1000 * t.cpu / n);
    };
    for (const SizeFigures& f : figures) {
      double n = static_cast<double>(f.runs);
      fmt::print("{:>7} {:>7.3f} {:>13} {:>13} {:>13} {:>10.0f} {:>8.1f} {:>15}\n", f.runs,
                 1000 * f.write_tree / n, per_run(f.import, n), per_run(f.open, n),
                 per_run(f.export_sqlite, n), f.sqlite_bytes / 1024.0, f.git_bytes / 1048576.0,
                 per_run(f.commit, 1));
    }
    if (figures.size() >= 2) {
      const SizeFigures& a = figures.front();
      const SizeFigures& b = figures.back();
      double na = static_cast<double>(a.runs);
      double nb = static_cast<double>(b.runs);
      auto ratio = [&](const Timing& ta, const Timing& tb) {
        return fmt::format("{:.2f} (cpu {:.2f})", (tb.wall / nb) / (ta.wall / na),
                           (tb.cpu / nb) / (ta.cpu / na));
      };
      fmt::print("\nper-run cost at {} runs / at {} runs (1.00 = linear growth):\n", b.runs, a.runs);
      fmt::print("  import {}   open {}   export {}   sqlite bytes {:.2f}\n",
                 ratio(a.import, b.import), ratio(a.open, b.open),
                 ratio(a.export_sqlite, b.export_sqlite),
                 (static_cast<double>(b.sqlite_bytes) / nb) / (static_cast<double>(a.sqlite_bytes) / na));
      fmt::print("  one commit into the {}-run database / into the {}-run one: {:.2f} (cpu {:.2f}); "
                 "it stats every tracked file (the dirty check, like `git status`)\n",
                 b.runs, a.runs, b.commit.wall / a.commit.wall, b.commit.cpu / a.commit.cpu);
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "bench_db: {}\n", e.what());
    return 1;
  }
  return 0;
}
