#pragma once
// Loupe's per-run CSV files, written exactly and read tolerantly.
//
// dyn.csv:           `# syscall, used, works faked, works stubbed, works both`, one row per
//                    syscall number, Y/N; the three flag columns are mutually exclusive when
//                    written (faked-only, stubbed-only, both).
// static_binary.csv: `# syscall, used`.
//
// lupa's own files beside them, one row per explored item, verdicts as merged words (works,
// fails, unstable, untested), text fields quoted as in RFC 4180:
// features.csv:      `# syscall, name, arg, value, mask, symbol, count, stub, fake, arg2, value2,
//                    mask2`: syscall number and name, the 0-based argument, value and mask in
//                    hex (mask 0x0: compared whole), the symbolic name or empty, calls seen; the
//                    last three are empty unless a second argument selects the feature too
//                    (setsockopt: level in arg/value, option name in arg2/value2).
// pseudo_files.csv:  `# path, count, syscalls, enoent, empty`: the path (pid components as
//                    [pid]/[tid]), calls seen, the calls naming it separated by ';', and whether
//                    the app works with the path missing (ENOENT) and with it an empty file.
// coverage.csv:      `# syscall, name, static, used, required`, Y/N, one row per syscall that
//                    static analysis found or the app used: static is a superset of used,
//                    used of required; static=Y used=N is a call the workload never exercised.
//
// The reader accepts the drift found in the published database (../shared/loupedb-2023/
// SOURCE.md): a missing header, a missing final newline, 336 rows, non-exclusive flags, and
// used=N rows with flags set. It reads can_fake = col2 || col4, can_stub = col3 || col4.

#include "core/result.h"
#include "util/error.h"

#include <string>
#include <string_view>
#include <vector>

namespace core {

// One dyn.csv row, in meaning rather than in columns.
struct DynRow {
  int nr = -1;
  bool used = false;
  bool can_fake = false; // the app works with the call returning 0
  bool can_stub = false; // the app works with the call returning -ENOSYS

  bool operator==(const DynRow&) const = default;
};

// A parsed dyn.csv plus what it had to tolerate.
struct DynTable {
  std::vector<DynRow> rows;          // ascending by nr, as in the file
  std::vector<std::string> warnings; // tolerated anomalies, each naming the line
};

// The dyn.csv rows of `result`: one per number from 0 to max(highest known syscall, highest
// used). Unstable and untested verdicts count as "does not work" in the CSV (results.json
// lists them).
std::vector<DynRow> dyn_rows(const ExploreResult& result);

// dyn.csv text for `rows`, exclusive flag columns, with header.
std::string write_dyn_csv(const std::vector<DynRow>& rows);

// Parses dyn.csv `text`; `file` names it in errors ("<file>:<line>: ...").
util::Result<DynTable> parse_dyn_csv(std::string_view text, std::string_view file);

// static_binary.csv text: one row per number from 0 to max(highest known, highest in `used`).
std::string write_static_csv(const std::vector<int>& used);

// The syscall numbers marked used in static_binary.csv `text`; `file` names it in errors.
util::Result<std::vector<int>> parse_static_csv(std::string_view text, std::string_view file);

// features.csv text for `features` (see above).
std::string write_features_csv(const std::vector<FeatureResult>& features);

// pseudo_files.csv text for `paths` (see above).
std::string write_pseudo_files_csv(const std::vector<PathResult>& paths);

// coverage.csv text for `result` (see above); its static set must be known.
std::string write_coverage_csv(const ExploreResult& result);

} // namespace core
