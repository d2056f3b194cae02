#include "analysis/search.h"

#include "analysis/text_table.h"
#include "core/syscalls.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <map>

namespace analysis {

namespace {

constexpr Need k_needs[] = {Need::required, Need::stub_only, Need::fake_only, Need::both};

std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) {
    return std::string(text);
  }
  std::string out = "\"";
  for (char c : text) {
    out += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return out + "\"";
}

nlohmann::json names_json(const std::vector<int>& numbers) {
  nlohmann::json out = nlohmann::json::array();
  for (int nr : numbers) {
    out.push_back(core::SyscallTable::get().name(nr));
  }
  return out;
}

std::string json_key(Need need) {
  std::string key = to_string(need);
  for (char& c : key) {
    c = c == '-' ? '_' : c;
  }
  return key;
}

} // namespace

size_t SyscallApps::users() const {
  return required_by.size() + stub_only.size() + fake_only.size() + both.size();
}

std::vector<int> SearchResult::set_with(Need need) const {
  std::vector<int> out;
  for (const SyscallApps& s : syscalls) {
    if (s.set_need == need) {
      out.push_back(s.nr);
    }
  }
  return out;
}

SearchResult search(const Dataset& dataset, const std::vector<std::string>& apps,
                    WorkloadFilter workload) {
  SearchResult result;
  result.workload = workload;
  std::map<int, SyscallApps> per_syscall;
  std::map<int, std::vector<Need>> needs;
  for (const std::string& name : apps) {
    const AppRuns* runs = dataset.find(name);
    AppUsage usage = runs ? app_usage(*runs, workload) : AppUsage{name};
    if (!usage.has_data()) {
      result.no_data.push_back(name);
      continue;
    }
    for (const auto& [nr, need] : usage.used) {
      SyscallApps& s = per_syscall[nr];
      s.nr = nr;
      needs[nr].push_back(need);
      switch (need) {
      case Need::required:
        s.required_by.push_back(name);
        break;
      case Need::stub_only:
        s.stub_only.push_back(name);
        break;
      case Need::fake_only:
        s.fake_only.push_back(name);
        break;
      case Need::both:
        s.both.push_back(name);
        break;
      }
    }
    result.apps.push_back(std::move(usage));
  }
  for (auto& [nr, s] : per_syscall) {
    s.name = core::SyscallTable::get().name(nr);
    s.set_need = combine_needs(needs[nr]);
    result.syscalls.push_back(std::move(s));
  }
  return result;
}

std::string format_search_table(const SearchResult& result, ShowUsage show) {
  std::string out;
  out += fmt::format("Workload: {}; {} app(s) with data", to_string(result.workload),
                     result.apps.size());
  if (!result.no_data.empty()) {
    out += fmt::format("; no data for this workload: {}", util::join(result.no_data, ", "));
  }
  out += "\n\n";

  TextTable counts({"app", "used", "required", "stub-only", "fake-only", "both", "runs"},
                   {Align::left, Align::right, Align::right, Align::right, Align::right,
                    Align::right, Align::left});
  for (const AppUsage& app : result.apps) {
    counts.add_row({app.app, std::to_string(app.used.size()),
                    std::to_string(app.with(Need::required).size()),
                    std::to_string(app.with(Need::stub_only).size()),
                    std::to_string(app.with(Need::fake_only).size()),
                    std::to_string(app.with(Need::both).size()), util::join(app.runs, " ")});
  }
  out += counts.render();
  out +=
      fmt::format("\nAll {} app(s) together: {} syscalls used; {} required, {} stub-only, "
                  "{} fake-only, {} both\n",
                  result.apps.size(), result.syscalls.size(),
                  result.set_with(Need::required).size(), result.set_with(Need::stub_only).size(),
                  result.set_with(Need::fake_only).size(), result.set_with(Need::both).size());
  if (show == ShowUsage::no) {
    return out;
  }

  for (const AppUsage& app : result.apps) {
    out += fmt::format("\n{}:\n", app.app);
    for (Need need : k_needs) {
      out += fmt::format("  {:<10} {}\n", std::string(to_string(need)) + ":",
                         name_list(app.with(need)));
    }
  }
  out += "\nAll apps together (what one OS must offer to run them all):\n";
  for (Need need : k_needs) {
    out += fmt::format("  {:<10} {}\n", std::string(to_string(need)) + ":",
                       name_list(result.set_with(need)));
  }
  out += "\n";
  TextTable per_syscall({"syscall", "nr", "set needs", "users", "required by", "stub-only in",
                         "fake-only in", "both in"},
                        {Align::left, Align::right, Align::left, Align::right});
  auto apps = [](const std::vector<std::string>& names) {
    return names.empty() ? std::string("-") : util::join(names, " ");
  };
  for (const SyscallApps& s : result.syscalls) {
    per_syscall.add_row({s.name, std::to_string(s.nr), to_string(s.set_need),
                         std::to_string(s.users()), apps(s.required_by), apps(s.stub_only),
                         apps(s.fake_only), apps(s.both)});
  }
  out += per_syscall.render();
  return out;
}

nlohmann::json search_json(const SearchResult& result) {
  nlohmann::json out;
  out["workload"] = to_string(result.workload);
  out["no_data"] = result.no_data;
  out["apps"] = nlohmann::json::array();
  for (const AppUsage& app : result.apps) {
    nlohmann::json a;
    a["app"] = app.app;
    a["runs"] = app.runs;
    a["used"] = app.used.size();
    for (Need need : k_needs) {
      a[json_key(need)] = names_json(app.with(need));
    }
    out["apps"].push_back(std::move(a));
  }
  nlohmann::json set;
  for (Need need : k_needs) {
    set[json_key(need)] = names_json(result.set_with(need));
  }
  out["all_apps"] = std::move(set);
  out["syscalls"] = nlohmann::json::array();
  for (const SyscallApps& s : result.syscalls) {
    out["syscalls"].push_back({{"nr", s.nr},
                               {"name", s.name},
                               {"set_need", to_string(s.set_need)},
                               {"required_by", s.required_by},
                               {"stub_only", s.stub_only},
                               {"fake_only", s.fake_only},
                               {"both", s.both}});
  }
  return out;
}

std::string format_search_csv(const SearchResult& result, ShowUsage show) {
  std::string out;
  if (show == ShowUsage::no) {
    out = "app,runs,used,required,stub_only,fake_only,both\n";
    for (const AppUsage& app : result.apps) {
      out += fmt::format("{},{},{},{},{},{},{}\n", csv_field(app.app),
                         csv_field(util::join(app.runs, " ")), app.used.size(),
                         app.with(Need::required).size(), app.with(Need::stub_only).size(),
                         app.with(Need::fake_only).size(), app.with(Need::both).size());
    }
    return out;
  }
  out = "app,nr,syscall,need\n";
  for (const AppUsage& app : result.apps) {
    for (const auto& [nr, need] : app.used) {
      out += fmt::format("{},{},{},{}\n", csv_field(app.app), nr,
                         core::SyscallTable::get().name(nr), to_string(need));
    }
  }
  return out;
}

util::Result<std::string> run_search(const SearchRequest& request) {
  TRY_ASSIGN(WorkloadFilter workload, parse_workload_filter(request.workload));
  TRY_ASSIGN(Dataset dataset, load_dataset(request.db));
  TRY_ASSIGN(std::vector<std::string> apps, select_apps(dataset, request.apps));
  SearchResult result = search(dataset, apps, workload);
  switch (request.format) {
  case OutputFormat::json:
    return search_json(result).dump(2) + "\n";
  case OutputFormat::csv:
    return format_search_csv(result, request.show);
  case OutputFormat::table:
    break;
  }
  return format_search_table(result, request.show);
}

} // namespace analysis
