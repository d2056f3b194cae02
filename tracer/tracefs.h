#pragma once
// tracefs, which classic tracepoints (syscalls:sys_exit_*) need to be looked up. It is not
// mounted at boot on every machine (not here); lupa mounts it at its standard place when it is
// missing and leaves it mounted, as a distribution's boot would.

#include "util/error.h"

#include <filesystem>

namespace tracer {

// The tracefs directory holding events/ (/sys/kernel/tracing, or debugfs's tracing/), mounting
// tracefs at /sys/kernel/tracing first when neither exists; an error (needs CAP_SYS_ADMIN) when
// it cannot be mounted.
util::Result<std::filesystem::path> ensure_tracefs();

} // namespace tracer
