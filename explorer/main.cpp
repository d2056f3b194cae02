// lupa-explore: the statically linked explorer (copied into app containers by the runner).
// main only parses the command line and runs the session; errors end in one line.

#include "explorer/cancel.h"
#include "explorer/options.h"
#include "explorer/session.h"
#include "util/error.h"
#include "util/log.h"

#include <exception>

int main(int argc, char** argv) {
  explorer::Options options;
  if (std::optional<int> exit_code = explorer::parse_command_line(argc, argv, options)) {
    return *exit_code;
  }
  explorer::install_cancel_handlers();
  try {
    return explorer::run_session(options);
  } catch (const util::Fatal& e) {
    util::log::error("{}", e.what());
    return explorer::cancel_requested() ? 130 : 1;
  } catch (const std::exception& e) {
    util::log::error("{}", e.what());
    return 1;
  }
}
