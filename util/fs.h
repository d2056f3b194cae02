#pragma once
// File helpers: whole-file reads, atomic writes, scratch directories.

#include "util/error.h"

#include <filesystem>
#include <string>
#include <string_view>

namespace util {

// Contents of the file at `path`, or an error naming it.
Result<std::string> read_file(const std::filesystem::path& path);

// Writes `data` to `path` atomically: a temporary file in the same directory, fsync, rename.
// A reader sees the old file or the new one, never a half-written one.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view data);

// A directory created under `parent` (the system temp dir by default) with prefix `prefix`,
// removed with its contents on destruction unless `keep()` was called.
class TempDir {
public:
  explicit TempDir(std::string_view prefix = "lupa",
                   const std::filesystem::path& parent = std::filesystem::temp_directory_path());
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&&) = delete;

  // The directory's path.
  const std::filesystem::path& path() const { return m_path; }
  // Leaves the directory in place on destruction.
  void keep() { m_keep = true; }

private:
  std::filesystem::path m_path;
  bool m_keep = false;
};

// True if `path` names a regular file that the caller may execute.
bool is_executable_file(const std::filesystem::path& path);

// Resolves a program name through $PATH like execvp would; empty if not found.
std::filesystem::path find_in_path(std::string_view program);

} // namespace util
