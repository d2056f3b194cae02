#pragma once
// Plain-text tables with aligned columns, for terminal output.

#include <string>
#include <vector>

namespace analysis {

enum class Align { left, right };

class TextTable {
public:
  // A table whose columns are titled `headers`, aligned as `aligns` (left when missing).
  explicit TextTable(std::vector<std::string> headers, std::vector<Align> aligns = {});

  // Appends one row of `cells` (missing cells are empty).
  void add_row(std::vector<std::string> cells);
  // The table, one line per row, columns separated by two spaces, a rule under the header.
  std::string render() const;

private:
  std::vector<std::string> m_headers;
  std::vector<Align> m_aligns;
  std::vector<std::vector<std::string>> m_rows;
};

// The syscall names of `numbers`, joined with ", " ("-" when empty).
std::string name_list(const std::vector<int>& numbers);

} // namespace analysis
