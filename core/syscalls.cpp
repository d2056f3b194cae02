#include "core/syscalls.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <seccomp.h>

#include <charconv>
#include <cstdlib>
#include <unordered_map>
#include <utility>

namespace core {

namespace {
struct Entry {
  int nr;
  const char* name;
};
constexpr Entry k_header_table[] = {
#include "syscall_table.inc"
};
} // namespace

SyscallTable::SyscallTable() : m_names(k_max_syscall_nr + 1) {
  for (const Entry& e : k_header_table) {
    if (e.nr >= 0 && e.nr <= k_max_syscall_nr) {
      m_names[e.nr] = e.name;
    }
  }
  // libseccomp may know calls newer than the installed kernel headers.
  for (int nr = 0; nr <= k_max_syscall_nr; ++nr) {
    if (!m_names[nr].empty()) {
      continue;
    }
    char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_X86_64, nr);
    if (name != nullptr) {
      m_names[nr] = name;
      std::free(name);
    }
  }
  for (int nr = 0; nr <= k_max_syscall_nr; ++nr) {
    if (!m_names[nr].empty()) {
      m_numbers.push_back(nr);
      m_max = nr;
    }
  }
}

const SyscallTable& SyscallTable::get() {
  static const SyscallTable table;
  return table;
}

std::string SyscallTable::name(int nr) const {
  if (nr >= 0 && nr <= k_max_syscall_nr && !m_names[nr].empty()) {
    return m_names[nr];
  }
  return "syscall_" + std::to_string(nr);
}

std::optional<int> SyscallTable::number(std::string_view name) const {
  static const std::unordered_map<std::string, int> by_name = [this] {
    std::unordered_map<std::string, int> map;
    for (int nr : m_numbers) {
      map.emplace(m_names[nr], nr);
    }
    return map;
  }();
  if (auto it = by_name.find(std::string(name)); it != by_name.end()) {
    return it->second;
  }
  if (name.starts_with("syscall_")) {
    int nr = -1;
    std::string_view digits = name.substr(8);
    auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), nr);
    if (ec == std::errc() && ptr == digits.data() + digits.size() && nr >= 0 &&
        nr <= k_max_syscall_nr) {
      return nr;
    }
  }
  return std::nullopt;
}

bool SyscallTable::known(int nr) const {
  return nr >= 0 && nr <= k_max_syscall_nr && !m_names[nr].empty();
}

nlohmann::json counts_to_json(const std::map<int, uint64_t>& counts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [nr, count] : counts) {
    out[std::to_string(nr)] = count;
  }
  return out;
}

std::map<int, uint64_t> counts_from_json(const nlohmann::json& j, const char* field) {
  std::map<int, uint64_t> out;
  if (!j.contains(field)) {
    return out;
  }
  for (const auto& [key, count] : j.at(field).items()) {
    int nr = -1;
    auto [ptr, ec] = std::from_chars(key.data(), key.data() + key.size(), nr);
    if (ec != std::errc() || ptr != key.data() + key.size() || nr < 0 || nr > k_max_syscall_nr) {
      throw nlohmann::json::other_error::create(
          501, fmt::format("bad syscall number in {}", field), nullptr);
    }
    out[nr] = count.get<uint64_t>();
  }
  return out;
}

} // namespace core
