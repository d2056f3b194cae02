#include "db/provenance.h"

#include "db/git.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <sys/utsname.h>

#include <algorithm>
#include <ctime>

#ifndef LUPA_VERSION
#define LUPA_VERSION "unknown"
#endif

namespace db {

namespace {

const char* k_provenance_format = "lupa-provenance-1";

nlohmann::json file_json(const std::optional<FileHash>& file) {
  if (!file) {
    return nullptr;
  }
  return {{"name", file->name}, {"hash", file->hash}};
}

std::optional<FileHash> file_from(const nlohmann::json& j, const char* key) {
  if (!j.contains(key) || j.at(key).is_null()) {
    return std::nullopt;
  }
  const nlohmann::json& f = j.at(key);
  return FileHash{f.at("name").get<std::string>(), f.at("hash").get<std::string>()};
}

// A JSON scalar as text for a diff line.
std::string scalar_text(const nlohmann::json& value) {
  if (value.is_string()) {
    return value.get<std::string>();
  }
  return value.dump();
}

} // namespace

const char* lupa_version() { return LUPA_VERSION; }

void to_json(nlohmann::json& j, const Provenance& p) {
  nlohmann::json context = nlohmann::json::array();
  for (const FileHash& f : p.context) {
    context.push_back({{"name", f.name}, {"hash", f.hash}});
  }
  j = {{"format", k_provenance_format},
       {"run_id", p.run_id},
       {"app", p.app},
       {"workload", p.workload},
       {"lupa_version", p.lupa_version},
       {"date", p.date},
       {"kernel", {{"release", p.kernel_release}, {"version", p.kernel_version}, {"machine", p.machine}}},
       {"engine", {{"name", p.engine}, {"version", p.engine_version}}},
       {"images",
        {{"base", {{"name", p.base_image}, {"digest", p.base_image_digest}}},
         {"app", {{"name", p.app_image}, {"digest", p.app_image_digest}}}}},
       {"files",
        {{"dockerfile", file_json(p.dockerfile)},
         {"recipe", file_json(p.recipe)},
         {"test_script", file_json(p.test_script)},
         {"context", context}}},
       {"replicas", p.replicas},
       {"strategy", p.strategy},
       {"timings", p.timings}};
}

void from_json(const nlohmann::json& j, Provenance& p) {
  p = Provenance{};
  std::string format = j.at("format").get<std::string>();
  if (format != k_provenance_format) {
    throw nlohmann::json::other_error::create(
        501, fmt::format("unknown provenance format '{}' (expected {})", format, k_provenance_format),
        &j);
  }
  p.run_id = j.at("run_id").get<std::string>();
  p.app = j.at("app").get<std::string>();
  p.workload = j.at("workload").get<std::string>();
  p.lupa_version = j.value("lupa_version", "");
  p.date = j.value("date", "");
  if (j.contains("kernel")) {
    const nlohmann::json& k = j.at("kernel");
    p.kernel_release = k.value("release", "");
    p.kernel_version = k.value("version", "");
    p.machine = k.value("machine", "");
  }
  if (j.contains("engine")) {
    p.engine = j.at("engine").value("name", "");
    p.engine_version = j.at("engine").value("version", "");
  }
  if (j.contains("images")) {
    const nlohmann::json& images = j.at("images");
    if (images.contains("base")) {
      p.base_image = images.at("base").value("name", "");
      p.base_image_digest = images.at("base").value("digest", "");
    }
    if (images.contains("app")) {
      p.app_image = images.at("app").value("name", "");
      p.app_image_digest = images.at("app").value("digest", "");
    }
  }
  const nlohmann::json& files = j.at("files");
  std::optional<FileHash> dockerfile = file_from(files, "dockerfile");
  if (!dockerfile) {
    throw nlohmann::json::other_error::create(501, "files.dockerfile is required", &j);
  }
  p.dockerfile = *dockerfile;
  p.recipe = file_from(files, "recipe");
  p.test_script = file_from(files, "test_script");
  for (const nlohmann::json& f : files.value("context", nlohmann::json::array())) {
    p.context.push_back({f.at("name").get<std::string>(), f.at("hash").get<std::string>()});
  }
  p.replicas = j.value("replicas", 1);
  p.strategy = j.value("strategy", "");
  p.timings = j.value("timings", std::map<std::string, double>{});
}

std::string write_provenance(const Provenance& provenance) {
  return nlohmann::json(provenance).dump(2) + "\n";
}

util::Result<Provenance> parse_provenance(std::string_view text, std::string_view file) {
  try {
    return nlohmann::json::parse(text).get<Provenance>();
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{}: {}", file, e.what()));
  }
}

void fill_host_provenance(Provenance& provenance) {
  provenance.lupa_version = LUPA_VERSION;
  struct utsname u {};
  if (::uname(&u) == 0) {
    provenance.kernel_release = u.release;
    provenance.kernel_version = u.version;
    provenance.machine = u.machine;
  }
  std::time_t now = std::time(nullptr);
  std::tm tm {};
  ::gmtime_r(&now, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &tm);
  provenance.date = buffer;
}

std::string run_id_document(const Provenance& p, const core::ExploreResult& r) {
  nlohmann::json context = nlohmann::json::array();
  for (const FileHash& f : p.context) {
    context.push_back({{"name", f.name}, {"hash", f.hash}});
  }
  nlohmann::json doc = {
      {"format", "lupa-run-id-1"},
      {"app", p.app},
      {"workload", p.workload},
      {"files",
       {{"dockerfile", file_json(p.dockerfile)},
        {"recipe", file_json(p.recipe)},
        {"test_script", file_json(p.test_script)},
        {"context", context}}},
      {"base_image_digest", p.base_image_digest},
      {"explorer",
       {{"binary", r.binary},
        {"args", r.args},
        {"mode", r.mode},
        {"strategy", r.strategy},
        {"discovery", r.discovery},
        {"replicas", r.replicas},
        {"only_consider", r.only_consider ? nlohmann::json(*r.only_consider) : nlohmann::json(nullptr)}}}};
  // A partial exploration (--only-syscalls) is another experiment than the full one: the
  // syscalls it left unexplored are part of its id (absent when every one was explored).
  nlohmann::json unexplored = nlohmann::json::array();
  for (const core::SyscallResult& s : r.syscalls) {
    if (s.stub.runs.empty() && s.fake.runs.empty()) {
      unexplored.push_back(s.nr);
    }
  }
  if (!unexplored.empty()) {
    doc["explorer"]["unexplored"] = unexplored;
  }
  // The same for the parts below syscall granularity (left out, or not testable here).
  size_t features = std::count_if(r.features.begin(), r.features.end(), [](const core::FeatureResult& f) {
    return f.stub.runs.empty() && f.fake.runs.empty();
  });
  size_t paths = std::count_if(r.paths.begin(), r.paths.end(), [](const core::PathResult& p) {
    return p.enoent.runs.empty() && p.empty.runs.empty();
  });
  if (features > 0) {
    doc["explorer"]["unexplored_features"] = features;
  }
  if (paths > 0) {
    doc["explorer"]["unexplored_paths"] = paths;
  }
  return doc.dump(); // nlohmann objects keep keys sorted: the text is canonical
}

std::string compute_run_id(const Provenance& provenance, const core::ExploreResult& result) {
  return git::blob_id(run_id_document(provenance, result)).substr(0, 32);
}

bool is_hashed_run_id(std::string_view id) {
  return id.size() == 32 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::vector<ProvenanceChange> diff_provenance(const Provenance& before, const Provenance& after) {
  nlohmann::json a = nlohmann::json(before).flatten();
  nlohmann::json b = nlohmann::json(after).flatten();
  std::vector<std::string> keys;
  for (auto it = a.begin(); it != a.end(); ++it) {
    keys.push_back(it.key());
  }
  for (auto it = b.begin(); it != b.end(); ++it) {
    if (!a.contains(it.key())) {
      keys.push_back(it.key());
    }
  }
  // Timings change on every run; list them after what matters.
  std::stable_sort(keys.begin(), keys.end(), [](const std::string& x, const std::string& y) {
    bool tx = x.starts_with("/timings");
    bool ty = y.starts_with("/timings");
    return tx != ty ? ty : x < y;
  });
  std::vector<ProvenanceChange> out;
  for (const std::string& key : keys) {
    std::string was = a.contains(key) ? scalar_text(a.at(key)) : "";
    std::string now = b.contains(key) ? scalar_text(b.at(key)) : "";
    if (was == now) {
      continue;
    }
    std::string field = key.substr(1);
    std::replace(field.begin(), field.end(), '/', '.');
    out.push_back({field, was, now});
  }
  return out;
}

} // namespace db
