#include "tracer/cgroup.h"

#include "util/fs.h"
#include "util/strings.h"

#include <boost/process.hpp>
#include <fmt/format.h>

#include <sys/stat.h>

#include <charconv>

namespace tracer {

namespace {

// The mount point of one /proc/self/mountinfo line if it is the cgroup2 one:
// "id parent major:minor root mount_point options... - fstype source super_options".
std::optional<std::filesystem::path> cgroup2_mount_in_line(std::string_view line) {
  std::vector<std::string> fields = util::split(line, ' ');
  for (size_t i = 0; i + 1 < fields.size(); ++i) {
    if (fields[i] == "-" && fields[i + 1] == "cgroup2" && fields.size() > 4) {
      return std::filesystem::path(fields[4]);
    }
  }
  return std::nullopt;
}

unsigned depth_of(std::string_view relative) {
  unsigned level = 0;
  for (std::string_view part : util::split(relative, '/')) {
    if (!part.empty()) {
      ++level;
    }
  }
  return level;
}

// The docker client of the docker.io package first (a newer client may come first on PATH).
std::filesystem::path engine_program(Engine engine) {
  if (engine == Engine::docker) {
    if (util::is_executable_file("/usr/bin/docker")) {
      return "/usr/bin/docker";
    }
    return util::find_in_path("docker");
  }
  return util::find_in_path("podman");
}

util::Result<pid_t> inspect_pid(Engine engine, std::string_view id) {
  std::filesystem::path program = engine_program(engine);
  const char* name = engine == Engine::docker ? "docker" : "podman";
  if (program.empty()) {
    return util::error(fmt::format("{} is not installed", name));
  }
  namespace bp = boost::process;
  bp::ipstream out;
  bp::ipstream err;
  std::error_code ec;
  bp::child child(program.string(), "inspect", "--format", "{{.State.Pid}}", std::string(id),
                  bp::std_out > out, bp::std_err > err, bp::std_in < bp::null, ec);
  if (ec) {
    return util::error(fmt::format("cannot run {}: {}", program.string(), ec.message()));
  }
  std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  std::string error_text((std::istreambuf_iterator<char>(err)), std::istreambuf_iterator<char>());
  child.wait();
  if (child.exit_code() != 0) {
    std::string first = error_text.substr(0, error_text.find('\n'));
    return util::error(fmt::format("{} inspect {}: {}", name, id, first));
  }
  std::string_view digits = util::trim(text);
  pid_t pid = 0;
  auto [ptr, parse_ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
  if (parse_ec != std::errc() || ptr != digits.data() + digits.size()) {
    return util::error(fmt::format("{} inspect {}: unexpected pid '{}'", name, id, digits));
  }
  if (pid <= 0) {
    return util::error(fmt::format("container {} is not running", id));
  }
  return pid;
}

} // namespace

std::optional<std::filesystem::path> parse_cgroup2_mount(std::string_view mountinfo) {
  for (std::string_view line : util::split(mountinfo, '\n')) {
    if (std::optional<std::filesystem::path> mount = cgroup2_mount_in_line(line)) {
      return mount;
    }
  }
  return std::nullopt;
}

std::optional<std::string> parse_v2_cgroup(std::string_view proc_cgroup) {
  for (std::string_view line : util::split(proc_cgroup, '\n')) {
    if (line.starts_with("0::")) {
      return std::string(line.substr(3));
    }
  }
  return std::nullopt;
}

util::Result<std::filesystem::path> cgroup2_mount() {
  TRY_ASSIGN(std::string mountinfo, util::read_file("/proc/self/mountinfo"));
  std::optional<std::filesystem::path> mount = parse_cgroup2_mount(mountinfo);
  if (!mount) {
    return util::error("cgroup v2 is not mounted (no cgroup2 entry in /proc/self/mountinfo); "
                       "HINT: mount -t cgroup2 none /sys/fs/cgroup/unified");
  }
  return *mount;
}

util::Result<Cgroup> cgroup_at(const std::string& path) {
  TRY_ASSIGN(std::filesystem::path mount, cgroup2_mount());
  std::string relative = path;
  if (path.starts_with(mount.string() + "/") || path == mount.string()) {
    relative = path.substr(mount.string().size());
  }
  if (relative.empty()) {
    relative = "/";
  }
  if (!relative.starts_with("/")) {
    relative = "/" + relative;
  }
  Cgroup cgroup;
  cgroup.relative = relative;
  cgroup.path = mount / relative.substr(1);
  struct stat st {};
  if (::stat(cgroup.path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return util::error(fmt::format("{} is not a cgroup v2 directory (cgroup2 is mounted at {})",
                                   cgroup.path.string(), mount.string()));
  }
  cgroup.id = st.st_ino;
  cgroup.level = depth_of(relative);
  return cgroup;
}

util::Result<Cgroup> cgroup_of_pid(pid_t pid) {
  std::string file = fmt::format("/proc/{}/cgroup", pid);
  util::Result<std::string> text = util::read_file(file);
  if (!text) {
    return util::error(fmt::format("process {} does not exist ({})", pid, text.error()));
  }
  std::optional<std::string> relative = parse_v2_cgroup(*text);
  if (!relative) {
    return util::error(fmt::format("{} has no cgroup v2 entry (line \"0::\")", file));
  }
  return cgroup_at(*relative);
}

util::Result<pid_t> container_init_pid(std::string_view id, Engine engine) {
  if (engine != Engine::detect) {
    return inspect_pid(engine, id);
  }
  util::Result<pid_t> docker = inspect_pid(Engine::docker, id);
  if (docker) {
    return docker;
  }
  util::Result<pid_t> podman = inspect_pid(Engine::podman, id);
  if (podman) {
    return podman;
  }
  return util::error(
      fmt::format("no running container {} ({}; {})", id, docker.error(), podman.error()));
}

util::Result<Cgroup> container_cgroup(std::string_view id, Engine engine) {
  TRY_ASSIGN(pid_t pid, container_init_pid(id, engine));
  TRY_ASSIGN(Cgroup cgroup, cgroup_of_pid(pid));
  if (cgroup.level == 0) {
    return util::error(fmt::format(
        "container {} (init pid {}) has no cgroup v2 of its own; HINT: trace its process tree "
        "with --pid {}",
        id, pid, pid));
  }
  return cgroup;
}

} // namespace tracer
