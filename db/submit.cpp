#include "db/submit.h"

#include "db/database.h"
#include "db/git.h"
#include "db/store.h"
#include "util/log.h"

#include <fmt/format.h>

#include <algorithm>

namespace fs = std::filesystem;

namespace db {

namespace {

constexpr const char* k_base_ref = "refs/lupa/submit-base";

// Collects the per-reference verdicts of a push (a rejected ref is not a libgit2 error).
struct PushStatus {
  std::vector<std::string> rejected;
};

int on_push_update(const char* refname, const char* status, void* payload) {
  if (status != nullptr) {
    static_cast<PushStatus*>(payload)->rejected.push_back(fmt::format("{}: {}", refname, status));
  }
  return 0;
}

// The remote's refs/heads/<base>, if it exists (connects, lists refs, disconnects).
util::Result<std::optional<git_oid>> remote_branch(git_remote* remote, const std::string& url,
                                                   const std::string& ref) {
  git_remote_callbacks callbacks = GIT_REMOTE_CALLBACKS_INIT;
  int rc = git_remote_connect(remote, GIT_DIRECTION_FETCH, &callbacks, nullptr, nullptr);
  if (rc < 0) {
    return util::error(git::error_text(fmt::format("cannot reach remote {}", url), rc));
  }
  const git_remote_head** heads = nullptr;
  size_t count = 0;
  rc = git_remote_ls(&heads, &count, remote);
  std::optional<git_oid> found;
  if (rc == 0) {
    for (size_t i = 0; i < count; ++i) {
      if (ref == heads[i]->name) {
        found = heads[i]->oid;
      }
    }
  }
  git_remote_disconnect(remote);
  if (rc < 0) {
    return util::error(git::error_text(fmt::format("{}: cannot list references", url), rc));
  }
  return found;
}

std::string environment_of(const RunData& data) {
  if (!data.provenance) {
    return "Loupe run (no provenance)";
  }
  const Provenance& p = *data.provenance;
  return fmt::format("lupa {}, kernel {}, {} {}, base image {}", p.lupa_version, p.kernel_release,
                     p.engine.empty() ? "engine ?" : p.engine, p.engine_version,
                     p.base_image_digest.empty() ? "?" : p.base_image_digest.substr(0, 19));
}


} // namespace

util::Result<SubmitReport> submit(const fs::path& db_path, const SubmitOptions& options) {
  SubmitReport report;
  report.remote = options.remote;
  report.base = options.base;
  TRY_ASSIGN(Store store, Store::open(db_path, CreateMode::must_exist));
  git_repository* repo = store.repo();
  TRY_ASSIGN(Database database, Database::open(db_path));
  if (!database.is_git()) {
    return util::error(fmt::format("{}: no commit to submit", db_path.string()));
  }

  // 1. The remote's base branch, fetched privately.
  git_remote* raw_remote = nullptr;
  TRY(git::check(git_remote_create_anonymous(&raw_remote, repo, options.remote.c_str()),
                 fmt::format("'{}': not a usable remote", options.remote)));
  git::RemotePtr remote(raw_remote);
  std::string base_ref = "refs/heads/" + options.base;
  TRY_ASSIGN(std::optional<git_oid> remote_base, remote_branch(remote.get(), options.remote, base_ref));
  git::CommitPtr base_commit;
  git::TreePtr base_tree;
  if (remote_base) {
    std::string spec = fmt::format("+{}:{}", base_ref, k_base_ref);
    char* specs[] = {spec.data()};
    git_strarray refspecs = {specs, 1};
    git_fetch_options fetch = GIT_FETCH_OPTIONS_INIT;
    TRY(git::check(git_remote_fetch(remote.get(), &refspecs, &fetch, "lupa submit: fetch base"),
                   fmt::format("cannot fetch {} from {}", options.base, options.remote)));
    TRY_ASSIGN(base_commit, git::resolve_commit(repo, k_base_ref));
    TRY_ASSIGN(base_tree, git::commit_tree(base_commit.get()));
    report.base_commit = git::to_hex(*git_commit_id(base_commit.get()));
  }

  // 2. The runs the base lacks or holds with other files, oldest first.
  TRY_ASSIGN(git::CommitPtr head, git::resolve_commit(repo, "HEAD"));
  TRY_ASSIGN(git::TreePtr head_tree, git::commit_tree(head.get()));
  std::vector<const RunInfo*> offered;
  for (const RunInfo& r : database.runs()) {
    std::optional<git_oid> mine = git::entry_id(head_tree.get(), r.key());
    std::optional<git_oid> theirs = git::entry_id(base_tree.get(), r.key());
    if (mine && (!theirs || !git_oid_equal(&*mine, &*theirs))) {
      offered.push_back(&r);
    }
  }
  if (offered.empty()) {
    return util::error(fmt::format("nothing to submit: every run of {} is already on {} {}",
                                   db_path.string(), options.remote, options.base));
  }
  std::stable_sort(offered.begin(), offered.end(), [](const RunInfo* a, const RunInfo* b) {
    return a->history_rank > b->history_rank;
  });

  // 3. One commit per run on top of the base.
  TRY_ASSIGN(git::SignaturePtr sig, git::default_signature(repo));
  git::CommitPtr parent = std::move(base_commit);
  std::string names;
  for (const RunInfo* r : offered) {
    TRY_ASSIGN(RunData data, database.load(*r));
    SubmittedRun run{r->key(), git::entry_id(base_tree.get(), r->key()).has_value(),
                     summarize(data).text(), environment_of(data)};
    names += r->key() + "\n";
    RunFiles files;
    files.app = r->ref.app;
    files.workload = r->ref.workload;
    files.run_id = r->ref.run_id;
    files.summary = run.summary;
    git::TreePtr parent_tree;
    if (parent) {
      TRY_ASSIGN(parent_tree, git::commit_tree(parent.get()));
    }
    std::optional<git_oid> subtree = git::entry_id(head_tree.get(), r->key());
    TRY_ASSIGN(git_oid tree_id, update_tree(repo, parent_tree.get(), {{r->key(), *subtree, GIT_FILEMODE_TREE}}));
    TRY_ASSIGN(git::TreePtr tree, git::lookup_tree(repo, tree_id));
    std::string message = run_commit_message(files);
    const git_commit* parents[1] = {parent.get()};
    git_oid commit_id;
    TRY(git::check(git_commit_create(&commit_id, repo, nullptr, sig.get(), sig.get(), "UTF-8",
                                     message.c_str(), tree.get(), parent ? 1 : 0, parents),
                   "cannot create a commit"));
    git_commit* c = nullptr;
    TRY(git::check(git_commit_lookup(&c, repo, &commit_id), "cannot read back a commit"));
    parent.reset(c);
    report.runs.push_back(std::move(run));
  }
  report.tip = git::to_hex(*git_commit_id(parent.get()));
  report.branch = options.branch.empty() ? "lupa/submit-" + git::blob_id(names).substr(0, 12)
                                         : options.branch;

  // 4. The local branch, then the push; undone if the push fails.
  std::string local_ref = "refs/heads/" + report.branch;
  if (git_reference_is_valid_name(local_ref.c_str()) != 1) {
    return util::error(fmt::format("'{}': not a valid branch name", report.branch));
  }
  git_reference* created = nullptr;
  TRY(git::check(git_reference_create(&created, repo, local_ref.c_str(), git_commit_id(parent.get()),
                                      1, "lupa submit"),
                 fmt::format("cannot create branch {}", report.branch)));
  git::ReferencePtr owned_created(created);
  std::string spec = fmt::format("{}:{}", local_ref, local_ref);
  char* specs[] = {spec.data()};
  git_strarray refspecs = {specs, 1};
  PushStatus status;
  git_push_options push = GIT_PUSH_OPTIONS_INIT;
  push.callbacks.push_update_reference = on_push_update;
  push.callbacks.payload = &status;
  int rc = git_remote_push(remote.get(), &refspecs, &push);
  if (rc < 0 || !status.rejected.empty()) {
    std::string why = rc < 0 ? git::error_text(fmt::format("cannot push to {}", options.remote), rc)
                             : fmt::format("{} rejected the push: {}", options.remote,
                                           status.rejected.front());
    git_reference_delete(owned_created.get());
    return util::error(why + "; nothing was submitted");
  }
  util::log::verbose("pushed {} to {}", report.branch, options.remote);
  return report;
}

std::string format_submit_report(const SubmitReport& r) {
  std::string out = fmt::format("submitted {} run{} to {} on branch {}\n", r.runs.size(),
                                r.runs.size() == 1 ? "" : "s", r.remote, r.branch);
  out += fmt::format("base: {} {}\n", r.base,
                     r.base_commit.empty() ? "(absent on the remote: the branch starts a new history)"
                                           : r.base_commit.substr(0, 12));
  out += fmt::format("tip:  {}\n\n", r.tip.substr(0, 12));
  out += "runs (app/workload/run id, verdicts, environment):\n";
  for (const SubmittedRun& run : r.runs) {
    out += fmt::format("  {} {}\n      {}\n      {}\n", run.rerun ? "~" : "+", run.key, run.summary,
                       run.environment);
  }
  out += fmt::format("\nfor the reviewer, in a clone of the shared database:\n"
                     "  git fetch {} {}:{}\n"
                     "  lupa verify {} --base {}\n",
                     r.remote, r.branch, r.branch, r.branch, r.base);
  return out;
}

} // namespace db
