#include "db/snapshot.h"

#include "util/fs.h"

#include <fmt/format.h>

#include <algorithm>

namespace fs = std::filesystem;

namespace db {

const char* to_string(EntryType type) {
  switch (type) {
  case EntryType::file:
    return "file";
  case EntryType::executable:
    return "executable file";
  case EntryType::directory:
    return "directory";
  case EntryType::symlink:
    return "symlink";
  case EntryType::submodule:
    return "submodule";
  case EntryType::other:
    return "special file";
  }
  return "special file";
}

EntryType entry_type(git_filemode_t mode) {
  switch (mode) {
  case GIT_FILEMODE_BLOB:
    return EntryType::file;
  case GIT_FILEMODE_BLOB_EXECUTABLE:
    return EntryType::executable;
  case GIT_FILEMODE_TREE:
    return EntryType::directory;
  case GIT_FILEMODE_LINK:
    return EntryType::symlink;
  case GIT_FILEMODE_COMMIT:
    return EntryType::submodule;
  default:
    return EntryType::other;
  }
}

// --- DirSnapshot -----------------------------------------------------------------------------

DirSnapshot::DirSnapshot(fs::path root) : m_root(std::move(root)) {}

namespace {

EntryType dir_entry_type(const fs::file_status& status) {
  switch (status.type()) {
  case fs::file_type::regular: {
    bool exec = (status.permissions() & fs::perms::owner_exec) != fs::perms::none;
    return exec ? EntryType::executable : EntryType::file;
  }
  case fs::file_type::directory:
    return EntryType::directory;
  case fs::file_type::symlink:
    return EntryType::symlink;
  default:
    return EntryType::other;
  }
}

} // namespace

util::Result<std::vector<Entry>> DirSnapshot::list(std::string_view dir) const {
  fs::path path = dir.empty() ? m_root : m_root / dir;
  std::error_code ec;
  std::vector<Entry> out;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    fs::file_status status = it->symlink_status(ec);
    if (ec) {
      break;
    }
    out.push_back({it->path().filename().string(), dir_entry_type(status), ""});
  }
  if (ec) {
    return util::error(fmt::format("{}: {}", path.string(), ec.message()));
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

util::Result<std::string> DirSnapshot::read(std::string_view path) const {
  return util::read_file(m_root / path);
}

util::Result<std::optional<Entry>> DirSnapshot::stat(std::string_view path) const {
  std::error_code ec;
  fs::path full = m_root / path;
  fs::file_status status = fs::symlink_status(full, ec);
  if (ec || status.type() == fs::file_type::not_found) {
    return std::optional<Entry>();
  }
  return std::optional<Entry>(Entry{full.filename().string(), dir_entry_type(status), ""});
}

util::Result<uint64_t> DirSnapshot::size(std::string_view path) const {
  std::error_code ec;
  uint64_t bytes = fs::file_size(m_root / path, ec);
  if (ec) {
    return util::error(fmt::format("{}: {}", (m_root / path).string(), ec.message()));
  }
  return bytes;
}

// --- GitSnapshot -----------------------------------------------------------------------------

GitSnapshot::GitSnapshot(git::SharedRepo repo, git::TreePtr tree, std::string commit,
                         std::string where)
    : m_repo(std::move(repo)), m_tree(std::move(tree)), m_commit(std::move(commit)),
      m_where(std::move(where)) {}

util::Result<std::unique_ptr<GitSnapshot>> GitSnapshot::open(const fs::path& path,
                                                             std::string_view revision) {
  TRY_ASSIGN(git::RepoPtr repo, git::open_repo(path.string()));
  if (revision.empty() && git_repository_head_unborn(repo.get()) == 1) {
    // A database with no commit yet: an empty tree.
    git::SharedRepo shared(repo.release(), git_repository_free);
    return std::make_unique<GitSnapshot>(std::move(shared), nullptr, "", path.string());
  }
  std::string rev = revision.empty() ? "HEAD" : std::string(revision);
  util::Result<git::CommitPtr> commit = git::resolve_commit(repo.get(), rev);
  if (!commit) {
    return util::error(fmt::format("{}: {}", path.string(), commit.error()));
  }
  util::Result<git::TreePtr> tree = git::commit_tree(commit->get());
  if (!tree) {
    return util::error(fmt::format("{}: {}", path.string(), tree.error()));
  }
  std::string id = git::to_hex(*git_commit_id(commit->get()));
  git::SharedRepo shared(repo.release(), git_repository_free);
  return std::make_unique<GitSnapshot>(std::move(shared), std::move(*tree), id, path.string());
}

std::string GitSnapshot::describe() const {
  return m_commit.empty() ? m_where : fmt::format("{}@{}", m_where, m_commit.substr(0, 12));
}

util::Result<git::TreePtr> GitSnapshot::subtree(std::string_view dir) const {
  if (!m_tree) {
    return util::error(fmt::format("{}: {}: no such directory (no commit yet)", describe(), dir));
  }
  if (dir.empty()) {
    git_tree* copy = nullptr;
    TRY(git::check(git_tree_dup(&copy, m_tree.get()), "cannot copy a tree handle"));
    return git::TreePtr(copy);
  }
  git_tree_entry* entry = nullptr;
  std::string path(dir);
  int rc = git_tree_entry_bypath(&entry, m_tree.get(), path.c_str());
  if (rc < 0) {
    return util::error(git::error_text(fmt::format("{}: {}", describe(), path), rc));
  }
  git::TreeEntryPtr owned(entry);
  if (git_tree_entry_type(entry) != GIT_OBJECT_TREE) {
    return util::error(fmt::format("{}: {}: not a directory", describe(), path));
  }
  util::Result<git::TreePtr> tree = git::lookup_tree(m_repo.get(), *git_tree_entry_id(entry));
  if (!tree) {
    return util::error(fmt::format("{}: {}: {}", describe(), path, tree.error()));
  }
  return std::move(*tree);
}

util::Result<std::vector<Entry>> GitSnapshot::list(std::string_view dir) const {
  if (!m_tree && dir.empty()) {
    return std::vector<Entry>();
  }
  TRY_ASSIGN(git::TreePtr tree, subtree(dir));
  std::vector<Entry> out;
  size_t n = git_tree_entrycount(tree.get());
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const git_tree_entry* e = git_tree_entry_byindex(tree.get(), i);
    out.push_back({git_tree_entry_name(e), entry_type(git_tree_entry_filemode_raw(e)),
                   git::to_hex(*git_tree_entry_id(e))});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  return out;
}

util::Result<std::optional<Entry>> GitSnapshot::stat(std::string_view path) const {
  if (!m_tree) {
    return std::optional<Entry>();
  }
  git_tree_entry* entry = nullptr;
  std::string p(path);
  int rc = git_tree_entry_bypath(&entry, m_tree.get(), p.c_str());
  if (rc == GIT_ENOTFOUND) {
    git_error_clear();
    return std::optional<Entry>();
  }
  if (rc < 0) {
    return util::error(git::error_text(fmt::format("{}: {}", describe(), p), rc));
  }
  git::TreeEntryPtr owned(entry);
  return std::optional<Entry>(Entry{git_tree_entry_name(entry),
                                    entry_type(git_tree_entry_filemode_raw(entry)),
                                    git::to_hex(*git_tree_entry_id(entry))});
}

util::Result<uint64_t> GitSnapshot::size(std::string_view path) const {
  TRY_ASSIGN(std::optional<Entry> entry, stat(path));
  if (!entry) {
    return util::error(fmt::format("{}: {}: no such file", describe(), path));
  }
  TRY_ASSIGN(git_oid id, git::from_hex(entry->id));
  git_odb* raw = nullptr;
  TRY(git::check(git_repository_odb(&raw, m_repo.get()), "cannot open the object database"));
  git::OdbPtr odb(raw);
  size_t bytes = 0;
  git_object_t type = GIT_OBJECT_INVALID;
  int rc = git_odb_read_header(&bytes, &type, odb.get(), &id);
  if (rc < 0) {
    return util::error(git::error_text(
        fmt::format("{}: {}: cannot read object {}", describe(), path, entry->id), rc));
  }
  return static_cast<uint64_t>(bytes);
}

util::Result<std::string> GitSnapshot::read(std::string_view path) const {
  if (!m_tree) {
    return util::error(fmt::format("{}: {}: no such file (no commit yet)", describe(), path));
  }
  git_tree_entry* entry = nullptr;
  std::string p(path);
  int rc = git_tree_entry_bypath(&entry, m_tree.get(), p.c_str());
  if (rc < 0) {
    return util::error(git::error_text(fmt::format("{}: {}", describe(), p), rc));
  }
  git::TreeEntryPtr owned(entry);
  if (git_tree_entry_type(entry) != GIT_OBJECT_BLOB) {
    return util::error(fmt::format("{}: {}: not a file", describe(), p));
  }
  git_blob* blob = nullptr;
  rc = git_blob_lookup(&blob, m_repo.get(), git_tree_entry_id(entry));
  if (rc < 0) {
    return util::error(git::error_text(
        fmt::format("{}: {}: cannot read object {}", describe(), p,
                    git::to_hex(*git_tree_entry_id(entry))),
        rc));
  }
  git::BlobPtr owned_blob(blob);
  const char* data = static_cast<const char*>(git_blob_rawcontent(blob));
  return std::string(data, static_cast<size_t>(git_blob_rawsize(blob)));
}

util::Result<std::unique_ptr<Snapshot>> open_snapshot(const fs::path& path,
                                                      std::string_view revision) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    return util::error(fmt::format("{}: no such results database (not a directory)", path.string()));
  }
  if (git::is_repo(path.string()) || fs::exists(path / ".git", ec)) {
    TRY_ASSIGN(std::unique_ptr<GitSnapshot> snap, GitSnapshot::open(path, revision));
    return std::unique_ptr<Snapshot>(std::move(snap));
  }
  if (!revision.empty()) {
    return util::error(fmt::format("{}: not a git repository, so revision '{}' cannot be read",
                                   path.string(), revision));
  }
  return std::unique_ptr<Snapshot>(std::make_unique<DirSnapshot>(path));
}

} // namespace db
