#pragma once
// The x86-64 system call table: numbers and names, from the kernel UAPI headers of the build
// machine merged with libseccomp's table, so new calls (clone3, openat2, io_uring_*, ...) are
// known without a hard-coded range.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace core {

// Highest syscall number the explorer will ever track (far above any x86-64 syscall).
inline constexpr int k_max_syscall_nr = 1023;

class SyscallTable {
public:
  // The process-wide table (built once).
  static const SyscallTable& get();

  // Name of syscall `nr`; "syscall_<nr>" when neither source knows it.
  std::string name(int nr) const;
  // Number of the syscall called `name` (also accepts "syscall_<nr>"), if known.
  std::optional<int> number(std::string_view name) const;
  // True if `nr` has a name in the table.
  bool known(int nr) const;
  // Highest known syscall number.
  int max_known() const { return m_max; }
  // All known syscall numbers in ascending order.
  const std::vector<int>& all() const { return m_numbers; }

private:
  SyscallTable();
  std::vector<std::string> m_names; // indexed by number; empty when unknown
  std::vector<int> m_numbers;
  int m_max = -1;
};

// Per-syscall counts as a JSON object keyed by the syscall number ({"0": 12, "257": 3}), as
// discoveries and probe outcomes carry them.
nlohmann::json counts_to_json(const std::map<int, uint64_t>& counts);
// The counts of `j[field]` (empty when absent); throws nlohmann::json::other_error naming
// `field` on a key that is not a syscall number.
std::map<int, uint64_t> counts_from_json(const nlohmann::json& j, const char* field);

} // namespace core
