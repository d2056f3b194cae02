#pragma once
// A read-only view of a database tree at one point: a directory on disk (a plain copy such as
// loupedb-2023, or a working tree) or a git tree at one commit. The layout reader, verify and
// the SQLite export read through this interface, so they work on both.

#include "db/git.h"
#include "util/error.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace db {

// What a tree entry is. Anything but file, executable and directory is hostile in a run.
enum class EntryType { file, executable, directory, symlink, submodule, other };

// "file", "directory", "symlink"...
const char* to_string(EntryType type);

// One entry of a directory in a snapshot.
struct Entry {
  std::string name; // raw name, as stored (git trees may hold hostile names such as "..")
  EntryType type = EntryType::file;
  std::string id;   // git object id; empty for directory snapshots
};

// Read access to a database tree; implementations: DirSnapshot, GitSnapshot.
class Snapshot {
public:
  virtual ~Snapshot() = default;

  // Entries of directory `dir` ("" is the root), sorted by name.
  virtual util::Result<std::vector<Entry>> list(std::string_view dir) const = 0;
  // Contents of the file at `path` (relative, '/'-separated).
  virtual util::Result<std::string> read(std::string_view path) const = 0;
  // The entry at `path`, or nullopt when nothing is there.
  virtual util::Result<std::optional<Entry>> stat(std::string_view path) const = 0;
  // Size in bytes of the file at `path`, without reading it.
  virtual util::Result<uint64_t> size(std::string_view path) const = 0;
  // Where the snapshot comes from, for messages: "DIR" or "DIR@<commit>".
  virtual std::string describe() const = 0;
  // The commit a git snapshot was taken from (40 hex digits), or empty.
  virtual std::string commit() const { return {}; }
};

// A directory tree on disk. Symlinks are reported as such and never followed.
class DirSnapshot : public Snapshot {
public:
  // A view of the directory `root`.
  explicit DirSnapshot(std::filesystem::path root);

  // The Snapshot interface (see above), over the directory `root`.
  util::Result<std::vector<Entry>> list(std::string_view dir) const override;
  util::Result<std::string> read(std::string_view path) const override;
  util::Result<std::optional<Entry>> stat(std::string_view path) const override;
  util::Result<uint64_t> size(std::string_view path) const override;
  std::string describe() const override { return m_root.string(); }
  // The directory this snapshot reads.
  const std::filesystem::path& root() const { return m_root; }

private:
  std::filesystem::path m_root;
};

// The tree of one commit of a git repository, read from the object database.
class GitSnapshot : public Snapshot {
public:
  // A view of `tree` (of commit `commit`, may be empty) in `repo`, described as `where`.
  GitSnapshot(git::SharedRepo repo, git::TreePtr tree, std::string commit, std::string where);

  // The snapshot of `revision` in the repository at `path`.
  static util::Result<std::unique_ptr<GitSnapshot>> open(const std::filesystem::path& path,
                                                         std::string_view revision);

  // The Snapshot interface (see above), over the tree of the commit.
  util::Result<std::vector<Entry>> list(std::string_view dir) const override;
  util::Result<std::string> read(std::string_view path) const override;
  util::Result<std::optional<Entry>> stat(std::string_view path) const override;
  util::Result<uint64_t> size(std::string_view path) const override;
  std::string describe() const override;
  std::string commit() const override { return m_commit; }
  // The repository the snapshot reads.
  git_repository* repo() const { return m_repo.get(); }
  // The root tree.
  const git_tree* tree() const { return m_tree.get(); }

private:
  // The tree at directory `dir` ("" is the root).
  util::Result<git::TreePtr> subtree(std::string_view dir) const;

  git::SharedRepo m_repo;
  git::TreePtr m_tree;
  std::string m_commit;
  std::string m_where;
};

// The entry type of a git file mode.
EntryType entry_type(git_filemode_t mode);

// A snapshot of the database at `path`: the git tree of `revision` (HEAD by default) when it is
// a repository, the directory itself otherwise (then `revision` must be empty).
util::Result<std::unique_ptr<Snapshot>> open_snapshot(const std::filesystem::path& path,
                                                      std::string_view revision = {});

} // namespace db
