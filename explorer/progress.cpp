#include "explorer/progress.h"

#include "util/log.h"

#include <fmt/format.h>
#include <unistd.h>

namespace explorer {

std::string clock_text(double seconds) {
  auto s = static_cast<long>(seconds + 0.5);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

ProgressDisplay::ProgressDisplay() : m_tty(::isatty(STDERR_FILENO) == 1) {}

ProgressDisplay::~ProgressDisplay() { done(); }

void ProgressDisplay::update(const Progress& p) {
  if (util::log::level() < util::log::Level::normal ||
      util::log::level() >= util::log::Level::verbose) {
    return; // quiet, or verbose already prints every probe
  }
  // The collective check counts runs only (settled/total are about verdict bits).
  std::string line =
      p.total == 0
          ? fmt::format("{} check: {} runs, {} elapsed", p.part, p.runs, clock_text(p.elapsed))
          : fmt::format("exploring {}: {}/{} verdicts, {} runs, {} elapsed{}", p.part, p.settled,
                        p.total, p.runs, clock_text(p.elapsed),
                        p.eta > 0 ? ", ~" + clock_text(p.eta) + " left" : "");
  if (m_tty) {
    std::string doing = p.doing.size() > 40 ? p.doing.substr(0, 37) + "..." : p.doing;
    std::string text = "\rlupa: " + line + (doing.empty() ? "" : " (" + doing + ")") + "\033[K";
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    m_open = true;
  } else if (p.elapsed - m_last >= 10.0) {
    m_last = p.elapsed;
    util::log::info("{}", line);
  }
}

void ProgressDisplay::done() {
  if (m_open) {
    [[maybe_unused]] ssize_t n = ::write(STDERR_FILENO, "\n", 1);
    m_open = false;
  }
}

} // namespace explorer
