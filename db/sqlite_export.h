#pragma once
// `lupa export sqlite OUT.db`: the whole database as one SQLite file, queryable with the
// `sqlite3` command line. The schema (k_sqlite_schema) and example queries are documented in
// db/README.md. The file is written under a temporary name beside OUT and renamed when
// complete: a failed export leaves nothing (and an existing OUT untouched).

#include "db/database.h"
#include "util/error.h"

#include <filesystem>
#include <string>

namespace db {

// The schema version written to meta.schema_version.
inline constexpr int k_sqlite_schema_version = 1;

// The SQL that creates the schema's tables and view.
extern const char* const k_sqlite_schema;
// The SQL that creates its indexes (run after the rows are inserted).
extern const char* const k_sqlite_indexes;

// What an export wrote.
struct ExportReport {
  size_t apps = 0;
  size_t runs = 0;
  size_t verdicts = 0;       // rows of table verdicts
  size_t static_rows = 0;    // rows of table static_syscalls
  uint64_t bytes = 0;        // size of the SQLite file
};

// Writes every run of `database` into a new SQLite file at `out` (replacing it atomically).
util::Result<ExportReport> export_sqlite(const Database& database, const std::filesystem::path& out);

} // namespace db
