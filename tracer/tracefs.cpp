#include "tracer/tracefs.h"

#include "util/log.h"

#include <fmt/format.h>

#include <sys/mount.h>

namespace tracer {

namespace {
constexpr const char* k_tracefs = "/sys/kernel/tracing";
constexpr const char* k_debugfs_tracing = "/sys/kernel/debug/tracing";

bool has_events(const std::filesystem::path& dir) {
  std::error_code ec;
  return std::filesystem::is_directory(dir / "events", ec);
}
} // namespace

util::Result<std::filesystem::path> ensure_tracefs() {
  if (has_events(k_tracefs)) {
    return std::filesystem::path(k_tracefs);
  }
  if (has_events(k_debugfs_tracing)) {
    return std::filesystem::path(k_debugfs_tracing);
  }
  if (::mount("nodev", k_tracefs, "tracefs", 0, nullptr) != 0) {
    return util::error(util::system_error_message(
        fmt::format("cannot mount tracefs at {} (needs CAP_SYS_ADMIN); HINT: run "
                    "`mount -t tracefs nodev {}` as root",
                    k_tracefs, k_tracefs)));
  }
  util::log::verbose("mounted tracefs at {}", k_tracefs);
  if (!has_events(k_tracefs)) {
    return util::error(fmt::format("tracefs mounted at {} has no events/ directory", k_tracefs));
  }
  return std::filesystem::path(k_tracefs);
}

} // namespace tracer
