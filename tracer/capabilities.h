#pragma once
// The privileges eBPF tracing needs, checked before any BPF work so the user gets one
// actionable line per missing capability and a HINT (as bpftrace does), not an EPERM from deep
// inside libbpf. Loading BPF programs and maps needs CAP_BPF, attaching tracing programs and
// reading kernel memory needs CAP_PERFMON; CAP_SYS_ADMIN alone grants both.

#include "util/error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tracer {

// Capability numbers from <linux/capability.h> (CAP_BPF and CAP_PERFMON are 5.8+).
enum class Capability : unsigned { sys_admin = 21, perfmon = 38, bpf = 39 };

// An effective capability set, one bit per capability number.
struct CapabilitySet {
  uint64_t effective = 0;

  // True if capability `cap` is in the set.
  bool has(Capability cap) const { return (effective >> static_cast<unsigned>(cap)) & 1U; }
};

// The effective capabilities of this process (capget).
util::Result<CapabilitySet> current_capabilities();

// One line per capability eBPF tracing lacks under `caps` ("missing capability CAP_BPF: ..."),
// then one "HINT: ..." line; empty when nothing is missing.
std::vector<std::string> missing_bpf_capabilities(const CapabilitySet& caps);

// Ok when this process may load and attach BPF tracing programs, else the lines above.
util::Result<void> check_bpf_capabilities();

} // namespace tracer
