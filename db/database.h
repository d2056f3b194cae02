#pragma once
// Reading a results database: its runs, which run of an app/workload is the newest, its OS
// support lists. Works on a git repository (read from the objects of one commit, HEAD by
// default) and on a plain directory tree such as ../shared/loupedb-2023.
//
// Which run is newest (several runs of one app and workload):
// - In a git database, the run whose directory was most recently changed by the history of
//   the commit read: commits are walked newest first (topological order, then commit time),
//   each compared with its first parent; the first commit that changes a run directory dates
//   it. A run re-run later (same id, new files) becomes newest again.
// - When history does not separate two runs (the same commit added both, or the tree is plain),
//   the rule for plain trees decides, in this order:
//     1. a lupa run (provenance.json) over a Loupe run; between lupa runs, the later
//        provenance date;
//     2. a run with a hashed id over one named "imported" (Loupe's runs imported from
//        elsewhere);
//     3. the smaller run id (byte order; an arbitrary but fixed choice, the one analysis made
//        before this rule existed, so loupedb-2023 reads the same either way).
// Loupe used file ctimes instead, which are arbitrary after a clone.

#include "db/layout.h"
#include "db/snapshot.h"
#include "util/error.h"

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace db {

// One run of the database and where it stands in history.
struct RunInfo {
  RunRef ref;
  bool has_provenance = false;
  std::string date;         // provenance date of lupa runs, else empty
  std::string commit;       // newest commit that changed the run (git databases), else empty
  int64_t commit_time = 0;  // its commit time (seconds since the epoch)
  size_t history_rank = 0;  // 0 = changed by the newest commit; larger = older; plain: 0
  bool latest = false;      // the newest run of its app and workload

  // "<app>/<workload dir>/<run id>".
  std::string key() const { return ref.key(); }
};

// True if `a` is older than `b` by the rule above (same app and workload assumed).
bool older_than(const RunInfo& a, const RunInfo& b);

// A results database opened for reading (see the top of this file).
class Database {
public:
  // Opens the database at `path` at `revision` (git databases only; HEAD when empty).
  static util::Result<Database> open(const std::filesystem::path& path,
                                     std::string_view revision = {});

  // Every run, sorted by key.
  const std::vector<RunInfo>& runs() const { return m_runs; }
  // Number of distinct apps.
  size_t app_count() const;
  // The newest run of `app` under `workload`, or nullptr.
  const RunInfo* latest(std::string_view app, const Workload& workload) const;
  // The newest run of `app` among all its workloads of `kind`, or nullptr.
  const RunInfo* latest(std::string_view app, WorkloadKind kind) const;
  // For every app with a run of `kind`, its newest such run; sorted by app.
  std::vector<const RunInfo*> latest_runs(WorkloadKind kind) const;
  // The run `spec` names: a key "<app>/<workload dir>/<id>", "<app>/<workload dir>" (its
  // newest run), or a run id or a unique prefix of one (at least 6 characters).
  util::Result<const RunInfo*> find(std::string_view spec) const;
  // Reads and parses the files of `run`; errors name the run and the file.
  util::Result<RunData> load(const RunInfo& run) const;

  // The OS support lists at the root (`<OS>.syscalls`), by OS name.
  const std::map<std::string, std::string>& os_list_files() const { return m_os_lists; }
  // The parsed support list of `os` (unknown names kept aside, see read_syscall_list).
  util::Result<SyscallList> os_list(std::string_view os) const;

  // Entries that do not fit the layout (reported, not fatal).
  const std::vector<std::string>& skipped() const { return m_skipped; }
  // The snapshot the database is read from.
  const Snapshot& snapshot() const { return *m_snapshot; }
  // True if the database is a git repository.
  bool is_git() const { return !m_snapshot->commit().empty(); }
  // The database path.
  const std::filesystem::path& path() const { return m_path; }

private:
  std::filesystem::path m_path;
  std::unique_ptr<Snapshot> m_snapshot;
  std::vector<RunInfo> m_runs;
  std::map<std::string, std::string> m_os_lists; // OS name -> file name
  std::vector<std::string> m_skipped;
};

// One commit of a git database that changed runs.
struct HistoryEntry {
  std::string commit;
  int64_t time = 0;          // commit time, seconds since the epoch
  std::string subject;       // first line of the message
  std::vector<std::string> runs; // run keys it changed (added, re-run or removed)
};

// The commits reachable from HEAD that changed runs, newest first, at most `limit` (0: all);
// only those changing run `key` when it is not empty.
util::Result<std::vector<HistoryEntry>> run_history(const std::filesystem::path& db,
                                                    std::string_view key, size_t limit);

} // namespace db
