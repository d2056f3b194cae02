#include "db/diff.h"

#include "core/syscalls.h"
#include "util/fs.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace db {

namespace {

std::map<int, SyscallClass> classes_of(const RunData& run) {
  std::map<int, SyscallClass> out;
  for (const auto& [nr, cls] : classify(run)) {
    out[nr] = cls;
  }
  return out;
}

std::string replica_detail(const core::SyscallResult& a, const core::SyscallResult& b) {
  std::vector<std::string> parts;
  auto bit = [&](const char* what, const core::Replicas& x, const core::Replicas& y) {
    if (x.merged() != y.merged()) {
      parts.push_back(fmt::format("{}: {} -> {}", what, core::to_string(x.merged()),
                                  core::to_string(y.merged())));
    }
  };
  bit("stub", a.stub, b.stub);
  bit("fake", a.fake, b.fake);
  std::string out;
  for (const std::string& p : parts) {
    out += (out.empty() ? "" : ", ") + p;
  }
  return out;
}

template <typename T, typename KeyF, typename ValueF>
std::vector<ItemChange> diff_items(const std::vector<T>& before, const std::vector<T>& after,
                                   KeyF key, ValueF value) {
  std::map<std::string, std::string> a;
  std::map<std::string, std::string> b;
  for (const T& x : before) {
    a[key(x)] = value(x);
  }
  for (const T& x : after) {
    b[key(x)] = value(x);
  }
  std::set<std::string> keys;
  for (const auto& [k, v] : a) {
    keys.insert(k);
  }
  for (const auto& [k, v] : b) {
    keys.insert(k);
  }
  std::vector<ItemChange> out;
  for (const std::string& k : keys) {
    std::string x = a.contains(k) ? a[k] : "";
    std::string y = b.contains(k) ? b[k] : "";
    if (x != y) {
      out.push_back({k, x, y});
    }
  }
  return out;
}

std::string feature_key(const core::FeatureResult& f) {
  std::string symbol = f.symbol.empty() ? "" : " " + f.symbol;
  auto condition = [](int arg, uint64_t mask, uint64_t value) {
    return mask == 0 ? fmt::format("arg{}={:#x}", arg, value)
                     : fmt::format("arg{}&{:#x}={:#x}", arg, mask, value);
  };
  std::string second = f.arg2 < 0 ? "" : "," + condition(f.arg2, f.mask2, f.value2);
  return fmt::format("{} {}{}{}", f.syscall, condition(static_cast<int>(f.arg), f.mask, f.value),
                     second, symbol);
}

std::string feature_value(const core::FeatureResult& f) {
  return fmt::format("stub {}, fake {}", core::to_string(f.stub.merged()),
                     core::to_string(f.fake.merged()));
}

std::string path_value(const core::PathResult& p) {
  return fmt::format("enoent {}, empty {}", core::to_string(p.enoent.merged()),
                     core::to_string(p.empty.merged()));
}

nlohmann::json change_json(const SyscallChange& c) {
  return {{"nr", c.nr}, {"name", c.name}, {"before", to_string(c.before)},
          {"after", to_string(c.after)}, {"detail", c.detail}};
}

nlohmann::json items_json(const std::vector<ItemChange>& items) {
  nlohmann::json out = nlohmann::json::array();
  for (const ItemChange& i : items) {
    out.push_back({{"item", i.item}, {"before", i.before}, {"after", i.after}});
  }
  return out;
}

} // namespace

bool RunDiff::same_results() const {
  return appeared.empty() && vanished.empty() && changed.empty() && features.empty() &&
         paths.empty() && static_added.empty() && static_removed.empty();
}

RunDiff diff_runs(const RunData& before, const RunData& after) {
  RunDiff d;
  d.before = before.ref.key();
  d.after = after.ref.key();
  const core::SyscallTable& table = core::SyscallTable::get();
  std::map<int, SyscallClass> a = classes_of(before);
  std::map<int, SyscallClass> b = classes_of(after);
  std::set<int> numbers;
  for (const auto& [nr, cls] : a) {
    numbers.insert(nr);
  }
  for (const auto& [nr, cls] : b) {
    numbers.insert(nr);
  }
  for (int nr : numbers) {
    SyscallChange c{nr, table.name(nr), SyscallClass::unused, SyscallClass::unused, ""};
    bool in_a = a.contains(nr);
    bool in_b = b.contains(nr);
    if (in_a) {
      c.before = a[nr];
    }
    if (in_b) {
      c.after = b[nr];
    }
    if (!in_a) {
      d.appeared.push_back(c);
    } else if (!in_b) {
      d.vanished.push_back(c);
    } else if (c.before != c.after) {
      if (before.result && after.result) {
        c.detail = replica_detail(*before.result->find(nr), *after.result->find(nr));
      }
      d.changed.push_back(c);
    } else {
      ++d.unchanged;
    }
  }
  if (before.result && after.result) {
    d.features = diff_items(before.result->features, after.result->features, feature_key, feature_value);
    d.paths = diff_items(before.result->paths, after.result->paths,
                         [](const core::PathResult& p) { return p.path; }, path_value);
  }
  if (before.static_used && after.static_used) {
    std::set<int> x(before.static_used->begin(), before.static_used->end());
    std::set<int> y(after.static_used->begin(), after.static_used->end());
    std::set_difference(y.begin(), y.end(), x.begin(), x.end(), std::back_inserter(d.static_added));
    std::set_difference(x.begin(), x.end(), y.begin(), y.end(), std::back_inserter(d.static_removed));
  }
  if (before.provenance && after.provenance) {
    d.provenance_compared = true;
    d.provenance = diff_provenance(*before.provenance, *after.provenance);
  }
  return d;
}

std::string format_diff(const RunDiff& d) {
  std::string out = fmt::format("before: {}\nafter:  {}\n", d.before, d.after);
  out += fmt::format("syscalls: {} appeared, {} vanished, {} changed, {} unchanged\n",
                     d.appeared.size(), d.vanished.size(), d.changed.size(), d.unchanged);
  for (const SyscallChange& c : d.appeared) {
    out += fmt::format("  + {:<4} {:<22} {}\n", c.nr, c.name, to_string(c.after));
  }
  for (const SyscallChange& c : d.vanished) {
    out += fmt::format("  - {:<4} {:<22} was {}\n", c.nr, c.name, to_string(c.before));
  }
  for (const SyscallChange& c : d.changed) {
    out += fmt::format("  ~ {:<4} {:<22} {} -> {}{}\n", c.nr, c.name, to_string(c.before),
                       to_string(c.after), c.detail.empty() ? "" : " (" + c.detail + ")");
  }
  if (!d.static_added.empty() || !d.static_removed.empty()) {
    const core::SyscallTable& table = core::SyscallTable::get();
    std::string added, removed;
    for (int nr : d.static_added) {
      added += " " + table.name(nr);
    }
    for (int nr : d.static_removed) {
      removed += " " + table.name(nr);
    }
    out += fmt::format("static binary set: +{} -{}\n", d.static_added.size(), d.static_removed.size());
    if (!added.empty()) {
      out += "  +" + added + "\n";
    }
    if (!removed.empty()) {
      out += "  -" + removed + "\n";
    }
  }
  auto items = [&](const char* title, const std::vector<ItemChange>& list) {
    if (list.empty()) {
      return;
    }
    out += fmt::format("{}: {} changed\n", title, list.size());
    for (const ItemChange& i : list) {
      out += fmt::format("  {}: {} -> {}\n", i.item, i.before.empty() ? "absent" : i.before,
                         i.after.empty() ? "absent" : i.after);
    }
  };
  items("sub-features", d.features);
  items("pseudo-files", d.paths);
  if (!d.provenance_compared) {
    out += "provenance: not compared (a Loupe run records none)\n";
  } else if (d.provenance.empty()) {
    out += "provenance: identical\n";
  } else {
    out += fmt::format("provenance: {} fields differ\n", d.provenance.size());
    for (const ProvenanceChange& c : d.provenance) {
      out += fmt::format("  {}: {} -> {}\n", c.field, c.before.empty() ? "(none)" : c.before,
                         c.after.empty() ? "(none)" : c.after);
    }
  }
  out += d.same_results() ? "results: identical\n" : "results: differ\n";
  return out;
}

nlohmann::json diff_json(const RunDiff& d) {
  auto changes = [](const std::vector<SyscallChange>& list) {
    nlohmann::json out = nlohmann::json::array();
    for (const SyscallChange& c : list) {
      out.push_back(change_json(c));
    }
    return out;
  };
  nlohmann::json provenance = nullptr;
  if (d.provenance_compared) {
    provenance = nlohmann::json::array();
    for (const ProvenanceChange& c : d.provenance) {
      provenance.push_back({{"field", c.field}, {"before", c.before}, {"after", c.after}});
    }
  }
  return {{"before", d.before},
          {"after", d.after},
          {"same_results", d.same_results()},
          {"appeared", changes(d.appeared)},
          {"vanished", changes(d.vanished)},
          {"changed", changes(d.changed)},
          {"unchanged", d.unchanged},
          {"static_added", d.static_added},
          {"static_removed", d.static_removed},
          {"features", items_json(d.features)},
          {"paths", items_json(d.paths)},
          {"provenance", provenance}};
}

ResultFileProducer::ResultFileProducer(fs::path result, std::optional<fs::path> provenance)
    : m_result(std::move(result)), m_provenance(std::move(provenance)) {}

util::Result<NewRun> ResultFileProducer::produce(const NewRun& stored) {
  NewRun fresh = stored;
  TRY_ASSIGN(std::string text, util::read_file(m_result));
  try {
    fresh.result = nlohmann::json::parse(text).get<core::ExploreResult>();
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{}: {}", m_result.string(), e.what()));
  }
  if (m_provenance) {
    TRY_ASSIGN(std::string prov, util::read_file(*m_provenance));
    TRY_ASSIGN(fresh.provenance, parse_provenance(prov, m_provenance->string()));
  } else {
    Provenance& p = fresh.provenance;
    p.engine.clear();
    p.engine_version.clear();
    p.app_image.clear();
    p.app_image_digest.clear();
    p.timings.clear();
    fill_host_provenance(p);
  }
  fresh.provenance.replicas = fresh.result.replicas;
  fresh.provenance.strategy = fresh.result.strategy;
  return fresh;
}

util::Result<RunData> load_spec(const fs::path& db, std::string_view spec) {
  std::string_view revision;
  std::string_view run = spec;
  if (size_t colon = spec.find(':'); colon != std::string_view::npos) {
    revision = spec.substr(0, colon);
    run = spec.substr(colon + 1);
  }
  TRY_ASSIGN(Database database, Database::open(db, revision));
  TRY_ASSIGN(const RunInfo* info, database.find(run));
  TRY_ASSIGN(RunData data, database.load(*info));
  return data;
}

util::Result<ReproduceReport> reproduce(const Database& database, const RunInfo& run,
                                        RunProducer& producer) {
  TRY_ASSIGN(RunData stored, database.load(run));
  TRY_ASSIGN(NewRun recipe, stored_new_run(database.snapshot(), stored));
  ReproduceReport report;
  report.stored_key = run.key();
  TRY_ASSIGN(report.fresh, producer.produce(recipe));
  TRY_ASSIGN(RunData fresh, run_data_of(report.fresh));
  report.fresh_key = fresh.ref.key();
  report.diff = diff_runs(stored, fresh);
  report.diff.after = report.fresh_key == report.stored_key ? "fresh run of the same experiment"
                                                            : "fresh run " + report.fresh_key;
  return report;
}

} // namespace db
