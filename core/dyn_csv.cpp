#include "core/dyn_csv.h"

#include "core/syscalls.h"
#include "util/strings.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <set>

namespace core {

namespace {

const char* yn(bool value) { return value ? "Y" : "N"; }

std::string hex(uint64_t value) {
  return fmt::format("{:#x}", value);
}

// `text` as one RFC 4180 field.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    out += c;
    if (c == '"') {
      out += '"';
    }
  }
  return out + "\"";
}

util::Result<bool> parse_yn(std::string_view field, std::string_view file, size_t line,
                            const char* column) {
  std::string_view f = util::trim(field);
  if (f == "Y") {
    return true;
  }
  if (f == "N") {
    return false;
  }
  return util::error(
      fmt::format("{}:{}: column '{}' must be Y or N, found '{}'", file, line, column, f));
}

util::Result<int> parse_nr(std::string_view field, std::string_view file, size_t line) {
  std::string_view f = util::trim(field);
  int nr = -1;
  auto [ptr, ec] = std::from_chars(f.data(), f.data() + f.size(), nr);
  if (ec != std::errc() || ptr != f.data() + f.size() || nr < 0 || nr > k_max_syscall_nr) {
    return util::error(
        fmt::format("{}:{}: column 'syscall' must be a syscall number, found '{}'", file, line, f));
  }
  return nr;
}

// Calls `row(fields, line_number)` for each non-empty, non-comment line.
template <typename F> util::Result<void> for_each_row(std::string_view text, F&& row) {
  size_t line_no = 0;
  for (const std::string& raw : util::split(text, '\n')) {
    ++line_no;
    std::string_view line = util::trim(raw);
    if (line.empty() || line.starts_with('#')) {
      continue;
    }
    TRY(row(util::split(line, ','), line_no));
  }
  return {};
}

} // namespace

std::vector<DynRow> dyn_rows(const ExploreResult& result) {
  int max_nr = SyscallTable::get().max_known();
  for (const SyscallResult& s : result.syscalls) {
    max_nr = std::max(max_nr, s.nr);
  }
  std::vector<DynRow> rows(static_cast<size_t>(max_nr) + 1);
  for (int nr = 0; nr <= max_nr; ++nr) {
    rows[nr].nr = nr;
  }
  for (const SyscallResult& s : result.syscalls) {
    DynRow& row = rows[s.nr];
    row.used = true;
    row.can_stub = s.stub.merged() == Verdict::works;
    row.can_fake = s.fake.merged() == Verdict::works;
  }
  return rows;
}

std::string write_dyn_csv(const std::vector<DynRow>& rows) {
  std::string out = "# syscall, used, works faked, works stubbed, works both\n";
  for (const DynRow& r : rows) {
    bool both = r.can_fake && r.can_stub;
    out += fmt::format("{},{},{},{},{}\n", r.nr, yn(r.used), yn(r.can_fake && !both),
                       yn(r.can_stub && !both), yn(both));
  }
  return out;
}

util::Result<DynTable> parse_dyn_csv(std::string_view text, std::string_view file) {
  DynTable table;
  if (!util::trim(text).starts_with('#')) {
    table.warnings.push_back(fmt::format("{}:1: no header line", file));
  }
  TRY(for_each_row(text, [&](const std::vector<std::string>& f, size_t line) -> util::Result<void> {
    if (f.size() != 5) {
      return util::error(fmt::format("{}:{}: expected 5 columns (syscall, used, works faked, "
                                     "works stubbed, works both), found {}",
                                     file, line, f.size()));
    }
    DynRow row;
    TRY_ASSIGN(row.nr, parse_nr(f[0], file, line));
    TRY_ASSIGN(row.used, parse_yn(f[1], file, line, "used"));
    TRY_ASSIGN(bool faked, parse_yn(f[2], file, line, "works faked"));
    TRY_ASSIGN(bool stubbed, parse_yn(f[3], file, line, "works stubbed"));
    TRY_ASSIGN(bool both, parse_yn(f[4], file, line, "works both"));
    row.can_fake = faked || both;
    row.can_stub = stubbed || both;
    if (int(faked) + int(stubbed) + int(both) > 1) {
      table.warnings.push_back(fmt::format("{}:{}: non-exclusive flag columns", file, line));
    }
    if (!row.used && (row.can_fake || row.can_stub)) {
      table.warnings.push_back(fmt::format("{}:{}: used=N but a works flag is Y", file, line));
    }
    if (!table.rows.empty() && row.nr <= table.rows.back().nr) {
      return util::error(fmt::format("{}:{}: syscall {} is out of order or repeated", file, line,
                                     row.nr));
    }
    table.rows.push_back(row);
    return {};
  }));
  if (table.rows.empty()) {
    return util::error(fmt::format("{}: no rows", file));
  }
  return table;
}

std::string write_static_csv(const std::vector<int>& used) {
  int max_nr = SyscallTable::get().max_known();
  for (int nr : used) {
    max_nr = std::max(max_nr, nr);
  }
  std::vector<bool> is_used(static_cast<size_t>(max_nr) + 1);
  for (int nr : used) {
    if (nr >= 0) {
      is_used[nr] = true;
    }
  }
  std::string out = "# syscall, used\n";
  for (int nr = 0; nr <= max_nr; ++nr) {
    out += fmt::format("{},{}\n", nr, yn(is_used[nr]));
  }
  return out;
}

util::Result<std::vector<int>> parse_static_csv(std::string_view text, std::string_view file) {
  std::vector<int> used;
  bool any_row = false;
  TRY(for_each_row(text, [&](const std::vector<std::string>& f, size_t line) -> util::Result<void> {
    if (f.size() != 2) {
      return util::error(fmt::format("{}:{}: expected 2 columns (syscall, used), found {}", file,
                                     line, f.size()));
    }
    TRY_ASSIGN(int nr, parse_nr(f[0], file, line));
    TRY_ASSIGN(bool is_used, parse_yn(f[1], file, line, "used"));
    any_row = true;
    if (is_used) {
      used.push_back(nr);
    }
    return {};
  }));
  if (!any_row) {
    return util::error(fmt::format("{}: no rows", file));
  }
  return used;
}

std::string write_features_csv(const std::vector<FeatureResult>& features) {
  std::string out =
      "# syscall, name, arg, value, mask, symbol, count, stub, fake, arg2, value2, mask2\n";
  for (const FeatureResult& f : features) {
    std::string second =
        f.arg2 < 0 ? ",," : fmt::format("{},{},{}", f.arg2, hex(f.value2), hex(f.mask2));
    out += fmt::format("{},{},{},{},{},{},{},{},{},{}\n", f.nr, csv_field(f.syscall), f.arg,
                       hex(f.value), hex(f.mask), csv_field(f.symbol), f.count,
                       to_string(f.stub.merged()), to_string(f.fake.merged()), second);
  }
  return out;
}

std::string write_pseudo_files_csv(const std::vector<PathResult>& paths) {
  std::string out = "# path, count, syscalls, enoent, empty\n";
  for (const PathResult& p : paths) {
    out += fmt::format("{},{},{},{},{}\n", csv_field(p.path), p.count,
                       csv_field(util::join(p.syscalls, ";")), to_string(p.enoent.merged()),
                       to_string(p.empty.merged()));
  }
  return out;
}

std::string write_coverage_csv(const ExploreResult& result) {
  std::set<int> statically;
  if (result.static_syscalls) {
    statically.insert(result.static_syscalls->begin(), result.static_syscalls->end());
  }
  std::vector<int> required = result.required();
  std::set<int> all = statically;
  for (const SyscallResult& s : result.syscalls) {
    all.insert(s.nr);
  }
  std::string out = "# syscall, name, static, used, required\n";
  for (int nr : all) {
    bool used = result.find(nr) != nullptr;
    bool needed = std::find(required.begin(), required.end(), nr) != required.end();
    out += fmt::format("{},{},{},{},{}\n", nr, SyscallTable::get().name(nr),
                       yn(statically.contains(nr)), yn(used), yn(needed));
  }
  return out;
}

} // namespace core
