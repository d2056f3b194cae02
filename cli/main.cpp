// lupa: which Linux system calls does this application really need?
// main only builds the command line from the registered subcommands and catches util::Fatal.

#include "cli/command.h"
#include "util/error.h"
#include "util/log.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  CLI::App app{"lupa: which Linux system calls does an application really need, and what does "
               "it do in the kernel?"};
  app.require_subcommand(1);
  int verbosity = 0;
  app.add_flag("-v,--verbose", verbosity, "More detail (repeat for debug output)");
  app.set_version_flag("--version", LUPA_VERSION);
  for (const auto& [name, setup] : cli::commands()) {
    setup(app);
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const util::Fatal& e) {
    util::log::error("{}", e.what());
    return 1;
  } catch (const std::exception& e) {
    util::log::error("{}", e.what());
    return 1;
  }
  return cli::exit_code();
}
