#include "util/log.h"

#include <unistd.h>

#include <atomic>
#include <string>

namespace util::log {

namespace {
std::atomic<Level> g_level{Level::normal};
}

void set_level(Level level) { g_level = level; }

Level level() { return g_level; }

void write(Level at, std::string_view prefix, std::string_view message) {
  if (g_level < at) {
    return;
  }
  // One write(2) per line so lines from several processes do not interleave.
  std::string line = "lupa: ";
  line += prefix;
  line += message;
  line += '\n';
  [[maybe_unused]] ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
}

} // namespace util::log
