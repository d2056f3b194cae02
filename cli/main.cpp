// lupa: which Linux system calls does this application really need?
// main only builds the command line from the registered subcommands and catches util::Fatal.

#include "cli/command.h"
#include "util/error.h"
#include "util/log.h"

#include <cstdio>
#include <exception>
#include <string_view>

int main(int argc, char** argv) {
  CLI::App app{"lupa: which Linux system calls does an application really need, and what does "
               "it do in the kernel?"};
  app.require_subcommand(1);
  app.fallthrough(); // `lupa generate -v ...` as well as `lupa -v generate ...`
  app.add_flag_function(
      "-v,--verbose",
      [](int64_t count) {
        util::log::set_level(count >= 2 ? util::log::Level::debug : util::log::Level::verbose);
      },
      "More detail (repeat for debug output)");
  app.add_flag_function(
      "-q,--quiet", [](int64_t) { util::log::set_level(util::log::Level::quiet); },
      "Only errors");
  app.set_version_flag("--version", LUPA_VERSION);
  for (const auto& [name, setup] : cli::commands()) {
    setup(app);
  }
  cli::set_command_line(std::vector<std::string>(argv + 1, argv + argc));
  // Loupe spells the database option `-db` (one dash); CLI11 wants `--db`.
  static char k_long_db[] = "--db";
  for (int i = 1; i < argc; ++i) {
    if (std::string_view(argv[i]) == "-db") {
      argv[i] = k_long_db;
    }
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
