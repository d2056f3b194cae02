#pragma once
// Progress of a long exploration on stderr, for lupa-explore and `lupa generate`: one line
// rewritten in place on a terminal (what was just tried, verdicts settled out of all, runs,
// elapsed and estimated time left), a line every 10 s otherwise; nothing when quiet, and
// nothing in verbose mode (which logs every probe already).

#include "explorer/strategy.h"

#include <string>

namespace explorer {

// "1:05" for 65 seconds.
std::string clock_text(double seconds);

class ProgressDisplay {
public:
  ProgressDisplay();
  ~ProgressDisplay();
  ProgressDisplay(const ProgressDisplay&) = delete;
  ProgressDisplay& operator=(const ProgressDisplay&) = delete;

  // Shows `progress`.
  void update(const Progress& progress);
  // Ends the line being rewritten, if any.
  void done();

private:
  bool m_tty;
  bool m_open = false;
  double m_last = 0;
};

} // namespace explorer
