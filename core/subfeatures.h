#pragma once
// What discovery records below syscall granularity, defined once so that ptrace discovery
// (explorer) and eBPF discovery (tracer) record the same keys:
// - sub-features: the arguments that select a feature of a syscall (ioctl request, fcntl
//   command, prctl option, socket domain and type, clone flags, ...) and how a raw register
//   value becomes FeatureKeys;
// - pseudo-files: the syscalls that name a path, and which paths count (/proc, /sys, /dev).

#include "core/discovery.h"
#include "core/probe.h"
#include "core/result.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// How the raw value of a sub-feature argument becomes keys.
enum class ArgKind {
  value,    // one key per distinct (raw & mask): {arg, raw & mask, mask}
  flag_set, // one key per bit of (raw & mask): {arg, bit, bit}; no bit set gives {arg, 0, mask}
};

// One argument selecting sub-features.
struct FeatureArg {
  unsigned arg = 0;
  ArgKind kind = ArgKind::value;
  uint64_t mask = 0;
};

// The sub-feature arguments of one syscall.
struct SubFeatureSpec {
  int nr = -1;
  std::vector<FeatureArg> args; // independent arguments, each giving its own keys
  // When true, args[0] and args[1] form ONE key (arg and arg2), as setsockopt's level + name.
  bool paired = false;
};

// Every syscall with sub-features, in ascending syscall number.
const std::vector<SubFeatureSpec>& subfeature_specs();

// The spec of syscall `nr`, or nullptr when it has no sub-features.
const SubFeatureSpec* subfeature_spec(int nr);

// The distinct argument indices whose raw values discovery records for `nr` (at most two,
// ascending); empty when `nr` has no sub-features.
std::vector<unsigned> subfeature_arg_indices(int nr);

// Adds `count` to every key that one call of `nr` with raw register values `args` gives.
void add_feature_keys(int nr, const std::array<uint64_t, 6>& args, uint64_t count,
                      std::map<FeatureKey, uint64_t>& out);

// Index of the path argument of syscall `nr` (open, openat, stat, readlink, execve...), if any.
std::optional<unsigned> path_arg_index(int nr);

// Every syscall number with a path argument.
std::vector<int> path_syscalls();

// True if discovery records `path`: "/proc", "/sys", "/dev" or a path below them, as named by
// the call (absolute; not normalized).
bool is_pseudo_file_path(std::string_view path);

// True if `path` names a shared object ("libnuma.so.1", "/usr/lib/x.so"): the calls that open
// one are what discovery reports as libraries.
bool is_shared_object_path(std::string_view path);

// The symbolic name of the value of `key` where the system headers give one ("TCGETS",
// "F_SETFL", "PROT_READ", "SOL_SOCKET:SO_REUSEADDR", "FUTEX_WAIT|FUTEX_PRIVATE_FLAG"), else "".
std::string feature_symbol(const FeatureKey& key);

// True if no call can match both `a` and `b` (other syscalls, or the same argument bits compared
// with different values), so hits counted per rule tell them apart.
bool exclusive(const FeatureKey& a, const FeatureKey& b);

// The exploration entry of `key`, seen `count` times: named, with its symbol, no verdict yet.
FeatureResult feature_result(const FeatureKey& key, uint64_t count);

// The probe rule that injects `injection` into the calls that `key` stands for.
ArgRule arg_rule(const FeatureKey& key, Injection injection);

// The path that stands for `path` in exploration and in results: a process id right below
// /proc ("/proc/4242/stat") becomes "[pid]" and a thread id below its (or /proc/self's) task/
// "[tid]", since both change from run to run; any other path is itself. Path rules match by this pattern.
std::string pseudo_file_pattern(std::string_view path);

} // namespace core
