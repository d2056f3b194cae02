#pragma once
// Thin RAII layer over libgit2: owning handles, error text, and the few tree helpers the
// database needs. Every git operation of lupa goes through libgit2 (never through `git`).

#include "util/error.h"

#include <git2.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace db::git {

// Initialises libgit2 once per process (thread-safe, idempotent).
void ensure_init();

// `what` followed by libgit2's last error message (or the code `rc` when there is none).
std::string error_text(std::string_view what, int rc);

// An error Result from libgit2 return code `rc` when it is negative, described by `what`.
util::Result<void> check(int rc, std::string_view what);

// Frees a libgit2 handle of type `T` with `Free`.
template <typename T, void (*Free)(T*)> struct Deleter {
  void operator()(T* handle) const { Free(handle); }
};

// Owning handles of libgit2 objects.
using RepoPtr = std::unique_ptr<git_repository, Deleter<git_repository, git_repository_free>>;
using TreePtr = std::unique_ptr<git_tree, Deleter<git_tree, git_tree_free>>;
using TreeEntryPtr = std::unique_ptr<git_tree_entry, Deleter<git_tree_entry, git_tree_entry_free>>;
using TreeBuilderPtr =
    std::unique_ptr<git_treebuilder, Deleter<git_treebuilder, git_treebuilder_free>>;
using CommitPtr = std::unique_ptr<git_commit, Deleter<git_commit, git_commit_free>>;
using BlobPtr = std::unique_ptr<git_blob, Deleter<git_blob, git_blob_free>>;
using ObjectPtr = std::unique_ptr<git_object, Deleter<git_object, git_object_free>>;
using ReferencePtr = std::unique_ptr<git_reference, Deleter<git_reference, git_reference_free>>;
using RevwalkPtr = std::unique_ptr<git_revwalk, Deleter<git_revwalk, git_revwalk_free>>;
using SignaturePtr = std::unique_ptr<git_signature, Deleter<git_signature, git_signature_free>>;
using StatusListPtr =
    std::unique_ptr<git_status_list, Deleter<git_status_list, git_status_list_free>>;
using RemotePtr = std::unique_ptr<git_remote, Deleter<git_remote, git_remote_free>>;
using OdbPtr = std::unique_ptr<git_odb, Deleter<git_odb, git_odb_free>>;
using IndexPtr = std::unique_ptr<git_index, Deleter<git_index, git_index_free>>;

// Shared ownership of a repository, for snapshots that outlive the object that opened it.
using SharedRepo = std::shared_ptr<git_repository>;

// The 40-digit hex form of `oid`.
std::string to_hex(const git_oid& oid);

// `hex` parsed as an object id.
util::Result<git_oid> from_hex(std::string_view hex);

// The git blob id of `content` (what `git hash-object` prints), as 40 hex digits.
std::string blob_id(std::string_view content);

// Opens the repository at `path` exactly (no search upwards).
util::Result<RepoPtr> open_repo(const std::string& path);

// True if `path` holds a git repository (a `.git` directory or file, or a bare repository).
bool is_repo(const std::string& path);

// The commit `revision` resolves to in `repo` ("HEAD", a branch, "origin/x", an id...).
util::Result<CommitPtr> resolve_commit(git_repository* repo, std::string_view revision);

// The tree of commit `commit`.
util::Result<TreePtr> commit_tree(const git_commit* commit);

// The id of the entry at `path` (relative, '/'-separated) in `tree`, if any (null tree: none).
std::optional<git_oid> entry_id(const git_tree* tree, const std::string& path);

// The tree with id `id`.
util::Result<TreePtr> lookup_tree(git_repository* repo, const git_oid& id);

// The signature lupa commits with: the user's git configuration, else "lupa <lupa@localhost>".
util::Result<SignaturePtr> default_signature(git_repository* repo);

// The branch HEAD names ("refs/heads/main"), even when it has no commit yet.
util::Result<std::string> head_branch(git_repository* repo);

} // namespace db::git
