#include "core/discovery.h"

#include "core/syscalls.h"

#include <nlohmann/json.hpp>

#include <charconv>

namespace core {


void to_json(nlohmann::json& j, const Discovery& d) {
  nlohmann::json counts = nlohmann::json::array();
  for (const auto& [nr, count] : d.counts) {
    counts.push_back({{"nr", nr}, {"name", SyscallTable::get().name(nr)}, {"count", count}});
  }
  nlohmann::json features = nlohmann::json::array();
  for (const auto& [key, count] : d.features) {
    nlohmann::json f = {{"nr", key.nr},
                        {"arg", key.arg},
                        {"value", key.value},
                        {"mask", key.mask},
                        {"count", count}};
    if (key.arg2 >= 0) {
      f["arg2"] = key.arg2;
      f["value2"] = key.value2;
      f["mask2"] = key.mask2;
    }
    features.push_back(std::move(f));
  }
  nlohmann::json paths = nlohmann::json::array();
  for (const auto& [path, use] : d.paths) {
    paths.push_back({{"path", path}, {"count", use.count}, {"syscalls", use.syscalls}});
  }
  j = {{"backend", d.backend},
       {"syscalls", std::move(counts)},
       {"startup", counts_to_json(d.startup)},
       {"before_verdict", counts_to_json(d.before_verdict)},
       {"features", std::move(features)},
       {"paths", std::move(paths)},
       {"libraries", d.libraries},
       {"complete", d.complete},
       {"lost_events", d.lost_events},
       {"incomplete_reason", d.incomplete_reason},
       {"seconds", d.seconds}};
}

void from_json(const nlohmann::json& j, Discovery& d) {
  d = Discovery{};
  d.backend = j.value("backend", "");
  for (const nlohmann::json& s : j.at("syscalls")) {
    d.counts[s.at("nr").get<int>()] = s.value("count", uint64_t{0});
  }
  d.startup = counts_from_json(j, "startup");
  d.before_verdict = counts_from_json(j, "before_verdict");
  for (const nlohmann::json& f : j.value("features", nlohmann::json::array())) {
    FeatureKey key{f.at("nr").get<int>(), f.at("arg").get<unsigned>(), f.at("value").get<uint64_t>(),
                   f.value("mask", uint64_t{0})};
    key.arg2 = f.value("arg2", -1);
    key.value2 = f.value("value2", uint64_t{0});
    key.mask2 = f.value("mask2", uint64_t{0});
    d.features[key] = f.value("count", uint64_t{0});
  }
  for (const nlohmann::json& p : j.value("paths", nlohmann::json::array())) {
    PathUse use;
    use.count = p.value("count", uint64_t{0});
    use.syscalls = p.value("syscalls", std::set<std::string>{});
    d.paths[p.at("path").get<std::string>()] = std::move(use);
  }
  d.libraries = j.value("libraries", std::set<std::string>{});
  d.complete = j.value("complete", true);
  d.lost_events = j.value("lost_events", uint64_t{0});
  d.incomplete_reason = j.value("incomplete_reason", "");
  d.seconds = j.value("seconds", 0.0);
}

} // namespace core
