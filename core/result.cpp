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

size_t InjectionSet::size() const {
  return stubbed.size() + faked.size() + stubbed_features.size() + faked_features.size() +
         enoent_paths.size() + empty_paths.size();
}

std::vector<int> ExploreResult::required() const {
  std::vector<int> out;
  for (const SyscallResult& s : syscalls) {
    if (s.stub.merged() == Verdict::fails && s.fake.merged() == Verdict::fails) {
      out.push_back(s.nr);
    }
  }
  return out;
}

namespace {

nlohmann::json key_json(const FeatureKey& k) {
  nlohmann::json j = {{"nr", k.nr}, {"arg", k.arg}, {"value", k.value}, {"mask", k.mask}};
  if (k.arg2 >= 0) {
    j["arg2"] = k.arg2;
    j["value2"] = k.value2;
    j["mask2"] = k.mask2;
  }
  return j;
}

FeatureKey key_from(const nlohmann::json& j) {
  FeatureKey k;
  k.nr = j.at("nr").get<int>();
  k.arg = j.value("arg", 0u);
  k.value = j.at("value").get<uint64_t>();
  k.mask = j.value("mask", uint64_t{0});
  k.arg2 = j.value("arg2", -1);
  k.value2 = j.value("value2", uint64_t{0});
  k.mask2 = j.value("mask2", uint64_t{0});
  return k;
}

nlohmann::json keys_json(const std::vector<FeatureKey>& keys) {
  nlohmann::json out = nlohmann::json::array();
  for (const FeatureKey& k : keys) {
    out.push_back(key_json(k));
  }
  return out;
}

std::vector<FeatureKey> keys_from(const nlohmann::json& j, const char* field) {
  std::vector<FeatureKey> out;
  for (const nlohmann::json& k : j.value(field, nlohmann::json::array())) {
    out.push_back(key_from(k));
  }
  return out;
}

nlohmann::json set_json(const InjectionSet& s) {
  return {{"stubbed", s.stubbed},
          {"faked", s.faked},
          {"stubbed_features", keys_json(s.stubbed_features)},
          {"faked_features", keys_json(s.faked_features)},
          {"enoent_paths", s.enoent_paths},
          {"empty_paths", s.empty_paths}};
}

InjectionSet set_from(const nlohmann::json& j) {
  InjectionSet s;
  s.stubbed = j.value("stubbed", std::vector<int>{});
  s.faked = j.value("faked", std::vector<int>{});
  s.stubbed_features = keys_from(j, "stubbed_features");
  s.faked_features = keys_from(j, "faked_features");
  s.enoent_paths = j.value("enoent_paths", std::vector<std::string>{});
  s.empty_paths = j.value("empty_paths", std::vector<std::string>{});
  return s;
}

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
    nlohmann::json entry = {{"nr", f.nr},
                            {"syscall", f.syscall},
                            {"arg", f.arg},
                            {"value", f.value},
                            {"mask", f.mask},
                            {"symbol", f.symbol},
                            {"count", f.count},
                            {"stub", replicas_json(f.stub)},
                            {"fake", replicas_json(f.fake)}};
    if (f.arg2 >= 0) {
      entry["arg2"] = f.arg2;
      entry["value2"] = f.value2;
      entry["mask2"] = f.mask2;
    }
    features.push_back(std::move(entry));
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
    conflicts.push_back(set_json(c));
  }
  j["collective"] = {{"ran", r.collective.ran},
                     {"all_stubs_work", optional_json(r.collective.all_stubs_work)},
                     {"all_fakes_work", optional_json(r.collective.all_fakes_work)},
                     {"stubs_and_fakes_work", optional_json(r.collective.stubs_and_fakes_work)},
                     {"conflicts", std::move(conflicts)},
                     {"left_out", set_json(r.collective.left_out)},
                     {"final_works", optional_json(r.collective.final_works)},
                     {"runs", r.collective.runs}};

  std::vector<std::string> unstable_names;
  for (int nr : r.unstable()) {
    unstable_names.push_back(r.find(nr)->name);
  }
  j["unstable"] = unstable_names;
  j["notes"] = r.notes;
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
    out.arg2 = f.value("arg2", -1);
    out.value2 = f.value("value2", uint64_t{0});
    out.mask2 = f.value("mask2", uint64_t{0});
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
      r.collective.conflicts.push_back(set_from(conflict));
    }
    r.collective.left_out = set_from(c.value("left_out", nlohmann::json::object()));
    r.collective.final_works = optional_field<bool>(c, "final_works");
    r.collective.runs = c.value("runs", uint64_t{0});
  }
  r.notes = j.value("notes", std::vector<std::string>{});
  if (j.contains("stats")) {
    const nlohmann::json& s = j.at("stats");
    r.stats.probe_runs = s.value("probe_runs", uint64_t{0});
    r.stats.infra_retries = s.value("infra_retries", uint64_t{0});
    r.stats.step_seconds = s.value("step_seconds", std::map<std::string, double>{});
    r.stats.runs = s.value("runs", std::map<std::string, uint64_t>{});
  }
}

} // namespace core
