#pragma once
// String helpers the standard library lacks.

#include <string>
#include <string_view>
#include <vector>

namespace util {

// `text` split at every `separator`; empty fields are kept.
std::vector<std::string> split(std::string_view text, char separator);

// `text` without leading and trailing whitespace.
std::string_view trim(std::string_view text);

// `parts` joined with `separator` between them.
std::string join(const std::vector<std::string>& parts, std::string_view separator);

// `text` with every character outside [A-Za-z0-9._-] replaced by '_' (safe as a file name).
std::string sanitize_name(std::string_view text);

// `text` quoted for a POSIX shell.
std::string shell_quote(std::string_view text);

} // namespace util
