#include "explorer/supervisor.h"

#include "explorer/filter.h"
#include "util/log.h"

#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace explorer {

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

InjectionSupervisor::InjectionSupervisor(int listener, SupervisorRules rules)
    : m_listener(listener), m_stop(::eventfd(0, EFD_CLOEXEC)), m_rules(std::move(rules)),
      m_self_exe(executable_of(::getpid())) {
  m_thread = std::thread([this] { serve(); });
}

InjectionSupervisor::~InjectionSupervisor() { finish(); }

std::map<int, uint64_t> InjectionSupervisor::finish() {
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
    int nr = request.data.nr;
    seccomp_notif_resp response{};
    response.id = request.id;
    auto it = m_rules.injected.find(nr);
    bool inject = request.data.arch == AUDIT_ARCH_X86_64 && it != m_rules.injected.end() &&
                  should_inject(static_cast<pid_t>(request.pid), nr);
    // The pid read above must still be the caller's.
    if (::ioctl(m_listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &request.id) != 0) {
      continue;
    }
    if (inject) {
      response.error = it->second == core::Injection::stub ? -ENOSYS : 0;
      response.val = 0;
    } else {
      response.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    }
    if (::ioctl(m_listener, SECCOMP_IOCTL_NOTIF_SEND, &response) == 0 && inject) {
      ++m_hits[nr];
    }
  }
}

} // namespace explorer
