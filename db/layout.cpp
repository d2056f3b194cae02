#include "db/layout.h"

#include "core/syscalls.h"
#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

namespace fs = std::filesystem;

namespace db {

const char* to_string(WorkloadKind kind) {
  return kind == WorkloadKind::benchmark ? "benchmark" : "suite";
}

std::string Workload::dir_name() const {
  std::string out = to_string(kind);
  if (!name.empty()) {
    out += "-" + name;
  }
  return out;
}

std::optional<Workload> parse_workload_dir(std::string_view name) {
  if (name == "suite") {
    return Workload{WorkloadKind::suite, ""};
  }
  if (name.starts_with("suite-") && name.size() > 6) {
    return Workload{WorkloadKind::suite, std::string(name.substr(6))};
  }
  if (name.starts_with("benchmark-") && name.size() > 10) {
    return Workload{WorkloadKind::benchmark, std::string(name.substr(10))};
  }
  return std::nullopt;
}

std::string RunRef::key() const {
  return app + "/" + workload.dir_name() + "/" + run_id;
}

util::Result<std::vector<RunRef>> scan_runs(const fs::path& root, std::vector<std::string>* skipped) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) {
    return util::error(fmt::format("{}: not a results database directory", root.string()));
  }
  return scan_runs(DirSnapshot(root), skipped);
}

util::Result<std::vector<RunRef>> scan_runs(const Snapshot& snapshot, std::vector<std::string>* skipped) {
  auto note = [&](std::string what) {
    if (skipped) {
      skipped->push_back(std::move(what));
    }
  };
  const DirSnapshot* on_disk = dynamic_cast<const DirSnapshot*>(&snapshot);
  std::vector<RunRef> runs;
  TRY_ASSIGN(std::vector<Entry> apps, snapshot.list(""));
  for (const Entry& app : apps) {
    if (app.name.starts_with('.') || app.type != EntryType::directory) {
      continue;
    }
    TRY_ASSIGN(std::vector<Entry> workloads, snapshot.list(app.name));
    for (const Entry& wl : workloads) {
      if (wl.type != EntryType::directory || wl.name.starts_with('.')) {
        continue;
      }
      std::optional<Workload> workload = parse_workload_dir(wl.name);
      if (!workload) {
        note(fmt::format("{}/{}: not a workload directory (benchmark-W, suite, suite-W)", app.name,
                         wl.name));
        continue;
      }
      TRY_ASSIGN(std::vector<Entry> run_entries, snapshot.list(app.name + "/" + wl.name));
      for (const Entry& run : run_entries) {
        if (run.type != EntryType::directory || run.name.starts_with('.')) {
          continue;
        }
        RunRef ref{app.name, *workload, run.name, {}};
        if (on_disk) {
          ref.dir = on_disk->root() / app.name / wl.name / run.name;
        }
        TRY_ASSIGN(std::optional<Entry> dyn, snapshot.stat(ref.key() + "/" + k_dyn_csv));
        if (!dyn || (dyn->type != EntryType::file && dyn->type != EntryType::executable)) {
          note(fmt::format("{}: no {}", ref.key(), k_dyn_csv));
          continue;
        }
        runs.push_back(std::move(ref));
      }
    }
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunRef& a, const RunRef& b) { return a.key() < b.key(); });
  return runs;
}

const char* to_string(RunFormat format) { return format == RunFormat::lupa ? "lupa" : "loupe"; }

util::Result<RunData> load_run(const RunRef& ref) {
  fs::path root = ref.dir.parent_path().parent_path().parent_path();
  return load_run(DirSnapshot(root), ref);
}

util::Result<RunData> load_run(const Snapshot& snapshot, const RunRef& ref) {
  RunData data;
  data.ref = ref;
  std::string base = ref.key() + "/";
  auto present = [&](const char* file) -> util::Result<bool> {
    TRY_ASSIGN(std::optional<Entry> e, snapshot.stat(base + file));
    return e.has_value() && e->type != EntryType::directory;
  };

  TRY_ASSIGN(std::string dyn_text, snapshot.read(base + k_dyn_csv));
  TRY_ASSIGN(data.dyn, core::parse_dyn_csv(dyn_text, base + k_dyn_csv));
  data.warnings = data.dyn.warnings;

  TRY_ASSIGN(bool has_static, present(k_static_csv));
  if (has_static) {
    TRY_ASSIGN(std::string text, snapshot.read(base + k_static_csv));
    TRY_ASSIGN(data.static_used, core::parse_static_csv(text, base + k_static_csv));
  }
  TRY_ASSIGN(bool has_sources, present(k_static_sources_csv));
  if (has_sources) {
    TRY_ASSIGN(std::string text, snapshot.read(base + k_static_sources_csv));
    TRY_ASSIGN(data.static_sources, core::parse_static_csv(text, base + k_static_sources_csv));
  }
  TRY_ASSIGN(bool has_provenance, present(k_provenance_json));
  if (has_provenance) {
    data.format = RunFormat::lupa;
    TRY_ASSIGN(std::string text, snapshot.read(base + k_provenance_json));
    TRY_ASSIGN(data.provenance, parse_provenance(text, base + k_provenance_json));
  }
  TRY_ASSIGN(bool has_results, present(k_results_json));
  if (has_provenance && !has_results) {
    return util::error(fmt::format("{}{}: missing (a run with {} must hold it)", base,
                                   k_results_json, k_provenance_json));
  }
  if (has_results) {
    TRY_ASSIGN(std::string text, snapshot.read(base + k_results_json));
    try {
      data.result = nlohmann::json::parse(text).get<core::ExploreResult>();
    } catch (const nlohmann::json::exception& e) {
      return util::error(fmt::format("{}{}: {}", base, k_results_json, e.what()));
    }
  }
  TRY_ASSIGN(bool has_cmd, present(k_cmd_txt));
  if (has_cmd) {
    TRY_ASSIGN(data.cmd, snapshot.read(base + k_cmd_txt));
  }
  return data;
}

const char* to_string(SyscallClass cls) {
  switch (cls) {
  case SyscallClass::unused:
    return "unused";
  case SyscallClass::required:
    return "required";
  case SyscallClass::stub_only:
    return "stub-only";
  case SyscallClass::fake_only:
    return "fake-only";
  case SyscallClass::both:
    return "both";
  case SyscallClass::unstable:
    return "unstable";
  }
  return "unused";
}

namespace {

SyscallClass class_of(bool can_stub, bool can_fake) {
  if (can_stub && can_fake) {
    return SyscallClass::both;
  }
  if (can_stub) {
    return SyscallClass::stub_only;
  }
  return can_fake ? SyscallClass::fake_only : SyscallClass::required;
}

} // namespace

std::vector<std::pair<int, SyscallClass>> classify(const RunData& run) {
  std::vector<std::pair<int, SyscallClass>> out;
  if (run.result) {
    for (const core::SyscallResult& s : run.result->syscalls) {
      core::Verdict stub = s.stub.merged();
      core::Verdict fake = s.fake.merged();
      if (stub == core::Verdict::unstable || fake == core::Verdict::unstable) {
        out.emplace_back(s.nr, SyscallClass::unstable);
      } else {
        out.emplace_back(s.nr, class_of(stub == core::Verdict::works, fake == core::Verdict::works));
      }
    }
    return out;
  }
  for (const core::DynRow& row : run.dyn.rows) {
    if (row.used) {
      out.emplace_back(row.nr, class_of(row.can_stub, row.can_fake));
    }
  }
  return out;
}

std::string VerdictSummary::text() const {
  return fmt::format("{} used: {} required, {} stub-only, {} fake-only, {} both, {} unstable", used,
                     required, stub_only, fake_only, both, unstable);
}

VerdictSummary summarize(const RunData& run) {
  VerdictSummary s;
  for (const auto& [nr, cls] : classify(run)) {
    ++s.used;
    switch (cls) {
    case SyscallClass::required:
      ++s.required;
      break;
    case SyscallClass::stub_only:
      ++s.stub_only;
      break;
    case SyscallClass::fake_only:
      ++s.fake_only;
      break;
    case SyscallClass::both:
      ++s.both;
      break;
    case SyscallClass::unstable:
      ++s.unstable;
      break;
    case SyscallClass::unused:
      break;
    }
  }
  return s;
}

util::Result<SyscallList> read_syscall_list(const fs::path& file) {
  TRY_ASSIGN(std::string text, util::read_file(file));
  return parse_syscall_list(text, file.string());
}

SyscallList parse_syscall_list(std::string_view text, std::string_view file) {
  SyscallList list;
  std::vector<int>& out = list.numbers;
  size_t line_no = 0;
  for (const std::string& raw : util::split(text, '\n')) {
    ++line_no;
    std::string_view line = util::trim(raw);
    if (line.empty() || line.starts_with('#')) {
      continue;
    }
    std::optional<int> nr = core::SyscallTable::get().number(line);
    if (!nr) {
      list.unknown.push_back(fmt::format("{}:{}: unknown syscall '{}'", file, line_no, line));
      list.unknown_names.emplace_back(line);
      continue;
    }
    out.push_back(*nr);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return list;
}

} // namespace db
