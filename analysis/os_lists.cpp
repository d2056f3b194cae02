#include "analysis/os_lists.h"

#include "core/syscalls.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>

namespace analysis {

const std::vector<OsList>& shipped_os_lists() {
  static const std::vector<OsList> lists = [] {
    std::vector<OsList> out = {
#include "os_lists.inc"
    };
    std::sort(out.begin(), out.end(),
              [](const OsList& a, const OsList& b) { return a.name < b.name; });
    return out;
  }();
  return lists;
}

SupportedSet parse_supported(std::string_view text, std::string_view source) {
  SupportedSet set;
  set.source = source;
  size_t line_no = 0;
  for (const std::string& raw : util::split(text, '\n')) {
    ++line_no;
    std::string_view name = util::trim(raw);
    if (name.empty() || name.starts_with('#')) {
      continue;
    }
    if (std::optional<int> nr = core::SyscallTable::get().number(name)) {
      set.numbers.insert(*nr);
    } else {
      set.unknown.push_back(fmt::format("{}:{}: unknown syscall '{}'", source, line_no, name));
    }
  }
  return set;
}

util::Result<SupportedSet> resolve_supported(std::string_view spec) {
  std::error_code ec;
  std::filesystem::path path(spec);
  if (std::filesystem::is_regular_file(path, ec)) {
    TRY_ASSIGN(std::string text, util::read_file(path));
    return parse_supported(text, path.string());
  }
  auto lower = [](std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
  };
  std::vector<std::string> names;
  for (const OsList& os : shipped_os_lists()) {
    if (lower(os.name) == lower(spec)) {
      return parse_supported(os.text, os.name);
    }
    names.emplace_back(os.name);
  }
  return util::error(fmt::format("--supported {}: no such file, and not a shipped OS list ({})",
                                 spec, util::join(names, ", ")));
}

} // namespace analysis
