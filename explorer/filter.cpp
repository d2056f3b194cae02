#include "explorer/filter.h"

#include "core/subfeatures.h"

#include <fmt/format.h>
#include <seccomp.h>

#include <linux/capability.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
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

// The comparison of argument `arg` that an argument rule makes.
scmp_arg_cmp condition(unsigned arg, uint64_t value, uint64_t mask) {
  return mask == 0 ? scmp_arg_cmp{arg, SCMP_CMP_EQ, value, 0}
                   : scmp_arg_cmp{arg, SCMP_CMP_MASKED_EQ, mask, value};
}

core::FeatureKey rule_key(const core::ArgRule& r) {
  return {r.nr, r.arg, r.value, r.mask, r.arg2, r.value2, r.mask2};
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
  std::set<int> whole;
  bool listener = false;
  auto action_of = [](core::Injection injection) {
    return injection == core::Injection::stub ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_ERRNO(0);
  };
  auto add = [&](int nr, core::Injection injection) -> util::Result<void> {
    if (!whole.insert(nr).second) {
      return util::error(fmt::format("syscall {} is both stubbed and faked in one probe", nr));
    }
    bool notify = delivery == Delivery::notify || is_exec_syscall(nr);
    listener = listener || notify;
    return check(
        seccomp_rule_add(ctx.get(), notify ? SCMP_ACT_NOTIFY : action_of(injection), nr, 0),
        "adding a rule");
  };
  for (int nr : probe.stub) {
    TRY(add(nr, core::Injection::stub));
  }
  for (int nr : probe.fake) {
    TRY(add(nr, core::Injection::fake));
  }

  // Argument rules, per syscall: in the kernel unless two of them could meet in one call with
  // different injections (then the supervisor decides, first rule first).
  std::map<int, std::vector<const core::ArgRule*>> by_nr;
  for (const core::ArgRule& rule : probe.args) {
    if (whole.contains(rule.nr)) {
      return util::error(
          fmt::format("syscall {} is injected both whole and by argument in one probe", rule.nr));
    }
    by_nr[rule.nr].push_back(&rule);
  }
  for (const auto& [nr, rules] : by_nr) {
    bool ambiguous = false;
    for (size_t i = 0; i < rules.size(); ++i) {
      for (size_t k = i + 1; k < rules.size(); ++k) {
        ambiguous = ambiguous || (rules[i]->injection != rules[k]->injection &&
                                  !core::exclusive(rule_key(*rules[i]), rule_key(*rules[k])));
      }
    }
    bool notify = ambiguous || delivery == Delivery::notify || is_exec_syscall(nr);
    listener = listener || notify;
    for (const core::ArgRule* rule : rules) {
      std::vector<scmp_arg_cmp> conditions{condition(rule->arg, rule->value, rule->mask)};
      if (rule->arg2 >= 0) {
        conditions.push_back(
            condition(static_cast<unsigned>(rule->arg2), rule->value2, rule->mask2));
      }
      int rc =
          seccomp_rule_add_array(ctx.get(), notify ? SCMP_ACT_NOTIFY : action_of(rule->injection),
                                 nr, static_cast<unsigned>(conditions.size()), conditions.data());
      // The same condition given twice with one action is one rule (libseccomp says EEXIST).
      if (rc != -EEXIST) {
        TRY(check(rc, "adding an argument rule"));
      }
    }
  }

  // Path rules: every call naming a path is shown to the supervisor.
  if (!probe.paths.empty()) {
    for (int nr : core::path_syscalls()) {
      if (whole.contains(nr)) {
        continue; // the whole call is injected already
      }
      if (by_nr.contains(nr)) {
        return util::error(fmt::format(
            "syscall {} has argument rules and names paths: one probe cannot do both", nr));
      }
      TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_NOTIFY, nr, 0), "adding a path rule"));
    }
    listener = true;
  }
  TRY_ASSIGN(FilterProgram program, export_program(ctx.get()));
  program.listener = listener;
  return program;
}

} // namespace explorer
