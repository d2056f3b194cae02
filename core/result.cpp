#include "core/result.h"

#include <nlohmann/json.hpp>

namespace core {

const char* to_string(Verdict verdict) {
  switch (verdict) {
  case Verdict::untested:
    return "untested";
  case Verdict::works:
    return "works";
  case Verdict::fails:
    return "fails";
  case Verdict::unstable:
    return "unstable";
  }
  return "untested";
}

const char* to_string(Injection injection) {
  return injection == Injection::stub ? "stub" : "fake";
}

const char* to_string(PathAction action) {
  return action == PathAction::enoent ? "enoent" : "empty";
}

Verdict Replicas::merged() const {
  if (runs.empty()) {
    return Verdict::untested;
  }
  bool any_works = false;
  bool any_fails = false;
  for (bool works : runs) {
    (works ? any_works : any_fails) = true;
  }
  if (any_works && any_fails) {
    return Verdict::unstable;
  }
  return any_works ? Verdict::works : Verdict::fails;
}

const SyscallResult* ExploreResult::find(int nr) const {
  for (const SyscallResult& s : syscalls) {
    if (s.nr == nr) {
      return &s;
    }
  }
  return nullptr;
}

std::vector<int> ExploreResult::unstable() const {
  std::vector<int> out;
  for (const SyscallResult& s : syscalls) {
    if (s.stub.merged() == Verdict::unstable || s.fake.merged() == Verdict::unstable) {
      out.push_back(s.nr);
    }
  }
  return out;
}

namespace {

nlohmann::json replicas_json(const Replicas& r) {
  return {{"verdict", to_string(r.merged())}, {"runs", r.runs}};
}

Replicas replicas_from(const nlohmann::json& j, const char* key) {
  Replicas r;
  if (j.contains(key) && j.at(key).contains("runs")) {
    r.runs = j.at(key).at("runs").get<std::vector<bool>>();
  }
  return r;
}

template <typename T> std::optional<T> optional_field(const nlohmann::json& j, const char* key) {
  if (j.contains(key) && !j.at(key).is_null()) {
    return j.at(key).get<T>();
  }
  return std::nullopt;
}

template <typename T> nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

} // namespace

void to_json(nlohmann::json& j, const ExploreResult& r) {
  j = nlohmann::json::object();
  j["format"] = "lupa-results-1";
  j["lupa_version"] = r.lupa_version;
  j["binary"] = r.binary;
  j["args"] = r.args;
  j["mode"] = r.mode;
  j["strategy"] = r.strategy;
  j["discovery"] = {{"backend", r.discovery}, {"complete", r.discovery_complete}};
  j["replicas"] = r.replicas;
  j["only_consider"] = optional_json(r.only_consider);

  nlohmann::json syscalls = nlohmann::json::array();
  for (const SyscallResult& s : r.syscalls) {
    syscalls.push_back({{"nr", s.nr},
                        {"name", s.name},
                        {"count", s.count},
                        {"stub", replicas_json(s.stub)},
                        {"fake", replicas_json(s.fake)}});
  }
  j["syscalls"] = std::move(syscalls);

  nlohmann::json features = nlohmann::json::array();
  for (const FeatureResult& f : r.features) {
    features.push_back({{"nr", f.nr},
                        {"syscall", f.syscall},
                        {"arg", f.arg},
                        {"value", f.value},
                        {"mask", f.mask},
                        {"symbol", f.symbol},
                        {"count", f.count},
                        {"stub", replicas_json(f.stub)},
                        {"fake", replicas_json(f.fake)}});
  }
  j["features"] = std::move(features);

  nlohmann::json paths = nlohmann::json::array();
  for (const PathResult& p : r.paths) {
    paths.push_back({{"path", p.path},
                     {"count", p.count},
                     {"syscalls", p.syscalls},
                     {"enoent", replicas_json(p.enoent)},
                     {"empty", replicas_json(p.empty)}});
  }
  j["paths"] = std::move(paths);
  j["static_syscalls"] = optional_json(r.static_syscalls);

  nlohmann::json conflicts = nlohmann::json::array();
  for (const CollectiveCheck::Conflict& c : r.collective.conflicts) {
    conflicts.push_back({{"stubbed", c.stubbed}, {"faked", c.faked}});
  }
  j["collective"] = {{"ran", r.collective.ran},
                     {"all_stubs_work", optional_json(r.collective.all_stubs_work)},
                     {"all_fakes_work", optional_json(r.collective.all_fakes_work)},
                     {"stubs_and_fakes_work", optional_json(r.collective.stubs_and_fakes_work)},
                     {"conflicts", std::move(conflicts)}};

  std::vector<std::string> unstable_names;
  for (int nr : r.unstable()) {
    unstable_names.push_back(r.find(nr)->name);
  }
  j["unstable"] = unstable_names;
  j["stats"] = {{"probe_runs", r.stats.probe_runs},
                {"infra_retries", r.stats.infra_retries},
                {"runs", r.stats.runs},
                {"step_seconds", r.stats.step_seconds}};
}

void from_json(const nlohmann::json& j, ExploreResult& r) {
  r = ExploreResult{};
  r.lupa_version = j.value("lupa_version", "");
  r.binary = j.at("binary").get<std::string>();
  r.args = j.value("args", std::vector<std::string>{});
  r.mode = j.value("mode", "");
  r.strategy = j.value("strategy", "");
  if (j.contains("discovery")) {
    r.discovery = j.at("discovery").value("backend", "");
    r.discovery_complete = j.at("discovery").value("complete", true);
  }
  r.replicas = j.value("replicas", 1);
  r.only_consider = optional_field<std::string>(j, "only_consider");
  for (const nlohmann::json& s : j.at("syscalls")) {
    SyscallResult out;
    out.nr = s.at("nr").get<int>();
    out.name = s.value("name", "");
    out.count = s.value("count", uint64_t{0});
    out.stub = replicas_from(s, "stub");
    out.fake = replicas_from(s, "fake");
    r.syscalls.push_back(std::move(out));
  }
  for (const nlohmann::json& f : j.value("features", nlohmann::json::array())) {
    FeatureResult out;
    out.nr = f.at("nr").get<int>();
    out.syscall = f.value("syscall", "");
    out.arg = f.value("arg", 0u);
    out.value = f.at("value").get<uint64_t>();
    out.mask = f.value("mask", uint64_t{0});
    out.symbol = f.value("symbol", "");
    out.count = f.value("count", uint64_t{0});
    out.stub = replicas_from(f, "stub");
    out.fake = replicas_from(f, "fake");
    r.features.push_back(std::move(out));
  }
  for (const nlohmann::json& p : j.value("paths", nlohmann::json::array())) {
    PathResult out;
    out.path = p.at("path").get<std::string>();
    out.count = p.value("count", uint64_t{0});
    out.syscalls = p.value("syscalls", std::vector<std::string>{});
    out.enoent = replicas_from(p, "enoent");
    out.empty = replicas_from(p, "empty");
    r.paths.push_back(std::move(out));
  }
  r.static_syscalls = optional_field<std::vector<int>>(j, "static_syscalls");
  if (j.contains("collective")) {
    const nlohmann::json& c = j.at("collective");
    r.collective.ran = c.value("ran", false);
    r.collective.all_stubs_work = optional_field<bool>(c, "all_stubs_work");
    r.collective.all_fakes_work = optional_field<bool>(c, "all_fakes_work");
    r.collective.stubs_and_fakes_work = optional_field<bool>(c, "stubs_and_fakes_work");
    for (const nlohmann::json& conflict : c.value("conflicts", nlohmann::json::array())) {
      r.collective.conflicts.push_back({conflict.value("stubbed", std::vector<int>{}),
                                        conflict.value("faked", std::vector<int>{})});
    }
  }
  if (j.contains("stats")) {
    const nlohmann::json& s = j.at("stats");
    r.stats.probe_runs = s.value("probe_runs", uint64_t{0});
    r.stats.infra_retries = s.value("infra_retries", uint64_t{0});
    r.stats.step_seconds = s.value("step_seconds", std::map<std::string, double>{});
    r.stats.runs = s.value("runs", std::map<std::string, uint64_t>{});
  }
}

} // namespace core
