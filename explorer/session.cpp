#include "explorer/session.h"

#include "core/dyn_csv.h"
#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "explorer/baseline.h"
#include "explorer/cancel.h"
#include "explorer/discovery.h"
#include "explorer/local_worker.h"
#include "explorer/progress.h"
#include "explorer/static_analysis.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <chrono>
#include <iostream>
#include <set>

namespace explorer {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

util::log::Level level_of(int verbosity) {
  switch (verbosity) {
  case 0:
    return util::log::Level::quiet;
  case 2:
    return util::log::Level::verbose;
  case 3:
    return util::log::Level::debug;
  default:
    return util::log::Level::normal;
  }
}

WorkerPool local_pool(const AppConfig& config, unsigned jobs) {
  WorkerPool pool;
  for (unsigned i = 0; i < std::max(1u, jobs); ++i) {
    pool.push_back(std::make_unique<LocalWorker>(config, fmt::format("local-{}", i)));
  }
  return pool;
}

std::string names_of(const std::vector<int>& numbers) {
  std::vector<std::string> names;
  for (int nr : numbers) {
    names.push_back(core::SyscallTable::get().name(nr));
  }
  return util::join(names, ", ");
}

// `set` in one line: "stub{a,b} fake{c} stub(ioctl TCGETS) missing(/proc/x) empty(/dev/y)".
std::string set_text(const core::InjectionSet& set) {
  std::vector<std::string> parts;
  if (!set.stubbed.empty()) {
    parts.push_back("stub{" + names_of(set.stubbed) + "}");
  }
  if (!set.faked.empty()) {
    parts.push_back("fake{" + names_of(set.faked) + "}");
  }
  auto features = [&](const char* how, const std::vector<core::FeatureKey>& keys) {
    for (const core::FeatureKey& k : keys) {
      std::string symbol = core::feature_symbol(k);
      parts.push_back(
          fmt::format("{}({} {})", how, core::SyscallTable::get().name(k.nr),
                      symbol.empty() ? fmt::format("arg{}={:#x}", k.arg, k.value) : symbol));
    }
  };
  features("stub", set.stubbed_features);
  features("fake", set.faked_features);
  for (const std::string& p : set.enoent_paths) {
    parts.push_back("missing(" + p + ")");
  }
  for (const std::string& p : set.empty_paths) {
    parts.push_back("empty(" + p + ")");
  }
  return util::join(parts, " ");
}

// The discovery JSON at `path` (as --discover-only prints it).
util::Result<core::Discovery> read_discovery(const std::filesystem::path& path) {
  TRY_ASSIGN(std::string text, util::read_file(path));
  try {
    return nlohmann::json::parse(text).get<core::Discovery>();
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{}: not a discovery JSON: {}", path.string(), e.what()));
  }
}

int static_only(const Options& options) {
  std::vector<std::string> loaded;
  if (!options.discovery.empty()) {
    util::Result<core::Discovery> discovery = read_discovery(options.discovery);
    if (!discovery) {
      throw util::Fatal(discovery.error());
    }
    loaded.assign(discovery->libraries.begin(), discovery->libraries.end());
  }
  util::Result<StaticAnalysis> analysis = analyze_static(options.app.binary, loaded);
  if (!analysis) {
    throw util::Fatal(analysis.error());
  }
  std::cout << nlohmann::json(*analysis).dump(2) << std::endl;
  return 0;
}

int discover_only(const Options& options) {
  util::TempDir scratch("lupa-discovery");
  AppConfig app = options.app;
  app.scratch = scratch.path();
  util::Result<core::Discovery> discovery = discover(app, {});
  if (!discovery) {
    throw util::Fatal(discovery.error());
  }
  std::cout << nlohmann::json(*discovery).dump(2) << std::endl;
  return 0;
}

int explore_app(const Options& options) {
  Clock::time_point start = Clock::now();
  util::TempDir scratch("lupa-explore");
  AppConfig app = options.app;
  app.scratch = scratch.path();
  WorkerPool pool = local_pool(app, options.jobs);
  core::ExploreResult result;

  // Baseline first: the unmodified app passes its test, and the test fails without the app.
  util::log::info("baseline: {} {}", app.binary.string(), util::join(app.args, " "));
  Clock::time_point step = Clock::now();
  util::Result<Baseline> baseline = check_baseline(*pool.front(), app);
  if (!baseline) {
    throw util::Fatal(baseline.error());
  }
  double baseline_seconds = seconds_since(step);
  if (!baseline->ports.empty()) {
    std::vector<std::string> ports;
    for (int port : baseline->ports) {
      ports.push_back(std::to_string(port));
    }
    util::log::verbose("baseline: the app is ready once it listens on port {}",
                       util::join(ports, ", "));
  }

  // Discovery: every syscall the app makes under its workload, traced (or given).
  step = Clock::now();
  util::Result<core::Discovery> discovery;
  if (!options.discovery.empty()) {
    discovery = read_discovery(options.discovery);
  } else {
    util::log::info("discovery: tracing the app under its workload");
    DiscoveryOptions discovery_options;
    discovery_options.expect_ports = baseline->ports;
    discovery_options.expect_processes = baseline->processes;
    discovery = discover(app, discovery_options);
  }
  if (!discovery) {
    throw util::Fatal(discovery.error());
  }
  double discovery_seconds = seconds_since(step);
  util::log::info("discovery: {} syscalls used ({:.1f} s)", discovery->counts.size(),
                  discovery_seconds);
  if (!discovery->complete) {
    util::log::warn("discovery is incomplete: {}", discovery->incomplete_reason);
  }

  // Static analysis: what the binary (the --only-consider one, for a harness) and its libraries
  // can call, to tell which reachable calls the workload never exercised.
  std::optional<StaticAnalysis> analysis;
  double static_seconds = 0;
  if (options.static_analysis) {
    step = Clock::now();
    std::filesystem::path target = app.only_consider.value_or(app.binary);
    std::vector<std::string> loaded(discovery->libraries.begin(), discovery->libraries.end());
    util::Result<StaticAnalysis> analysed = analyze_static(target, loaded);
    static_seconds = seconds_since(step);
    if (analysed) {
      analysis = std::move(*analysed);
      util::log::info("static analysis: {} syscalls reachable in {} objects ({:.1f} s)",
                      analysis->syscalls.size(), analysis->objects.size(), static_seconds);
    } else {
      util::log::warn("static analysis skipped: {}", analysed.error());
    }
  }

  // Exploration: every used syscall, sub-feature and pseudo-file, judged by the test script,
  // then all working verdicts at once.
  util::Result<std::vector<int>> only = syscall_numbers(options.only_syscalls);
  ExploreOptions explore_options =
      explore_options_for(*baseline, app, options.strategy, options.replicas, *only);
  explore_options.parts = options.parts;
  ProgressDisplay display;
  explore_options.progress = [&](const Progress& p) { display.update(p); };
  util::log::info("exploration: {} strategy, {} worker(s), {} replica(s); {} sub-features, {} "
                  "pseudo-files",
                  to_string(options.strategy), pool.size(), options.replicas,
                  options.parts.features ? discovery->features.size() : 0,
                  options.parts.paths ? discovery->paths.size() : 0);
  result = explore(*discovery, pool, explore_options);
  display.done();

  // Result files: all or nothing.
  result.lupa_version = LUPA_VERSION;
  result.binary = app.binary.string();
  result.args = app.args;
  result.mode = to_string(app.mode);
  if (app.only_consider) {
    result.only_consider = app.only_consider->string();
  }
  result.stats.probe_runs += baseline->runs;
  result.stats.runs["baseline"] = baseline->runs;
  result.stats.step_seconds["baseline"] = baseline_seconds;
  result.stats.step_seconds["discovery"] = discovery_seconds;
  if (analysis) {
    result.static_syscalls = analysis->syscalls;
    result.stats.step_seconds["static"] = static_seconds;
  }
  result.stats.step_seconds["total"] = seconds_since(start);
  std::string json = nlohmann::json(result).dump(2) + "\n";
  std::string csv = core::write_dyn_csv(core::dyn_rows(result));
  std::vector<std::pair<std::string, std::string>> files{{"results.json", json}};
  if (options.output_csv) {
    files.emplace_back("dyn.csv", csv);
    files.emplace_back("features.csv", core::write_features_csv(result.features));
    files.emplace_back("pseudo_files.csv", core::write_pseudo_files_csv(result.paths));
    if (result.static_syscalls) {
      files.emplace_back("static_binary.csv", core::write_static_csv(*result.static_syscalls));
      files.emplace_back("coverage.csv", core::write_coverage_csv(result));
    }
  }
  if (util::Result<void> written = write_files_atomically(options.out, files); !written) {
    throw util::Fatal(written.error());
  }

  std::vector<int> unstable = result.unstable();
  if (!unstable.empty()) {
    util::log::warn("unstable verdicts (replicas disagree): {}", names_of(unstable));
  }
  if (!options.only_syscalls.empty()) {
    util::log::warn("only {} of {} used syscalls were explored (--only-syscalls); dyn.csv marks "
                    "the others as required",
                    explore_options.only_syscalls.size(), result.syscalls.size());
  }
  std::cout << (options.json ? json : options.output_csv ? csv : summary_text(result));
  std::cout.flush();
  util::log::info("done in {:.1f} s: {} probe runs; results in {}", seconds_since(start),
                  result.stats.probe_runs, options.out.string());
  return 0;
}

} // namespace

ExploreOptions explore_options_for(const Baseline& baseline, const AppConfig& app,
                                   Strategy strategy, unsigned replicas,
                                   std::vector<int> only_syscalls) {
  ExploreOptions options;
  options.strategy = strategy;
  options.replicas = replicas;
  options.only_syscalls = std::move(only_syscalls);
  options.expect_ports = baseline.ports;
  options.expect_processes = baseline.processes;
  // A probe waits for readiness ten times what the unmodified app needed (an injection may
  // slow its start; Loupe waits a fixed 0.4 s), at least a second, at most the app's ready
  // timeout.
  double seconds = std::clamp(baseline.ready_seconds * 10, 1.0,
                              std::chrono::duration<double>(app.ready_timeout).count());
  options.ready_timeout_ms = static_cast<int>(seconds * 1000);
  options.screening = strategy == Strategy::group && app.mode == Mode::benchmark &&
                              app.startup == Startup::detect
                          ? Screening::yes
                          : Screening::no;
  return options;
}

int run_session(Options& options) {
  util::log::set_level(level_of(options.verbosity));
  if (util::Result<void> valid = validate(options); !valid) {
    throw util::Fatal(valid.error());
  }
  switch (options.action) {
  case Action::worker: {
    util::TempDir scratch("lupa-worker");
    AppConfig app = options.app;
    app.scratch = scratch.path();
    LocalWorker worker(app, "worker");
    serve_worker(worker, std::cin, std::cout, &app);
    return 0;
  }
  case Action::discover_only:
    return discover_only(options);
  case Action::static_only:
    return static_only(options);
  case Action::explore:
    return explore_app(options);
  }
  return 1;
}

void serve_worker(Worker& worker, std::istream& in, std::ostream& out, const AppConfig* app) {
  out << nlohmann::json{{"ready", true}}.dump() << std::endl;
  std::string line;
  while (std::getline(in, line)) {
    if (util::trim(line).empty()) {
      continue;
    }
    nlohmann::json reply = {{"id", nullptr}};
    try {
      nlohmann::json request = nlohmann::json::parse(line);
      if (request.contains("id")) {
        reply["id"] = request.at("id");
      }
      if (request.contains("discover")) {
        if (app == nullptr) {
          throw util::Fatal("this worker does not discover");
        }
        const nlohmann::json& d = request.at("discover");
        DiscoveryOptions options;
        options.expect_ports = d.value("expect_ports", std::vector<int>{});
        options.expect_processes = d.value("expect_processes", 0);
        util::Result<core::Discovery> discovery = discover(*app, options);
        if (!discovery) {
          throw util::Fatal(discovery.error());
        }
        reply["discovery"] = *discovery;
      } else if (request.contains("static")) {
        // Static analysis of a binary in the worker's file system (the app's image).
        const nlohmann::json& a = request.at("static");
        util::Result<StaticAnalysis> analysis =
            analyze_static(a.at("binary").get<std::string>(),
                           a.value("loaded", std::vector<std::string>{}));
        if (!analysis) {
          throw util::Fatal(analysis.error());
        }
        reply["static"] = *analysis;
      } else {
        core::Probe probe = request.at("probe").get<core::Probe>();
        reply["outcome"] = worker.run(probe);
      }
    } catch (const nlohmann::json::exception& e) {
      reply["error"] = fmt::format("malformed request: {}", e.what());
    } catch (const util::Fatal& e) {
      throw_if_cancelled();
      reply["error"] = e.what();
    }
    out << reply.dump() << std::endl;
  }
}

std::string summary_text(const core::ExploreResult& result) {
  std::vector<int> used;
  std::vector<int> required;
  std::vector<int> stub_only;
  std::vector<int> fake_only;
  std::vector<int> both;
  std::vector<int> untested;
  for (const core::SyscallResult& s : result.syscalls) {
    used.push_back(s.nr);
    core::Verdict stub = s.stub.merged();
    core::Verdict fake = s.fake.merged();
    if (stub == core::Verdict::untested && fake == core::Verdict::untested) {
      untested.push_back(s.nr);
    } else if (stub == core::Verdict::works && fake == core::Verdict::works) {
      both.push_back(s.nr);
    } else if (stub == core::Verdict::works) {
      stub_only.push_back(s.nr);
    } else if (fake == core::Verdict::works) {
      fake_only.push_back(s.nr);
    } else if (stub == core::Verdict::fails && fake == core::Verdict::fails) {
      required.push_back(s.nr);
    }
  }
  std::vector<int> unstable = result.unstable();
  size_t n = used.size();
  std::string out;
  auto section = [&](const std::string& title, const std::vector<int>& numbers) {
    out += fmt::format("{}: {}/{}\n", title, numbers.size(), n);
    if (!numbers.empty()) {
      out += "  " + names_of(numbers) + "\n";
    }
  };
  out += fmt::format("Used system calls: {}\n  {}\n", n, names_of(used));
  section("Require an implementation", required);
  section("Work stubbed (not faked)", stub_only);
  section("Work faked (not stubbed)", fake_only);
  section("Work stubbed and faked", both);
  section("Unstable (replicas disagree)", unstable);
  if (!untested.empty()) {
    section("Not explored", untested);
  }
  out += depth_text(result);
  return out;
}

std::string depth_text(const core::ExploreResult& result) {
  std::string out;
  auto verdicts = [](const char* a, const core::Replicas& ra, const char* b,
                     const core::Replicas& rb) {
    return fmt::format("{} {}, {} {}", a, core::to_string(ra.merged()), b,
                       core::to_string(rb.merged()));
  };
  if (!result.features.empty()) {
    out += fmt::format("Sub-features: {}\n", result.features.size());
    for (const core::FeatureResult& f : result.features) {
      std::string what = f.symbol.empty() ? fmt::format("arg{}={:#x}", f.arg, f.value) : f.symbol;
      out +=
          fmt::format("  {} {}: {}\n", f.syscall, what, verdicts("stub", f.stub, "fake", f.fake));
    }
  }
  if (!result.paths.empty()) {
    out += fmt::format("Pseudo-files: {}\n", result.paths.size());
    for (const core::PathResult& p : result.paths) {
      out += fmt::format("  {}: {}\n", p.path, verdicts("missing", p.enoent, "empty", p.empty));
    }
  }
  if (result.static_syscalls) {
    std::set<int> statically(result.static_syscalls->begin(), result.static_syscalls->end());
    std::vector<int> never_exercised;
    std::vector<int> missed;
    for (int nr : statically) {
      if (result.find(nr) == nullptr) {
        never_exercised.push_back(nr);
      }
    }
    for (const core::SyscallResult& s : result.syscalls) {
      if (!statically.contains(s.nr)) {
        missed.push_back(s.nr);
      }
    }
    out += fmt::format("Static {} / used {} / required {} (static analysis, workload, "
                       "exploration)\n",
                       statically.size(), result.syscalls.size(), result.required().size());
    if (!never_exercised.empty()) {
      out += fmt::format("Coverage warning: {} statically reachable syscalls were never "
                         "exercised by the workload\n  {}\n",
                         never_exercised.size(), names_of(never_exercised));
    }
    if (!missed.empty()) {
      out += fmt::format("Used but not found by static analysis: {}\n  {}\n", missed.size(),
                         names_of(missed));
    }
  }
  for (const std::string& note : result.notes) {
    out += "Note: " + note + "\n";
  }
  const core::CollectiveCheck& c = result.collective;
  if (c.ran) {
    auto word = [](const std::optional<bool>& v) {
      return v ? (*v ? "works" : "fails") : "nothing to check";
    };
    out += fmt::format("Collective check: all stubs {}, all fakes {}, both {}; {} conflicts\n",
                       word(c.all_stubs_work), word(c.all_fakes_work), word(c.stubs_and_fakes_work),
                       c.conflicts.size());
    for (const core::InjectionSet& conflict : c.conflicts) {
      out += "  conflict: " + set_text(conflict) + "\n";
    }
    if (c.left_out.size() > 0) {
      out += fmt::format("  left out so the rest works together ({}): {}\n", word(c.final_works),
                         set_text(c.left_out));
    }
  }
  return out;
}

util::Result<void>
write_files_atomically(const std::filesystem::path& dir,
                       const std::vector<std::pair<std::string, std::string>>& files) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return util::error(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  }
  std::vector<std::filesystem::path> temporaries;
  auto remove_temporaries = [&] {
    for (const std::filesystem::path& t : temporaries) {
      std::filesystem::remove(t, ec);
    }
  };
  for (const auto& [name, content] : files) {
    std::filesystem::path tmp = dir / fmt::format(".{}.lupa-tmp.{}", name, ::getpid());
    temporaries.push_back(tmp);
    if (util::Result<void> written = util::write_file_atomic(tmp, content); !written) {
      remove_temporaries();
      return written;
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    std::filesystem::rename(temporaries[i], dir / files[i].first, ec);
    if (ec) {
      remove_temporaries();
      return util::error(fmt::format("cannot write {}: {}", (dir / files[i].first).string(),
                                     ec.message()));
    }
  }
  return {};
}

} // namespace explorer
