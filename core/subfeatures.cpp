#include "core/subfeatures.h"

#include "core/syscalls.h"

#include <algorithm>
#include <string>
#include <unordered_map>

namespace core {

namespace {

constexpr uint64_t k_int_mask = 0xffffffff; // an int argument: the upper half is not meaningful
constexpr uint64_t k_sock_type_mask = 0xf;  // SOCK_TYPE_MASK: without SOCK_NONBLOCK/CLOEXEC
constexpr uint64_t k_csignal = 0xff;        // clone: the exit signal, not a flag
constexpr uint64_t k_map_type = 0xf;        // mmap: MAP_SHARED/PRIVATE/SHARED_VALIDATE

struct NamedSpec {
  std::string_view syscall;
  std::vector<FeatureArg> args;
  bool paired = false;
};

// Issue 3's list: ioctl request, fcntl command, prctl option, arch_prctl code, socket domain
// and type, madvise advice, clone flags, mmap/mprotect protection and flags, setsockopt
// level+name, futex op.
const std::vector<NamedSpec>& named_specs() {
  static const std::vector<NamedSpec> specs = {
      {"ioctl", {{1, ArgKind::value, k_int_mask}}},
      {"fcntl", {{1, ArgKind::value, k_int_mask}}},
      {"prctl", {{0, ArgKind::value, k_int_mask}}},
      {"arch_prctl", {{0, ArgKind::value, k_int_mask}}},
      {"socket", {{0, ArgKind::value, k_int_mask}, {1, ArgKind::value, k_sock_type_mask}}},
      {"madvise", {{2, ArgKind::value, k_int_mask}}},
      {"clone", {{0, ArgKind::flag_set, k_int_mask & ~k_csignal}}},
      {"mmap",
       {{2, ArgKind::flag_set, k_int_mask},
        {3, ArgKind::value, k_map_type},
        {3, ArgKind::flag_set, k_int_mask & ~k_map_type}}},
      {"mprotect", {{2, ArgKind::flag_set, k_int_mask}}},
      {"setsockopt", {{1, ArgKind::value, k_int_mask}, {2, ArgKind::value, k_int_mask}}, true},
      {"futex", {{1, ArgKind::value, k_int_mask}}},
  };
  return specs;
}

// The path argument of every syscall that names a file (what Loupe's pseudo-file mode and
// issue 3 list: open, openat, openat2, stat family, access, readlink..., plus exec and the
// other calls that resolve a path).
const std::vector<std::pair<std::string_view, unsigned>>& named_path_args() {
  static const std::vector<std::pair<std::string_view, unsigned>> args = {
      {"open", 0},       {"openat", 1},     {"openat2", 1},           {"creat", 0},
      {"stat", 0},       {"lstat", 0},      {"newfstatat", 1},        {"statx", 1},
      {"access", 0},     {"faccessat", 1},  {"faccessat2", 1},        {"readlink", 0},
      {"readlinkat", 1}, {"execve", 0},     {"execveat", 1},          {"truncate", 0},
      {"chdir", 0},      {"statfs", 0},     {"getxattr", 0},          {"lgetxattr", 0},
      {"listxattr", 0},  {"llistxattr", 0}, {"inotify_add_watch", 1}, {"mknod", 0},
      {"mknodat", 1},    {"chmod", 0},      {"fchmodat", 1},          {"chown", 0},
      {"lchown", 0},     {"fchownat", 1},   {"utimensat", 1},         {"name_to_handle_at", 1},
  };
  return args;
}

} // namespace

const std::vector<SubFeatureSpec>& subfeature_specs() {
  static const std::vector<SubFeatureSpec> specs = [] {
    std::vector<SubFeatureSpec> out;
    for (const NamedSpec& s : named_specs()) {
      if (std::optional<int> nr = SyscallTable::get().number(s.syscall)) {
        out.push_back({*nr, s.args, s.paired});
      }
    }
    std::sort(out.begin(), out.end(),
              [](const SubFeatureSpec& a, const SubFeatureSpec& b) { return a.nr < b.nr; });
    return out;
  }();
  return specs;
}

const SubFeatureSpec* subfeature_spec(int nr) {
  const std::vector<SubFeatureSpec>& specs = subfeature_specs();
  auto it = std::lower_bound(specs.begin(), specs.end(), nr,
                             [](const SubFeatureSpec& s, int n) { return s.nr < n; });
  return it != specs.end() && it->nr == nr ? &*it : nullptr;
}

std::vector<unsigned> subfeature_arg_indices(int nr) {
  std::vector<unsigned> out;
  if (const SubFeatureSpec* spec = subfeature_spec(nr)) {
    for (const FeatureArg& a : spec->args) {
      if (std::find(out.begin(), out.end(), a.arg) == out.end()) {
        out.push_back(a.arg);
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

void add_feature_keys(int nr, const std::array<uint64_t, 6>& args, uint64_t count,
                      std::map<FeatureKey, uint64_t>& out) {
  const SubFeatureSpec* spec = subfeature_spec(nr);
  if (spec == nullptr || count == 0) {
    return;
  }
  if (spec->paired && spec->args.size() == 2) {
    const FeatureArg& a = spec->args[0];
    const FeatureArg& b = spec->args[1];
    FeatureKey key{nr, a.arg, args[a.arg] & a.mask, a.mask};
    key.arg2 = static_cast<int>(b.arg);
    key.value2 = args[b.arg] & b.mask;
    key.mask2 = b.mask;
    out[key] += count;
    return;
  }
  for (const FeatureArg& a : spec->args) {
    uint64_t raw = args[a.arg] & a.mask;
    if (a.kind == ArgKind::value) {
      out[FeatureKey{nr, a.arg, raw, a.mask}] += count;
    } else if (raw == 0) {
      out[FeatureKey{nr, a.arg, 0, a.mask}] += count;
    } else {
      for (uint64_t bits = raw; bits != 0; bits &= bits - 1) {
        uint64_t bit = bits & ~(bits - 1);
        out[FeatureKey{nr, a.arg, bit, bit}] += count;
      }
    }
  }
}

std::optional<unsigned> path_arg_index(int nr) {
  static const std::unordered_map<int, unsigned> by_nr = [] {
    std::unordered_map<int, unsigned> map;
    for (const auto& [name, arg] : named_path_args()) {
      if (std::optional<int> n = SyscallTable::get().number(name)) {
        map.emplace(*n, arg);
      }
    }
    return map;
  }();
  if (auto it = by_nr.find(nr); it != by_nr.end()) {
    return it->second;
  }
  return std::nullopt;
}

std::vector<int> path_syscalls() {
  std::vector<int> out;
  for (const auto& [name, arg] : named_path_args()) {
    if (std::optional<int> n = SyscallTable::get().number(name)) {
      out.push_back(*n);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool exclusive(const FeatureKey& a, const FeatureKey& b) {
  if (a.nr != b.nr) {
    return true;
  }
  // The same bits of one argument compared with different values: at most one can hold.
  auto differs = [](unsigned arg_a, uint64_t mask_a, uint64_t value_a, unsigned arg_b,
                    uint64_t mask_b, uint64_t value_b) {
    return arg_a == arg_b && mask_a == mask_b && value_a != value_b;
  };
  if (differs(a.arg, a.mask, a.value, b.arg, b.mask, b.value)) {
    return true;
  }
  return a.arg2 >= 0 && b.arg2 >= 0 &&
         differs(static_cast<unsigned>(a.arg2), a.mask2, a.value2, static_cast<unsigned>(b.arg2),
                 b.mask2, b.value2);
}

bool is_shared_object_path(std::string_view path) {
  std::string_view name = path.substr(path.rfind('/') + 1);
  size_t at = name.find(".so");
  if (at == 0 || at == std::string_view::npos) {
    return false;
  }
  // "x.so", or "x.so.1.2": a version of digits and dots (not "ld.so.cache").
  std::string_view version = name.substr(at + 3);
  return version.empty() ||
         (version[0] == '.' && std::all_of(version.begin(), version.end(), [](char c) {
            return c == '.' || (c >= '0' && c <= '9');
          }));
}

FeatureResult feature_result(const FeatureKey& key, uint64_t count) {
  FeatureResult f;
  f.nr = key.nr;
  f.syscall = SyscallTable::get().name(key.nr);
  f.arg = key.arg;
  f.value = key.value;
  f.mask = key.mask;
  f.arg2 = key.arg2;
  f.value2 = key.value2;
  f.mask2 = key.mask2;
  f.symbol = feature_symbol(key);
  f.count = count;
  return f;
}

ArgRule arg_rule(const FeatureKey& key, Injection injection) {
  ArgRule rule;
  rule.nr = key.nr;
  rule.arg = key.arg;
  rule.value = key.value;
  rule.mask = key.mask;
  rule.injection = injection;
  rule.arg2 = key.arg2;
  rule.value2 = key.value2;
  rule.mask2 = key.mask2;
  return rule;
}

std::string pseudo_file_pattern(std::string_view path) {
  auto all_digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  // Components after "/proc/": [0] is the pid (or "self"), [1] == "task" makes [2] a tid.
  constexpr std::string_view k_proc = "/proc/";
  if (!path.starts_with(k_proc)) {
    return std::string(path);
  }
  std::string out(k_proc);
  std::string_view rest = path.substr(k_proc.size());
  bool pid = false;
  for (size_t index = 0; !rest.empty() || index == 0; ++index) {
    size_t slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    if (index == 0 && all_digits(part)) {
      out += "[pid]";
      pid = true;
    } else if (index == 0 && part == "self") {
      out += part;
      pid = true;
    } else if (index == 2 && pid && all_digits(part) && out.ends_with("/task/")) {
      out += "[tid]";
    } else {
      out += part;
    }
    if (slash == std::string_view::npos) {
      break;
    }
    out += '/';
    rest = rest.substr(slash + 1);
  }
  return out;
}

bool is_pseudo_file_path(std::string_view path) {
  for (std::string_view root : {"/proc", "/sys", "/dev"}) {
    if (path.starts_with(root) && (path.size() == root.size() || path[root.size()] == '/')) {
      return true;
    }
  }
  return false;
}

} // namespace core
