#include "runner/container_worker.h"

#include "core/probe.h"
#include "explorer/options.h"
#include "util/log.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <future>

using namespace std::chrono_literals;

namespace runner {

namespace {

// How long one probe may take at most: every try of the test, readiness, the app's own run.
std::chrono::milliseconds probe_limit(const explorer::AppConfig& app) {
  auto per_try = app.timeout * 2 + app.ready_timeout + app.fixed_sleep + 5s;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      per_try * static_cast<int>(app.infra_retries + 1) + 60s);
}

} // namespace

docker::ContainerSpec explorer_container(const ContainerSetup& setup,
                                         std::vector<std::string> mode_args, std::string name) {
  docker::ContainerSpec spec;
  spec.image = setup.image;
  spec.name = std::move(name);
  spec.entrypoint = k_explorer_in_container;
  spec.mounts.push_back({setup.explorer, k_explorer_in_container, true});
  spec.mounts.push_back({setup.explorer, k_loupe_explorer_in_container, true});
  spec.mounts.insert(spec.mounts.end(), setup.mounts.begin(), setup.mounts.end());
  spec.network = setup.network;
  spec.workdir = setup.workdir;
  spec.labels[k_run_label] = setup.token;
  // The one capability added to Docker's default set: the explorer reads paths from the app's
  // memory (pseudo-file rules) and may ptrace it (discovery without eBPF). Apps that switch to
  // another user (nginx's workers run as nobody) are out of reach without it, and Docker's
  // default seccomp profile allows process_vm_readv only with it.
  spec.cap_add = {"SYS_PTRACE"};
  spec.command = std::move(mode_args);
  std::vector<std::string> app = explorer::app_arguments(setup.app, setup.strategy);
  spec.command.insert(spec.command.end(), app.begin(), app.end());
  return spec;
}

ContainerWorker::ContainerWorker(const docker::Engine& engine, std::string name,
                                 std::unique_ptr<docker::LineProcess> process,
                                 std::chrono::milliseconds limit)
    : m_engine(&engine), m_name(std::move(name)), m_process(std::move(process)), m_limit(limit) {}

util::Result<std::unique_ptr<ContainerWorker>>
ContainerWorker::start(const docker::Engine& engine, const ContainerSetup& setup, unsigned index) {
  std::string name = fmt::format("lupa-{}-w{}", setup.token, index);
  docker::ContainerSpec spec = explorer_container(setup, {"--worker", "-q"}, name);
  TRY_ASSIGN(std::unique_ptr<docker::LineProcess> process, engine.start(spec));
  std::unique_ptr<ContainerWorker> worker(
      new ContainerWorker(engine, name, std::move(process), probe_limit(setup.app)));
  // The worker says {"ready": true} once it accepts probes, or exits with one error line.
  util::Result<std::optional<std::string>> line = worker->m_process->read_line(120s);
  if (!line || !*line || **line != R"({"ready":true})") {
    worker->m_process->finish(5s);
    std::string said = worker->m_process->stderr_tail();
    return util::error(fmt::format(
        "worker container {} did not start: {}", name,
        !said.empty() ? said : !line ? line.error() : !*line ? "it exited" : "it said " + **line));
  }
  TRY_ASSIGN(worker->m_pid, engine.container_pid(name));
  util::log::verbose("{}: ready (host pid {})", name, worker->m_pid);
  return worker;
}

ContainerWorker::~ContainerWorker() {
  if (m_process) {
    m_process->close_stdin();
    m_process->finish(5s);
  }
  m_engine->remove_container(m_name);
}

util::Result<nlohmann::json> ContainerWorker::call(nlohmann::json request,
                                                   std::chrono::milliseconds limit,
                                                   const std::string& what) {
  uint64_t id = m_next_id++;
  request["id"] = id;
  if (util::Result<void> written = m_process->write_line(request.dump()); !written) {
    return util::error(fmt::format("{}: {}: {}", m_name, written.error(), m_process->stderr_tail()));
  }
  util::Result<std::optional<std::string>> line = m_process->read_line(limit);
  if (!line) {
    return util::error(fmt::format("{}: {} hung: {}", m_name, what, line.error()));
  }
  if (!*line) {
    return util::error(fmt::format("{}: the worker container exited during {}: {}", m_name, what,
                                   m_process->stderr_tail()));
  }
  nlohmann::json reply;
  try {
    reply = nlohmann::json::parse(**line);
    if (reply.contains("error")) {
      return util::error(fmt::format("{}: {}", m_name, reply.at("error").get<std::string>()));
    }
    if (reply.at("id").get<uint64_t>() != id) {
      return util::error(fmt::format("{}: answer to request {} while waiting for {}", m_name,
                                     reply.at("id").dump(), id));
    }
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{}: malformed answer '{}': {}", m_name, line->value(), e.what()));
  }
  return reply;
}

core::ProbeOutcome ContainerWorker::run(const core::Probe& probe) {
  util::Result<nlohmann::json> reply =
      call({{"probe", probe}}, m_limit, "probe " + probe.describe());
  if (!reply) {
    throw util::Fatal(reply.error());
  }
  try {
    return reply->at("outcome").get<core::ProbeOutcome>();
  } catch (const nlohmann::json::exception& e) {
    throw util::Fatal(fmt::format("{}: malformed outcome: {}", m_name, e.what()));
  }
}

util::Result<core::Discovery> ContainerWorker::discover(const core::Probe& readiness) {
  nlohmann::json request = {{"discover",
                             {{"expect_ports", readiness.expect_ports},
                              {"expect_processes", readiness.expect_processes}}}};
  // ptrace slows the app and its test: discovery's own timeouts scale, and it may try thrice.
  TRY_ASSIGN(nlohmann::json reply, call(request, m_limit * 4 * 3, "discovery"));
  try {
    return reply.at("discovery").get<core::Discovery>();
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{}: malformed discovery: {}", m_name, e.what()));
  }
}

util::Result<explorer::StaticAnalysis>
ContainerWorker::analyze_static(const std::filesystem::path& binary,
                                const std::vector<std::string>& loaded) {
  nlohmann::json request = {{"static", {{"binary", binary.string()}, {"loaded", loaded}}}};
  TRY_ASSIGN(nlohmann::json reply, call(request, std::chrono::minutes(5), "static analysis"));
  try {
    return reply.at("static").get<explorer::StaticAnalysis>();
  } catch (const nlohmann::json::exception& e) {
    return util::error(fmt::format("{}: malformed static analysis: {}", m_name, e.what()));
  }
}

util::Result<explorer::WorkerPool> start_pool(const docker::Engine& engine,
                                              const ContainerSetup& setup, unsigned count) {
  std::vector<std::future<util::Result<std::unique_ptr<ContainerWorker>>>> starting;
  for (unsigned i = 0; i < std::max(1u, count); ++i) {
    starting.push_back(std::async(std::launch::async,
                                  [&engine, &setup, i] { return ContainerWorker::start(engine, setup, i); }));
  }
  explorer::WorkerPool pool;
  std::optional<std::string> failure;
  for (auto& f : starting) {
    util::Result<std::unique_ptr<ContainerWorker>> worker = f.get();
    if (!worker) {
      failure = failure.value_or(worker.error());
      continue;
    }
    pool.push_back(std::move(*worker));
  }
  if (failure) {
    return util::error(*failure);
  }
  return pool;
}

} // namespace runner
