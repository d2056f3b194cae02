#include "db/git.h"

#include <fmt/format.h>

#include <filesystem>
#include <mutex>

namespace db::git {

void ensure_init() {
  static std::once_flag once;
  std::call_once(once, [] {
    git_libgit2_init();
    // Refuse to read objects whose contents do not match their id (a corrupt repository must
    // fail loudly, not yield wrong data).
    git_libgit2_opts(GIT_OPT_ENABLE_STRICT_HASH_VERIFICATION, 1);
  });
}

std::string error_text(std::string_view what, int rc) {
  const git_error* e = git_error_last();
  if (e != nullptr && e->message != nullptr && e->message[0] != '\0') {
    return fmt::format("{}: {}", what, e->message);
  }
  return fmt::format("{}: libgit2 error {}", what, rc);
}

util::Result<void> check(int rc, std::string_view what) {
  if (rc < 0) {
    return util::error(error_text(what, rc));
  }
  return {};
}

std::string to_hex(const git_oid& oid) {
  char buffer[GIT_OID_HEXSZ + 1];
  git_oid_tostr(buffer, sizeof buffer, &oid);
  return buffer;
}

util::Result<git_oid> from_hex(std::string_view hex) {
  git_oid oid;
  if (hex.size() != GIT_OID_HEXSZ || git_oid_fromstrn(&oid, hex.data(), hex.size()) != 0) {
    return util::error(fmt::format("'{}' is not a 40-digit object id", hex));
  }
  return oid;
}

std::string blob_id(std::string_view content) {
  ensure_init();
  git_oid oid;
  git_odb_hash(&oid, content.data(), content.size(), GIT_OBJECT_BLOB);
  return to_hex(oid);
}

bool is_repo(const std::string& path) {
  ensure_init();
  return git_repository_open_ext(nullptr, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) == 0;
}

util::Result<RepoPtr> open_repo(const std::string& path) {
  ensure_init();
  git_repository* repo = nullptr;
  int rc = git_repository_open_ext(&repo, path.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr);
  if (rc < 0) {
    return util::error(error_text(fmt::format("{}: cannot open the git repository", path), rc));
  }
  return RepoPtr(repo);
}

util::Result<CommitPtr> resolve_commit(git_repository* repo, std::string_view revision) {
  git_object* object = nullptr;
  std::string spec(revision);
  int rc = git_revparse_single(&object, repo, spec.c_str());
  if (rc < 0) {
    return util::error(error_text(fmt::format("cannot resolve revision '{}'", spec), rc));
  }
  ObjectPtr owned(object);
  git_object* peeled = nullptr;
  rc = git_object_peel(&peeled, owned.get(), GIT_OBJECT_COMMIT);
  if (rc < 0) {
    return util::error(error_text(fmt::format("revision '{}' is not a commit", spec), rc));
  }
  return CommitPtr(reinterpret_cast<git_commit*>(peeled));
}

util::Result<TreePtr> commit_tree(const git_commit* commit) {
  git_tree* tree = nullptr;
  int rc = git_commit_tree(&tree, commit);
  if (rc < 0) {
    return util::error(error_text(
        fmt::format("commit {}: cannot read its tree", to_hex(*git_commit_id(commit))), rc));
  }
  return TreePtr(tree);
}

std::optional<git_oid> entry_id(const git_tree* tree, const std::string& path) {
  if (tree == nullptr) {
    return std::nullopt;
  }
  git_tree_entry* e = nullptr;
  if (git_tree_entry_bypath(&e, tree, path.c_str()) != 0) {
    git_error_clear();
    return std::nullopt;
  }
  TreeEntryPtr owned(e);
  return *git_tree_entry_id(e);
}

util::Result<TreePtr> lookup_tree(git_repository* repo, const git_oid& id) {
  git_tree* tree = nullptr;
  int rc = git_tree_lookup(&tree, repo, &id);
  if (rc < 0) {
    return util::error(error_text(fmt::format("tree {}", to_hex(id)), rc));
  }
  return TreePtr(tree);
}

util::Result<SignaturePtr> default_signature(git_repository* repo) {
  git_signature* sig = nullptr;
  if (git_signature_default(&sig, repo) == 0) {
    return SignaturePtr(sig);
  }
  git_error_clear();
  TRY(check(git_signature_now(&sig, "lupa", "lupa@localhost"), "cannot create a commit signature"));
  return SignaturePtr(sig);
}

util::Result<std::string> head_branch(git_repository* repo) {
  git_reference* head = nullptr;
  int rc = git_reference_lookup(&head, repo, "HEAD");
  if (rc < 0) {
    return util::error(error_text("cannot read HEAD", rc));
  }
  ReferencePtr owned(head);
  if (git_reference_type(head) != GIT_REFERENCE_SYMBOLIC) {
    return util::error("HEAD is detached: check out a branch of the results database first");
  }
  return std::string(git_reference_symbolic_target(head));
}

} // namespace db::git
