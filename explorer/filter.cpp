#include "explorer/filter.h"

#include <linux/capability.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>

namespace explorer {

namespace {

// libseccomp keeps some global state (API level probing); build one filter at a time.
std::mutex g_libseccomp_mutex;

struct ContextDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Context = std::unique_ptr<void, ContextDeleter>;

bool has_cap_sys_admin() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) {
    return false;
  }
  return (data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))) != 0;
}

util::Result<void> check(int rc, const char* what) {
  if (rc < 0) {
    return util::error(fmt::format("libseccomp: {}: {}", what, std::strerror(-rc)));
  }
  return {};
}

// Exports `ctx` as raw BPF through a memfd (libseccomp 2.5 has no in-memory export).
util::Result<FilterProgram> export_program(scmp_filter_ctx ctx) {
  int fd = ::memfd_create("lupa-bpf", MFD_CLOEXEC);
  if (fd < 0) {
    return util::error(util::system_error_message("memfd_create"));
  }
  FilterProgram program;
  int rc = seccomp_export_bpf(ctx, fd);
  off_t size = ::lseek(fd, 0, SEEK_END);
  if (rc == 0 && size > 0 && size % sizeof(sock_filter) == 0) {
    program.code.resize(static_cast<size_t>(size) / sizeof(sock_filter));
    if (::pread(fd, program.code.data(), static_cast<size_t>(size), 0) != size) {
      rc = -EIO;
    }
  } else if (rc == 0) {
    rc = -EINVAL;
  }
  ::close(fd);
  TRY(check(rc, "exporting the BPF program"));
  program.no_new_privs = !has_cap_sys_admin();
  return program;
}

} // namespace

bool is_exec_syscall(int nr) { return nr == SYS_execve || nr == SYS_execveat; }

util::Result<FilterProgram> trace_all_filter() {
  std::lock_guard lock(g_libseccomp_mutex);
  Context ctx(seccomp_init(SCMP_ACT_TRACE(0)));
  if (!ctx) {
    return util::error("libseccomp: cannot create a filter");
  }
  // i386 and x32 calls stop too (data 1), so discovery can say they were made.
  TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_TRACE(1)),
            "setting the foreign-ABI action"));
  return export_program(ctx.get());
}

util::Result<FilterProgram> injection_filter(const core::Probe& probe, Delivery delivery) {
  std::lock_guard lock(g_libseccomp_mutex);
  Context ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx) {
    return util::error("libseccomp: cannot create a filter");
  }
  TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW),
            "setting the foreign-ABI action"));
  std::set<int> seen;
  bool listener = false;
  auto add = [&](int nr, uint32_t errno_action) -> util::Result<void> {
    if (!seen.insert(nr).second) {
      return util::error(fmt::format("syscall {} is both stubbed and faked in one probe", nr));
    }
    bool notify = delivery == Delivery::notify || is_exec_syscall(nr);
    listener = listener || notify;
    return check(seccomp_rule_add(ctx.get(), notify ? SCMP_ACT_NOTIFY : errno_action, nr, 0),
                 "adding a rule");
  };
  for (int nr : probe.stub) {
    TRY(add(nr, SCMP_ACT_ERRNO(ENOSYS)));
  }
  for (int nr : probe.fake) {
    TRY(add(nr, SCMP_ACT_ERRNO(0)));
  }
  TRY_ASSIGN(FilterProgram program, export_program(ctx.get()));
  program.listener = listener;
  return program;
}

} // namespace explorer
