#include "strace_discovery.h"

#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdlib>

namespace lupa_test {

namespace {

// The arguments between the parenthesis at `open` and its match, split at top-level commas.
std::vector<std::string> split_args(std::string_view line, size_t open) {
  std::vector<std::string> args;
  std::string current;
  int depth = 0;
  bool quoted = false;
  for (size_t i = open + 1; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      current += c;
      if (c == '\\' && i + 1 < line.size()) {
        current += line[++i];
      } else if (c == '"') {
        quoted = false;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == '(' || c == '[' || c == '{') {
      ++depth;
    } else if (c == ']' || c == '}') {
      --depth;
    } else if (c == ')') {
      if (depth == 0) {
        break;
      }
      --depth;
    } else if (c == ',' && depth == 0) {
      args.emplace_back(util::trim(current));
      current.clear();
      continue;
    }
    current += c;
  }
  if (!util::trim(current).empty()) {
    args.emplace_back(util::trim(current));
  }
  return args;
}

// The text of a quoted strace string argument ("..." with C escapes), or nullopt.
std::optional<std::string> unquote(std::string_view arg) {
  if (arg.size() < 2 || arg.front() != '"') {
    return std::nullopt;
  }
  size_t end = arg.rfind('"');
  if (end == 0) {
    return std::nullopt;
  }
  std::string out;
  for (size_t i = 1; i < end; ++i) {
    if (arg[i] == '\\' && i + 1 < end) {
      char e = arg[++i];
      if (e == 'x' && i + 2 < end) {
        out +=
            static_cast<char>(std::strtol(std::string(arg.substr(i + 1, 2)).c_str(), nullptr, 16));
        i += 2;
      } else if (e == 'n') {
        out += '\n';
      } else if (e == 't') {
        out += '\t';
      } else {
        out += e;
      }
    } else {
      out += arg[i];
    }
  }
  return out;
}

std::optional<int> syscall_number(std::string_view name) {
  if (name.starts_with("syscall_0x")) {
    return static_cast<int>(std::strtol(std::string(name.substr(10)).c_str(), nullptr, 16));
  }
  return core::SyscallTable::get().number(name);
}

} // namespace

util::Result<void> parse_strace_process(std::string_view text, core::Discovery& out) {
  for (const std::string& line : util::split(text, '\n')) {
    if (line.empty() || line.starts_with("---") || line.starts_with("+++")) {
      continue;
    }
    size_t open = line.find('(');
    if (open == std::string::npos || open == 0) {
      continue;
    }
    std::string name = line.substr(0, open);
    if (!std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        })) {
      continue;
    }
    std::optional<int> nr = syscall_number(name);
    if (!nr) {
      return util::error(fmt::format("strace names an unknown syscall '{}' in: {}", name, line));
    }
    out.counts[*nr] += 1;
    std::vector<std::string> args = split_args(line, open);
    if (core::subfeature_spec(*nr) != nullptr) {
      std::array<uint64_t, 6> raw{};
      for (size_t i = 0; i < args.size() && i < raw.size(); ++i) {
        raw[i] = std::strtoull(args[i].c_str(), nullptr, 0);
      }
      core::add_feature_keys(*nr, raw, 1, out.features);
    }
    if (std::optional<unsigned> path_arg = core::path_arg_index(*nr);
        path_arg && *path_arg < args.size()) {
      std::optional<std::string> path = unquote(args[*path_arg]);
      if (path && core::is_pseudo_file_path(*path)) {
        core::PathUse& use = out.paths[*path];
        use.count += 1;
        use.syscalls.insert(core::SyscallTable::get().name(*nr));
      }
    }
  }
  return {};
}

util::Result<core::Discovery> strace_discovery(const std::vector<std::string>& argv) {
  std::filesystem::path strace = util::find_in_path("strace");
  if (strace.empty()) {
    return util::error("strace is not installed");
  }
  util::TempDir dir("lupa-strace");
  std::vector<std::string> full = {
      strace.string(),
      "-ff",
      "-qq",
      "-o",
      (dir.path() / "trace").string(),
      "-e",
      "raw=ioctl,fcntl,prctl,arch_prctl,socket,madvise,clone,mmap,mprotect,setsockopt,futex",
      "--"};
  full.insert(full.end(), argv.begin(), argv.end());
  std::vector<char*> args;
  for (std::string& a : full) {
    args.push_back(a.data());
  }
  args.push_back(nullptr);
  pid_t child = ::fork();
  if (child == 0) {
    int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) {
    return util::error(fmt::format("strace {} failed (status {})", util::join(argv, " "), status));
  }
  core::Discovery d;
  d.backend = "strace";
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    TRY_ASSIGN(std::string text, util::read_file(entry.path()));
    TRY(parse_strace_process(text, d));
  }
  return d;
}

std::vector<std::string> syscall_names(const core::Discovery& d) {
  std::vector<std::string> names;
  for (const auto& [nr, count] : d.counts) {
    names.push_back(core::SyscallTable::get().name(nr));
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> set_differences(const core::Discovery& a, const core::Discovery& b) {
  std::vector<std::string> out;
  const core::SyscallTable& table = core::SyscallTable::get();
  auto side = [&](const core::Discovery& x, const core::Discovery& y) {
    for (const auto& [nr, count] : x.counts) {
      if (!y.counts.contains(nr)) {
        out.push_back(
            fmt::format("syscall {} only in {} ({} calls)", table.name(nr), x.backend, count));
      }
    }
    for (const auto& [key, count] : x.features) {
      if (!y.features.contains(key)) {
        out.push_back(fmt::format("feature {} arg{}={:#x}&{:#x} arg2={} {:#x} only in {}",
                                  table.name(key.nr), key.arg, key.value, key.mask, key.arg2,
                                  key.value2, x.backend));
      }
    }
    for (const auto& [path, use] : x.paths) {
      auto it = y.paths.find(path);
      if (it == y.paths.end()) {
        out.push_back(fmt::format("path {} only in {}", path, x.backend));
      } else if (&x == &a && it->second.syscalls != use.syscalls) {
        out.push_back(fmt::format(
            "path {} named by {} in {} but by {} in {}", path,
            util::join({use.syscalls.begin(), use.syscalls.end()}, ","), x.backend,
            util::join({it->second.syscalls.begin(), it->second.syscalls.end()}, ","), y.backend));
      }
    }
  };
  side(a, b);
  side(b, a);
  return out;
}

} // namespace lupa_test
