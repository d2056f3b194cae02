#pragma once
// The container engine: Docker (dockerd from Debian's docker.io) or Podman, driven through its
// command-line client with Boost.Process (docker/process.h). Every failure becomes one line
// naming the engine and what it said. Containers run without --privileged and without added
// capabilities: ptrace of the app's own children, seccomp filters and seccomp user
// notification all work with the engine's defaults (../shared/PLATFORM.md).

#include "docker/process.h"
#include "util/error.h"

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace docker {

enum class EngineKind { docker, podman };

// "docker" or "podman".
const char* to_string(EngineKind kind);
// The engine called `name` ("docker", "podman"), if any.
std::optional<EngineKind> engine_from_string(std::string_view name);

// A bind mount into a container.
struct Mount {
  std::filesystem::path host;
  std::string container;
  bool read_only = true;
};

// A container to run.
struct ContainerSpec {
  std::string image;
  std::string name;                      // --name (also what cleanup removes)
  std::optional<std::string> entrypoint; // --entrypoint
  std::vector<std::string> command;      // after the image
  std::vector<Mount> mounts;
  std::string network = "none";          // --network: none (loopback only) or bridge
  std::optional<std::string> workdir;    // -w
  std::map<std::string, std::string> labels;
  bool interactive = false;              // -i: keep stdin open (worker protocol)
  std::vector<std::string> cap_add;      // --cap-add, each (e.g. SYS_PTRACE); nothing else
};

// A docker/podman build.
struct BuildSpec {
  std::filesystem::path context;
  std::filesystem::path dockerfile; // absolute
  std::string tag;
  std::map<std::string, std::string> labels;
};

// The client's `run` arguments for `spec` (the same for Docker and Podman): --rm, --pull never
// (no registry), the network, added capabilities, labels, read-only mounts, workdir,
// entrypoint, image, command.
std::vector<std::string> run_arguments(const ContainerSpec& spec);

class Engine {
public:
  // The engine `kind`, or the first running one (docker, then podman) when not given. Fails
  // with one line saying which engine is missing or not running, and how to start it.
  static util::Result<Engine> open(std::optional<EngineKind> kind);

  EngineKind kind() const { return m_kind; }
  // The client executable.
  const std::filesystem::path& program() const { return m_program; }
  // The server's version ("20.10.24").
  const std::string& version() const { return m_version; }

  // The image id of `image` ("sha256:..."), or nullopt when the engine has no such image.
  util::Result<std::optional<std::string>> image_id(const std::string& image) const;
  // Builds `spec`, streaming the build's output to `on_line`; returns the image id. A failed
  // build is an error quoting the build's last lines.
  util::Result<std::string> build(const BuildSpec& spec, const LineSink& on_line) const;
  // Imports the root file system tarball `tarball` as image `tag`; returns the image id.
  util::Result<std::string> import(const std::filesystem::path& tarball,
                                   const std::string& tag) const;
  // Tags `image` as `tag` too.
  util::Result<void> tag(const std::string& image, const std::string& tag) const;
  // Removes image `image` (not an error when absent).
  util::Result<void> remove_image(const std::string& image) const;
  // The image's configuration (`docker image inspect` .Config): Cmd, Entrypoint, WorkingDir.
  struct ImageConfig {
    std::vector<std::string> cmd;
    std::vector<std::string> entrypoint;
    std::string workdir;
  };
  util::Result<ImageConfig> image_config(const std::string& image) const;

  // Runs `spec` to completion (`run --rm`), up to `timeout`; the container is removed even
  // when the run times out or is interrupted.
  util::Result<ProcessOutput> run(const ContainerSpec& spec, std::chrono::milliseconds timeout) const;
  // Starts `spec` (`run --rm -i`) with its stdin/stdout as a line protocol.
  util::Result<std::unique_ptr<LineProcess>> start(const ContainerSpec& spec) const;
  // The host pid of the container's first process, once it runs.
  util::Result<pid_t> container_pid(const std::string& name) const;
  // Removes container `name` by force (not an error when absent).
  void remove_container(const std::string& name) const;
  // Removes every container labelled `label`=`value` (leftovers of a run killed by SIGKILL).
  void remove_labelled(const std::string& label, const std::string& value) const;

private:
  Engine(EngineKind kind, std::filesystem::path program, std::string version);
  // Runs the client with `args`; errors quote what it printed.
  util::Result<ProcessOutput> client(const std::vector<std::string>& args,
                                     std::chrono::milliseconds timeout) const;

  EngineKind m_kind;
  std::filesystem::path m_program;
  std::string m_version;
};

// Removes a container when it goes out of scope (Ctrl-C, errors, normal end).
class ContainerGuard {
public:
  // Guards container `name` of `engine`.
  ContainerGuard(const Engine& engine, std::string name)
      : m_engine(&engine), m_name(std::move(name)) {}
  ContainerGuard(const ContainerGuard&) = delete;
  ContainerGuard& operator=(const ContainerGuard&) = delete;
  ~ContainerGuard() { m_engine->remove_container(m_name); }

private:
  const Engine* m_engine;
  std::string m_name;
};

} // namespace docker
