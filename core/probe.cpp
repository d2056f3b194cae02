#include "core/probe.h"

#include "core/syscalls.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <array>
#include <charconv>

namespace core {

namespace {

std::string names(const std::vector<int>& numbers) {
  std::string out;
  for (int nr : numbers) {
    if (!out.empty()) {
      out += ',';
    }
    out += SyscallTable::get().name(nr);
  }
  return out;
}

constexpr std::array<ProbeEnd, 7> k_ends = {
    ProbeEnd::judged,       ProbeEnd::app_exited, ProbeEnd::not_ready, ProbeEnd::app_timeout,
    ProbeEnd::test_timeout, ProbeEnd::app_failed, ProbeEnd::ready};

Injection injection_from(const std::string& s) {
  if (s == "stub") {
    return Injection::stub;
  }
  if (s == "fake") {
    return Injection::fake;
  }
  throw nlohmann::json::other_error::create(501, "unknown injection '" + s + "'", nullptr);
}

} // namespace

bool ArgRule::matches(int call_nr, const std::array<uint64_t, 6>& args) const {
  auto holds = [&](unsigned index, uint64_t want, uint64_t bits) {
    return index < 6 && (bits == 0 ? args[index] == want : (args[index] & bits) == want);
  };
  return call_nr == nr && holds(arg, value, mask) &&
         (arg2 < 0 || holds(static_cast<unsigned>(arg2), value2, mask2));
}

std::string Probe::describe() const {
  std::string out = fmt::format("stub{{{}}} fake{{{}}}", names(stub), names(fake));
  for (const ArgRule& a : args) {
    out += fmt::format(" {}({}:arg{}={:#x}{}{})", to_string(a.injection),
                       SyscallTable::get().name(a.nr), a.arg, a.value,
                       a.mask ? fmt::format("&{:#x}", a.mask) : "",
                       a.arg2 < 0 ? ""
                                  : fmt::format(",arg{}={:#x}{}", a.arg2, a.value2,
                                                a.mask2 ? fmt::format("&{:#x}", a.mask2) : ""));
  }
  for (const PathRule& p : paths) {
    out += fmt::format(" {}({})", to_string(p.action), p.path);
  }
  if (without_app) {
    out += " without-app";
  }
  if (until_ready) {
    out += " until-ready";
  }
  return out;
}

const char* to_string(ProbeEnd end) {
  switch (end) {
  case ProbeEnd::judged:
    return "judged";
  case ProbeEnd::app_exited:
    return "app_exited";
  case ProbeEnd::not_ready:
    return "not_ready";
  case ProbeEnd::app_timeout:
    return "app_timeout";
  case ProbeEnd::test_timeout:
    return "test_timeout";
  case ProbeEnd::app_failed:
    return "app_failed";
  case ProbeEnd::ready:
    return "ready";
  }
  return "judged";
}

void to_json(nlohmann::json& j, const ArgRule& r) {
  j = {{"nr", r.nr},
       {"arg", r.arg},
       {"value", r.value},
       {"mask", r.mask},
       {"injection", to_string(r.injection)}};
  if (r.arg2 >= 0) {
    j["arg2"] = r.arg2;
    j["value2"] = r.value2;
    j["mask2"] = r.mask2;
  }
}

void from_json(const nlohmann::json& j, ArgRule& r) {
  r.nr = j.at("nr").get<int>();
  r.arg = j.at("arg").get<unsigned>();
  r.value = j.at("value").get<uint64_t>();
  r.mask = j.value("mask", uint64_t{0});
  r.injection = injection_from(j.at("injection").get<std::string>());
  r.arg2 = j.value("arg2", -1);
  r.value2 = j.value("value2", uint64_t{0});
  r.mask2 = j.value("mask2", uint64_t{0});
  if (r.nr < 0 || r.nr > k_max_syscall_nr) {
    throw nlohmann::json::other_error::create(501, "syscall number out of range", nullptr);
  }
  if (r.arg > 5 || r.arg2 > 5 || r.arg2 < -1) {
    throw nlohmann::json::other_error::create(501, "argument index out of range (0-5)", nullptr);
  }
}

void to_json(nlohmann::json& j, const PathRule& r) {
  j = {{"path", r.path}, {"action", to_string(r.action)}};
}

void from_json(const nlohmann::json& j, PathRule& r) {
  r.path = j.at("path").get<std::string>();
  if (!r.path.starts_with('/')) {
    throw nlohmann::json::other_error::create(501, "a path rule needs an absolute path", nullptr);
  }
  std::string action = j.at("action").get<std::string>();
  if (action != "enoent" && action != "empty") {
    throw nlohmann::json::other_error::create(501, "unknown path action '" + action + "'", nullptr);
  }
  r.action = action == "enoent" ? PathAction::enoent : PathAction::empty;
}

void to_json(nlohmann::json& j, const Probe& p) {
  j = {{"stub", p.stub}, {"fake", p.fake}, {"args", p.args}, {"paths", p.paths}};
  if (p.without_app) {
    j["without_app"] = true;
  }
  if (p.until_ready) {
    j["until_ready"] = true;
  }
  if (p.count_hits) {
    j["count_hits"] = true;
  }
  if (p.kill_at_verdict) {
    j["kill_at_verdict"] = true;
  }
  if (!p.expect_ports.empty()) {
    j["expect_ports"] = p.expect_ports;
  }
  if (p.expect_processes > 0) {
    j["expect_processes"] = p.expect_processes;
  }
  if (p.ready_timeout_ms > 0) {
    j["ready_timeout_ms"] = p.ready_timeout_ms;
  }
}

void from_json(const nlohmann::json& j, Probe& p) {
  p.stub = j.value("stub", std::vector<int>{});
  p.fake = j.value("fake", std::vector<int>{});
  p.args = j.value("args", std::vector<ArgRule>{});
  p.paths = j.value("paths", std::vector<PathRule>{});
  p.without_app = j.value("without_app", false);
  p.until_ready = j.value("until_ready", false);
  p.count_hits = j.value("count_hits", false);
  p.kill_at_verdict = j.value("kill_at_verdict", false);
  p.expect_ports = j.value("expect_ports", std::vector<int>{});
  p.expect_processes = j.value("expect_processes", 0);
  p.ready_timeout_ms = j.value("ready_timeout_ms", 0);
  for (int nr : p.stub) {
    if (nr < 0 || nr > k_max_syscall_nr) {
      throw nlohmann::json::other_error::create(501, "syscall number out of range", nullptr);
    }
  }
  for (int nr : p.fake) {
    if (nr < 0 || nr > k_max_syscall_nr) {
      throw nlohmann::json::other_error::create(501, "syscall number out of range", nullptr);
    }
  }
}


void to_json(nlohmann::json& j, const ProbeOutcome& o) {
  j = {{"works", o.works},       {"infra_failure", o.infra_failure}, {"test_exit", o.test_exit},
       {"ended", to_string(o.ended)}, {"seconds", o.seconds},           {"retries", o.retries},
       {"note", o.note}};
  if (!o.hits.empty()) {
    j["hits"] = counts_to_json(o.hits);
  }
  if (!o.late_hits.empty()) {
    j["late_hits"] = counts_to_json(o.late_hits);
  }
  if (!o.arg_hits.empty()) {
    j["arg_hits"] = o.arg_hits;
  }
  if (!o.path_hits.empty()) {
    j["path_hits"] = o.path_hits;
  }
  if (o.unreadable_paths > 0) {
    j["unreadable_paths"] = o.unreadable_paths;
  }
  if (!o.listening.empty()) {
    j["listening"] = o.listening;
  }
  if (o.processes > 0) {
    j["processes"] = o.processes;
  }
  if (o.ready_seconds > 0) {
    j["ready_seconds"] = o.ready_seconds;
  }
  if (o.app_exit >= 0) {
    j["app_exit"] = o.app_exit;
  }
}

void from_json(const nlohmann::json& j, ProbeOutcome& o) {
  o.works = j.at("works").get<bool>();
  o.infra_failure = j.value("infra_failure", false);
  o.test_exit = j.value("test_exit", -1);
  std::string ended = j.value("ended", "judged");
  o.ended = ProbeEnd::judged;
  for (ProbeEnd e : k_ends) {
    if (ended == to_string(e)) {
      o.ended = e;
    }
  }
  o.seconds = j.value("seconds", 0.0);
  o.retries = j.value("retries", 0u);
  o.note = j.value("note", "");
  o.hits = counts_from_json(j, "hits");
  o.late_hits = counts_from_json(j, "late_hits");
  o.arg_hits = j.value("arg_hits", std::vector<uint64_t>{});
  o.path_hits = j.value("path_hits", std::vector<uint64_t>{});
  o.unreadable_paths = j.value("unreadable_paths", uint64_t{0});
  o.listening = j.value("listening", std::vector<int>{});
  o.processes = j.value("processes", 0);
  o.ready_seconds = j.value("ready_seconds", 0.0);
  o.app_exit = j.value("app_exit", -1);
}

} // namespace core
