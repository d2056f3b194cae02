#include "docker/engine.h"

#include "util/fs.h"
#include "util/strings.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <thread>

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace docker {

namespace {

constexpr std::chrono::milliseconds k_client_timeout = 60s;

// The client of `kind`: Debian's docker.io client first (a newer one may come first on PATH and
// lacks BuildKit without buildx, ../shared/PLATFORM.md).
fs::path client_of(EngineKind kind) {
  if (kind == EngineKind::docker) {
    if (util::is_executable_file("/usr/bin/docker")) {
      return "/usr/bin/docker";
    }
    return util::find_in_path("docker");
  }
  return util::find_in_path("podman");
}

std::string first_line(std::string_view text) {
  std::string_view t = util::trim(text);
  return std::string(t.substr(0, t.find('\n')));
}

// The hint for an engine that is not there or not running.
std::string how_to_start(EngineKind kind, bool installed) {
  if (kind == EngineKind::docker) {
    return installed ? "dockerd is not running (HINT: start it with `dockerd &` as root, or run "
                       "scripts/install-deps.sh)"
                     : "docker is not installed (HINT: apt-get install docker.io, or run "
                       "scripts/install-deps.sh)";
  }
  return installed ? "podman does not answer (HINT: check /etc/containers/containers.conf, see "
                     "scripts/install-deps.sh)"
                   : "podman is not installed (HINT: apt-get install podman)";
}

util::Result<std::string> server_version(EngineKind kind, const fs::path& program) {
  RunSpec spec;
  spec.program = program;
  spec.args = kind == EngineKind::docker
                  ? std::vector<std::string>{"version", "--format", "{{.Server.Version}}"}
                  : std::vector<std::string>{"version", "--format", "{{.Version}}"};
  spec.timeout = 20s;
  TRY_ASSIGN(ProcessOutput out, run_program(spec));
  std::string version = first_line(out.out);
  if (out.exit_code != 0 || version.empty()) {
    return util::error(how_to_start(kind, true));
  }
  return version;
}

} // namespace

const char* to_string(EngineKind kind) { return kind == EngineKind::docker ? "docker" : "podman"; }

std::optional<EngineKind> engine_from_string(std::string_view name) {
  if (name == "docker") {
    return EngineKind::docker;
  }
  if (name == "podman") {
    return EngineKind::podman;
  }
  return std::nullopt;
}

Engine::Engine(EngineKind kind, fs::path program, std::string version)
    : m_kind(kind), m_program(std::move(program)), m_version(std::move(version)) {}

util::Result<Engine> Engine::open(std::optional<EngineKind> kind) {
  // BuildKit: Debian's docker 20.10 client has it built in.
  ::setenv("DOCKER_BUILDKIT", "1", 0);
  std::vector<EngineKind> candidates =
      kind ? std::vector<EngineKind>{*kind}
           : std::vector<EngineKind>{EngineKind::docker, EngineKind::podman};
  std::vector<std::string> problems;
  for (EngineKind k : candidates) {
    fs::path program = client_of(k);
    if (program.empty()) {
      problems.push_back(how_to_start(k, false));
      continue;
    }
    util::Result<std::string> version = server_version(k, program);
    if (!version) {
      problems.push_back(version.error());
      continue;
    }
    return Engine(k, program, *version);
  }
  return util::error(kind ? problems.front()
                          : "no container engine: " + util::join(problems, "; "));
}

util::Result<ProcessOutput> Engine::client(const std::vector<std::string>& args,
                                           std::chrono::milliseconds timeout) const {
  RunSpec spec;
  spec.program = m_program;
  spec.args = args;
  spec.timeout = timeout;
  TRY_ASSIGN(ProcessOutput out, run_program(spec));
  if (out.timed_out) {
    return util::error(fmt::format("{} {}: no answer within {} s", to_string(m_kind), args.front(),
                                   timeout.count() / 1000));
  }
  if (out.exit_code != 0) {
    return util::error(fmt::format("{} {} failed: {}", to_string(m_kind), args.front(),
                                   last_lines(out.err.empty() ? out.out : out.err, 3)));
  }
  return out;
}

util::Result<std::optional<std::string>> Engine::image_id(const std::string& image) const {
  RunSpec spec;
  spec.program = m_program;
  spec.args = {"image", "inspect", "--format", "{{.Id}}", image};
  spec.timeout = k_client_timeout;
  TRY_ASSIGN(ProcessOutput out, run_program(spec));
  if (out.exit_code != 0) {
    return std::optional<std::string>();
  }
  std::string id = first_line(out.out);
  if (m_kind == EngineKind::podman && id.find(':') == std::string::npos) {
    id = "sha256:" + id;
  }
  return std::optional<std::string>(id);
}

util::Result<std::string> Engine::build(const BuildSpec& spec, const LineSink& on_line) const {
  util::TempDir scratch("lupa-build");
  fs::path iidfile = scratch.path() / "iid";
  RunSpec run;
  run.program = m_program;
  run.args = {"build", "--iidfile", iidfile.string(), "-t", spec.tag, "-f", spec.dockerfile.string()};
  if (m_kind == EngineKind::docker) {
    run.args.insert(run.args.end(), {"--progress", "plain"});
  } else {
    run.args.emplace_back("--pull=never");
  }
  for (const auto& [key, value] : spec.labels) {
    run.args.insert(run.args.end(), {"--label", key + "=" + value});
  }
  run.args.push_back(spec.context.string());
  run.timeout = 30min;
  run.on_line = on_line ? on_line : [](std::string_view) {};
  TRY_ASSIGN(ProcessOutput out, run_program(run));
  if (out.timed_out) {
    return util::error(fmt::format("{} build of {} did not finish within 30 min",
                                   to_string(m_kind), spec.dockerfile.string()));
  }
  if (out.exit_code != 0) {
    return util::error(fmt::format("{} build of {} failed: {}", to_string(m_kind),
                                   spec.dockerfile.string(), last_lines(out.out, 4)));
  }
  TRY_ASSIGN(std::string id, util::read_file(iidfile));
  id = std::string(util::trim(id));
  if (m_kind == EngineKind::podman && id.find(':') == std::string::npos) {
    id = "sha256:" + id;
  }
  return id;
}

util::Result<std::string> Engine::import(const fs::path& tarball, const std::string& tag) const {
  TRY(client({"import", tarball.string(), tag}, 10min));
  TRY_ASSIGN(std::optional<std::string> id, image_id(tag));
  if (!id) {
    return util::error(fmt::format("{} import {}: image {} is missing afterwards",
                                   to_string(m_kind), tarball.string(), tag));
  }
  return *id;
}

util::Result<void> Engine::tag(const std::string& image, const std::string& tag) const {
  TRY(client({"tag", image, tag}, k_client_timeout));
  return {};
}

util::Result<void> Engine::remove_image(const std::string& image) const {
  RunSpec spec;
  spec.program = m_program;
  spec.args = {"rmi", "-f", image};
  spec.timeout = k_client_timeout;
  spec.cancellable = false; // cleanup, also after a Ctrl-C
  TRY_ASSIGN(ProcessOutput out, run_program(spec));
  if (out.exit_code != 0 && out.err.find("No such image") == std::string::npos &&
      out.err.find("image not known") == std::string::npos) {
    return util::error(fmt::format("{} rmi {} failed: {}", to_string(m_kind), image,
                                   last_lines(out.err, 2)));
  }
  return {};
}

util::Result<Engine::ImageConfig> Engine::image_config(const std::string& image) const {
  TRY_ASSIGN(ProcessOutput out,
             client({"image", "inspect", "--format", "{{json .Config}}", image}, k_client_timeout));
  ImageConfig config;
  try {
    nlohmann::json j = nlohmann::json::parse(out.out);
    auto strings = [&](const char* key) {
      std::vector<std::string> v;
      if (j.contains(key) && j[key].is_array()) {
        v = j[key].get<std::vector<std::string>>();
      }
      return v;
    };
    config.cmd = strings("Cmd");
    config.entrypoint = strings("Entrypoint");
    if (j.contains("WorkingDir") && j["WorkingDir"].is_string()) {
      config.workdir = j["WorkingDir"].get<std::string>();
    }
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{} image inspect {}: unexpected output: {}", to_string(m_kind),
                                   image, e.what()));
  }
  return config;
}

std::vector<std::string> run_arguments(const ContainerSpec& spec) {
  std::vector<std::string> args{"run", "--rm", "--pull=never"};
  if (spec.interactive) {
    args.emplace_back("-i");
  }
  if (!spec.name.empty()) {
    args.insert(args.end(), {"--name", spec.name});
  }
  args.insert(args.end(), {"--network", spec.network});
  for (const std::string& cap : spec.cap_add) {
    args.insert(args.end(), {"--cap-add", cap});
  }
  for (const auto& [key, value] : spec.labels) {
    args.insert(args.end(), {"--label", key + "=" + value});
  }
  for (const Mount& m : spec.mounts) {
    args.insert(args.end(),
                {"-v", fmt::format("{}:{}:{}", m.host.string(), m.container,
                                   m.read_only ? "ro" : "rw")});
  }
  if (spec.workdir) {
    args.insert(args.end(), {"-w", *spec.workdir});
  }
  if (spec.entrypoint) {
    args.insert(args.end(), {"--entrypoint", *spec.entrypoint});
  }
  args.push_back(spec.image);
  args.insert(args.end(), spec.command.begin(), spec.command.end());
  return args;
}

util::Result<ProcessOutput> Engine::run(const ContainerSpec& spec,
                                        std::chrono::milliseconds timeout) const {
  std::optional<ContainerGuard> guard;
  if (!spec.name.empty()) {
    guard.emplace(*this, spec.name);
  }
  RunSpec run;
  run.program = m_program;
  run.args = run_arguments(spec);
  run.timeout = timeout;
  return run_program(run);
}

util::Result<std::unique_ptr<LineProcess>> Engine::start(const ContainerSpec& spec) const {
  ContainerSpec interactive = spec;
  interactive.interactive = true;
  return LineProcess::start(m_program, run_arguments(interactive));
}

util::Result<pid_t> Engine::container_pid(const std::string& name) const {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    RunSpec spec;
    spec.program = m_program;
    spec.args = {"inspect", "--format", "{{.State.Pid}}", name};
    spec.timeout = k_client_timeout;
    TRY_ASSIGN(ProcessOutput out, run_program(spec));
    std::string text = first_line(out.out);
    if (out.exit_code == 0 && !text.empty() && text != "0") {
      try {
        return static_cast<pid_t>(std::stol(text));
      } catch (const std::exception&) {
        return util::error(fmt::format("{} inspect {}: unexpected pid '{}'", to_string(m_kind),
                                       name, text));
      }
    }
    last = last_lines(out.err, 1);
    std::this_thread::sleep_for(50ms);
  }
  return util::error(fmt::format("container {} did not start: {}", name, last));
}

void Engine::remove_container(const std::string& name) const {
  RunSpec spec;
  spec.program = m_program;
  spec.args = {"rm", "-f", name};
  spec.timeout = k_client_timeout;
  spec.cancellable = false;
  (void)run_program(spec);
  // `rm -f` returns at once when the engine is already removing it (`run --rm` after the
  // container exited): wait until it is really gone, so nothing is left when lupa returns.
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    RunSpec inspect;
    inspect.program = m_program;
    inspect.args = {"container", "inspect", "--format", "{{.Id}}", name};
    inspect.timeout = k_client_timeout;
    inspect.cancellable = false;
    util::Result<ProcessOutput> out = run_program(inspect);
    if (!out || out->exit_code != 0) {
      return;
    }
    std::this_thread::sleep_for(50ms);
  }
}

void Engine::remove_labelled(const std::string& label, const std::string& value) const {
  RunSpec spec;
  spec.program = m_program;
  spec.args = {"ps", "-aq", "--filter", fmt::format("label={}={}", label, value)};
  spec.timeout = k_client_timeout;
  spec.cancellable = false;
  util::Result<ProcessOutput> out = run_program(spec);
  if (!out || out->exit_code != 0) {
    return;
  }
  for (const std::string& id : util::split(out->out, '\n')) {
    if (!util::trim(id).empty()) {
      remove_container(std::string(util::trim(id)));
    }
  }
}

} // namespace docker
