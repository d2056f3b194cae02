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
  auto note = [&](std::string what) {
    if (skipped) {
      skipped->push_back(std::move(what));
    }
  };
  std::vector<RunRef> runs;
  for (const fs::directory_entry& app : fs::directory_iterator(root, ec)) {
    std::string app_name = app.path().filename().string();
    if (app_name.starts_with('.') || !app.is_directory()) {
      continue;
    }
    for (const fs::directory_entry& wl : fs::directory_iterator(app.path())) {
      if (!wl.is_directory() || wl.path().filename().string().starts_with('.')) {
        continue;
      }
      std::optional<Workload> workload = parse_workload_dir(wl.path().filename().string());
      if (!workload) {
        note(fmt::format("{}/{}: not a workload directory (benchmark-W, suite, suite-W)", app_name,
                         wl.path().filename().string()));
        continue;
      }
      for (const fs::directory_entry& run : fs::directory_iterator(wl.path())) {
        if (!run.is_directory() || run.path().filename().string().starts_with('.')) {
          continue;
        }
        RunRef ref{app_name, *workload, run.path().filename().string(), run.path()};
        if (!fs::is_regular_file(run.path() / "data" / "dyn.csv")) {
          note(fmt::format("{}: no data/dyn.csv", ref.key()));
          continue;
        }
        runs.push_back(std::move(ref));
      }
    }
  }
  if (ec) {
    return util::error(fmt::format("{}: {}", root.string(), ec.message()));
  }
  std::sort(runs.begin(), runs.end(),
            [](const RunRef& a, const RunRef& b) { return a.key() < b.key(); });
  return runs;
}

util::Result<RunData> load_run(const RunRef& ref) {
  RunData data;
  data.ref = ref;
  fs::path dyn_path = ref.dir / "data" / "dyn.csv";
  std::string dyn_name = ref.key() + "/data/dyn.csv";
  TRY_ASSIGN(std::string dyn_text, util::read_file(dyn_path));
  TRY_ASSIGN(data.dyn, core::parse_dyn_csv(dyn_text, dyn_name));
  data.warnings = data.dyn.warnings;

  fs::path static_path = ref.dir / "data" / "static_binary.csv";
  if (fs::is_regular_file(static_path)) {
    TRY_ASSIGN(std::string text, util::read_file(static_path));
    TRY_ASSIGN(data.static_used,
               core::parse_static_csv(text, ref.key() + "/data/static_binary.csv"));
  }
  fs::path results_path = ref.dir / "results.json";
  if (fs::is_regular_file(results_path)) {
    TRY_ASSIGN(std::string text, util::read_file(results_path));
    try {
      data.result = nlohmann::json::parse(text).get<core::ExploreResult>();
    } catch (const nlohmann::json::exception& e) {
      return util::error(fmt::format("{}/results.json: {}", ref.key(), e.what()));
    }
  }
  fs::path cmd_path = ref.dir / "cmd.txt";
  if (fs::is_regular_file(cmd_path)) {
    TRY_ASSIGN(data.cmd, util::read_file(cmd_path));
  }
  return data;
}

util::Result<SyscallList> read_syscall_list(const fs::path& file) {
  TRY_ASSIGN(std::string text, util::read_file(file));
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
      list.unknown.push_back(fmt::format("{}:{}: unknown syscall '{}'", file.string(), line_no, line));
      continue;
    }
    out.push_back(*nr);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return list;
}

} // namespace db
