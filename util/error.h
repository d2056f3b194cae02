#pragma once
// Two error tiers (as in ccache): recoverable failures return `util::Result<T>` and are passed
// up with TRY / TRY_ASSIGN; unrecoverable ones throw `util::Fatal`, caught only in main.

#include <expected>
#include <stdexcept>
#include <string>
#include <string_view>

namespace util {

// An error the user must see; main prints "lupa: error: <what>" and exits non-zero.
class Fatal : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// A recoverable failure carrying one human-readable line.
template <typename T> using Result = std::expected<T, std::string>;

// Shorthand for returning an error from a function returning `Result`.
inline std::unexpected<std::string> error(std::string message) {
  return std::unexpected<std::string>(std::move(message));
}

// `what` followed by ": " and strerror of `err` (errno by default).
std::string system_error_message(std::string_view what, int err = -1);

// A failed system call as a Fatal carrying strerror (bpftrace's SystemError).
class SystemError : public Fatal {
public:
  // `what` describes the operation; `err` is the errno value (errno by default).
  explicit SystemError(std::string_view what, int err = -1);
};

} // namespace util

// Evaluates `expr` (a Result); on error returns the error from the enclosing function.
#define TRY(expr)                                                                               \
  do {                                                                                          \
    auto&& lupa_try_result_ = (expr);                                                           \
    if (!lupa_try_result_) {                                                                    \
      return std::unexpected<std::string>(std::move(lupa_try_result_).error());                 \
    }                                                                                           \
  } while (false)

#define LUPA_CONCAT_(a, b) a##b
#define LUPA_CONCAT(a, b) LUPA_CONCAT_(a, b)
// Declares `var` from the value of `expr` (a Result), or returns its error.
#define TRY_ASSIGN(var, expr) TRY_ASSIGN_IMPL_(var, expr, LUPA_CONCAT(lupa_try_, __LINE__))
#define TRY_ASSIGN_IMPL_(var, expr, tmp)                                                        \
  auto tmp = (expr);                                                                            \
  if (!tmp) {                                                                                   \
    return std::unexpected<std::string>(std::move(tmp).error());                                \
  }                                                                                             \
  var = std::move(*tmp)
