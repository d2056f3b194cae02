#pragma once
// Finding the cgroup v2 of a container, a process or a path. The v2 hierarchy may be mounted
// anywhere (here /sys/fs/cgroup/unified, beside v1 controllers); its mount point is read from
// /proc/self/mountinfo. A cgroup's id, as bpf_get_current_cgroup_id() returns it, is the inode
// number of its directory.

#include "tracer/scope.h"
#include "util/error.h"

#include <sys/types.h>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tracer {

// The container engine that runs a container.
enum class Engine { detect, docker, podman };

// The mount point of the cgroup2 file system in `mountinfo` (/proc/self/mountinfo text).
std::optional<std::filesystem::path> parse_cgroup2_mount(std::string_view mountinfo);

// The cgroup v2 path ("/docker/<id>") in `proc_cgroup` (/proc/<pid>/cgroup text, line "0::").
std::optional<std::string> parse_v2_cgroup(std::string_view proc_cgroup);

// The cgroup2 mount point of this machine, or an error saying cgroup v2 is not mounted.
util::Result<std::filesystem::path> cgroup2_mount();

// The cgroup at `path`: absolute below the cgroup2 mount, or relative to it ("/docker/<id>").
util::Result<Cgroup> cgroup_at(const std::string& path);

// The cgroup v2 of process `pid`.
util::Result<Cgroup> cgroup_of_pid(pid_t pid);

// The host pid of the init process of container `id` (name or id) run by `engine`.
util::Result<pid_t> container_init_pid(std::string_view id, Engine engine);

// The cgroup v2 of container `id` run by `engine`.
util::Result<Cgroup> container_cgroup(std::string_view id, Engine engine);

} // namespace tracer
