#include "db/store.h"

#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>
#include <utility>

namespace fs = std::filesystem;

namespace db {

namespace {

// An exclusive flock on a file, released on destruction or when the process dies.
class FileLock {
public:
  FileLock() = default;
  FileLock(FileLock&& other) noexcept : m_fd(std::exchange(other.m_fd, -1)) {}
  FileLock& operator=(FileLock&&) = delete;
  FileLock(const FileLock&) = delete;
  ~FileLock() {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
  }

  // Takes the lock on `path`, waiting up to `timeout` for another holder.
  static util::Result<FileLock> acquire(const fs::path& path, std::chrono::seconds timeout) {
    FileLock lock;
    lock.m_fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock.m_fd < 0) {
      return util::error(util::system_error_message("cannot open the lock file " + path.string()));
    }
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool told = false;
    while (::flock(lock.m_fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno != EWOULDBLOCK && errno != EINTR) {
        return util::error(util::system_error_message("cannot lock " + path.string()));
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return util::error(fmt::format("{}: another lupa process kept the database locked for "
                                       "{} s; try again when it is done",
                                       path.string(), timeout.count()));
      }
      if (!told) {
        util::log::verbose("waiting for another lupa process writing to the database ({})",
                           path.string());
        told = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return lock;
  }

private:
  int m_fd = -1;
};

std::string git_dir(git_repository* repo) { return git_repository_path(repo); }

fs::path pending_journal(git_repository* repo) { return fs::path(git_dir(repo)) / "lupa-pending"; }

// The status entries of the working tree: tracked changes everywhere, and untracked files
// only under `untracked_in` (scanning every directory for untracked files would double the
// cost on large databases).
util::Result<std::vector<std::string>> dirty_entries(git_repository* repo,
                                                     const std::vector<std::string>& untracked_in) {
  std::vector<std::string> dirty;
  auto scan = [&](unsigned flags, const std::vector<std::string>& paths) -> util::Result<void> {
    git_status_options opts = GIT_STATUS_OPTIONS_INIT;
    opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
    opts.flags = flags | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
    std::vector<char*> strings;
    for (const std::string& p : paths) {
      strings.push_back(const_cast<char*>(p.c_str()));
    }
    opts.pathspec.strings = strings.data();
    opts.pathspec.count = strings.size();
    git_status_list* raw = nullptr;
    TRY(git::check(git_status_list_new(&raw, repo, &opts), "cannot read the working tree status"));
    git::StatusListPtr list(raw);
    size_t n = git_status_list_entrycount(list.get());
    for (size_t i = 0; i < n; ++i) {
      const git_status_entry* e = git_status_byindex(list.get(), i);
      if (e->status == GIT_STATUS_CURRENT || e->status == GIT_STATUS_IGNORED) {
        continue;
      }
      const git_diff_delta* delta = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
      std::string path = delta && delta->new_file.path ? delta->new_file.path : "?";
      dirty.push_back((e->status == GIT_STATUS_WT_NEW ? "untracked " : "modified ") + path);
    }
    return {};
  };
  TRY(scan(0, {}));
  if (!untracked_in.empty()) {
    TRY(scan(GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
                 GIT_STATUS_OPT_DISABLE_PATHSPEC_MATCH,
             untracked_in));
  }
  std::sort(dirty.begin(), dirty.end());
  dirty.erase(std::unique(dirty.begin(), dirty.end()), dirty.end());
  return dirty;
}

// Refuses a working tree with changes to tracked files, or with untracked files where the
// commit is about to write (`targets`).
util::Result<void> check_clean(git_repository* repo, const std::vector<std::string>& targets) {
  TRY_ASSIGN(std::vector<std::string> dirty, dirty_entries(repo, targets));
  if (!dirty.empty()) {
    return util::error(fmt::format(
        "{}: the working tree has uncommitted changes ({}{}): commit or remove them, or pass "
        "--allow-dirty",
        git_repository_workdir(repo), dirty.front(),
        dirty.size() > 1 ? fmt::format(" and {} more", dirty.size() - 1) : ""));
  }
  return {};
}

// Brings `paths` of the working tree and index to their state in HEAD.
util::Result<void> checkout_paths(git_repository* repo, const std::vector<std::string>& paths) {
  if (paths.empty()) {
    return {};
  }
  git_object* head = nullptr;
  TRY(git::check(git_revparse_single(&head, repo, "HEAD^{tree}"), "cannot read HEAD"));
  git::ObjectPtr owned(head);
  std::vector<char*> strings;
  for (const std::string& p : paths) {
    strings.push_back(const_cast<char*>(p.c_str()));
  }
  git_checkout_options opts = GIT_CHECKOUT_OPTIONS_INIT;
  opts.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DISABLE_PATHSPEC_MATCH;
  opts.paths.strings = strings.data();
  opts.paths.count = strings.size();
  TRY(git::check(git_checkout_tree(repo, head, &opts),
                 fmt::format("cannot update the working tree at {}", git_repository_workdir(repo))));
  return {};
}

// Finishes the working-tree update a killed writer left behind (see the journal in store.h).
util::Result<void> roll_forward(git_repository* repo) {
  fs::path journal = pending_journal(repo);
  std::error_code ec;
  if (!fs::exists(journal, ec)) {
    return {};
  }
  TRY_ASSIGN(std::string text, util::read_file(journal));
  std::vector<std::string> paths;
  for (const std::string& line : util::split(text, '\n')) {
    if (!line.empty()) {
      paths.push_back(line);
    }
  }
  if (git_repository_head_unborn(repo) != 1) {
    util::log::verbose("finishing the working-tree update of an interrupted lupa process");
    TRY(checkout_paths(repo, paths));
  }
  fs::remove(journal, ec);
  return {};
}

// The paths of the working tree a change touches (run directories and root files).
std::vector<std::string> target_paths(const Change& change) {
  std::vector<std::string> out;
  for (const RunFiles& run : change.runs) {
    out.push_back(run.key());
  }
  for (const auto& [name, file] : change.root_files) {
    out.push_back(name);
  }
  return out;
}

util::Result<git_oid> write_blob(git_repository* repo, const std::string& content) {
  git_oid oid;
  TRY(git::check(git_blob_create_from_buffer(&oid, repo, content.data(), content.size()),
                 "cannot write an object"));
  return oid;
}

git_filemode_t file_mode(FileMode mode) {
  return mode == FileMode::executable ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
}

// Like update_tree, but returns nullopt when the resulting tree would be empty.
util::Result<std::optional<git_oid>> update_subtree(git_repository* repo, const git_tree* base,
                                                    const std::vector<TreeUpdate>& updates) {
  std::map<std::string, std::vector<TreeUpdate>> deeper;
  std::vector<const TreeUpdate*> here;
  for (const TreeUpdate& u : updates) {
    size_t slash = u.path.find('/');
    if (slash == std::string::npos) {
      here.push_back(&u);
    } else {
      deeper[u.path.substr(0, slash)].push_back({u.path.substr(slash + 1), u.id, u.mode});
    }
  }
  git_treebuilder* raw = nullptr;
  TRY(git::check(git_treebuilder_new(&raw, repo, base), "cannot build a tree"));
  git::TreeBuilderPtr builder(raw);
  for (const auto& [name, sub] : deeper) {
    git::TreePtr child;
    const git_tree_entry* e = base ? git_tree_entry_byname(base, name.c_str()) : nullptr;
    if (e && git_tree_entry_type(e) == GIT_OBJECT_TREE) {
      TRY_ASSIGN(child, git::lookup_tree(repo, *git_tree_entry_id(e)));
    }
    TRY_ASSIGN(std::optional<git_oid> id, update_subtree(repo, child.get(), sub));
    if (id) {
      TRY(git::check(git_treebuilder_insert(nullptr, builder.get(), name.c_str(), &*id,
                                            GIT_FILEMODE_TREE),
                     fmt::format("cannot add '{}' to a tree", name)));
    } else if (git_treebuilder_get(builder.get(), name.c_str()) != nullptr) {
      TRY(git::check(git_treebuilder_remove(builder.get(), name.c_str()), "cannot edit a tree"));
    }
  }
  for (const TreeUpdate* u : here) {
    if (u->id) {
      TRY(git::check(git_treebuilder_insert(nullptr, builder.get(), u->path.c_str(), &*u->id,
                                            u->mode),
                     fmt::format("cannot add '{}' to a tree", u->path)));
    } else if (git_treebuilder_get(builder.get(), u->path.c_str()) != nullptr) {
      TRY(git::check(git_treebuilder_remove(builder.get(), u->path.c_str()), "cannot edit a tree"));
    }
  }
  if (git_treebuilder_entrycount(builder.get()) == 0) {
    return std::optional<git_oid>();
  }
  git_oid out;
  TRY(git::check(git_treebuilder_write(&out, builder.get()), "cannot write a tree"));
  return std::optional<git_oid>(out);
}


} // namespace

void test_pause(std::string_view stage) {
  const char* env = std::getenv("LUPA_TEST_PAUSE");
  if (env == nullptr) {
    return;
  }
  std::string_view spec(env);
  size_t colon = spec.find(':');
  if (colon == std::string_view::npos || spec.substr(0, colon) != stage) {
    return;
  }
  fs::path dir(spec.substr(colon + 1));
  (void)util::write_file_atomic(dir / fmt::format("paused-{}", stage), "");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::error_code ec;
  while (!fs::exists(dir / "resume", ec) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

util::Result<git_oid> update_tree(git_repository* repo, const git_tree* base,
                                  const std::vector<TreeUpdate>& updates) {
  TRY_ASSIGN(std::optional<git_oid> id, update_subtree(repo, base, updates));
  if (id) {
    return *id;
  }
  git_treebuilder* raw = nullptr;
  TRY(git::check(git_treebuilder_new(&raw, repo, nullptr), "cannot build a tree"));
  git::TreeBuilderPtr empty(raw);
  git_oid out;
  TRY(git::check(git_treebuilder_write(&out, empty.get()), "cannot write a tree"));
  return out;
}

util::Result<git_oid> write_run_tree(git_repository* repo, const RunFiles& files) {
  std::vector<TreeUpdate> updates;
  for (const auto& [path, file] : files.files) {
    if (!is_safe_path(path)) {
      return util::error(fmt::format("{}/{}: not a safe path", files.key(), path));
    }
    TRY_ASSIGN(git_oid blob, write_blob(repo, file.content));
    updates.push_back({path, blob, file_mode(file.mode)});
  }
  return update_tree(repo, nullptr, updates);
}

std::string run_commit_message(const RunFiles& files) {
  return fmt::format("{}/{}: {}\n\nLupa-App: {}\nLupa-Workload: {}\nLupa-Run: {}\n", files.app,
                     files.workload.dir_name(), files.summary, files.app,
                     files.workload.dir_name(), files.run_id);
}

Store::Store(fs::path path, git::RepoPtr repo) : m_path(std::move(path)), m_repo(std::move(repo)) {}

bool Store::bare() const { return git_repository_is_bare(m_repo.get()) == 1; }

util::Result<Store> Store::open(const fs::path& path, CreateMode mode) {
  git::ensure_init();
  std::error_code ec;
  if (git::is_repo(path.string()) || fs::exists(path / ".git", ec)) {
    // Never mistake a damaged repository for a plain directory: open it or say why not.
    TRY_ASSIGN(git::RepoPtr repo, git::open_repo(path.string()));
    util::Result<std::string> branch = git::head_branch(repo.get());
    if (!branch) {
      return util::error(fmt::format("{}: {}", path.string(), branch.error()));
    }
    return Store(path, std::move(repo));
  }
  bool empty_dir = fs::is_directory(path, ec) && fs::is_empty(path, ec);
  if (mode == CreateMode::must_exist || (fs::exists(path, ec) && !empty_dir)) {
    return util::error(fmt::format(
        "{}: not a lupa results database (a git repository); create one with `lupa import "
        "loupedb SRC --db {}` or by committing a run into an empty directory",
        path.string(), path.string()));
  }
  git_repository_init_options opts = GIT_REPOSITORY_INIT_OPTIONS_INIT;
  opts.flags = GIT_REPOSITORY_INIT_MKPATH;
  opts.initial_head = "main";
  git_repository* repo = nullptr;
  TRY(git::check(git_repository_init_ext(&repo, path.c_str(), &opts),
                 fmt::format("{}: cannot create a results database", path.string())));
  util::log::verbose("created results database {}", path.string());
  return Store(path, git::RepoPtr(repo));
}

util::Result<void> Store::check_clean(DirtyPolicy dirty) const {
  if (dirty == DirtyPolicy::allow || bare()) {
    return {};
  }
  return db::check_clean(m_repo.get(), {});
}

util::Result<CommitResult> Store::commit_run(const NewRun& run, const CommitOptions& options) {
  TRY_ASSIGN(RunFiles files, render_run(run));
  Change change;
  change.message = run_commit_message(files);
  change.runs.push_back(std::move(files));
  return commit(change, options);
}

util::Result<CommitResult> Store::commit(const Change& change, const CommitOptions& options) {
  git_repository* repo = m_repo.get();
  auto started = std::chrono::steady_clock::now();
  auto phase = [&](const char* what) {
    util::log::debug("commit: {} after {:.1f} ms", what,
                     std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
  };

  // 1. Objects first: every blob and run tree, outside the lock (content-addressed, safe).
  std::vector<std::pair<std::string, git_oid>> run_trees;
  for (const RunFiles& run : change.runs) {
    TRY_ASSIGN(git_oid tree, write_run_tree(repo, run));
    run_trees.emplace_back(run.key(), tree);
  }
  std::vector<TreeUpdate> updates;
  for (const auto& [key, tree] : run_trees) {
    updates.push_back({key, tree, GIT_FILEMODE_TREE});
  }
  for (const auto& [name, file] : change.root_files) {
    if (!is_safe_name(name)) {
      return util::error(fmt::format("'{}': not a safe file name for the database root", name));
    }
    TRY_ASSIGN(git_oid blob, write_blob(repo, file.content));
    updates.push_back({name, blob, file_mode(file.mode)});
  }
  phase("objects written");
  test_pause("objects-written");

  // 2. Under the lock: finish a killed writer's checkout, refuse a dirty tree, swap the ref.
  TRY_ASSIGN(FileLock lock,
             FileLock::acquire(fs::path(git_dir(repo)) / "lupa.lock", options.lock_timeout));
  bool has_workdir = !bare();
  std::vector<std::string> targets = target_paths(change);
  phase("lock taken");
  if (has_workdir) {
    TRY(roll_forward(repo));
    if (options.dirty == DirtyPolicy::refuse) {
      TRY(db::check_clean(repo, targets));
      phase("working tree checked clean");
    }
  }
  TRY_ASSIGN(std::string branch, git::head_branch(repo));
  TRY_ASSIGN(git::SignaturePtr sig, git::default_signature(repo));

  CommitResult result;
  for (unsigned attempt = 0;; ++attempt) {
    result = CommitResult{};
    result.retries = attempt;
    git_reference* raw_ref = nullptr;
    int rc = git_reference_lookup(&raw_ref, repo, branch.c_str());
    git::ReferencePtr ref(raw_ref);
    bool unborn = rc == GIT_ENOTFOUND;
    if (rc < 0 && !unborn) {
      return util::error(git::error_text(fmt::format("cannot read {}", branch), rc));
    }
    git_error_clear();
    git_oid old_id{};
    git::CommitPtr parent;
    git::TreePtr base;
    if (!unborn) {
      git_reference* resolved = nullptr;
      TRY(git::check(git_reference_resolve(&resolved, ref.get()),
                     fmt::format("cannot resolve {}", branch)));
      git::ReferencePtr owned_resolved(resolved);
      old_id = *git_reference_target(resolved);
      git_commit* c = nullptr;
      TRY(git::check(git_commit_lookup(&c, repo, &old_id),
                     fmt::format("{}: cannot read commit {}", branch, git::to_hex(old_id))));
      parent.reset(c);
      TRY_ASSIGN(base, git::commit_tree(parent.get()));
    }
    for (const auto& [key, tree] : run_trees) {
      std::optional<git_oid> was = git::entry_id(base.get(), key);
      if (!was) {
        result.added.push_back(key);
      } else if (git_oid_equal(&*was, &tree)) {
        result.unchanged.push_back(key);
      } else {
        result.replaced.push_back(key);
      }
    }
    if (options.replace == ReplacePolicy::refuse && !result.replaced.empty()) {
      return util::error(fmt::format("{}: already in the database with other contents{}; nothing "
                                     "was written",
                                     result.replaced.front(),
                                     result.replaced.size() > 1
                                         ? fmt::format(" (and {} more runs)", result.replaced.size() - 1)
                                         : ""));
    }
    TRY_ASSIGN(git_oid new_tree_id, update_tree(repo, base.get(), updates));
    if (base && git_oid_equal(&new_tree_id, git_tree_id(base.get()))) {
      return result; // everything already there: no empty commit
    }
    TRY_ASSIGN(git::TreePtr new_tree, git::lookup_tree(repo, new_tree_id));
    const git_commit* parents[1] = {parent.get()};
    git_oid commit_id;
    TRY(git::check(git_commit_create(&commit_id, repo, nullptr, sig.get(), sig.get(), "UTF-8",
                                     change.message.c_str(), new_tree.get(), unborn ? 0 : 1,
                                     parents),
                   "cannot create a commit"));
    if (has_workdir) {
      TRY(util::write_file_atomic(pending_journal(repo), util::join(targets, "\n") + "\n"));
    }
    test_pause("before-ref-update");
    std::string log_message = "lupa: " + change.message.substr(0, change.message.find('\n'));
    git_reference* updated = nullptr;
    rc = unborn ? git_reference_create(&updated, repo, branch.c_str(), &commit_id, 0,
                                       log_message.c_str())
                : git_reference_create_matching(&updated, repo, branch.c_str(), &commit_id, 1,
                                                &old_id, log_message.c_str());
    git::ReferencePtr owned_updated(updated);
    if (rc == 0) {
      result.commit = git::to_hex(commit_id);
      break;
    }
    bool raced = rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED;
    if (!raced || attempt >= 200) {
      return util::error(git::error_text(fmt::format("cannot move {}", branch), rc));
    }
    git_error_clear();
    util::log::debug("{} moved by another writer; retrying ({})", branch, attempt + 1);
    std::this_thread::sleep_for(std::chrono::milliseconds(2 + attempt % 20));
  }
  phase("branch moved");
  test_pause("after-ref-update");

  // 3. The working tree follows the branch, for the changed paths only.
  if (has_workdir) {
    TRY(checkout_paths(repo, targets));
    std::error_code ec;
    fs::remove(pending_journal(repo), ec);
    phase("working tree updated");
  }
  return result;
}

} // namespace db
