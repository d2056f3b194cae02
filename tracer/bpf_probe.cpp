// The libbpf SyscallProbe: loads tracer/bpf/sysdisc.bpf.c through its skeleton, configures it
// for a Scope (rodata), attaches it, marks running process trees, and reads its maps.

#include "core/subfeatures.h"
#include "core/syscalls.h"
#include "tracer/capabilities.h"
#include "tracer/probe.h"
#include "util/fs.h"
#include "util/log.h"
#include "util/strings.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fmt/format.h>

// clang-format off
#include <linux/types.h> // before the shared header and the skeleton (they use __u32/__u64)
#include "tracer/bpf/sysdisc.h"
#include "sysdisc.skel.h"
// clang-format on

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdarg>
#include <cstring>
#include <filesystem>
#include <set>

namespace tracer {

namespace {

#ifndef PIDFD_THREAD
constexpr unsigned k_pidfd_thread = O_EXCL; // PIDFD_THREAD (Linux 6.9)
#else
constexpr unsigned k_pidfd_thread = PIDFD_THREAD;
#endif

using SkeletonPtr = std::unique_ptr<sysdisc_bpf, decltype(&sysdisc_bpf__destroy)>;

// libbpf's messages (verifier logs...) go to the -vv log, not straight to stderr.
int libbpf_to_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG && util::log::level() < util::log::Level::debug) {
    return 0;
  }
  if (util::log::level() < util::log::Level::verbose) {
    return 0;
  }
  char buffer[2048];
  int n = std::vsnprintf(buffer, sizeof(buffer), format, args);
  std::string_view text(buffer);
  while (!text.empty() && text.back() == '\n') {
    text.remove_suffix(1);
  }
  util::log::write(util::log::Level::verbose, "libbpf: ", text);
  return n;
}

// The parent pid in /proc/<pid>/stat, or -1.
pid_t parent_of(pid_t pid) {
  util::Result<std::string> stat = util::read_file(fmt::format("/proc/{}/stat", pid));
  if (!stat) {
    return -1;
  }
  size_t close = stat->rfind(')');
  if (close == std::string::npos || close + 4 >= stat->size()) {
    return -1;
  }
  // ") S 1234 ..."
  const char* begin = stat->data() + close + 4;
  pid_t ppid = -1;
  std::from_chars(begin, stat->data() + stat->size(), ppid);
  return ppid;
}

std::vector<pid_t> numeric_entries(const std::filesystem::path& dir) {
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    pid_t pid = 0;
    auto [ptr, perr] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (perr == std::errc() && ptr == name.data() + name.size()) {
      out.push_back(pid);
    }
  }
  return out;
}

class BpfProbe final : public SyscallProbe {
public:
  util::Result<void> start(const Scope& scope, const ProbeOptions& options) override;
  util::Result<RawCounts> read() override;
  void stop() override;

private:
  util::Result<void> configure(const Scope& scope);
  util::Result<void> mark_tree(pid_t root);
  util::Result<void> mark_threads(pid_t pid, uint32_t slot, bool ignored);
  uint32_t allocate_slot(pid_t pid);
  util::Result<std::vector<uint64_t>> read_counts(uint32_t used) const;
  uint64_t recursion_misses() const;

  SkeletonPtr m_skel{nullptr, &sysdisc_bpf__destroy};
  ProbeOptions m_options;
  unsigned m_ncpu = 1;
  std::set<pid_t> m_marked_tids;
  std::optional<BinaryId> m_only_binary;
};

util::Result<void> BpfProbe::start(const Scope& scope, const ProbeOptions& options) {
  TRY(scope.validate());
  TRY(check_bpf_capabilities());
  if (!std::filesystem::exists("/sys/kernel/btf/vmlinux")) {
    return util::error("this kernel has no BTF (/sys/kernel/btf/vmlinux is missing), which eBPF "
                       "discovery needs (CONFIG_DEBUG_INFO_BTF); use ptrace discovery instead");
  }
  static const bool print_set = [] {
    libbpf_set_print(libbpf_to_log);
    return true;
  }();
  (void)print_set;
  m_options = options;
  if (m_options.max_processes < 2) {
    m_options.max_processes = 2;
  }
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) {
    return util::error(util::system_error_message("cannot count the possible CPUs", -ncpu));
  }
  m_ncpu = static_cast<unsigned>(ncpu);

  m_skel.reset(sysdisc_bpf__open());
  if (!m_skel) {
    return util::error(util::system_error_message("cannot open the BPF discovery object", errno));
  }
  TRY(configure(scope));

  if (int err = sysdisc_bpf__load(m_skel.get()); err != 0) {
    return util::error(util::system_error_message(
        "cannot load the BPF discovery programs (run with -vv for libbpf's log)", -err));
  }
  if (int err = sysdisc_bpf__attach(m_skel.get()); err != 0) {
    return util::error(util::system_error_message(
        "cannot attach the BPF discovery programs (tp_btf sys_enter, sched_process_fork, "
        "sched_process_exec, sched_process_exit)",
        -err));
  }
  for (pid_t root : scope.roots) {
    TRY(mark_tree(root));
  }
  return {};
}

util::Result<void> BpfProbe::configure(const Scope& scope) {
  auto* ro = m_skel->rodata; // struct sysdisc_bpf::sysdisc_bpf__rodata
  if (scope.cgroup) {
    ro->cgroup_id = scope.cgroup->id;
    ro->cgroup_level = scope.cgroup->level;
  }
  ro->whole_cgroup = scope.whole_cgroup() ? 1 : 0;
  if (scope.exec_trigger) {
    ro->trigger_tgid = static_cast<__u32>(scope.exec_trigger->parent);
    if (scope.exec_trigger->binary) {
      ro->trigger_dev = scope.exec_trigger->binary->kernel_dev();
      ro->trigger_ino = scope.exec_trigger->binary->ino;
    }
  }
  if (scope.only_binary) {
    ro->only_dev = scope.only_binary->kernel_dev();
    ro->only_ino = scope.only_binary->ino;
    m_only_binary = scope.only_binary;
  }
  ro->max_slots = m_options.max_processes;
  ro->record_features = m_options.features == RecordFeatures::yes ? 1 : 0;
  ro->record_paths = m_options.paths == RecordPaths::yes ? 1 : 0;
  for (int nr = 0; nr < LUPA_NR_STRIDE; ++nr) {
    lupa_syscall_info& info = const_cast<lupa_syscall_info&>(ro->syscall_info[nr]);
    info.feature_arg = LUPA_NO_ARG;
    info.feature_arg2 = LUPA_NO_ARG;
    info.path_arg = LUPA_NO_ARG;
    std::vector<unsigned> args = core::subfeature_arg_indices(nr);
    if (args.size() > 2) {
      return util::error(fmt::format("syscall {} records {} sub-feature arguments; the BPF "
                                     "program records at most two",
                                     core::SyscallTable::get().name(nr), args.size()));
    }
    if (!args.empty()) {
      info.feature_arg = static_cast<__u8>(args[0]);
    }
    if (args.size() == 2) {
      info.feature_arg2 = static_cast<__u8>(args[1]);
    }
    if (std::optional<unsigned> path = core::path_arg_index(nr)) {
      info.path_arg = static_cast<__u8>(*path);
    }
  }

  struct Size {
    bpf_map* map;
    uint32_t entries;
  };
  const Size sizes[] = {
      {m_skel->maps.counts, m_options.max_processes * LUPA_NR_STRIDE},
      {m_skel->maps.slots, m_options.max_processes},
      {m_skel->maps.tgid_slots, m_options.max_processes},
      {m_skel->maps.features, m_options.max_feature_values},
      {m_skel->maps.paths, m_options.max_paths},
  };
  for (const Size& size : sizes) {
    if (int err = bpf_map__set_max_entries(size.map, size.entries); err != 0) {
      return util::error(util::system_error_message(
          fmt::format("cannot size BPF map {}", bpf_map__name(size.map)), -err));
    }
  }
  return {};
}

uint32_t BpfProbe::allocate_slot(pid_t pid) {
  // The BPF side allocates from the same counter (mmapped .data): atomically.
  uint32_t slot = std::atomic_ref<__u32>(m_skel->data->next_slot).fetch_add(1);
  if (slot >= m_options.max_processes) {
    std::atomic_ref<__u64>(m_skel->bss->stats[LUPA_STAT_SLOTS_EXHAUSTED]).fetch_add(1);
    return 0;
  }
  lupa_slot_info info{};
  info.tgid = static_cast<__u32>(pid);
  util::Result<std::string> comm = util::read_file(fmt::format("/proc/{}/comm", pid));
  if (comm) {
    std::string_view name = util::trim(*comm);
    std::memcpy(info.comm, name.data(), std::min(name.size(), sizeof(info.comm) - 1));
  }
  bpf_map__update_elem(m_skel->maps.slots, &slot, sizeof(slot), &info, sizeof(info), BPF_ANY);
  return slot;
}

util::Result<void> BpfProbe::mark_threads(pid_t pid, uint32_t slot, bool ignored) {
  // Threads started by a thread not yet marked are missed by the fork program: list the
  // threads again until a pass finds no new one.
  for (bool found = true; found;) {
    found = false;
    for (pid_t tid : numeric_entries(fmt::format("/proc/{}/task", pid))) {
      if (m_marked_tids.contains(tid)) {
        continue;
      }
      int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, tid, tid == pid ? 0 : k_pidfd_thread));
      if (pidfd < 0) {
        if (errno == ESRCH) {
          continue; // the thread ended meanwhile
        }
        if (errno == EINVAL && tid != pid) {
          // No pidfds for threads before Linux 6.9: this thread's calls will be missing.
          std::atomic_ref<__u64>(m_skel->bss->losses[LUPA_LOSS_TRACK_FAILED]).fetch_add(1);
          m_marked_tids.insert(tid);
          continue;
        }
        return util::error(util::system_error_message(
            fmt::format("cannot open a pidfd for thread {} of process {}", tid, pid)));
      }
      lupa_task value{};
      value.slot = slot;
      value.ignored = ignored ? 1 : 0;
      int err = bpf_map__update_elem(m_skel->maps.tasks, &pidfd, sizeof(pidfd), &value,
                                     sizeof(value), BPF_ANY);
      ::close(pidfd);
      if (err != 0 && err != -ESRCH) {
        return util::error(util::system_error_message(
            fmt::format("cannot mark thread {} of process {} as traced", tid, pid), -err));
      }
      m_marked_tids.insert(tid);
      found = true;
    }
  }
  return {};
}

util::Result<void> BpfProbe::mark_tree(pid_t root) {
  if (!std::filesystem::exists(fmt::format("/proc/{}", root))) {
    return util::error(fmt::format("process {} does not exist", root));
  }
  // A child forked after its parent is marked is traced by the fork program; one forked before
  // is found by the /proc scan, which runs after the parent was marked.
  std::vector<pid_t> queue{root};
  std::set<pid_t> processes;
  while (!queue.empty()) {
    pid_t pid = queue.back();
    queue.pop_back();
    if (!processes.insert(pid).second) {
      continue;
    }
    // With an only-binary, a process running another image is followed but not counted.
    bool ignored = false;
    if (m_only_binary) {
      util::Result<BinaryId> image = BinaryId::of(fmt::format("/proc/{}/exe", pid));
      ignored = !image || !(*image == *m_only_binary);
    }
    TRY(mark_threads(pid, allocate_slot(pid), ignored));
    for (pid_t other : numeric_entries("/proc")) {
      if (!processes.contains(other) && parent_of(other) == pid) {
        queue.push_back(other);
      }
    }
  }
  return {};
}

util::Result<std::vector<uint64_t>> BpfProbe::read_counts(uint32_t used) const {
  const uint32_t entries = used * LUPA_NR_STRIDE;
  std::vector<uint64_t> values(static_cast<size_t>(entries) * m_ncpu);
  std::vector<uint32_t> keys(entries);
  const int fd = bpf_map__fd(m_skel->maps.counts);
  uint32_t out_batch = 0;
  uint32_t count = entries;
  int err =
      bpf_map_lookup_batch(fd, nullptr, &out_batch, keys.data(), values.data(), &count, nullptr);
  if ((err == 0 || errno == ENOENT) && count == entries) {
    return sum_per_cpu(values, m_ncpu);
  }
  // No batch operations on this kernel: one lookup per key.
  for (uint32_t key = 0; key < entries; ++key) {
    if (bpf_map_lookup_elem(fd, &key, values.data() + static_cast<size_t>(key) * m_ncpu) != 0) {
      return util::error(util::system_error_message(
          fmt::format("cannot read the syscall counters (key {})", key)));
    }
  }
  return sum_per_cpu(values, m_ncpu);
}

uint64_t BpfProbe::recursion_misses() const {
  uint64_t misses = 0;
  bpf_object* obj = m_skel->obj;
  bpf_program* prog = nullptr;
  bpf_object__for_each_program(prog, obj) {
    int fd = bpf_program__fd(prog);
    if (fd < 0) {
      continue;
    }
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
      misses += info.recursion_misses;
    }
  }
  return misses;
}

util::Result<RawCounts> BpfProbe::read() {
  if (!m_skel) {
    return util::error("the BPF discovery probe was not started");
  }
  RawCounts raw;
  uint32_t next = std::atomic_ref<__u32>(m_skel->data->next_slot).load();
  const uint32_t used = std::min(next, m_options.max_processes);
  TRY_ASSIGN(std::vector<uint64_t> counts, read_counts(used));
  for (uint32_t slot = 0; slot < used; ++slot) {
    RawSlot s;
    s.slot = slot;
    lupa_slot_info info{};
    if (slot != 0 && bpf_map__lookup_elem(m_skel->maps.slots, &slot, sizeof(slot), &info,
                                          sizeof(info), 0) == 0) {
      s.tgid = info.tgid;
      s.execs = info.execs;
      s.comm.assign(info.comm, strnlen(info.comm, sizeof(info.comm)));
    }
    auto begin = counts.begin() + static_cast<std::ptrdiff_t>(slot) * LUPA_NR_STRIDE;
    s.counts.assign(begin, begin + LUPA_NR_STRIDE);
    raw.slots.push_back(std::move(s));
  }

  const int features_fd = bpf_map__fd(m_skel->maps.features);
  lupa_feature_key fkey{};
  lupa_feature_key* fprev = nullptr;
  while (bpf_map_get_next_key(features_fd, fprev, &fkey) == 0) {
    uint64_t count = 0;
    if (bpf_map_lookup_elem(features_fd, &fkey, &count) == 0) {
      raw.features.push_back({static_cast<int>(fkey.nr), fkey.arg,
                              fkey.arg2 == LUPA_NO_ARG ? -1 : static_cast<int>(fkey.arg2),
                              fkey.value, fkey.value2, count});
    }
    fprev = &fkey;
  }

  const int paths_fd = bpf_map__fd(m_skel->maps.paths);
  auto pkey = std::make_unique<lupa_path_key>();
  bool first = true;
  while (bpf_map_get_next_key(paths_fd, first ? nullptr : pkey.get(), pkey.get()) == 0) {
    first = false;
    uint64_t count = 0;
    if (bpf_map_lookup_elem(paths_fd, pkey.get(), &count) == 0) {
      raw.paths.push_back({static_cast<int>(pkey->nr),
                           std::string(pkey->path, strnlen(pkey->path, LUPA_PATH_MAX)), count});
    }
  }

  const volatile __u64* losses = m_skel->bss->losses;
  const Loss kernel_kinds[LUPA_LOSS_KINDS] = {
      Loss::track_failed,   Loss::feature_map_full, Loss::path_map_full, Loss::path_unreadable,
      Loss::path_truncated, Loss::nr_out_of_range,  Loss::count_missing,
  };
  for (int i = 0; i < LUPA_LOSS_KINDS; ++i) {
    if (losses[i] != 0) {
      raw.losses[kernel_kinds[i]] += losses[i];
    }
  }
  if (uint64_t misses = recursion_misses(); misses != 0) {
    raw.losses[Loss::program_skipped] = misses;
  }
  raw.slots_exhausted = m_skel->bss->stats[LUPA_STAT_SLOTS_EXHAUSTED];
  raw.triggers = m_skel->bss->stats[LUPA_STAT_TRIGGERS];
  raw.paths_retried = m_skel->bss->stats[LUPA_STAT_PATHS_RETRIED];
  return raw;
}

void BpfProbe::stop() {
  if (m_skel) {
    sysdisc_bpf__detach(m_skel.get());
  }
}

} // namespace

std::unique_ptr<SyscallProbe> make_bpf_probe() {
  return std::make_unique<BpfProbe>();
}

} // namespace tracer
