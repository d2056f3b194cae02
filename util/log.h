#pragma once
// Messages to the user on stderr, prefixed "lupa: ", filtered by a global verbosity.

#include <fmt/format.h>

#include <string_view>

namespace util::log {

enum class Level { quiet = 0, normal = 1, verbose = 2, debug = 3 };

// Sets the global verbosity to `level`.
void set_level(Level level);
// The current global verbosity.
Level level();
// Writes `message` as one line if the verbosity is at least `at`.
void write(Level at, std::string_view prefix, std::string_view message);

// Progress and results a user wants by default.
template <typename... Args> void info(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::normal, "", fmt::format(f, std::forward<Args>(args)...));
}
// Detail shown with -v.
template <typename... Args> void verbose(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::verbose) {
    write(Level::verbose, "", fmt::format(f, std::forward<Args>(args)...));
  }
}
// Detail shown with -vv.
template <typename... Args> void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::debug) {
    write(Level::debug, "debug: ", fmt::format(f, std::forward<Args>(args)...));
  }
}
// Something the user should know even when quiet is not requested.
template <typename... Args> void warn(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::normal, "warning: ", fmt::format(f, std::forward<Args>(args)...));
}
// A failure, printed at every verbosity.
template <typename... Args> void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::quiet, "error: ", fmt::format(f, std::forward<Args>(args)...));
}

} // namespace util::log
