#include "cli/command.h"

#include <algorithm>

namespace cli {

namespace {
std::vector<std::pair<std::string, CommandSetup>>& registry() {
  static std::vector<std::pair<std::string, CommandSetup>> commands;
  return commands;
}
int g_exit_code = 0;
std::vector<std::string> g_command_line;
} // namespace

void set_command_line(std::vector<std::string> args) { g_command_line = std::move(args); }

const std::vector<std::string>& command_line() { return g_command_line; }

bool register_command(std::string name, CommandSetup setup) {
  registry().emplace_back(std::move(name), std::move(setup));
  return true;
}

const std::vector<std::pair<std::string, CommandSetup>>& commands() {
  std::sort(registry().begin(), registry().end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return registry();
}

void set_exit_code(int code) { g_exit_code = code; }

int exit_code() { return g_exit_code; }

} // namespace cli
