#include "db/verify.h"

#include "core/dyn_csv.h"
#include "core/syscalls.h"
#include "db/git.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace fs = std::filesystem;

namespace db {

namespace {

std::string join_path(std::string_view dir, std::string_view name) {
  return dir.empty() ? std::string(name) : fmt::format("{}/{}", dir, name);
}

// A printable form of a raw (maybe hostile) name.
std::string printable(std::string_view name) {
  std::string out;
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// Checks the name and type of `entry` in `dir`; false (and an error) when it is rejected.
bool acceptable_entry(std::string_view dir, const Entry& entry, VerifyReport& report) {
  std::string path = join_path(dir, printable(entry.name));
  if (entry.name == "." || entry.name == ".." || entry.name.find('/') != std::string::npos ||
      entry.name.find('\0') != std::string::npos || entry.name.find('\\') != std::string::npos) {
    report.errors.push_back(fmt::format("{}: path escapes the tree", path));
    return false;
  }
  if (!is_safe_name(entry.name)) {
    report.errors.push_back(fmt::format(
        "{}: name not allowed (only [A-Za-z0-9._+-], not hidden, at most 128 characters)", path));
    return false;
  }
  if (entry.type == EntryType::symlink || entry.type == EntryType::submodule ||
      entry.type == EntryType::other) {
    report.errors.push_back(fmt::format("{}: {} not allowed (regular files and directories only)",
                                        path, to_string(entry.type)));
    return false;
  }
  return true;
}

void check_text(const std::string& path, std::string_view data, VerifyReport& report) {
  if (!is_text(data)) {
    report.errors.push_back(fmt::format("{}: binary file (NUL byte or invalid UTF-8)", path));
  }
}

void collect(const Snapshot& snap, const std::string& key, const std::string& rel,
             const VerifyOptions& options, uint64_t& total, std::map<std::string, RunFile>& out,
             VerifyReport& report) {
  std::string dir = rel.empty() ? key : key + "/" + rel;
  auto entries = snap.list(dir);
  if (!entries) {
    report.errors.push_back(entries.error());
    return;
  }
  for (const Entry& e : *entries) {
    if (!acceptable_entry(dir, e, report)) {
      continue;
    }
    std::string child_rel = join_path(rel, e.name);
    std::string path = key + "/" + child_rel;
    if (e.type == EntryType::directory) {
      collect(snap, key, child_rel, options, total, out, report);
      continue;
    }
    auto bytes = snap.size(path);
    if (!bytes) {
      report.errors.push_back(bytes.error());
      continue;
    }
    total += *bytes;
    if (*bytes > options.max_file_bytes) {
      report.errors.push_back(fmt::format("{}: file too large ({} bytes, at most {})", path,
                                          *bytes, options.max_file_bytes));
      continue;
    }
    auto content = snap.read(path);
    if (!content) {
      report.errors.push_back(content.error());
      continue;
    }
    check_text(path, *content, report);
    out[child_rel] = RunFile{child_rel, std::move(*content),
                             e.type == EntryType::executable ? FileMode::executable
                                                             : FileMode::regular};
  }
}

// The expected content of a derived file against what the run holds.
void expect_file(const std::string& key, const std::map<std::string, RunFile>& files,
                 const std::string& name, const std::string& expected, VerifyReport& report) {
  auto it = files.find(name);
  if (it == files.end()) {
    report.errors.push_back(fmt::format("{}/{}: missing", key, name));
  } else if (it->second.content != expected) {
    report.errors.push_back(
        fmt::format("{}/{}: disagrees with results.json (it must be exactly what results.json "
                    "implies)",
                    key, name));
  }
}

std::string flags_text(const core::DynRow& row) {
  return fmt::format("used={} stub={} fake={}", row.used ? 'Y' : 'N', row.can_stub ? 'Y' : 'N',
                     row.can_fake ? 'Y' : 'N');
}

// results.json checked against itself.
void check_result_json(const std::string& key, const std::string& text,
                       const core::ExploreResult& result, VerifyReport& report) {
  std::string file = key + "/" + k_results_json;
  const core::SyscallTable& table = core::SyscallTable::get();
  nlohmann::json raw = nlohmann::json::parse(text, nullptr, false);
  if (result.replicas < 1 || result.replicas > 100) {
    report.errors.push_back(fmt::format("{}: replicas must be 1..100, found {}", file, result.replicas));
  }
  auto check_replicas = [&](const core::Replicas& r, const nlohmann::json& j, const char* bit,
                            const std::string& what) {
    if (!r.runs.empty() && static_cast<int>(r.runs.size()) != result.replicas) {
      report.errors.push_back(fmt::format("{}: {} {}: {} outcomes for {} replicas", file, what, bit,
                                          r.runs.size(), result.replicas));
    }
    if (j.is_object() && j.contains(bit) && j.at(bit).contains("verdict")) {
      std::string claimed = j.at(bit).at("verdict").is_string()
                                ? j.at(bit).at("verdict").get<std::string>()
                                : j.at(bit).at("verdict").dump();
      std::string actual = core::to_string(r.merged());
      if (claimed != actual) {
        report.errors.push_back(fmt::format("{}: {} {}: verdict says '{}' but the replica "
                                            "outcomes give '{}'",
                                            file, what, bit, claimed, actual));
      }
    }
  };
  int previous = -1;
  for (size_t i = 0; i < result.syscalls.size(); ++i) {
    const core::SyscallResult& s = result.syscalls[i];
    std::string what = fmt::format("syscall {}", s.nr);
    if (s.nr < 0 || s.nr > core::k_max_syscall_nr) {
      report.errors.push_back(fmt::format("{}: {}: not a syscall number", file, what));
      continue;
    }
    if (s.nr <= previous) {
      report.errors.push_back(fmt::format("{}: {}: out of order or repeated", file, what));
    }
    previous = s.nr;
    if (s.name != table.name(s.nr)) {
      report.errors.push_back(fmt::format("{}: {}: named '{}', the table says '{}'", file, what,
                                          s.name, table.name(s.nr)));
    }
    const nlohmann::json& j = raw.is_object() && raw.contains("syscalls") && i < raw["syscalls"].size()
                                  ? raw["syscalls"][i]
                                  : nlohmann::json();
    check_replicas(s.stub, j, "stub", what);
    check_replicas(s.fake, j, "fake", what);
  }
  for (size_t i = 0; i < result.features.size(); ++i) {
    const core::FeatureResult& f = result.features[i];
    std::string what = fmt::format("feature {}:{}", f.syscall, f.value);
    const nlohmann::json& j = raw.is_object() && raw.contains("features") && i < raw["features"].size()
                                  ? raw["features"][i]
                                  : nlohmann::json();
    check_replicas(f.stub, j, "stub", what);
    check_replicas(f.fake, j, "fake", what);
  }
  for (size_t i = 0; i < result.paths.size(); ++i) {
    const core::PathResult& p = result.paths[i];
    std::string what = "path " + p.path;
    const nlohmann::json& j = raw.is_object() && raw.contains("paths") && i < raw["paths"].size()
                                  ? raw["paths"][i]
                                  : nlohmann::json();
    check_replicas(p.enoent, j, "enoent", what);
    check_replicas(p.empty, j, "empty", what);
  }
}

void check_dyn(const std::string& key, const std::map<std::string, RunFile>& files,
               const core::ExploreResult& result, VerifyReport& report) {
  std::string file = key + "/" + k_dyn_csv;
  auto it = files.find(k_dyn_csv);
  if (it == files.end()) {
    report.errors.push_back(fmt::format("{}: missing", file));
    return;
  }
  auto table = core::parse_dyn_csv(it->second.content, file);
  if (!table) {
    report.errors.push_back(table.error());
    return;
  }
  for (const std::string& w : table->warnings) {
    report.errors.push_back(w + " (not accepted in a new run)");
  }
  std::vector<core::DynRow> expected = core::dyn_rows(result);
  const core::SyscallTable& names = core::SyscallTable::get();
  size_t mismatches = 0;
  std::map<int, core::DynRow> got;
  for (const core::DynRow& row : table->rows) {
    got[row.nr] = row;
  }
  for (const core::DynRow& want : expected) {
    auto found = got.find(want.nr);
    core::DynRow have = found != got.end() ? found->second : core::DynRow{want.nr};
    if (found == got.end() || !(have == want)) {
      if (++mismatches <= 5) {
        report.errors.push_back(fmt::format(
            "{}: syscall {} ({}): {} but results.json says {}", file, want.nr, names.name(want.nr),
            found == got.end() ? std::string("no row") : flags_text(have), flags_text(want)));
      }
    }
  }
  if (table->rows.size() != expected.size()) {
    report.errors.push_back(fmt::format("{}: {} rows, results.json implies {}", file,
                                        table->rows.size(), expected.size()));
  } else if (mismatches > 5) {
    report.errors.push_back(fmt::format("{}: and {} more rows disagree", file, mismatches - 5));
  } else if (mismatches == 0 && table->warnings.empty() &&
             it->second.content != core::write_dyn_csv(expected)) {
    report.errors.push_back(fmt::format("{}: not in the canonical form lupa writes", file));
  }
}

// Loupe run: parse tolerantly; drift becomes warnings.
void check_loupe_run(const Snapshot& snap, const RunRef& ref, VerifyReport& report) {
  auto data = load_run(snap, ref);
  if (!data) {
    report.errors.push_back(data.error());
    return;
  }
  for (std::string& w : data->warnings) {
    report.warnings.push_back(std::move(w));
  }
}

bool is_root_file_allowed(std::string_view name) {
  return name.ends_with(".syscalls") || name.ends_with(".md");
}

void check_root_file(const Snapshot& snap, const Entry& e, const VerifyOptions& options,
                     VerifyReport& report, bool strict) {
  if (e.type == EntryType::directory) {
    return;
  }
  if (!is_root_file_allowed(e.name)) {
    report.errors.push_back(fmt::format(
        "{}: not part of the layout (at the root: app directories, <OS>.syscalls, *.md)", e.name));
    return;
  }
  auto bytes = snap.size(e.name);
  if (!bytes) {
    report.errors.push_back(bytes.error());
    return;
  }
  if (*bytes > options.max_file_bytes) {
    report.errors.push_back(fmt::format("{}: file too large ({} bytes)", e.name, *bytes));
    return;
  }
  auto text = snap.read(e.name);
  if (!text) {
    report.errors.push_back(text.error());
    return;
  }
  check_text(e.name, *text, report);
  if (e.name.ends_with(".syscalls")) {
    SyscallList list = parse_syscall_list(*text, e.name);
    for (std::string& u : list.unknown) {
      (strict ? report.errors : report.warnings).push_back(std::move(u));
    }
  }
}

// Walks `snap` (compared with `base` when given: unchanged subtrees are skipped) and checks
// layout and runs. `strict` marks new and changed content (branch mode).
class Walker {
public:
  Walker(const Snapshot& snap, const Snapshot* base, const VerifyOptions& options,
         VerifyReport& report)
      : m_snap(snap), m_base(base), m_options(options), m_report(report) {}

  void run() {
    auto root = m_snap.list("");
    if (!root) {
      m_report.errors.push_back(root.error());
      return;
    }
    for (const Entry& e : *root) {
      if (!acceptable_entry("", e, m_report) || unchanged("", e)) {
        continue;
      }
      if (e.type == EntryType::directory) {
        app(e.name);
      } else {
        check_root_file(m_snap, e, m_options, m_report, m_base != nullptr);
      }
    }
    deletions("", *root);
  }

private:
  // The entries of `dir` in the base, empty when absent or when there is no base.
  std::vector<Entry> base_entries(const std::string& dir) {
    if (m_base == nullptr) {
      return {};
    }
    auto found = m_base->stat(dir);
    if (!dir.empty() && (!found || !*found || (*found)->type != EntryType::directory)) {
      return {};
    }
    auto entries = m_base->list(dir);
    return entries ? *entries : std::vector<Entry>();
  }

  bool unchanged(const std::string& dir, const Entry& e) {
    if (m_base == nullptr) {
      return false;
    }
    auto found = m_base->stat(join_path(dir, e.name));
    return found && *found && (*found)->id == e.id && (*found)->type == e.type;
  }

  bool in_base(const std::string& path) {
    if (m_base == nullptr) {
      return false;
    }
    auto found = m_base->stat(path);
    return found && found->has_value();
  }

  void deletions(const std::string& dir, const std::vector<Entry>& now) {
    std::set<std::string> names;
    for (const Entry& e : now) {
      names.insert(e.name);
    }
    for (const Entry& e : base_entries(dir)) {
      if (!names.contains(e.name)) {
        m_report.errors.push_back(
            fmt::format("{}: deleted (a submission may only add or re-run runs)", join_path(dir, e.name)));
      }
    }
  }

  void app(const std::string& name) {
    auto entries = m_snap.list(name);
    if (!entries) {
      m_report.errors.push_back(entries.error());
      return;
    }
    for (const Entry& e : *entries) {
      if (!acceptable_entry(name, e, m_report) || unchanged(name, e)) {
        continue;
      }
      std::string path = join_path(name, e.name);
      if (e.type != EntryType::directory || !parse_workload_dir(e.name)) {
        m_report.errors.push_back(fmt::format(
            "{}: not a workload directory (benchmark-W, suite or suite-W)", path));
        continue;
      }
      workload(name, *parse_workload_dir(e.name));
    }
    deletions(name, *entries);
  }

  void workload(const std::string& app, const Workload& wl) {
    std::string dir = app + "/" + wl.dir_name();
    auto entries = m_snap.list(dir);
    if (!entries) {
      m_report.errors.push_back(entries.error());
      return;
    }
    for (const Entry& e : *entries) {
      if (!acceptable_entry(dir, e, m_report) || unchanged(dir, e)) {
        continue;
      }
      std::string key = join_path(dir, e.name);
      if (e.type != EntryType::directory) {
        m_report.errors.push_back(fmt::format("{}: not a run directory", key));
        continue;
      }
      run(RunRef{app, wl, e.name, {}});
    }
    deletions(dir, *entries);
  }

  void run(const RunRef& ref) {
    std::string key = ref.key();
    const std::string& id = ref.run_id;
    m_report.runs.push_back(key);
    bool existed = in_base(key);
    if (m_base != nullptr) {
      (existed ? m_report.rerun_runs : m_report.new_runs).push_back(key);
    }
    auto provenance = m_snap.stat(key + "/" + k_provenance_json);
    bool lupa_run = provenance && provenance->has_value();
    if (lupa_run) {
      if (existed && !m_base->stat(key + "/" + k_provenance_json).value_or(std::nullopt)) {
        m_report.errors.push_back(
            fmt::format("{}: turns a Loupe run into a lupa run (published data is read-only)", key));
        return;
      }
      check_new_run(m_snap, key, m_options, m_report);
      return;
    }
    // A Loupe run: layout and content rules, then (in a plain tree) tolerant parsing.
    size_t before = m_report.errors.size();
    collect_run_files(m_snap, key, m_options, m_report);
    if (m_base != nullptr) {
      m_report.errors.push_back(fmt::format(
          "{}: {} a run without provenance.json (only lupa runs are accepted; Loupe data "
          "enters through `lupa import loupedb`)",
          key, existed ? "edits" : "adds"));
      return;
    }
    if (id != "imported" && !is_hashed_run_id(id)) {
      m_report.errors.push_back(
          fmt::format("{}: a Loupe run id is 32 hex digits or 'imported'", key));
    }
    if (m_report.errors.size() != before) {
      return;
    }
    auto dyn = m_snap.stat(key + "/" + k_dyn_csv);
    if (!dyn || !*dyn) {
      m_report.errors.push_back(fmt::format("{}/{}: missing", key, k_dyn_csv));
      return;
    }
    check_loupe_run(m_snap, ref, m_report);
  }

  const Snapshot& m_snap;
  const Snapshot* m_base;
  const VerifyOptions& m_options;
  VerifyReport& m_report;
};

} // namespace

bool is_text(std::string_view data) {
  size_t i = 0;
  while (i < data.size()) {
    unsigned char c = static_cast<unsigned char>(data[i]);
    size_t extra = 0;
    if (c == 0) {
      return false;
    } else if (c < 0x80) {
      extra = 0;
    } else if ((c & 0xe0) == 0xc0 && c >= 0xc2) {
      extra = 1;
    } else if ((c & 0xf0) == 0xe0) {
      extra = 2;
    } else if ((c & 0xf8) == 0xf0 && c <= 0xf4) {
      extra = 3;
    } else {
      return false;
    }
    for (size_t k = 1; k <= extra; ++k) {
      if (i + k >= data.size() || (static_cast<unsigned char>(data[i + k]) & 0xc0) != 0x80) {
        return false;
      }
    }
    i += extra + 1;
  }
  return true;
}

std::map<std::string, RunFile> collect_run_files(const Snapshot& snapshot, const std::string& key,
                                                 const VerifyOptions& options,
                                                 VerifyReport& report) {
  std::map<std::string, RunFile> files;
  uint64_t total = 0;
  collect(snapshot, key, "", options, total, files, report);
  if (total > options.max_run_bytes) {
    report.errors.push_back(fmt::format("{}: run too large ({} bytes, at most {})", key, total,
                                        options.max_run_bytes));
  }
  return files;
}

std::map<std::string, RunFile> check_new_run(const Snapshot& snapshot, const std::string& key,
                                             const VerifyOptions& options, VerifyReport& report) {
  size_t errors_before = report.errors.size();
  std::map<std::string, RunFile> files = collect_run_files(snapshot, key, options, report);
  if (report.errors.size() != errors_before) {
    return files;
  }
  std::vector<std::string> parts;
  for (size_t start = 0, slash; start <= key.size(); start = slash + 1) {
    slash = key.find('/', start);
    if (slash == std::string::npos) {
      slash = key.size();
    }
    parts.push_back(key.substr(start, slash - start));
  }
  if (parts.size() != 3) {
    report.errors.push_back(fmt::format("{}: not <app>/<workload>/<run id>", key));
    return files;
  }
  const std::string& id = parts[2];
  auto require = [&](const char* name) -> const RunFile* {
    auto it = files.find(name);
    if (it == files.end()) {
      report.errors.push_back(fmt::format("{}/{}: missing", key, name));
      return nullptr;
    }
    return &it->second;
  };
  const RunFile* prov_file = require(k_provenance_json);
  const RunFile* result_file = require(k_results_json);
  require(k_cmd_txt);
  if (!prov_file || !result_file) {
    return files;
  }
  auto prov = parse_provenance(prov_file->content, key + "/" + k_provenance_json);
  if (!prov) {
    report.errors.push_back(prov.error());
    return files;
  }
  core::ExploreResult result;
  try {
    result = nlohmann::json::parse(result_file->content).get<core::ExploreResult>();
  } catch (const nlohmann::json::exception& e) {
    report.errors.push_back(fmt::format("{}/{}: {}", key, k_results_json, e.what()));
    return files;
  }
  std::string prov_path = key + "/" + k_provenance_json;
  if (prov->app != parts[0] || prov->workload != parts[1]) {
    report.errors.push_back(fmt::format("{}: says app '{}', workload '{}', but lies in {}/{}",
                                        prov_path, prov->app, prov->workload, parts[0], parts[1]));
  }
  if (prov->run_id != id) {
    report.errors.push_back(
        fmt::format("{}: run_id '{}' is not the directory name '{}'", prov_path, prov->run_id, id));
  }
  if (prov->replicas != result.replicas || prov->strategy != result.strategy) {
    report.errors.push_back(fmt::format("{}: replicas {} and strategy '{}' disagree with "
                                        "results.json ({}, '{}')",
                                        prov_path, prov->replicas, prov->strategy, result.replicas,
                                        result.strategy));
  }
  std::string computed = compute_run_id(*prov, result);
  if (computed != id) {
    report.errors.push_back(fmt::format(
        "{}: run id does not match the contents (recipe, Dockerfile, test script, explorer "
        "settings and base image give {})",
        key, computed));
  }
  // Every file named by provenance is present with its hash; nothing else is there.
  std::set<std::string> expected = {k_provenance_json, k_results_json, k_cmd_txt,   k_dyn_csv,
                                    k_features_csv,    k_pseudo_files_csv};
  if (result.static_syscalls) {
    expected.insert(k_static_csv);
  }
  auto hashed = [&](const FileHash& f, const std::string& path) {
    expected.insert(path);
    auto it = files.find(path);
    if (it == files.end()) {
      report.errors.push_back(fmt::format("{}/{}: missing (named in provenance.json)", key, path));
    } else if (git::blob_id(it->second.content) != f.hash) {
      report.errors.push_back(fmt::format("{}/{}: contents do not match the hash in "
                                          "provenance.json",
                                          key, path));
    }
  };
  if (!is_safe_name(prov->dockerfile.name)) {
    report.errors.push_back(fmt::format("{}: files.dockerfile: bad name", prov_path));
  } else {
    hashed(prov->dockerfile, prov->dockerfile.name);
  }
  if (prov->recipe) {
    hashed(*prov->recipe, prov->recipe->name);
  }
  if (prov->test_script) {
    hashed(*prov->test_script, prov->test_script->name);
  }
  for (const FileHash& f : prov->context) {
    hashed(f, "context/" + f.name);
  }
  for (const auto& [path, file] : files) {
    if (!expected.contains(path)) {
      report.errors.push_back(fmt::format("{}/{}: unexpected file in a lupa run", key, path));
    }
  }
  check_result_json(key, result_file->content, result, report);
  check_dyn(key, files, result, report);
  if (result.static_syscalls) {
    expect_file(key, files, k_static_csv, core::write_static_csv(*result.static_syscalls), report);
  }
  expect_file(key, files, k_features_csv, core::write_features_csv(result.features), report);
  expect_file(key, files, k_pseudo_files_csv, core::write_pseudo_files_csv(result.paths), report);
  return files;
}

util::Result<VerifyReport> verify_path(const fs::path& dir, const VerifyOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return util::error(fmt::format("{}: not a directory", dir.string()));
  }
  VerifyReport report;
  report.target = dir.string();
  DirSnapshot snap(dir);
  Walker(snap, nullptr, options, report).run();
  return report;
}

util::Result<VerifyReport> verify_revision(const fs::path& repo, std::string_view revision,
                                           const VerifyOptions& options) {
  TRY_ASSIGN(std::unique_ptr<GitSnapshot> snap, GitSnapshot::open(repo, revision.empty() ? "HEAD" : revision));
  VerifyReport report;
  report.target = snap->describe();
  Walker(*snap, nullptr, options, report).run();
  return report;
}

util::Result<VerifyReport> verify_branch(const fs::path& repo_path, std::string_view branch,
                                         std::string_view base, const VerifyOptions& options) {
  TRY_ASSIGN(git::RepoPtr repo, git::open_repo(repo_path.string()));
  std::string base_rev = base.empty() ? "HEAD" : std::string(base);
  TRY_ASSIGN(git::CommitPtr tip, git::resolve_commit(repo.get(), branch));
  TRY_ASSIGN(git::CommitPtr base_commit, git::resolve_commit(repo.get(), base_rev));
  git_oid merge_base;
  git_oid from = *git_commit_id(base_commit.get());
  int rc = git_merge_base(&merge_base, repo.get(), git_commit_id(tip.get()), &from);
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    merge_base = from; // unrelated histories: compare with the base itself
  } else if (rc < 0) {
    return util::error(git::error_text("cannot find the merge base", rc));
  }
  std::string tip_hex = git::to_hex(*git_commit_id(tip.get()));
  std::string base_hex = git::to_hex(merge_base);
  git::SharedRepo shared(repo.release(), git_repository_free);

  TRY_ASSIGN(git::CommitPtr mb_commit, git::resolve_commit(shared.get(), base_hex));
  TRY_ASSIGN(git::TreePtr base_tree, git::commit_tree(mb_commit.get()));
  TRY_ASSIGN(git::TreePtr tip_tree, git::commit_tree(tip.get()));
  GitSnapshot base_snap(shared, std::move(base_tree), base_hex, repo_path.string());
  GitSnapshot tip_snap(shared, std::move(tip_tree), tip_hex, repo_path.string());

  VerifyReport report;
  report.target = fmt::format("{} ({}) against {} (merge base {})", branch, tip_hex.substr(0, 12),
                              base_rev, base_hex.substr(0, 12));
  Walker(tip_snap, &base_snap, options, report).run();
  return report;
}

} // namespace db
