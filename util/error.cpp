#include "util/error.h"

#include <cerrno>
#include <cstring>

namespace util {

std::string system_error_message(std::string_view what, int err) {
  if (err < 0) {
    err = errno;
  }
  std::string message(what);
  message += ": ";
  message += std::strerror(err);
  return message;
}

SystemError::SystemError(std::string_view what, int err)
    : Fatal(system_error_message(what, err)) {}

} // namespace util
