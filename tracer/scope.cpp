#include "tracer/scope.h"

#include <fmt/format.h>

#include <sys/stat.h>
#include <sys/sysmacros.h>

namespace tracer {

util::Result<BinaryId> BinaryId::of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return util::error(util::system_error_message(fmt::format("cannot stat {}", path.string())));
  }
  if (!S_ISREG(st.st_mode)) {
    return util::error(fmt::format("{} is not a regular file", path.string()));
  }
  return BinaryId{static_cast<uint64_t>(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

uint64_t BinaryId::kernel_dev() const {
  return (static_cast<uint64_t>(major(dev)) << 20) | minor(dev);
}

util::Result<void> Scope::validate() const {
  if (!cgroup && roots.empty() && !exec_trigger) {
    return util::error("nothing to trace: give a cgroup, a process or a command");
  }
  for (pid_t pid : roots) {
    if (pid <= 0) {
      return util::error(fmt::format("invalid process id {}", pid));
    }
  }
  if (exec_trigger && exec_trigger->parent <= 0) {
    return util::error(fmt::format("invalid exec trigger process id {}", exec_trigger->parent));
  }
  return {};
}

std::string Scope::describe() const {
  std::vector<std::string> parts;
  if (cgroup) {
    parts.push_back(fmt::format("cgroup {}", cgroup->relative));
  }
  if (!roots.empty()) {
    parts.push_back(
        fmt::format("process tree{} {}", roots.size() > 1 ? "s" : "", fmt::join(roots, ", ")));
  }
  if (exec_trigger) {
    parts.push_back(fmt::format("from the exec{} by process {} or its children",
                                exec_trigger->binary ? " of the given binary" : "",
                                exec_trigger->parent));
  }
  if (only_binary) {
    parts.push_back("counting only the calls of the given binary");
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

} // namespace tracer
