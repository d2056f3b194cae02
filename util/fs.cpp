#include "util/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace util {

Result<std::string> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return error(system_error_message("cannot read " + path.string()));
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return error(system_error_message("error reading " + path.string()));
  }
  return buffer.str();
}

Result<void> write_file_atomic(const fs::path& path, std::string_view data) {
  fs::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return error(system_error_message("cannot create " + tmp.string()));
  }
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      std::string message = system_error_message("cannot write " + tmp.string());
      ::close(fd);
      ::unlink(tmp.c_str());
      return error(message);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string message = system_error_message("cannot flush " + tmp.string());
    ::unlink(tmp.c_str());
    return error(message);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string message = system_error_message("cannot rename to " + path.string());
    ::unlink(tmp.c_str());
    return error(message);
  }
  return {};
}

TempDir::TempDir(std::string_view prefix, const fs::path& parent) {
  std::string pattern = (parent / (std::string(prefix) + ".XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw SystemError("cannot create a temporary directory in " + parent.string());
  }
  m_path = pattern;
}

TempDir::TempDir(TempDir&& other) noexcept : m_path(std::move(other.m_path)), m_keep(other.m_keep) {
  other.m_path.clear();
}

TempDir::~TempDir() {
  if (!m_keep && !m_path.empty()) {
    std::error_code ignored;
    fs::remove_all(m_path, ignored);
  }
}

bool is_executable_file(const fs::path& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

fs::path find_in_path(std::string_view program) {
  if (program.find('/') != std::string_view::npos) {
    return fs::path(program);
  }
  const char* path_env = std::getenv("PATH");
  std::string_view dirs = path_env ? path_env : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string_view::npos) {
      end = dirs.size();
    }
    fs::path candidate = fs::path(dirs.substr(start, end - start)) / program;
    if (is_executable_file(candidate)) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

} // namespace util
