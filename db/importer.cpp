#include "db/importer.h"

#include "db/layout.h"
#include "db/snapshot.h"
#include "db/verify.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <set>

namespace fs = std::filesystem;

namespace db {

namespace {

// Loupe's tables have one row per syscall 0..334.
constexpr size_t k_loupe_rows = 335;

// The first error of `report`, prefixed with what was being imported.
util::Result<void> first_error(const VerifyReport& report, std::string_view what) {
  if (report.errors.empty()) {
    return {};
  }
  std::string more = report.errors.size() > 1
                         ? fmt::format(" (and {} more problems)", report.errors.size() - 1)
                         : "";
  const std::string& first = report.errors.front();
  std::string where = first.starts_with(what) ? "" : fmt::format("{}: ", what);
  return util::error(fmt::format("{}{}{}; nothing was imported", where, first, more));
}

// Drift the CSV readers tolerate silently: row counts, headers, final newlines.
void note_csv_drift(const std::string& path, const std::string& text, bool dyn,
                    std::map<std::string, std::vector<std::string>>& drift) {
  std::string name = fs::path(path).filename().string();
  if (!text.empty() && !text.ends_with('\n')) {
    drift[name + " without a final newline"].push_back(path);
  }
  if (!dyn && !text.starts_with('#')) {
    drift[name + " without a header line"].push_back(path);
  }
}

// Sorts a warning of the dyn.csv reader ("<file>:<line>: <what>") into `drift`.
void note_warning(const std::string& warning, std::map<std::string, std::vector<std::string>>& drift) {
  size_t colon = warning.rfind(": ");
  std::string where = warning.substr(0, colon);
  std::string what = warning.substr(colon + 2);
  if (what == "no header line") {
    drift["dyn.csv without a header line"].push_back(where.substr(0, where.rfind(':')));
  } else if (what == "non-exclusive flag columns") {
    drift["dyn.csv rows with non-exclusive flag columns"].push_back(where);
  } else if (what.starts_with("used=N")) {
    drift["dyn.csv rows with used=N but a works flag Y"].push_back(where);
  } else {
    drift[what].push_back(where);
  }
}

// The files of a Loupe or lupa run of `snap`, checked; drift noted.
util::Result<RunFiles> read_source_run(const Snapshot& snap, const RunRef& ref,
                                       ImportReport& report) {
  VerifyReport check;
  std::map<std::string, RunFile> files;
  TRY_ASSIGN(std::optional<Entry> provenance, snap.stat(ref.key() + "/" + k_provenance_json));
  if (provenance) {
    files = check_new_run(snap, ref.key(), VerifyOptions{}, check);
    ++report.lupa_runs;
  } else {
    files = collect_run_files(snap, ref.key(), VerifyOptions{}, check);
  }
  TRY(first_error(check, ref.key()));
  TRY_ASSIGN(RunData data, load_run(snap, ref));
  for (const std::string& w : data.warnings) {
    note_warning(w, report.drift);
  }
  if (data.dyn.rows.size() != k_loupe_rows && data.format == RunFormat::loupe) {
    report.drift[fmt::format("dyn.csv with {} rows (Loupe writes {})", data.dyn.rows.size(),
                             k_loupe_rows)]
        .push_back(ref.key() + "/" + k_dyn_csv);
  }
  for (const char* csv : {k_dyn_csv, k_static_csv, k_static_sources_csv}) {
    if (auto it = files.find(csv); it != files.end()) {
      note_csv_drift(ref.key() + "/" + csv, it->second.content, std::string_view(csv) == k_dyn_csv, report.drift);
    }
  }
  RunFiles out;
  out.app = ref.app;
  out.workload = ref.workload;
  out.run_id = ref.run_id;
  out.files = std::move(files);
  out.summary = summarize(data).text();
  return out;
}

} // namespace

util::Result<ImportReport> import_loupedb(const fs::path& source, const fs::path& db,
                                          const CommitOptions& options) {
  ImportReport report;
  report.source = source.string();
  TRY_ASSIGN(std::unique_ptr<Snapshot> snap, open_snapshot(source));

  // 1. Read and check everything before writing anything.
  std::vector<std::string> skipped;
  TRY_ASSIGN(std::vector<RunRef> refs, scan_runs(*snap, &skipped));
  if (!skipped.empty()) {
    return util::error(fmt::format("{}: {}; nothing was imported", source.string(), skipped.front()));
  }
  if (refs.empty()) {
    return util::error(fmt::format("{}: no runs (expected <app>/<workload>/<run id>/data/dyn.csv)",
                                   source.string()));
  }
  Change change;
  std::set<std::string> apps;
  for (const RunRef& ref : refs) {
    TRY_ASSIGN(RunFiles files, read_source_run(*snap, ref, report));
    apps.insert(ref.app);
    change.runs.push_back(std::move(files));
  }
  report.runs = change.runs.size();
  report.apps = apps.size();

  TRY_ASSIGN(std::vector<Entry> root, snap->list(""));
  for (const Entry& e : root) {
    if (e.type != EntryType::file) {
      continue;
    }
    if (e.name.ends_with(".syscalls") && is_safe_name(e.name)) {
      TRY_ASSIGN(std::string text, snap->read(e.name));
      SyscallList list = parse_syscall_list(text, e.name);
      report.unknown_names.insert(report.unknown_names.end(), list.unknown.begin(), list.unknown.end());
      report.os_lists.push_back(e.name);
      change.root_files[e.name] = RunFile{e.name, std::move(text), FileMode::regular};
    } else if (e.name == "SOURCE.md") {
      std::string name = util::sanitize_name(fs::absolute(source).lexically_normal().filename().string());
      if (name.empty() || name.starts_with('.')) {
        name = "import";
      }
      TRY_ASSIGN(std::string text, snap->read(e.name));
      change.root_files[name + ".SOURCE.md"] = RunFile{name + ".SOURCE.md", std::move(text)};
    }
  }
  change.message = fmt::format("import: {} runs of {} apps from {}\n\nLupa-Import: {}\n",
                               report.runs, report.apps, fs::path(source).filename().string(),
                               source.string());

  // 2. One commit.
  TRY_ASSIGN(Store store, Store::open(db, CreateMode::create));
  CommitOptions strict = options;
  strict.replace = ReplacePolicy::refuse;
  TRY_ASSIGN(CommitResult result, store.commit(change, strict));
  report.added = result.added;
  report.unchanged = result.unchanged;
  if (!result.commit.empty()) {
    report.commits.push_back(result.commit);
  }
  return report;
}

util::Result<ImportReport> import_runs(const std::vector<fs::path>& dirs, const fs::path& db,
                                       const CommitOptions& options) {
  ImportReport report;
  std::vector<RunFiles> runs;
  std::set<std::string> apps;
  for (const fs::path& given : dirs) {
    std::error_code ec;
    fs::path dir = fs::weakly_canonical(given, ec);
    if (ec || !fs::is_directory(dir, ec)) {
      return util::error(fmt::format("{}: not a run directory; nothing was imported", given.string()));
    }
    fs::path root = dir.parent_path().parent_path().parent_path();
    std::optional<Workload> wl = parse_workload_dir(dir.parent_path().filename().string());
    if (!wl || root.empty()) {
      return util::error(fmt::format("{}: not inside <app>/<workload dir>/ (benchmark-W, suite, "
                                     "suite-W); nothing was imported",
                                     given.string()));
    }
    RunRef ref{dir.parent_path().parent_path().filename().string(), *wl, dir.filename().string(), dir};
    DirSnapshot snap(root);
    TRY_ASSIGN(std::optional<Entry> provenance, snap.stat(ref.key() + "/" + k_provenance_json));
    if (!provenance) {
      return util::error(fmt::format("{}/{}: missing (a lupa run holds it; import Loupe trees "
                                     "with `lupa import loupedb`); nothing was imported",
                                     given.string(), k_provenance_json));
    }
    TRY_ASSIGN(RunFiles files, read_source_run(snap, ref, report));
    apps.insert(ref.app);
    runs.push_back(std::move(files));
  }
  report.runs = runs.size();
  report.apps = apps.size();
  TRY_ASSIGN(Store store, Store::open(db, CreateMode::create));
  for (const RunFiles& run : runs) {
    Change change;
    change.message = run_commit_message(run);
    change.runs.push_back(run);
    TRY_ASSIGN(CommitResult result, store.commit(change, options));
    report.added.insert(report.added.end(), result.added.begin(), result.added.end());
    report.added.insert(report.added.end(), result.replaced.begin(), result.replaced.end());
    report.unchanged.insert(report.unchanged.end(), result.unchanged.begin(), result.unchanged.end());
    if (!result.commit.empty()) {
      report.commits.push_back(result.commit);
      util::log::verbose("committed {} as {}", run.key(), result.commit.substr(0, 12));
    }
  }
  return report;
}

} // namespace db
