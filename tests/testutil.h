#pragma once
// Helpers shared by the test suites.

#include <cstdlib>
#include <filesystem>
#include <string>

namespace lupa_test {

// The published Loupe database beside the project (../shared/loupedb-2023), or empty when it is
// absent (tests then GTEST_SKIP with the reason). LUPA_LOUPEDB overrides the location.
inline std::filesystem::path loupedb_path() {
  if (const char* env = std::getenv("LUPA_LOUPEDB")) {
    return env;
  }
  std::filesystem::path p = std::filesystem::path(LUPA_SOURCE_DIR) / ".." / "shared" / "loupedb-2023";
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) {
    return std::filesystem::canonical(p);
  }
  return {};
}

inline const char* k_no_loupedb =
    "../shared/loupedb-2023 is absent (set LUPA_LOUPEDB to its location to run this test)";

} // namespace lupa_test
