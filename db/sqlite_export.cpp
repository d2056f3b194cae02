#include "db/sqlite_export.h"

#include "core/syscalls.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <algorithm>
#include <map>

namespace fs = std::filesystem;

namespace db {

const char* const k_sqlite_schema = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE apps (
  id   INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE workloads (
  id     INTEGER PRIMARY KEY,
  app_id INTEGER NOT NULL REFERENCES apps(id),
  kind   TEXT NOT NULL CHECK (kind IN ('benchmark', 'suite')),
  name   TEXT NOT NULL,
  dir    TEXT NOT NULL,
  UNIQUE (app_id, dir)
);
CREATE TABLE runs (
  id                INTEGER PRIMARY KEY,
  workload_id       INTEGER NOT NULL REFERENCES workloads(id),
  run_id            TEXT NOT NULL,
  path              TEXT NOT NULL UNIQUE,
  format            TEXT NOT NULL CHECK (format IN ('loupe', 'lupa')),
  is_latest         INTEGER NOT NULL,
  commit_id         TEXT,
  commit_time       INTEGER,
  history_rank      INTEGER,
  cmd               TEXT,
  used_count        INTEGER NOT NULL,
  required_count    INTEGER NOT NULL,
  stub_only_count   INTEGER NOT NULL,
  fake_only_count   INTEGER NOT NULL,
  both_count        INTEGER NOT NULL,
  unstable_count    INTEGER NOT NULL,
  lupa_version      TEXT,
  date              TEXT,
  kernel_release    TEXT,
  kernel_version    TEXT,
  machine           TEXT,
  engine            TEXT,
  engine_version    TEXT,
  base_image        TEXT,
  base_image_digest TEXT,
  app_image         TEXT,
  app_image_digest  TEXT,
  dockerfile        TEXT,
  dockerfile_hash   TEXT,
  recipe            TEXT,
  recipe_hash       TEXT,
  test_script       TEXT,
  test_script_hash  TEXT,
  replicas          INTEGER,
  strategy          TEXT,
  discovery         TEXT,
  binary            TEXT,
  timings_json      TEXT,
  provenance_json   TEXT
);
CREATE TABLE syscalls (
  number INTEGER PRIMARY KEY,
  name   TEXT NOT NULL
);
CREATE TABLE verdicts (
  run      INTEGER NOT NULL REFERENCES runs(id),
  syscall  INTEGER NOT NULL REFERENCES syscalls(number),
  used     INTEGER NOT NULL,
  can_stub INTEGER NOT NULL,
  can_fake INTEGER NOT NULL,
  class    TEXT NOT NULL CHECK (class IN ('required', 'stub-only', 'fake-only', 'both', 'unstable', 'unused')),
  stub     TEXT,
  fake     TEXT,
  count    INTEGER,
  PRIMARY KEY (run, syscall)
) WITHOUT ROWID;
CREATE TABLE static_syscalls (
  run     INTEGER NOT NULL REFERENCES runs(id),
  source  TEXT NOT NULL CHECK (source IN ('binary', 'sources')),
  syscall INTEGER NOT NULL REFERENCES syscalls(number),
  PRIMARY KEY (run, source, syscall)
) WITHOUT ROWID;
CREATE TABLE features (
  run     INTEGER NOT NULL REFERENCES runs(id),
  syscall INTEGER NOT NULL REFERENCES syscalls(number),
  arg     INTEGER NOT NULL,
  value   INTEGER NOT NULL,
  mask    INTEGER NOT NULL,
  symbol  TEXT,
  count   INTEGER NOT NULL,
  stub    TEXT NOT NULL,
  fake    TEXT NOT NULL,
  arg2    INTEGER,
  value2  INTEGER,
  mask2   INTEGER
);
CREATE TABLE pseudo_files (
  run      INTEGER NOT NULL REFERENCES runs(id),
  path     TEXT NOT NULL,
  count    INTEGER NOT NULL,
  syscalls TEXT NOT NULL,
  enoent   TEXT NOT NULL,
  empty    TEXT NOT NULL
);
CREATE TABLE os_lists (
  os      TEXT NOT NULL,
  syscall INTEGER NOT NULL REFERENCES syscalls(number),
  PRIMARY KEY (os, syscall)
) WITHOUT ROWID;
CREATE TABLE os_list_unknown (
  os   TEXT NOT NULL,
  name TEXT NOT NULL
);
CREATE VIEW latest_verdicts AS
  SELECT a.name AS app, w.kind AS kind, w.name AS workload, r.path AS run,
         v.syscall AS syscall, s.name AS syscall_name, v.class AS class,
         v.can_stub AS can_stub, v.can_fake AS can_fake
  FROM verdicts v
  JOIN runs r ON r.id = v.run
  JOIN workloads w ON w.id = r.workload_id
  JOIN apps a ON a.id = w.app_id
  JOIN syscalls s ON s.number = v.syscall
  WHERE r.is_latest = 1 AND v.used = 1;
)sql";

// Created after the rows are in (one sort instead of a B-tree insert per row).
const char* const k_sqlite_indexes = R"sql(
CREATE INDEX verdicts_by_syscall ON verdicts(syscall, class);
CREATE INDEX runs_by_workload ON runs(workload_id, is_latest);
)sql";

namespace {

// Removes the temporary file unless the export completed.
class TempFileGuard {
public:
  explicit TempFileGuard(fs::path path) : m_path(std::move(path)) {}
  ~TempFileGuard() {
    if (!m_done) {
      std::error_code ec;
      fs::remove(m_path, ec);
      fs::remove(fs::path(m_path.string() + "-journal"), ec);
    }
  }
  void done() { m_done = true; }

private:
  fs::path m_path;
  bool m_done = false;
};

void bind_text(SQLite::Statement& st, int index, const std::string& value) {
  if (value.empty()) {
    st.bind(index);
  } else {
    st.bind(index, value);
  }
}

void bind_optional(SQLite::Statement& st, int index, const std::optional<FileHash>& file, bool hash) {
  if (!file) {
    st.bind(index);
  } else {
    st.bind(index, hash ? file->hash : file->name);
  }
}

class Exporter {
public:
  Exporter(const Database& database, SQLite::Database& sql)
      : m_database(database), m_sql(sql), m_app(sql, "INSERT INTO apps (name) VALUES (?)"),
        m_workload(sql, "INSERT INTO workloads (app_id, kind, name, dir) VALUES (?, ?, ?, ?)"),
        m_run(sql,
              "INSERT INTO runs VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
              "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        m_verdict(sql, "INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        m_static(sql, "INSERT OR IGNORE INTO static_syscalls VALUES (?, ?, ?)"),
        m_feature(sql, "INSERT INTO features VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        m_pseudo(sql, "INSERT INTO pseudo_files VALUES (?, ?, ?, ?, ?, ?)") {}

  util::Result<void> run_all(ExportReport& report) {
    for (const RunInfo& info : m_database.runs()) {
      TRY_ASSIGN(RunData data, m_database.load(info));
      add_run(info, data, report);
    }
    return {};
  }

  int max_syscall() const { return m_max_nr; }

private:
  int64_t app_id(const std::string& name) {
    auto it = m_apps.find(name);
    if (it != m_apps.end()) {
      return it->second;
    }
    m_app.bind(1, name);
    m_app.exec();
    m_app.reset();
    return m_apps[name] = m_sql.getLastInsertRowid();
  }

  int64_t workload_id(const RunRef& ref) {
    std::string key = ref.app + "/" + ref.workload.dir_name();
    auto it = m_workloads.find(key);
    if (it != m_workloads.end()) {
      return it->second;
    }
    int64_t app = app_id(ref.app);
    m_workload.bind(1, app);
    m_workload.bind(2, to_string(ref.workload.kind));
    m_workload.bind(3, ref.workload.name);
    m_workload.bind(4, ref.workload.dir_name());
    m_workload.exec();
    m_workload.reset();
    return m_workloads[key] = m_sql.getLastInsertRowid();
  }

  void add_run(const RunInfo& info, const RunData& data, ExportReport& report) {
    VerdictSummary summary = summarize(data);
    const Provenance* p = data.provenance ? &*data.provenance : nullptr;
    const core::ExploreResult* r = data.result ? &*data.result : nullptr;
    SQLite::Statement& st = m_run;
    int i = 0;
    st.bind(++i, workload_id(info.ref));
    st.bind(++i, info.ref.run_id);
    st.bind(++i, info.key());
    st.bind(++i, to_string(data.format));
    st.bind(++i, info.latest ? 1 : 0);
    bind_text(st, ++i, info.commit);
    if (info.commit.empty()) {
      st.bind(++i);
      st.bind(++i);
    } else {
      st.bind(++i, info.commit_time);
      st.bind(++i, static_cast<int64_t>(info.history_rank));
    }
    bind_text(st, ++i, data.cmd.value_or(""));
    for (size_t count : {summary.used, summary.required, summary.stub_only, summary.fake_only,
                         summary.both, summary.unstable}) {
      st.bind(++i, static_cast<int64_t>(count));
    }
    if (p) {
      for (const std::string* s : {&p->lupa_version, &p->date, &p->kernel_release, &p->kernel_version,
                                   &p->machine, &p->engine, &p->engine_version, &p->base_image,
                                   &p->base_image_digest, &p->app_image, &p->app_image_digest,
                                   &p->dockerfile.name, &p->dockerfile.hash}) {
        bind_text(st, ++i, *s);
      }
      bind_optional(st, ++i, p->recipe, false);
      bind_optional(st, ++i, p->recipe, true);
      bind_optional(st, ++i, p->test_script, false);
      bind_optional(st, ++i, p->test_script, true);
      st.bind(++i, p->replicas);
      bind_text(st, ++i, p->strategy);
      bind_text(st, ++i, r ? r->discovery : "");
      bind_text(st, ++i, r ? r->binary : "");
      st.bind(++i, nlohmann::json(p->timings).dump());
      st.bind(++i, nlohmann::json(*p).dump());
    } else {
      for (int k = 0; k < 23; ++k) {
        st.bind(++i);
      }
    }
    st.exec();
    st.reset();
    int64_t run = m_sql.getLastInsertRowid();
    ++report.runs;

    std::map<int, const core::SyscallResult*> detail;
    if (r) {
      for (const core::SyscallResult& s : r->syscalls) {
        detail[s.nr] = &s;
      }
    }
    std::map<int, SyscallClass> classes;
    for (const auto& [nr, cls] : classify(data)) {
      classes[nr] = cls;
    }
    for (const core::DynRow& row : data.dyn.rows) {
      if (!row.used && !row.can_stub && !row.can_fake) {
        continue;
      }
      m_max_nr = std::max(m_max_nr, row.nr);
      auto cls = classes.find(row.nr);
      m_verdict.bind(1, run);
      m_verdict.bind(2, row.nr);
      m_verdict.bind(3, row.used ? 1 : 0);
      m_verdict.bind(4, row.can_stub ? 1 : 0);
      m_verdict.bind(5, row.can_fake ? 1 : 0);
      m_verdict.bind(6, to_string(cls != classes.end() ? cls->second : SyscallClass::unused));
      auto d = detail.find(row.nr);
      if (d != detail.end()) {
        m_verdict.bind(7, core::to_string(d->second->stub.merged()));
        m_verdict.bind(8, core::to_string(d->second->fake.merged()));
        m_verdict.bind(9, static_cast<int64_t>(d->second->count));
      } else {
        m_verdict.bind(7);
        m_verdict.bind(8);
        m_verdict.bind(9);
      }
      m_verdict.exec();
      m_verdict.reset();
      ++report.verdicts;
    }
    auto add_static = [&](const std::optional<std::vector<int>>& set, const char* source) {
      if (!set) {
        return;
      }
      for (int nr : *set) {
        m_max_nr = std::max(m_max_nr, nr);
        m_static.bind(1, run);
        m_static.bind(2, source);
        m_static.bind(3, nr);
        m_static.exec();
        m_static.reset();
        ++report.static_rows;
      }
    };
    add_static(data.static_used, "binary");
    add_static(data.static_sources, "sources");
    if (r) {
      for (const core::FeatureResult& f : r->features) {
        m_feature.bind(1, run);
        m_feature.bind(2, f.nr);
        m_feature.bind(3, static_cast<int64_t>(f.arg));
        m_feature.bind(4, static_cast<int64_t>(f.value));
        m_feature.bind(5, static_cast<int64_t>(f.mask));
        bind_text(m_feature, 6, f.symbol);
        m_feature.bind(7, static_cast<int64_t>(f.count));
        m_feature.bind(8, core::to_string(f.stub.merged()));
        m_feature.bind(9, core::to_string(f.fake.merged()));
        if (f.arg2 >= 0) {
          m_feature.bind(10, f.arg2);
          m_feature.bind(11, static_cast<int64_t>(f.value2));
          m_feature.bind(12, static_cast<int64_t>(f.mask2));
        } else {
          m_feature.bind(10);
          m_feature.bind(11);
          m_feature.bind(12);
        }
        m_feature.exec();
        m_feature.reset();
      }
      for (const core::PathResult& pr : r->paths) {
        std::string calls;
        for (const std::string& c : pr.syscalls) {
          calls += (calls.empty() ? "" : ";") + c;
        }
        m_pseudo.bind(1, run);
        m_pseudo.bind(2, pr.path);
        m_pseudo.bind(3, static_cast<int64_t>(pr.count));
        m_pseudo.bind(4, calls);
        m_pseudo.bind(5, core::to_string(pr.enoent.merged()));
        m_pseudo.bind(6, core::to_string(pr.empty.merged()));
        m_pseudo.exec();
        m_pseudo.reset();
      }
    }
  }

  const Database& m_database;
  SQLite::Database& m_sql;
  SQLite::Statement m_app, m_workload, m_run, m_verdict, m_static, m_feature, m_pseudo;
  std::map<std::string, int64_t> m_apps;
  std::map<std::string, int64_t> m_workloads;
  int m_max_nr = -1;
};

util::Result<ExportReport> write_export(const Database& database, const fs::path& tmp) {
  ExportReport report;
  SQLite::Database sql(tmp.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
  // The file is private until renamed: no journal needed, a crash leaves only the temp file.
  sql.exec("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;");
  SQLite::Transaction transaction(sql);
  sql.exec(k_sqlite_schema);
  Exporter exporter(database, sql);
  TRY(exporter.run_all(report));

  const core::SyscallTable& table = core::SyscallTable::get();
  SQLite::Statement syscall(sql, "INSERT INTO syscalls VALUES (?, ?)");
  int max_nr = std::max(table.max_known(), exporter.max_syscall());
  std::map<std::string, SyscallList> lists;
  for (const auto& [os, file] : database.os_list_files()) {
    TRY_ASSIGN(lists[os], database.os_list(os));
  }
  for (int nr = 0; nr <= max_nr; ++nr) {
    syscall.bind(1, nr);
    syscall.bind(2, table.name(nr));
    syscall.exec();
    syscall.reset();
  }
  SQLite::Statement os_row(sql, "INSERT INTO os_lists VALUES (?, ?)");
  SQLite::Statement os_unknown(sql, "INSERT INTO os_list_unknown VALUES (?, ?)");
  for (const auto& [os, list] : lists) {
    for (int nr : list.numbers) {
      os_row.bind(1, os);
      os_row.bind(2, nr);
      os_row.exec();
      os_row.reset();
    }
    for (const std::string& name : list.unknown_names) {
      os_unknown.bind(1, os);
      os_unknown.bind(2, name);
      os_unknown.exec();
      os_unknown.reset();
    }
  }
  SQLite::Statement meta(sql, "INSERT INTO meta VALUES (?, ?)");
  std::vector<std::pair<std::string, std::string>> rows = {
      {"schema_version", std::to_string(k_sqlite_schema_version)},
      {"source", fs::absolute(database.path()).string()},
      {"commit", database.snapshot().commit()},
      {"lupa_version", lupa_version()}};
  for (const auto& [key, value] : rows) {
    meta.bind(1, key);
    meta.bind(2, value);
    meta.exec();
    meta.reset();
  }
  sql.exec(k_sqlite_indexes);
  transaction.commit();
  report.apps = database.app_count();
  return report;
}

} // namespace

util::Result<ExportReport> export_sqlite(const Database& database, const fs::path& out) {
  fs::path dir = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return util::error(fmt::format("{}: no such directory", dir.string()));
  }
  fs::path tmp = dir / fmt::format(".{}.tmp-{}", out.filename().string(), ::getpid());
  fs::remove(tmp, ec);
  TempFileGuard guard(tmp);
  util::Result<ExportReport> report;
  try {
    report = write_export(database, tmp);
  } catch (const SQLite::Exception& e) {
    return util::error(fmt::format("{}: SQLite: {}", out.string(), e.what()));
  }
  if (!report) {
    return report;
  }
  fs::rename(tmp, out, ec);
  if (ec) {
    return util::error(fmt::format("{}: cannot rename {} to it: {}", out.string(), tmp.string(),
                                   ec.message()));
  }
  guard.done();
  report->bytes = fs::file_size(out, ec);
  return report;
}

} // namespace db
