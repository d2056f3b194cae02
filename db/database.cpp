#include "db/database.h"

#include "db/git.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

namespace fs = std::filesystem;

namespace db {

namespace {

// Where a run was last changed in history.
struct HistoryMark {
  std::string commit;
  int64_t time = 0;
  size_t rank = 0;
};

// Calls `each(name, id_in_new, id_in_old_or_null)` for the subtree entries of `now` that
// differ from `before` (null: everything is new).
template <typename F>
void for_each_changed_tree(const git_tree* now, const git_tree* before, F&& each) {
  size_t n = git_tree_entrycount(now);
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(now, i);
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
      continue;
    }
    const char* name = git_tree_entry_name(e);
    const git_tree_entry* old = before ? git_tree_entry_byname(before, name) : nullptr;
    if (old && git_tree_entry_type(old) == GIT_OBJECT_TREE &&
        git_oid_equal(git_tree_entry_id(old), git_tree_entry_id(e))) {
      continue;
    }
    each(name, git_tree_entry_id(e),
         old && git_tree_entry_type(old) == GIT_OBJECT_TREE ? git_tree_entry_id(old) : nullptr);
  }
}

// Appends to `out` the paths `depth` levels below `prefix` whose subtree differs between `now`
// and `before` (null: everything is new).
util::Result<void> changed_trees(git_repository* repo, const git_tree* now, const git_tree* before,
                                 const std::string& prefix, int depth, std::vector<std::string>& out) {
  std::vector<std::tuple<std::string, git_oid, std::optional<git_oid>>> changed;
  for_each_changed_tree(now, before, [&](const char* name, const git_oid* id, const git_oid* old) {
    changed.emplace_back(name, *id, old ? std::optional<git_oid>(*old) : std::nullopt);
  });
  for (const auto& [name, id, old] : changed) {
    std::string path = prefix.empty() ? name : prefix + "/" + name;
    if (depth == 1) {
      out.push_back(std::move(path));
      continue;
    }
    TRY_ASSIGN(git::TreePtr tree, git::lookup_tree(repo, id));
    git::TreePtr previous;
    if (old) {
      TRY_ASSIGN(previous, git::lookup_tree(repo, *old));
    }
    TRY(changed_trees(repo, tree.get(), previous.get(), path, depth - 1, out));
  }
  return {};
}

// The run keys (`<app>/<workload>/<id>`) whose directory differs between `now` and `before`.
util::Result<std::vector<std::string>> changed_runs(git_repository* repo, const git_tree* now,
                                                    const git_tree* before) {
  std::vector<std::string> out;
  TRY(changed_trees(repo, now, before, "", 3, out));
  return out;
}

// Walks the commits reachable from `start`, newest first (topological order, then commit time),
// calling `visit(commit, tree, first-parent tree or null)` until it returns false.
template <typename F>
util::Result<void> walk_history(git_repository* repo, const git_oid& start, F&& visit) {
  git_revwalk* raw = nullptr;
  TRY(git::check(git_revwalk_new(&raw, repo), "cannot walk history"));
  git::RevwalkPtr walk(raw);
  TRY(git::check(git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME),
                 "cannot walk history"));
  TRY(git::check(git_revwalk_push(walk.get(), &start), "cannot walk history"));
  git_oid id;
  int rc = 0;
  while ((rc = git_revwalk_next(&id, walk.get())) == 0) {
    git_commit* c = nullptr;
    TRY(git::check(git_commit_lookup(&c, repo, &id),
                   fmt::format("history: cannot read commit {}", git::to_hex(id))));
    git::CommitPtr commit(c);
    TRY_ASSIGN(git::TreePtr tree, git::commit_tree(commit.get()));
    git::TreePtr parent_tree;
    if (git_commit_parentcount(commit.get()) > 0) {
      git_commit* p = nullptr;
      TRY(git::check(git_commit_parent(&p, commit.get(), 0),
                     fmt::format("history: cannot read the parent of commit {}", git::to_hex(id))));
      git::CommitPtr parent(p);
      TRY_ASSIGN(parent_tree, git::commit_tree(parent.get()));
    }
    TRY_ASSIGN(bool more, visit(commit.get(), tree.get(), parent_tree.get()));
    if (!more) {
      return {};
    }
  }
  if (rc < 0 && rc != GIT_ITEROVER) {
    return util::error(git::error_text("cannot walk history", rc));
  }
  return {};
}

// Dates every run of `keys` by the newest commit reachable from `start` that changed it.
util::Result<std::unordered_map<std::string, HistoryMark>>
date_runs(git_repository* repo, const std::string& start, const std::vector<std::string>& keys) {
  std::unordered_map<std::string, HistoryMark> marks;
  std::unordered_set<std::string> remaining(keys.begin(), keys.end());
  if (remaining.empty()) {
    return marks;
  }
  TRY_ASSIGN(git_oid start_id, git::from_hex(start));
  size_t rank = 0;
  TRY(walk_history(repo, start_id, [&](const git_commit* commit, const git_tree* tree,
                                       const git_tree* parent) -> util::Result<bool> {
    TRY_ASSIGN(std::vector<std::string> changed, changed_runs(repo, tree, parent));
    for (const std::string& key : changed) {
      if (remaining.erase(key) > 0) {
        marks[key] = HistoryMark{git::to_hex(*git_commit_id(commit)), git_commit_time(commit), rank};
      }
    }
    ++rank;
    return !remaining.empty();
  }));
  return marks;
}

// Group key of a run: "<app>/<workload dir>".
std::string group_of(const RunRef& ref) { return ref.app + "/" + ref.workload.dir_name(); }

} // namespace

bool older_than(const RunInfo& a, const RunInfo& b) {
  if (a.history_rank != b.history_rank) {
    return a.history_rank > b.history_rank;
  }
  if (a.has_provenance != b.has_provenance) {
    return !a.has_provenance;
  }
  if (a.date != b.date) {
    return a.date < b.date;
  }
  bool a_hashed = a.ref.run_id != "imported";
  bool b_hashed = b.ref.run_id != "imported";
  if (a_hashed != b_hashed) {
    return !a_hashed;
  }
  return a.ref.run_id > b.ref.run_id; // the smaller id wins (as analysis::select_run chose)
}

util::Result<Database> Database::open(const fs::path& path, std::string_view revision) {
  Database db;
  db.m_path = path;
  TRY_ASSIGN(db.m_snapshot, open_snapshot(path, revision));
  const Snapshot& snap = *db.m_snapshot;

  TRY_ASSIGN(std::vector<RunRef> refs, scan_runs(snap, &db.m_skipped));
  db.m_runs.reserve(refs.size());
  for (RunRef& ref : refs) {
    RunInfo info;
    info.ref = std::move(ref);
    TRY_ASSIGN(std::optional<Entry> prov, snap.stat(info.key() + "/" + k_provenance_json));
    info.has_provenance = prov.has_value();
    if (info.has_provenance) {
      TRY_ASSIGN(std::string text, snap.read(info.key() + "/" + k_provenance_json));
      TRY_ASSIGN(Provenance p, parse_provenance(text, info.key() + "/" + k_provenance_json));
      info.date = p.date;
    }
    db.m_runs.push_back(std::move(info));
  }

  if (const GitSnapshot* git_snap = dynamic_cast<const GitSnapshot*>(&snap);
      git_snap && !git_snap->commit().empty()) {
    std::vector<std::string> keys;
    for (const RunInfo& r : db.m_runs) {
      keys.push_back(r.key());
    }
    TRY_ASSIGN(auto marks, date_runs(git_snap->repo(), git_snap->commit(), keys));
    for (RunInfo& r : db.m_runs) {
      if (auto it = marks.find(r.key()); it != marks.end()) {
        r.commit = it->second.commit;
        r.commit_time = it->second.time;
        r.history_rank = it->second.rank;
      }
    }
  }

  std::map<std::string, RunInfo*> newest;
  for (RunInfo& r : db.m_runs) {
    RunInfo*& best = newest[group_of(r.ref)];
    if (best == nullptr || older_than(*best, r)) {
      best = &r;
    }
  }
  for (auto& [group, run] : newest) {
    run->latest = true;
  }

  TRY_ASSIGN(std::vector<Entry> root, snap.list(""));
  for (const Entry& e : root) {
    if ((e.type == EntryType::file || e.type == EntryType::executable) &&
        e.name.ends_with(".syscalls") && e.name.size() > 9) {
      db.m_os_lists[e.name.substr(0, e.name.size() - 9)] = e.name;
    }
  }
  return db;
}

size_t Database::app_count() const {
  std::set<std::string_view> apps;
  for (const RunInfo& r : m_runs) {
    apps.insert(r.ref.app);
  }
  return apps.size();
}

const RunInfo* Database::latest(std::string_view app, const Workload& workload) const {
  for (const RunInfo& r : m_runs) {
    if (r.latest && r.ref.app == app && r.ref.workload == workload) {
      return &r;
    }
  }
  return nullptr;
}

const RunInfo* Database::latest(std::string_view app, WorkloadKind kind) const {
  const RunInfo* best = nullptr;
  for (const RunInfo& r : m_runs) {
    if (r.latest && r.ref.app == app && r.ref.workload.kind == kind &&
        (best == nullptr || older_than(*best, r))) {
      best = &r;
    }
  }
  return best;
}

std::vector<const RunInfo*> Database::latest_runs(WorkloadKind kind) const {
  std::vector<const RunInfo*> out;
  std::set<std::string_view> seen;
  for (const RunInfo& r : m_runs) {
    if (r.ref.workload.kind == kind && seen.insert(r.ref.app).second) {
      out.push_back(latest(r.ref.app, kind));
    }
  }
  return out;
}

util::Result<const RunInfo*> Database::find(std::string_view spec) const {
  std::string s(spec);
  while (s.ends_with('/')) {
    s.pop_back();
  }
  std::vector<const RunInfo*> hits;
  size_t slashes = std::count(s.begin(), s.end(), '/');
  for (const RunInfo& r : m_runs) {
    bool hit = false;
    if (slashes == 2) {
      hit = r.key() == s;
    } else if (slashes == 1) {
      hit = r.latest && group_of(r.ref) == s;
    } else {
      hit = s.size() >= 6 && r.ref.run_id.starts_with(s);
      if (r.ref.run_id == s) {
        hits.assign(1, &r);
        break;
      }
    }
    if (hit) {
      hits.push_back(&r);
    }
  }
  if (hits.size() == 1) {
    return hits.front();
  }
  if (hits.empty()) {
    return util::error(fmt::format("{}: no run '{}' (give <app>/<workload dir>/<id>, "
                                   "<app>/<workload dir>, or a run id of at least 6 characters)",
                                   m_snapshot->describe(), s));
  }
  std::vector<std::string> names;
  for (const RunInfo* r : hits) {
    names.push_back(r->key());
  }
  return util::error(fmt::format("'{}' is ambiguous: {}", s, fmt::join(names, ", ")));
}

util::Result<RunData> Database::load(const RunInfo& run) const {
  return load_run(*m_snapshot, run.ref);
}

util::Result<SyscallList> Database::os_list(std::string_view os) const {
  auto it = m_os_lists.find(std::string(os));
  if (it == m_os_lists.end()) {
    return util::error(fmt::format("{}: no support list {}.syscalls", m_snapshot->describe(), os));
  }
  TRY_ASSIGN(std::string text, m_snapshot->read(it->second));
  return parse_syscall_list(text, it->second);
}

util::Result<std::vector<HistoryEntry>> run_history(const fs::path& db, std::string_view key,
                                                    size_t limit) {
  TRY_ASSIGN(git::RepoPtr repo, git::open_repo(db.string()));
  std::vector<HistoryEntry> out;
  if (git_repository_head_unborn(repo.get()) == 1) {
    return out;
  }
  git_oid head;
  TRY(git::check(git_reference_name_to_id(&head, repo.get(), "HEAD"), "cannot read HEAD"));
  TRY(walk_history(repo.get(), head, [&](const git_commit* commit, const git_tree* tree,
                                         const git_tree* parent) -> util::Result<bool> {
    // Changes in both directions: added or changed now, or removed since the parent.
    TRY_ASSIGN(std::vector<std::string> changed, changed_runs(repo.get(), tree, parent));
    if (parent) {
      TRY_ASSIGN(std::vector<std::string> removed, changed_runs(repo.get(), parent, tree));
      for (std::string& r : removed) {
        if (std::find(changed.begin(), changed.end(), r) == changed.end()) {
          changed.push_back(std::move(r));
        }
      }
    }
    if (!changed.empty() && (key.empty() || std::find(changed.begin(), changed.end(), key) != changed.end())) {
      std::sort(changed.begin(), changed.end());
      const char* summary = git_commit_summary(const_cast<git_commit*>(commit));
      out.push_back({git::to_hex(*git_commit_id(commit)), git_commit_time(commit),
                     summary ? summary : "", std::move(changed)});
    }
    return limit == 0 || out.size() < limit;
  }));
  return out;
}

} // namespace db
