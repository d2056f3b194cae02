#include "explorer/options.h"

#include "core/syscalls.h"
#include "explorer/readiness.h"
#include "explorer/spawn.h"
#include "util/fs.h"

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <unistd.h>

#include <charconv>
#include <cmath>

namespace explorer {

namespace {

std::chrono::milliseconds to_ms(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(seconds * 1000.0)));
}

// The nearest existing directory at or above `path`.
std::filesystem::path existing_ancestor(std::filesystem::path path) {
  std::error_code ec;
  while (!path.empty() && !std::filesystem::exists(path, ec)) {
    std::filesystem::path parent = path.parent_path();
    if (parent == path) {
      break;
    }
    path = parent;
  }
  return path.empty() ? std::filesystem::current_path() : path;
}

} // namespace

std::optional<int> parse_command_line(int argc, const char* const* argv, Options& options) {
  CLI::App app{"lupa-explore: find the system calls a program uses, and which it can live "
               "without (stubbed: -ENOSYS, faked: 0). Flags of Loupe's explore.py are accepted.",
               "lupa-explore"};
  app.set_version_flag("--version", LUPA_VERSION);
  app.footer("The test script gets the app's output file as $1 and exits 0 when the app works,\n"
             "200 on an infrastructure failure (retried twice), anything else when it fails.\n"
             "Example: lupa-explore --output-csv -t ./test.sh -b /usr/sbin/nginx -- -g 'daemon "
             "off;'");
  std::string binary;
  std::string test_script;
  std::string only_consider;
  std::string out;
  std::string strategy = "group";
  std::string readiness;
  double timeout = 4.0;
  double sleep = 0.4;
  double ready_timeout = 10.0;
  int ready_port = 0;
  std::string ready_log;
  bool sequential = false;
  bool discover_only = false;
  bool worker = false;
  bool static_only = false;
  bool no_syscalls = false;
  bool no_features = false;
  bool no_paths = false;
  bool no_collective = false;
  bool no_static = false;
  bool no_strace = false;

  app.add_option("-b", binary, "The program to explore (Loupe: the test binary)")->required();
  app.add_option("args", options.app.args, "Arguments of the program (after --)");
  app.add_option("-t", test_script,
                 "Test script: gets the output file as $1, exits 0 if the app works");
  app.add_option("--timeout", timeout,
                 "Timeout in seconds of the test script, and of the app in sequential mode")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("--test-sequential", sequential,
               "Run the app to completion, then the test script on its output (test suites)");
  app.add_option("--only-consider", only_consider,
                 "Discover and inject only in processes running this executable");
  app.add_option("--replicas", options.replicas, "Observations per verdict (disagreeing: unstable)")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  app.add_flag("--output-csv", options.output_csv,
               "Write Loupe's dyn.csv (into --out) and print it on stdout, as explore.py did");
  app.add_option("--out", out, "Directory for dyn.csv and results.json (default: ./data)");
  app.add_flag("--json", options.json, "Print results.json on stdout instead of a summary");
  app.add_option("--strategy", strategy, "group (group testing, default) or loupe (one at a time)")
      ->check(CLI::IsMember({"group", "loupe"}))
      ->capture_default_str();
  app.add_option("-j,--jobs", options.jobs,
                 "Probes run in parallel (sequential mode, or apps without fixed ports)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--readiness", readiness,
                 "How benchmark probes wait before the test: detect (default for group) or sleep "
                 "(Loupe's fixed --sleep, default for loupe)")
      ->check(CLI::IsMember({"detect", "sleep"}));
  app.add_option("--sleep", sleep, "The fixed wait of --readiness sleep, in seconds")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--ready-port", ready_port, "The app is ready once it listens on this TCP port")
      ->check(CLI::Range(1, 65535));
  app.add_option("--ready-log", ready_log,
                 "The app is ready once this regular expression matches a line of its output");
  app.add_option("--ready-timeout", ready_timeout, "Seconds to wait for the app to be ready")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--only-syscalls", options.only_syscalls,
                 "Explore only these syscalls (names or numbers, comma-separated)")
      ->delimiter(',');
  app.add_flag("--isolate-net", options.isolate_net,
               "Run each probe (app and test) in its own network namespace; implied by --jobs "
               "above 1 in benchmark mode (needs CAP_SYS_ADMIN)");
  app.add_flag("--discover-only", discover_only, "Only discover; print the discovery JSON");
  std::string discovery;
  app.add_option("--discovery", discovery,
                 "Explore the syscalls of this discovery JSON (from --discover-only) instead of "
                 "tracing the app again");
  app.add_flag("--worker", worker,
               "Serve probes as JSON lines on stdin/stdout (used by lupa's runner)");
  app.add_flag("--static-only", static_only,
               "Only analyse the binary and its libraries statically; print the JSON");
  app.add_flag("--no-syscalls", no_syscalls,
               "Do not explore whole syscalls (dyn.csv then marks every used one as required)");
  app.add_flag("--no-features", no_features,
               "Do not explore sub-features (ioctl requests, fcntl commands, socket domains...)");
  app.add_flag("--no-pseudo-files", no_paths,
               "Do not explore the pseudo-files (/proc, /sys, /dev) the app names");
  app.add_flag("--no-collective", no_collective, "Do not check the working verdicts all at once");
  app.add_flag("--no-static", no_static,
               "Do not analyse the binary statically (no static_binary.csv)");
  app.add_flag("--no-strace", no_strace, "Accepted for Loupe compatibility (lupa never uses strace)");
  app.add_flag_function(
      "-v,--verbose", [&](int64_t count) { options.verbosity = count >= 2 ? 3 : 2; },
      "More detail (repeat for debug output)");
  app.add_flag_function(
      "-q,--quiet", [&](int64_t) { options.verbosity = 0; }, "Only errors");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (int(discover_only) + int(worker) + int(static_only) > 1) {
    return app.exit(
        CLI::ValidationError("--discover-only, --worker and --static-only exclude each other"));
  }
  options.action = worker          ? Action::worker
                   : discover_only ? Action::discover_only
                   : static_only   ? Action::static_only
                                   : Action::explore;
  options.parts.syscalls = !no_syscalls;
  options.parts.features = !no_features;
  options.parts.paths = !no_paths;
  options.parts.collective = !no_collective;
  options.static_analysis = !no_static;
  options.app.binary = binary;
  if (!test_script.empty()) {
    options.app.test_script = test_script;
  }
  if (!only_consider.empty()) {
    options.app.only_consider = only_consider;
  }
  options.out = out.empty() ? k_default_out : std::filesystem::path(out);
  options.discovery = discovery;
  options.strategy = *strategy_from_string(strategy);
  options.app.mode = sequential ? Mode::sequential : Mode::benchmark;
  options.app.timeout = to_ms(timeout);
  options.app.fixed_sleep = to_ms(sleep);
  options.app.ready_timeout = to_ms(ready_timeout);
  if (ready_port != 0) {
    options.app.ready_port = ready_port;
  }
  if (!ready_log.empty()) {
    options.app.ready_log = ready_log;
  }
  options.startup_given = !readiness.empty();
  if (readiness.empty()) {
    readiness = options.strategy == Strategy::loupe ? "sleep" : "detect";
  }
  options.app.startup = readiness == "sleep" ? Startup::fixed_sleep : Startup::detect;
  // Loupe's strategy also keeps Loupe's habit of testing an app that already died.
  options.app.on_early_exit =
      options.strategy == Strategy::loupe ? OnEarlyExit::run_test : OnEarlyExit::fail_at_once;
  return std::nullopt;
}

util::Result<std::vector<int>> syscall_numbers(const std::vector<std::string>& names) {
  std::vector<int> numbers;
  const core::SyscallTable& table = core::SyscallTable::get();
  for (const std::string& name : names) {
    int nr = -1;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), nr);
    if (ec == std::errc() && ptr == name.data() + name.size() && nr >= 0 &&
        nr <= core::k_max_syscall_nr) {
      numbers.push_back(nr);
    } else if (std::optional<int> found = table.number(name)) {
      numbers.push_back(*found);
    } else {
      return util::error(fmt::format("--only-syscalls: '{}' is not an x86-64 syscall", name));
    }
  }
  return numbers;
}

std::vector<std::string> app_arguments(const AppConfig& app, Strategy strategy) {
  auto seconds = [](std::chrono::milliseconds ms) {
    return fmt::format("{:g}", static_cast<double>(ms.count()) / 1000.0);
  };
  std::vector<std::string> args;
  if (app.test_script) {
    args.insert(args.end(), {"-t", app.test_script->string()});
  }
  args.insert(args.end(), {"--timeout", seconds(app.timeout)});
  if (app.mode == Mode::sequential) {
    args.emplace_back("--test-sequential");
  }
  if (app.only_consider) {
    args.insert(args.end(), {"--only-consider", app.only_consider->string()});
  }
  args.insert(args.end(), {"--strategy", to_string(strategy)});
  args.insert(args.end(),
              {"--readiness", app.startup == Startup::fixed_sleep ? "sleep" : "detect"});
  args.insert(args.end(), {"--sleep", seconds(app.fixed_sleep)});
  args.insert(args.end(), {"--ready-timeout", seconds(app.ready_timeout)});
  if (app.ready_port) {
    args.insert(args.end(), {"--ready-port", std::to_string(*app.ready_port)});
  }
  if (app.ready_log) {
    args.insert(args.end(), {"--ready-log", *app.ready_log});
  }
  args.insert(args.end(), {"-b", app.binary.string(), "--"});
  args.insert(args.end(), app.args.begin(), app.args.end());
  return args;
}

util::Result<void> validate(Options& options) {
  AppConfig& app = options.app;
  if (app.ready_log) {
    TRY(check_pattern(*app.ready_log, "--ready-log"));
  }
  // -b is looked up like a shell would, so `-b nginx` works too.
  std::filesystem::path binary = util::find_in_path(app.binary.string());
  std::error_code ec;
  if (binary.empty() || !std::filesystem::exists(binary, ec)) {
    return util::error(fmt::format("binary '{}' not found", app.binary.string()));
  }
  if (!util::is_executable_file(binary)) {
    return util::error(fmt::format("binary '{}' is not an executable file", binary.string()));
  }
  // Absolute, but under the name given: programs such as redis-server (a symlink to
  // redis-check-rdb) or busybox decide what to be from argv[0]. Identity checks
  // (--only-consider) compare canonical paths.
  app.binary = std::filesystem::absolute(binary, ec).lexically_normal();
  if (app.test_script) {
    std::filesystem::path script = std::filesystem::absolute(*app.test_script, ec);
    if (!std::filesystem::exists(script, ec)) {
      return util::error(fmt::format("test script '{}' not found", app.test_script->string()));
    }
    if (!util::is_executable_file(script)) {
      return util::error(fmt::format("test script '{}' is not executable (chmod +x {})",
                                     app.test_script->string(), app.test_script->string()));
    }
    app.test_script = script;
  }
  if (app.only_consider) {
    std::filesystem::path only = util::find_in_path(app.only_consider->string());
    if (only.empty() || !std::filesystem::exists(only, ec)) {
      return util::error(
          fmt::format("--only-consider: '{}' not found", app.only_consider->string()));
    }
    app.only_consider = std::filesystem::canonical(only, ec);
  }
  TRY(syscall_numbers(options.only_syscalls));
  if (!options.discovery.empty() && !std::filesystem::is_regular_file(options.discovery, ec)) {
    return util::error(fmt::format("--discovery: '{}' not found", options.discovery.string()));
  }
  if (options.action == Action::explore) {
    std::filesystem::path out = std::filesystem::absolute(options.out, ec);
    std::filesystem::path base = existing_ancestor(out);
    if (!std::filesystem::is_directory(base, ec) || ::access(base.c_str(), W_OK) != 0) {
      return util::error(fmt::format("output directory '{}' cannot be created ({} is not a "
                                     "writable directory)",
                                     options.out.string(), base.string()));
    }
    options.out = out;
  }
  // Parallel benchmark probes would fight over the app's ports: each gets its own network.
  if (options.isolate_net || (options.jobs > 1 && options.app.mode == Mode::benchmark)) {
    if (!can_isolate_network()) {
      return util::error(fmt::format(
          "{} runs each probe in its own network namespace, which needs CAP_SYS_ADMIN (run as "
          "root, or use --jobs 1)",
          options.isolate_net ? "--isolate-net" : "--jobs above 1 in benchmark mode"));
    }
    options.app.net = NetIsolation::per_run;
  }
  return {};
}

} // namespace explorer
