#pragma once
// A probe worker inside the app's container: `lupa-explore --worker` (bind-mounted, static)
// serves the JSON-lines protocol of core/probe.h on its stdin/stdout, and runs each probe with
// explorer::LocalWorker in there. One container per worker, alive for the whole exploration:
// probes in different containers run at once without port clashes (each has its own network
// namespace), and a probe costs no container start.

#include "docker/engine.h"
#include "explorer/config.h"
#include "explorer/static_analysis.h"
#include "explorer/strategy.h"
#include "explorer/worker.h"
#include "util/error.h"

#include <nlohmann/json.hpp>
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

namespace runner {

// Where lupa's explorer is mounted in every container, and where Loupe's Dockerfiles call it.
inline constexpr const char* k_explorer_in_container = "/.lupa/lupa-explore";
inline constexpr const char* k_loupe_explorer_in_container = "/root/explore.py";
// Where a recipe's folder is mounted (its test scripts run from there).
inline constexpr const char* k_recipe_in_container = "/.lupa/recipe";
// The label every container of one lupa run carries (its value: the run's token).
inline constexpr const char* k_run_label = "lupa.run";

// How to start the containers of one experiment.
struct ContainerSetup {
  std::string image;                       // the app image
  std::filesystem::path explorer;          // lupa-explore on the host
  std::vector<docker::Mount> mounts;       // more mounts (the recipe's folder)
  std::string network = "none";
  std::optional<std::string> workdir;
  explorer::AppConfig app;                 // paths as seen inside the container
  explorer::Strategy strategy = explorer::Strategy::group;
  std::string token;                       // unique per lupa run: names and labels containers
};

// The container spec running lupa-explore with `mode_args` (e.g. {"--worker"}) for `setup`,
// named `name`.
docker::ContainerSpec explorer_container(const ContainerSetup& setup,
                                         std::vector<std::string> mode_args, std::string name);

class ContainerWorker : public explorer::Worker {
public:
  // Starts worker container number `index` of `setup` and waits until it accepts probes; the
  // error quotes what the explorer said when it refused to start (missing binary...).
  static util::Result<std::unique_ptr<ContainerWorker>> start(const docker::Engine& engine,
                                                              const ContainerSetup& setup,
                                                              unsigned index);
  ContainerWorker(const ContainerWorker&) = delete;
  ContainerWorker& operator=(const ContainerWorker&) = delete;
  // Ends the worker and removes its container.
  ~ContainerWorker() override;

  // Runs `probe` in the container; throws util::Fatal when the worker breaks.
  core::ProbeOutcome run(const core::Probe& probe) override;
  // ptrace discovery of the app in the container (readiness as in `probe`'s expect fields).
  util::Result<core::Discovery> discover(const core::Probe& readiness);
  // Static analysis of `binary` and its libraries (and of `loaded`, the ones the app opened) as
  // the container's file system has them.
  util::Result<explorer::StaticAnalysis> analyze_static(const std::filesystem::path& binary,
                                                        const std::vector<std::string>& loaded);
  std::string name() const override { return m_name; }
  // The host pid of the container's first process (lupa-explore --worker).
  pid_t host_pid() const { return m_pid; }

private:
  // Sends `request` (its "id" is set here) and returns the reply with that id.
  util::Result<nlohmann::json> call(nlohmann::json request, std::chrono::milliseconds limit,
                                    const std::string& what);

  ContainerWorker(const docker::Engine& engine, std::string name,
                  std::unique_ptr<docker::LineProcess> process, std::chrono::milliseconds limit);

  const docker::Engine* m_engine;
  std::string m_name;
  std::unique_ptr<docker::LineProcess> m_process;
  std::chrono::milliseconds m_limit; // longest a probe may take before the worker counts as hung
  pid_t m_pid = 0;
  uint64_t m_next_id = 1;
};

// Starts `count` workers of `setup` (in parallel).
util::Result<explorer::WorkerPool> start_pool(const docker::Engine& engine,
                                              const ContainerSetup& setup, unsigned count);

} // namespace runner
