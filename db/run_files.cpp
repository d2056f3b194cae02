#include "db/run_files.h"

#include "core/dyn_csv.h"
#include "db/git.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <set>

namespace db {

std::string RunFiles::key() const { return app + "/" + workload.dir_name() + "/" + run_id; }

bool is_safe_name(std::string_view name) {
  if (name.empty() || name.size() > 128 || name.starts_with('.')) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-' || c == '+';
    if (!ok) {
      return false;
    }
  }
  return true;
}

bool is_safe_path(std::string_view path) {
  if (path.empty()) {
    return false;
  }
  for (const std::string& part : util::split(path, '/')) {
    if (!is_safe_name(part)) {
      return false;
    }
  }
  return true;
}

namespace {

// Names a run directory reserves for lupa's own files (plus everything under data/).
const std::set<std::string> k_reserved = {k_provenance_json, k_results_json, k_cmd_txt, "data",
                                          "context"};

util::Result<void> check_recipe_file(const RunFile& file, const char* field) {
  if (!is_safe_name(file.name)) {
    return util::error(fmt::format("{}: '{}' is not a safe file name ([A-Za-z0-9._+-], not "
                                   "starting with '.')",
                                   field, file.name));
  }
  if (k_reserved.contains(file.name)) {
    return util::error(fmt::format("{}: '{}' is reserved in a run directory", field, file.name));
  }
  return {};
}

} // namespace

util::Result<Provenance> complete_provenance(const NewRun& run) {
  if (!is_safe_name(run.app)) {
    return util::error(fmt::format("app: '{}' is not a safe name ([A-Za-z0-9._+-], not starting "
                                   "with '.')",
                                   run.app));
  }
  std::string wl_dir = run.workload.dir_name();
  if (!is_safe_name(wl_dir) || !parse_workload_dir(wl_dir)) {
    return util::error(fmt::format("workload: '{}' is not a valid workload name", run.workload.name));
  }
  TRY(check_recipe_file(run.dockerfile, "dockerfile"));
  std::set<std::string> names = {run.dockerfile.name};
  auto unique_name = [&](const RunFile& f, const char* field) -> util::Result<void> {
    TRY(check_recipe_file(f, field));
    if (!names.insert(f.name).second) {
      return util::error(fmt::format("{}: '{}' is already used by another file of the run", field,
                                     f.name));
    }
    return {};
  };
  Provenance p = run.provenance;
  p.app = run.app;
  p.workload = wl_dir;
  p.dockerfile = {run.dockerfile.name, git::blob_id(run.dockerfile.content)};
  p.recipe.reset();
  p.test_script.reset();
  p.context.clear();
  if (run.recipe) {
    TRY(unique_name(*run.recipe, "recipe"));
    p.recipe = FileHash{run.recipe->name, git::blob_id(run.recipe->content)};
  }
  if (run.test_script) {
    TRY(unique_name(*run.test_script, "test_script"));
    p.test_script = FileHash{run.test_script->name, git::blob_id(run.test_script->content)};
  }
  std::set<std::string> context_names;
  for (const RunFile& f : run.context) {
    if (!is_safe_path(f.name)) {
      return util::error(fmt::format("context: '{}' is not a safe relative path", f.name));
    }
    if (!context_names.insert(f.name).second) {
      return util::error(fmt::format("context: '{}' is given twice", f.name));
    }
    p.context.push_back({f.name, git::blob_id(f.content)});
  }
  // Derived from the result, which is the truth about how the exploration ran.
  p.replicas = run.result.replicas;
  p.strategy = run.result.strategy;
  p.run_id = compute_run_id(p, run.result);
  return p;
}

util::Result<RunFiles> render_run(const NewRun& run) {
  TRY_ASSIGN(Provenance p, complete_provenance(run));
  RunFiles out;
  out.app = run.app;
  out.workload = run.workload;
  out.run_id = p.run_id;
  auto add = [&](const std::string& path, std::string content, FileMode mode) {
    out.files[path] = RunFile{path, std::move(content), mode};
  };
  add(k_provenance_json, write_provenance(p), FileMode::regular);
  add(k_results_json, nlohmann::json(run.result).dump(2) + "\n", FileMode::regular);
  add(k_cmd_txt, run.cmd.empty() || run.cmd.ends_with('\n') ? run.cmd : run.cmd + "\n",
      FileMode::regular);
  add(run.dockerfile.name, run.dockerfile.content, run.dockerfile.mode);
  if (run.recipe) {
    add(run.recipe->name, run.recipe->content, run.recipe->mode);
  }
  if (run.test_script) {
    add(run.test_script->name, run.test_script->content, run.test_script->mode);
  }
  for (const RunFile& f : run.context) {
    add("context/" + f.name, f.content, f.mode);
  }
  add(k_dyn_csv, core::write_dyn_csv(core::dyn_rows(run.result)), FileMode::regular);
  if (run.result.static_syscalls) {
    add(k_static_csv, core::write_static_csv(*run.result.static_syscalls), FileMode::regular);
  }
  add(k_features_csv, core::write_features_csv(run.result.features), FileMode::regular);
  add(k_pseudo_files_csv, core::write_pseudo_files_csv(run.result.paths), FileMode::regular);

  TRY_ASSIGN(RunData data, run_data_of(run));
  out.summary = summarize(data).text();
  return out;
}

util::Result<NewRun> stored_new_run(const Snapshot& snapshot, const RunData& run) {
  if (run.format != RunFormat::lupa || !run.provenance || !run.result) {
    return util::error(fmt::format("{}: a Loupe run: it holds no recipe lupa can run again",
                                   run.ref.key()));
  }
  const Provenance& p = *run.provenance;
  std::string base = run.ref.key() + "/";
  auto load = [&](const FileHash& file, const std::string& path) -> util::Result<RunFile> {
    TRY_ASSIGN(std::string content, snapshot.read(base + path));
    TRY_ASSIGN(std::optional<Entry> entry, snapshot.stat(base + path));
    FileMode mode = entry && entry->type == EntryType::executable ? FileMode::executable
                                                                  : FileMode::regular;
    return RunFile{file.name, std::move(content), mode};
  };
  NewRun out;
  out.app = run.ref.app;
  out.workload = run.ref.workload;
  TRY_ASSIGN(out.dockerfile, load(p.dockerfile, p.dockerfile.name));
  if (p.recipe) {
    TRY_ASSIGN(out.recipe, load(*p.recipe, p.recipe->name));
  }
  if (p.test_script) {
    TRY_ASSIGN(out.test_script, load(*p.test_script, p.test_script->name));
  }
  for (const FileHash& f : p.context) {
    TRY_ASSIGN(RunFile file, load(f, "context/" + f.name));
    out.context.push_back(std::move(file));
  }
  out.cmd = run.cmd.value_or("");
  out.result = *run.result;
  out.provenance = p;
  return out;
}

util::Result<RunData> run_data_of(const NewRun& run) {
  TRY_ASSIGN(Provenance p, complete_provenance(run));
  RunData data;
  data.ref = RunRef{run.app, run.workload, p.run_id, {}};
  data.format = RunFormat::lupa;
  std::string dyn_text = core::write_dyn_csv(core::dyn_rows(run.result));
  TRY_ASSIGN(data.dyn, core::parse_dyn_csv(dyn_text, k_dyn_csv));
  data.static_used = run.result.static_syscalls;
  data.result = run.result;
  data.provenance = std::move(p);
  data.cmd = run.cmd;
  return data;
}

} // namespace db
