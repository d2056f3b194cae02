#pragma once
// OS support lists: the syscalls an OS already implements. The 11 lists of the published Loupe
// database ship inside lupa (analysis/os/); any newline-separated file of names works too.

#include "util/error.h"

#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace analysis {

// A shipped list: its OS name ("Unikraft") and text.
struct OsList {
  std::string_view name;
  std::string_view text;
};

// The lists shipped with lupa, sorted by name.
const std::vector<OsList>& shipped_os_lists();

// A parsed support list.
struct SupportedSet {
  std::string source;               // the OS name or the file it came from
  std::set<int> numbers;            // syscall numbers
  std::vector<std::string> unknown; // "<source>:<line>: unknown syscall 'x'" (kept aside)
};

// Parses `text` (one name per line; blank lines and '#' comments ignored); `source` names it.
SupportedSet parse_supported(std::string_view text, std::string_view source);

// The support list `spec` names: an existing file, else a shipped OS name (case-insensitive).
// Fails with one line listing the shipped names when it is neither.
util::Result<SupportedSet> resolve_supported(std::string_view spec);

} // namespace analysis
