#include "tracer/capabilities.h"

#include "util/strings.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace tracer {

util::Result<CapabilitySet> current_capabilities() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0) {
    return util::error(util::system_error_message("capget"));
  }
  CapabilitySet caps;
  caps.effective =
      static_cast<uint64_t>(data[0].effective) | (static_cast<uint64_t>(data[1].effective) << 32);
  return caps;
}

std::vector<std::string> missing_bpf_capabilities(const CapabilitySet& caps) {
  std::vector<std::string> lines;
  if (caps.has(Capability::sys_admin)) {
    return lines;
  }
  if (!caps.has(Capability::bpf)) {
    lines.emplace_back(
        "missing capability CAP_BPF: needed to load BPF programs and create BPF maps");
  }
  if (!caps.has(Capability::perfmon)) {
    lines.emplace_back(
        "missing capability CAP_PERFMON: needed to attach tracing programs to tracepoints");
  }
  if (!lines.empty()) {
    lines.emplace_back("HINT: run lupa as root, or grant it CAP_BPF and CAP_PERFMON "
                       "(sudo setcap cap_bpf,cap_perfmon+ep $(command -v lupa)); "
                       "without them use ptrace discovery (lupa-explore)");
  }
  return lines;
}

util::Result<void> check_bpf_capabilities() {
  TRY_ASSIGN(CapabilitySet caps, current_capabilities());
  std::vector<std::string> missing = missing_bpf_capabilities(caps);
  if (!missing.empty()) {
    return util::error(util::join(missing, "\n"));
  }
  return {};
}

} // namespace tracer
