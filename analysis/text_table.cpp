#include "analysis/text_table.h"

#include "core/syscalls.h"

#include <algorithm>

namespace analysis {

TextTable::TextTable(std::vector<std::string> headers, std::vector<Align> aligns)
    : m_headers(std::move(headers)), m_aligns(std::move(aligns)) {
  m_aligns.resize(m_headers.size(), Align::left);
}

void TextTable::add_row(std::vector<std::string> cells) {
  cells.resize(m_headers.size());
  m_rows.push_back(std::move(cells));
}

std::string TextTable::render() const {
  std::vector<size_t> widths(m_headers.size());
  for (size_t c = 0; c < m_headers.size(); ++c) {
    widths[c] = m_headers[c].size();
    for (const std::vector<std::string>& row : m_rows) {
      widths[c] = std::max(widths[c], row[c].size());
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t c = 0; c < cells.size(); ++c) {
      bool last = c + 1 == cells.size();
      std::string pad(widths[c] - cells[c].size(), ' ');
      if (m_aligns[c] == Align::right) {
        out += pad + cells[c];
      } else {
        out += cells[c] + (last ? "" : pad);
      }
      if (!last) {
        out += "  ";
      }
    }
    return out + "\n";
  };
  std::string out = line(m_headers);
  std::vector<std::string> rule;
  for (size_t w : widths) {
    rule.emplace_back(w, '-');
  }
  out += line(rule);
  for (const std::vector<std::string>& row : m_rows) {
    out += line(row);
  }
  return out;
}

std::string name_list(const std::vector<int>& numbers) {
  if (numbers.empty()) {
    return "-";
  }
  std::string out;
  for (int nr : numbers) {
    if (!out.empty()) {
      out += ", ";
    }
    out += core::SyscallTable::get().name(nr);
  }
  return out;
}

} // namespace analysis
