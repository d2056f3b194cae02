// `lupa syscalls [NAME|NR...]`: the x86-64 syscall table lupa uses (kernel headers merged
// with libseccomp), or the entries asked for.

#include "cli/command.h"
#include "core/syscalls.h"
#include "util/error.h"

#include <fmt/format.h>

#include <charconv>

namespace {

void print_entry(int nr) { fmt::print("{}\t{}\n", nr, core::SyscallTable::get().name(nr)); }

void run(const std::vector<std::string>& wanted) {
  const core::SyscallTable& table = core::SyscallTable::get();
  if (wanted.empty()) {
    for (int nr : table.all()) {
      print_entry(nr);
    }
    return;
  }
  for (const std::string& w : wanted) {
    int nr = -1;
    auto [ptr, ec] = std::from_chars(w.data(), w.data() + w.size(), nr);
    if (ec == std::errc() && ptr == w.data() + w.size() && table.known(nr)) {
      print_entry(nr);
    } else if (std::optional<int> found = table.number(w)) {
      print_entry(*found);
    } else {
      throw util::Fatal(fmt::format("'{}' is not an x86-64 syscall name or number", w));
    }
  }
}

} // namespace

LUPA_COMMAND(syscalls, [](CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("syscalls", "Print the x86-64 syscall table lupa uses");
  auto wanted = std::make_shared<std::vector<std::string>>();
  cmd->add_option("names", *wanted, "Syscall names or numbers to look up");
  cmd->callback([wanted] { run(*wanted); });
});
