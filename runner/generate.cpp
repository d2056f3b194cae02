#include "runner/generate.h"

#include "core/probe.h"
#include "explorer/baseline.h"
#include "explorer/progress.h"
#include "explorer/session.h"
#include "runner/container_worker.h"
#include "runner/context.h"
#include "runner/loupe_cmd.h"
#include "runner/recipe.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <future>
#include <random>
#include <thread>

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace runner {

namespace {

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// A short random token naming this run's containers.
std::string new_token() {
  std::random_device rd;
  return fmt::format("{:08x}", rd());
}

// Removes the app image on failure (the build cache stays, so a retry is fast).
class ImageGuard {
public:
  ImageGuard(const docker::Engine& engine, std::string image)
      : m_engine(&engine), m_image(std::move(image)) {}
  ImageGuard(const ImageGuard&) = delete;
  ImageGuard& operator=(const ImageGuard&) = delete;
  ~ImageGuard() {
    if (!m_keep) {
      (void)m_engine->remove_image(m_image);
    }
  }
  void keep() { m_keep = true; }

private:
  const docker::Engine* m_engine;
  std::string m_image;
  bool m_keep = false;
};

// Everything one generation knows, filled step by step.
struct Generation {
  explicit Generation(const GenerateOptions& o) : options(o), token(new_token()) {}

  const GenerateOptions& options;
  std::string token;
  Clock::time_point start = Clock::now();
  std::map<std::string, double> seconds; // per step

  // 1. source
  std::optional<Recipe> recipe;
  fs::path context;
  fs::path dockerfile;
  std::string dockerfile_text;
  std::string app;
  db::Workload workload;
  // 2-5
  std::optional<db::Store> store;
  std::optional<docker::Engine> engine;
  docker::BaseImage base;
  std::string image;
  std::string image_id;
  std::optional<ImageGuard> image_guard;
  // 6-7
  explorer::Strategy strategy = explorer::Strategy::group;
  unsigned replicas = 1;
  ContainerSetup setup;
  explorer::WorkerPool pool;
  // 8-10
  explorer::Baseline baseline;
  ContainerDiscovery discovery;
  std::optional<explorer::StaticAnalysis> analysis;
  core::ExploreResult result;
};

// Step timing: `g.seconds[name]` gets the time from construction to destruction.
class StepTimer {
public:
  StepTimer(Generation& g, std::string name) : m_g(g), m_name(std::move(name)) {}
  ~StepTimer() { m_g.seconds[m_name] = seconds_since(m_start); }

private:
  Generation& m_g;
  std::string m_name;
  Clock::time_point m_start = Clock::now();
};

util::Result<void> load_source(Generation& g) {
  const GenerateOptions& o = g.options;
  if (o.recipe) {
    TRY_ASSIGN(Recipe recipe, load_recipe(*o.recipe));
    g.context = recipe.dir;
    g.dockerfile = recipe.dockerfile;
    g.app = recipe.app;
    g.workload = recipe.workload;
    g.recipe = std::move(recipe);
  } else if (o.dockerfile) {
    if (o.app.empty() || !db::is_safe_name(o.app)) {
      return util::error(fmt::format("-a: '{}' is not a valid app name ([A-Za-z0-9._+-])", o.app));
    }
    if (!o.workload) {
      return util::error("-b WORKLOAD or -s [WORKLOAD]: say whether this is a benchmark or a suite");
    }
    std::error_code ec;
    if (!fs::is_regular_file(*o.dockerfile, ec)) {
      return util::error(fmt::format("-d: {}: no such Dockerfile", o.dockerfile->string()));
    }
    g.dockerfile = fs::absolute(*o.dockerfile).lexically_normal();
    g.context = g.dockerfile.parent_path();
    g.app = o.app;
    g.workload = *o.workload;
  } else {
    return util::error("nothing to run: give a recipe (apps/<app>/<workload>.toml) or -d Dockerfile");
  }
  TRY_ASSIGN(g.dockerfile_text, util::read_file(g.dockerfile));
  return {};
}

util::Result<void> open_database(Generation& g) {
  if (!g.options.commit || g.options.discover_only) {
    return {};
  }
  TRY_ASSIGN(db::Store store, db::Store::open(g.options.db, db::CreateMode::create));
  TRY(store.check_clean(g.options.dirty));
  g.store = std::move(store);
  return {};
}

util::Result<void> open_engine(Generation& g) {
  TRY_ASSIGN(docker::Engine engine, docker::Engine::open(g.options.engine));
  util::log::info("engine: {} {}", docker::to_string(engine.kind()), engine.version());
  g.engine = std::move(engine);
  return {};
}

// Build and bootstrap output: shown with -v, kept quiet otherwise.
void show_line(std::string_view line) { util::log::verbose("  | {}", line); }

util::Result<void> ensure_base(Generation& g) {
  TRY_ASSIGN(g.base, docker::ensure_base_image(*g.engine, g.options.base, show_line));
  util::log::info("base image: {} {}{}", g.base.name, g.base.id.substr(0, 19),
                  g.base.created ? " (created)" : "");
  return {};
}

util::Result<void> build_image(Generation& g) {
  g.image = app_image_tag(g.app, g.workload);
  util::log::info("image: building {} from {}", g.image, g.dockerfile.string());
  docker::BuildSpec spec{g.context, g.dockerfile, g.image, {{"lupa.app", g.app}}};
  g.image_guard.emplace(*g.engine, g.image);
  TRY_ASSIGN(g.image_id, g.engine->build(spec, show_line));
  util::log::info("image: {} {}", g.image, g.image_id.substr(0, 19));
  return {};
}

// The explorer's app configuration for a recipe (paths as seen in the container).
explorer::AppConfig app_of_recipe(const Recipe& r) {
  explorer::AppConfig app;
  app.binary = r.binary;
  app.args = r.args;
  if (r.test_script) {
    app.test_script = fs::path(k_recipe_in_container) / r.test_script->lexically_relative(r.dir);
  }
  app.mode = r.workload.kind == db::WorkloadKind::suite ? explorer::Mode::sequential
                                                        : explorer::Mode::benchmark;
  app.timeout = r.timeout;
  app.ready_port = r.ready_port;
  app.ready_log = r.ready_log;
  if (r.ready_timeout) {
    app.ready_timeout = *r.ready_timeout;
  }
  if (r.only_consider) {
    app.only_consider = *r.only_consider;
  }
  return app;
}

util::Result<void> resolve_app(Generation& g) {
  const GenerateOptions& o = g.options;
  explorer::AppConfig app;
  bool startup_given = false;
  std::optional<std::string> workdir;
  if (g.recipe) {
    app = app_of_recipe(*g.recipe);
    g.strategy = o.strategy.value_or(g.recipe->strategy.value_or(explorer::Strategy::group));
    g.replicas = o.replicas.value_or(g.recipe->replicas);
    workdir = g.recipe->workdir;
    g.setup.network = g.recipe->network;
    g.setup.mounts.push_back({g.recipe->dir, k_recipe_in_container, true});
  } else {
    TRY_ASSIGN(docker::Engine::ImageConfig config, g.engine->image_config(g.image));
    TRY_ASSIGN(LoupeCommand loupe, parse_loupe_cmd(config.cmd, g.dockerfile.string()));
    app = loupe.options.app;
    startup_given = loupe.options.startup_given;
    g.strategy = o.strategy.value_or(loupe.options.strategy);
    g.replicas = o.replicas.value_or(loupe.options.replicas);
    workdir = loupe.workdir;
    g.setup.network = "none";
  }
  if (g.workload.kind == db::WorkloadKind::suite && app.mode != explorer::Mode::sequential) {
    util::log::warn("a suite workload whose explorer call lacks --test-sequential: running it "
                    "to completion anyway");
    app.mode = explorer::Mode::sequential;
  }
  if (!startup_given) {
    app.startup = g.strategy == explorer::Strategy::loupe ? explorer::Startup::fixed_sleep
                                                          : explorer::Startup::detect;
  }
  app.on_early_exit = g.strategy == explorer::Strategy::loupe ? explorer::OnEarlyExit::run_test
                                                               : explorer::OnEarlyExit::fail_at_once;
  g.setup.image = g.image;
  g.setup.explorer = o.explorer.empty() ? default_explorer() : o.explorer;
  std::error_code ec;
  if (g.setup.explorer.empty() || !util::is_executable_file(g.setup.explorer)) {
    return util::error(fmt::format(
        "lupa-explore not found{} (HINT: build it with `make build`, or pass --explorer PATH)",
        g.setup.explorer.empty() ? "" : " at " + g.setup.explorer.string()));
  }
  g.setup.explorer = fs::canonical(g.setup.explorer, ec);
  g.setup.workdir = workdir;
  g.setup.app = std::move(app);
  g.setup.strategy = g.strategy;
  g.setup.token = g.token;
  return {};
}

util::Result<void> start_workers(Generation& g) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  unsigned count = g.strategy == explorer::Strategy::loupe || g.options.discover_only ? 1
                   : g.options.jobs > 0                                             ? g.options.jobs
                                                                                    : cores;
  util::log::info("workers: starting {} container(s) of {}", count, g.image);
  TRY_ASSIGN(g.pool, start_pool(*g.engine, g.setup, count));
  return {};
}

util::Result<void> check_baseline(Generation& g) {
  util::log::info("baseline: {} {}", g.setup.app.binary.string(), util::join(g.setup.app.args, " "));
  TRY_ASSIGN(g.baseline, explorer::check_baseline(*g.pool.front(), g.setup.app));
  // Every other worker runs the unmodified app once too: probes then start from the same
  // container state everywhere (what the app's first run leaves: its directories, pid files),
  // whichever worker runs them. As in Loupe, runs in one container see what earlier ones left.
  core::Probe warm_up;
  warm_up.expect_ports = g.baseline.ports;
  warm_up.expect_processes = g.baseline.processes;
  std::vector<std::future<core::ProbeOutcome>> runs;
  for (size_t i = 1; i < g.pool.size(); ++i) {
    explorer::Worker* worker = g.pool[i].get();
    runs.push_back(std::async(std::launch::async, [worker, &warm_up] { return worker->run(warm_up); }));
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    core::ProbeOutcome outcome = runs[i].get();
    if (!outcome.works) {
      return util::error(fmt::format("{}: the unmodified app failed its test ({}{})",
                                     g.pool[i + 1]->name(), core::to_string(outcome.ended),
                                     outcome.note.empty() ? "" : ": " + outcome.note));
    }
  }
  g.baseline.runs += runs.size();
  return {};
}

util::Result<void> discover(Generation& g) {
  auto& first = dynamic_cast<ContainerWorker&>(*g.pool.front());
  TRY_ASSIGN(g.discovery,
             discover_in_container(g.setup, first, g.baseline, g.options.discovery));
  util::log::info("discovery: {} syscalls used ({}, {:.1f} s)", g.discovery.discovery.counts.size(),
                  g.discovery.discovery.backend, g.discovery.discovery.seconds);
  return {};
}

// Never fatal: a binary the analysis cannot read (not x86-64 ELF, a script) only loses the
// static set and its coverage warning, as with lupa-explore on the host.
void analyze(Generation& g) {
  auto& first = dynamic_cast<ContainerWorker&>(*g.pool.front());
  const explorer::AppConfig& app = g.setup.app;
  fs::path target = app.only_consider.value_or(app.binary);
  const std::set<std::string>& libraries = g.discovery.discovery.libraries;
  util::Result<explorer::StaticAnalysis> analysis =
      first.analyze_static(target, {libraries.begin(), libraries.end()});
  if (!analysis) {
    util::log::warn("static analysis skipped: {}", analysis.error());
    return;
  }
  util::log::info("static analysis: {} syscalls reachable in {} objects ({:.1f} s)",
                  analysis->syscalls.size(), analysis->objects.size(), analysis->seconds);
  g.analysis = std::move(*analysis);
}

util::Result<void> explore(Generation& g) {
  TRY_ASSIGN(std::vector<int> only, explorer::syscall_numbers(g.options.only_syscalls));
  explorer::ExploreOptions eo =
      explorer::explore_options_for(g.baseline, g.setup.app, g.strategy, g.replicas, only);
  eo.parts = g.options.parts;
  explorer::ProgressDisplay display;
  eo.progress = [&](const explorer::Progress& p) { display.update(p); };
  util::log::info("exploration: {} strategy, {} worker(s), {} replica(s)",
                  explorer::to_string(g.strategy), g.pool.size(), g.replicas);
  g.result = explorer::explore(g.discovery.discovery, g.pool, eo);
  display.done();
  return {};
}

// A recipe file as stored with the run.
db::RunFile run_file(const fs::path& path, const fs::path& dir, std::string content) {
  return db::RunFile{path.lexically_relative(dir).string(), std::move(content),
                     util::is_executable_file(path) ? db::FileMode::executable
                                                    : db::FileMode::regular};
}

util::Result<db::NewRun> assemble_run(Generation& g) {
  core::ExploreResult& r = g.result;
  const explorer::AppConfig& app = g.setup.app;
  r.lupa_version = db::lupa_version();
  r.binary = app.binary.string();
  r.args = app.args;
  r.mode = explorer::to_string(app.mode);
  if (app.only_consider) {
    r.only_consider = app.only_consider->string();
  }
  if (g.analysis) {
    r.static_syscalls = g.analysis->syscalls;
  }
  r.discovery = g.discovery.discovery.backend;
  r.discovery_complete = g.discovery.discovery.complete;
  r.stats.probe_runs += g.baseline.runs;
  r.stats.runs["baseline"] = g.baseline.runs;
  r.stats.runs["discovery"] = g.discovery.runs;
  for (const auto& [step, s] : g.seconds) {
    r.stats.step_seconds[step] = s;
  }
  r.stats.step_seconds["total"] = seconds_since(g.start);

  db::NewRun run;
  run.app = g.app;
  run.workload = g.workload;
  run.dockerfile = run_file(g.dockerfile, g.context, g.dockerfile_text);
  std::set<std::string> stored{run.dockerfile.name};
  if (g.recipe) {
    TRY_ASSIGN(std::string text, util::read_file(g.recipe->file));
    run.recipe = run_file(g.recipe->file, g.context, std::move(text));
    stored.insert(run.recipe->name);
    if (g.recipe->test_script) {
      TRY_ASSIGN(std::string script, util::read_file(*g.recipe->test_script));
      run.test_script = run_file(*g.recipe->test_script, g.context, std::move(script));
      stored.insert(run.test_script->name);
    }
  }
  TRY_ASSIGN(run.context, context_files(g.context, g.dockerfile_text, stored));
  run.cmd = g.options.cmd;
  run.result = r;

  db::Provenance& p = run.provenance;
  db::fill_host_provenance(p);
  p.engine = docker::to_string(g.engine->kind());
  p.engine_version = g.engine->version();
  p.base_image = g.base.name;
  p.base_image_digest = g.base.id;
  p.app_image = g.image;
  p.app_image_digest = g.image_id;
  p.timings = r.stats.step_seconds;
  return run;
}

} // namespace

std::string app_image_tag(const std::string& app, const db::Workload& workload) {
  auto clean = [](std::string_view text) {
    std::string out;
    for (char c : text) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      out += ok ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '-';
    }
    while (!out.empty() && (out.front() == '.' || out.front() == '-' || out.front() == '_')) {
      out.erase(0, 1);
    }
    return out.empty() ? std::string("app") : out;
  };
  return fmt::format("lupa-app/{}:{}", clean(app), clean(workload.dir_name()));
}

fs::path default_explorer() {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    return {};
  }
  for (const fs::path& candidate :
       {self.parent_path() / "lupa-explore", self.parent_path().parent_path() / "explorer" / "lupa-explore"}) {
    if (util::is_executable_file(candidate)) {
      return candidate;
    }
  }
  return {};
}

util::Result<GenerateResult> generate(const GenerateOptions& options) {
  Generation g(options);

  // 1. Source: what to run, from a recipe or a Loupe-style Dockerfile.
  TRY(load_source(g));
  // 2. Database: refuse a corrupt or dirty one now, not after an hour of exploration.
  TRY(open_database(g));
  // 3. Engine: Docker or Podman, running.
  TRY(open_engine(g));
  // 4. Base image: made locally when missing (no registry is needed).
  {
    StepTimer t(g, "base_image");
    TRY(ensure_base(g));
  }
  // 5. App image: the recipe's Dockerfile, built FROM the base image.
  {
    StepTimer t(g, "build");
    TRY(build_image(g));
  }
  // 6. App: binary, arguments, test script, readiness (recipe, or the image's explore.py CMD).
  TRY(resolve_app(g));
  // 7. Workers: containers running lupa-explore --worker, one per parallel probe.
  TRY(start_workers(g));
  // 8. Baseline: the unmodified app passes its test, and the test fails without the app.
  {
    StepTimer t(g, "baseline");
    TRY(check_baseline(g));
  }
  // 9. Discovery: every syscall the app makes under its workload.
  {
    StepTimer t(g, "discovery");
    TRY(discover(g));
  }
  if (options.discover_only) {
    GenerateResult out;
    out.discovery = std::move(g.discovery);
    out.workers = static_cast<unsigned>(g.pool.size());
    g.image_guard->keep();
    return out;
  }
  // 10. Static analysis: what the binary and its libraries can reach (coverage warning).
  {
    StepTimer t(g, "static");
    if (options.static_analysis) {
      analyze(g);
    }
  }
  // 11. Exploration: each used syscall, sub-feature and pseudo-file stubbed and faked, judged by
  // the test script, then the collective check of all working verdicts at once.
  {
    StepTimer t(g, "exploration");
    TRY(explore(g));
  }
  unsigned workers = static_cast<unsigned>(g.pool.size());
  g.pool.clear(); // the containers go now; the run is in memory
  // 12. Result: results.json, the recipe files and the provenance of the run.
  TRY_ASSIGN(db::NewRun run, assemble_run(g));
  TRY_ASSIGN(db::RunFiles files, db::render_run(run));
  GenerateResult out;
  out.key = files.key();
  out.summary = explorer::summary_text(run.result);
  out.workers = workers;
  out.discovery = std::move(g.discovery);
  // 13. Commit: the run lands whole in one commit, or not at all.
  if (g.store) {
    TRY_ASSIGN(db::CommitResult committed, g.store->commit_run(run, {.dirty = options.dirty}));
    out.commit = std::move(committed);
  }
  g.image_guard->keep();
  out.run = std::move(run);
  return out;
}

} // namespace runner
