#include "explorer/supervisor.h"

#include "core/subfeatures.h"
#include "explorer/filter.h"
#include "util/log.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace explorer {

namespace {

// What an injected call gets back.
struct Answer {
  bool inject = false;
  int error = 0;        // negative errno, or 0
  int64_t value = 0;    // the return value when error is 0
  int fd = -1;          // an fd to install as the return value (ADDFD), closed after
  bool cloexec = false; // ... close-on-exec in the caller
};

// Reads a `T` at `address` in the memory of `pid`.
template <typename T> std::optional<T> read_value(pid_t pid, uint64_t address) {
  T value{};
  if (read_memory(pid, address, &value, sizeof(value)) != static_cast<ssize_t>(sizeof(value))) {
    return std::nullopt;
  }
  return value;
}

// The open flags of an open call `nr` with `args` (openat2's come from its struct open_how).
std::optional<uint64_t> open_flags(pid_t pid, int nr, const std::array<uint64_t, 6>& args) {
  switch (nr) {
  case SYS_open:
    return args[1];
  case SYS_openat:
    return args[2];
  case SYS_creat:
    return uint64_t{O_CREAT | O_WRONLY | O_TRUNC};
  case SYS_openat2: {
    std::optional<open_how> how = read_value<open_how>(pid, args[2]);
    return how ? std::optional<uint64_t>(how->flags) : std::nullopt;
  }
  default:
    return std::nullopt;
  }
}

// An fd of an empty regular file opened with `flags`, or a negative errno.
int open_empty(const std::filesystem::path& empty_file, uint64_t flags) {
  if (flags & O_DIRECTORY) {
    return -ENOTDIR;
  }
  int keep = static_cast<int>(flags & (O_APPEND | O_NONBLOCK | O_NOATIME | O_PATH));
  int access = static_cast<int>(flags & O_ACCMODE);
  int fd =
      access == O_RDONLY || (flags & O_PATH)
          ? ::open(empty_file.c_str(), O_RDONLY | O_CLOEXEC | keep)
          : ::open(empty_file.parent_path().c_str(), O_TMPFILE | O_CLOEXEC | access | keep, 0644);
  return fd >= 0 ? fd : -errno;
}

// How a call `nr` naming an empty regular file behaves (see supervisor.h).
Answer empty_file_answer(pid_t pid, int nr, const std::array<uint64_t, 6>& args,
                         const std::filesystem::path& empty_file) {
  Answer a;
  a.inject = true;
  switch (nr) {
  case SYS_open:
  case SYS_openat:
  case SYS_openat2:
  case SYS_creat: {
    std::optional<uint64_t> flags = open_flags(pid, nr, args);
    if (!flags) {
      a.error = -EFAULT;
      return a;
    }
    int fd = open_empty(empty_file, *flags);
    (fd < 0 ? a.error : a.fd) = fd;
    a.cloexec = (*flags & O_CLOEXEC) != 0;
    return a;
  }
  case SYS_stat:
  case SYS_lstat:
  case SYS_newfstatat: {
    struct stat st {};
    if (::stat(empty_file.c_str(), &st) != 0) {
      a.error = -errno;
      return a;
    }
    uint64_t buffer = nr == SYS_newfstatat ? args[2] : args[1];
    a.error = write_memory(pid, buffer, &st, sizeof(st)) ? 0 : -EFAULT;
    return a;
  }
  case SYS_statx: {
    struct statx stx {};
    if (::statx(AT_FDCWD, empty_file.c_str(), 0, static_cast<unsigned>(args[3]), &stx) != 0) {
      a.error = -errno;
      return a;
    }
    a.error = write_memory(pid, args[4], &stx, sizeof(stx)) ? 0 : -EFAULT;
    return a;
  }
  case SYS_access:
  case SYS_faccessat:
  case SYS_faccessat2: {
    uint64_t mode = nr == SYS_access ? args[1] : args[2];
    a.error = (mode & X_OK) ? -EACCES : 0; // an empty file of mode 0644
    return a;
  }
  case SYS_readlink:
  case SYS_readlinkat:
    a.error = -EINVAL; // not a symbolic link
    return a;
  case SYS_chdir:
    a.error = -ENOTDIR;
    return a;
  case SYS_execve:
  case SYS_execveat:
    a.error = -EACCES; // not executable
    return a;
  default:
    a.inject = false; // calls that do not read the file run on the real path
    return a;
  }
}

} // namespace

std::filesystem::path executable_of(pid_t pid) {
  std::error_code ec;
  std::filesystem::path exe =
      std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
  if (ec) {
    return {};
  }
  std::string text = exe.string();
  const std::string deleted = " (deleted)";
  if (text.ends_with(deleted)) {
    text.resize(text.size() - deleted.size());
  }
  return text;
}

namespace {

// /proc/<pid>/mem of `pid`, opened for `flags`, or -1.
int open_mem(pid_t pid, int flags) {
  return ::open(fmt::format("/proc/{}/mem", pid).c_str(), flags | O_CLOEXEC);
}

// True if process_vm_readv/writev were refused as such (a seccomp profile), not for `pid`.
bool refused_call(int err) {
  return err == ENOSYS || err == EPERM;
}

} // namespace

ssize_t read_memory(pid_t pid, uint64_t address, void* out, size_t size) {
  iovec local{out, size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t n = ::process_vm_readv(pid, &local, 1, &remote, 1, 0);
  if (n >= 0 || !refused_call(errno)) {
    return n;
  }
  int fd = open_mem(pid, O_RDONLY);
  if (fd < 0) {
    errno = errno == EACCES ? EPERM : errno;
    return -1;
  }
  n = ::pread(fd, out, size, static_cast<off_t>(address));
  int err = errno;
  ::close(fd);
  errno = err;
  return n;
}

bool write_memory(pid_t pid, uint64_t address, const void* data, size_t size) {
  iovec local{const_cast<void*>(data), size};
  iovec remote{reinterpret_cast<void*>(address), size};
  ssize_t n = ::process_vm_writev(pid, &local, 1, &remote, 1, 0);
  if (n >= 0 || !refused_call(errno)) {
    return n == static_cast<ssize_t>(size);
  }
  int fd = open_mem(pid, O_WRONLY);
  if (fd < 0) {
    return false;
  }
  n = ::pwrite(fd, data, size, static_cast<off_t>(address));
  ::close(fd);
  return n == static_cast<ssize_t>(size);
}

std::optional<std::string> read_string(pid_t pid, uint64_t address, size_t max) {
  std::string out;
  char buffer[4096];
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  while (out.size() < max) {
    // Never read across a page boundary at once: the next page may not be mapped.
    size_t chunk = static_cast<size_t>(std::min<uint64_t>(page - address % page, sizeof(buffer)));
    chunk = std::min(chunk, max - out.size());
    ssize_t n = read_memory(pid, address, buffer, chunk);
    if (n <= 0) {
      return std::nullopt;
    }
    size_t length = ::strnlen(buffer, static_cast<size_t>(n));
    out.append(buffer, length);
    if (length < static_cast<size_t>(n)) {
      return out;
    }
    address += static_cast<uint64_t>(n);
  }
  return std::nullopt; // longer than `max`
}

InjectionSupervisor::InjectionSupervisor(int listener, SupervisorRules rules)
    : m_listener(listener), m_stop(::eventfd(0, EFD_CLOEXEC)), m_rules(std::move(rules)),
      m_self_exe(executable_of(::getpid())) {
  m_hits.args.assign(m_rules.args.size(), 0);
  m_hits.paths.assign(m_rules.paths.size(), 0);
  m_thread = std::thread([this] { serve(); });
}

InjectionSupervisor::~InjectionSupervisor() { finish(); }

SupervisorHits InjectionSupervisor::finish() {
  if (!m_finished) {
    m_finished = true;
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(m_stop, &one, sizeof(one));
    m_thread.join();
    ::close(m_stop);
    ::close(m_listener);
  }
  return m_hits;
}

bool InjectionSupervisor::should_inject(pid_t pid, int nr) {
  if (is_exec_syscall(nr) || m_rules.only_consider) {
    std::filesystem::path exe = executable_of(pid);
    // The exec lupa makes to start the app: the caller still runs lupa's own image.
    if (is_exec_syscall(nr) && exe == m_self_exe) {
      return false;
    }
    if (m_rules.only_consider && exe != *m_rules.only_consider) {
      return false;
    }
  }
  return true;
}

int InjectionSupervisor::path_rule_of(pid_t pid, int nr, const std::array<uint64_t, 6>& args) {
  std::optional<unsigned> index = core::path_arg_index(nr);
  if (m_rules.paths.empty() || !index || args[*index] == 0) {
    return -1;
  }
  std::optional<std::string> path = read_string(pid, args[*index]);
  if (!path && (errno == EPERM || errno == EACCES)) {
    ++m_hits.unreadable;
  }
  if (!path || !core::is_pseudo_file_path(*path)) {
    return -1;
  }
  std::string pattern = core::pseudo_file_pattern(*path);
  for (size_t i = 0; i < m_rules.paths.size(); ++i) {
    if (m_rules.paths[i].path == pattern) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

void InjectionSupervisor::serve() {
  for (;;) {
    pollfd fds[2] = {{m_listener, POLLIN, 0}, {m_stop, POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) {
        continue;
      }
      util::log::warn("seccomp supervisor: poll: {}", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) {
      return;
    }
    if ((fds[0].revents & POLLIN) == 0) {
      if (fds[0].revents & (POLLHUP | POLLERR | POLLNVAL)) {
        return; // no process uses the filter any more
      }
      continue;
    }
    seccomp_notif request{};
    if (::ioctl(m_listener, SECCOMP_IOCTL_NOTIF_RECV, &request) != 0) {
      continue; // the caller died or was interrupted
    }
    answer(request);
  }
}

void InjectionSupervisor::answer(const seccomp_notif& request) {
  int nr = request.data.nr;
  auto pid = static_cast<pid_t>(request.pid);
  std::array<uint64_t, 6> args{};
  for (size_t i = 0; i < args.size(); ++i) {
    args[i] = request.data.args[i];
  }
  Answer answer;
  int arg_rule = -1;
  int path_rule = -1;
  if (request.data.arch == AUDIT_ARCH_X86_64) {
    if (auto it = m_rules.injected.find(nr); it != m_rules.injected.end()) {
      answer.inject = true;
      answer.error = it->second == core::Injection::stub ? -ENOSYS : 0;
    } else {
      for (size_t i = 0; i < m_rules.args.size() && arg_rule < 0; ++i) {
        if (m_rules.args[i].matches(nr, args)) {
          arg_rule = static_cast<int>(i);
          answer.inject = true;
          answer.error = m_rules.args[i].injection == core::Injection::stub ? -ENOSYS : 0;
        }
      }
      if (arg_rule < 0) {
        path_rule = path_rule_of(pid, nr, args);
      }
    }
  }
  bool inject = (answer.inject || path_rule >= 0) && should_inject(pid, nr);
  // The pid and memory read above must still be the caller's.
  if (::ioctl(m_listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &request.id) != 0) {
    return;
  }
  if (inject && path_rule >= 0) {
    if (m_rules.paths[path_rule].action == core::PathAction::enoent) {
      answer = Answer{true, -ENOENT};
    } else {
      answer = empty_file_answer(pid, nr, args, m_rules.empty_file);
    }
    inject = answer.inject;
  }
  // Late: the verdict was in before the caller gets its answer, so the answer cannot have
  // mattered to it. Read before answering: once answered, the call may complete, the test
  // finish and the verdict be marked while this thread has yet to count the hit.
  bool late = m_after_verdict.load();
  bool sent = false;
  if (inject && answer.fd >= 0) {
    // The empty file becomes the open's result in the caller, atomically.
    seccomp_notif_addfd addfd{};
    addfd.id = request.id;
    addfd.flags = SECCOMP_ADDFD_FLAG_SEND;
    addfd.srcfd = static_cast<uint32_t>(answer.fd);
    addfd.newfd_flags = answer.cloexec ? O_CLOEXEC : 0;
    sent = ::ioctl(m_listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd) >= 0;
    ::close(answer.fd);
  } else {
    seccomp_notif_resp response{};
    response.id = request.id;
    if (inject) {
      response.error = answer.error;
      response.val = answer.value;
    } else {
      response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
    sent = ::ioctl(m_listener, SECCOMP_IOCTL_NOTIF_SEND, &response) == 0;
  }
  if (sent && inject) {
    ++m_hits.syscalls[nr];
    if (late) {
      ++m_hits.late[nr];
    }
    if (arg_rule >= 0) {
      ++m_hits.args[static_cast<size_t>(arg_rule)];
    }
    if (path_rule >= 0) {
      ++m_hits.paths[static_cast<size_t>(path_rule)];
    }
  }
}

} // namespace explorer
