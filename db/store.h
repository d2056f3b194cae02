#pragma once
// Writing to a results database (a git repository, bare or with a working tree).
//
// A write is atomic: the run's blobs and trees are written to the object database first, then
// a commit, then the branch is moved with compare-and-swap (git_reference_create_matching with
// the old id). A process killed before the swap leaves only unreachable objects (git gc removes
// them); killed after it, the run is complete in history. Writers serialise on a lock file
// (<git dir>/lupa.lock, flock: released by the kernel when a process dies) for the dirty check,
// the swap and the working-tree update; the swap is still retried when another program (a
// plain `git commit`) moved the branch meanwhile, so neither write is lost. The working tree is
// updated for the changed paths only, after the swap; a journal (<git dir>/lupa-pending)
// records the paths first, and the next writer finishes an update a killed process left.

#include "db/git.h"
#include "db/run_files.h"
#include "util/error.h"

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace db {

// Whether a working tree with uncommitted changes is accepted (Loupe refuses by default).
enum class DirtyPolicy { refuse, allow };

// Whether opening a database may create it.
enum class CreateMode { must_exist, create };

// Whether a commit may replace a run directory that exists with other contents.
enum class ReplacePolicy { allow, refuse };

// How a commit treats the working tree, existing runs and other writers.
struct CommitOptions {
  DirtyPolicy dirty = DirtyPolicy::refuse;     // a dirty working tree is refused by default
  ReplacePolicy replace = ReplacePolicy::allow; // re-runs replace their run directory
  std::chrono::seconds lock_timeout{300}; // how long to wait for another writer
};

// One commit's worth of changes.
struct Change {
  std::vector<RunFiles> runs;                // run directories to write (replacing them whole)
  std::map<std::string, RunFile> root_files; // files at the database root (OS support lists...)
  std::string message;                       // the commit message
};

// What a commit did.
struct CommitResult {
  std::string commit;                 // the new commit id; empty when nothing changed
  std::vector<std::string> added;     // run keys new in the database
  std::vector<std::string> replaced;  // run keys whose files changed (the experiment re-run)
  std::vector<std::string> unchanged; // runs already present with identical files
  unsigned retries = 0;               // compare-and-swap retries (another writer moved the ref)
};

// A results database opened for writing (see the top of this file).
class Store {
public:
  // Opens the database at `path`; with CreateMode::create, initialises a repository with a
  // working tree and branch "main" when `path` is absent or an empty directory.
  static util::Result<Store> open(const std::filesystem::path& path, CreateMode mode);

  // Commits `run` as one commit "<app>/<workload>: <verdict summary>" with trailers Lupa-App,
  // Lupa-Workload, Lupa-Run. Returns the run's key in `added` or `replaced`.
  util::Result<CommitResult> commit_run(const NewRun& run, const CommitOptions& options);

  // Refuses early what a commit would refuse at its end: changes to tracked files in the
  // working tree (unless `dirty` allows them), so a long run fails before it starts.
  util::Result<void> check_clean(DirtyPolicy dirty) const;

  // Commits `change` as one commit on the branch HEAD names.
  util::Result<CommitResult> commit(const Change& change, const CommitOptions& options);

  // The database directory.
  const std::filesystem::path& path() const { return m_path; }
  // The libgit2 repository.
  git_repository* repo() const { return m_repo.get(); }
  // True if the repository has no working tree.
  bool bare() const;

private:
  Store(std::filesystem::path path, git::RepoPtr repo);

  std::filesystem::path m_path;
  git::RepoPtr m_repo;
};

// The commit message of `files` (a single run): summary line and trailers.
std::string run_commit_message(const RunFiles& files);

// Writes `files` as blobs and trees into `repo`'s object database; returns the tree id.
util::Result<git_oid> write_run_tree(git_repository* repo, const RunFiles& files);

// What to put at a path of a tree: an object with a mode, or nothing (remove the entry).
struct TreeUpdate {
  std::string path;                  // '/'-separated, relative to the root
  std::optional<git_oid> id;         // nullopt removes the entry
  git_filemode_t mode = GIT_FILEMODE_TREE;
};

// The id of `base` (null: the empty tree) with `updates` applied; intermediate trees are
// created as needed. Entries not named keep their ids (nothing is rewritten needlessly).
util::Result<git_oid> update_tree(git_repository* repo, const git_tree* base,
                                  const std::vector<TreeUpdate>& updates);

// Test hook: when LUPA_TEST_PAUSE is "<stage>:<dir>" and `stage` matches, creates
// <dir>/paused-<stage> and waits (up to 120 s) until <dir>/resume exists. Stages:
// "objects-written", "before-ref-update", "after-ref-update".
void test_pause(std::string_view stage);

} // namespace db
