#pragma once
// The `lupa` subcommands. Each lives in its own cli/cmd_<name>.cpp and registers itself with
// LUPA_COMMAND, so adding a command touches no shared list:
//
//   static int run_search(const SearchOptions& o);
//   LUPA_COMMAND(search, [](CLI::App& app) { ... app.callback(...); });

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace cli {

// Adds one subcommand to `app`; the subcommand's callback sets the exit code through
// `set_exit_code`.
using CommandSetup = std::function<void(CLI::App& app)>;

// Records `setup` to be called when main builds the command line.
bool register_command(std::string name, CommandSetup setup);

// Every registered command, sorted by name.
const std::vector<std::pair<std::string, CommandSetup>>& commands();

// The command line lupa was started with (argv[1..]), as main received it.
void set_command_line(std::vector<std::string> args);
const std::vector<std::string>& command_line();

// The exit code main returns after the selected subcommand's callback ran.
void set_exit_code(int code);
int exit_code();

} // namespace cli

#define LUPA_COMMAND(name, ...)                                                                 \
  static const bool lupa_command_registered_##name = ::cli::register_command(#name, __VA_ARGS__)
