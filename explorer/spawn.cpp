#include "explorer/spawn.h"

#include "util/fs.h"
#include "util/strings.h"

#include <dirent.h>
#include <linux/capability.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <thread>

extern char** environ;

namespace explorer {

// Memory shared by the explorer, the reaper and the launched program until its exec.
struct SharedLaunchState {
  std::atomic<int> tracer_ready{0}; // set by the explorer once it traces the program
  std::atomic<int> listener_fd{-1}; // the filter's listener, in the shared fd table
  std::atomic<int> failed_step{0};  // FailedStep of the launched program, if any
  std::atomic<int> failed_errno{0};
};

namespace {

using Clock = std::chrono::steady_clock;

// linux_dirent64 as the kernel writes it (glibc does not declare it).
struct linux_dirent64_compat {
  ino64_t d_ino;
  off64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

// Messages on the control socket (SOCK_SEQPACKET: one message per send).
enum Message : int32_t {
  msg_started = 1,   // value: pid of the launched process
  msg_root_exit = 2, // value: its wait status
  msg_empty = 3,     // no process of the tree is left
  msg_listener = 4,  // carries the listener fd (SCM_RIGHTS)
  msg_done = 5,      // the tree was ended on request
  msg_failed = 6,    // the reaper could not start the program; value: errno
  msg_kill = 10,     // explorer -> reaper; value: grace in milliseconds
};

enum FailedStep : int { step_none = 0, step_tracer = 1, step_filter = 2, step_exec = 3 };

struct CtlMessage {
  int32_t type;
  int32_t value;
};

constexpr size_t k_clone_stack_size = 256 * 1024;
constexpr int k_max_tree = 8192;

// Everything the reaper and the launched program need, prepared before fork: after fork only
// plain system calls are made (no allocation, no locks).
struct ChildPlan {
  const char* path = nullptr;
  std::vector<char*> argv;
  char** envp = nullptr;
  int stdin_fd = -1;
  int output_fd = -1;
  int ctl_fd = -1;
  sock_fprog prog{};
  bool has_filter = false;
  bool listener = false;
  bool no_new_privs = false;
  bool wait_for_tracer = false;
  bool fresh_net = false;
  int join_net_fd = -1;
  void* stack_top = nullptr;
  SharedLaunchState* shared = nullptr;
};

// ---- helpers usable after fork (no allocation) -------------------------------------------

int64_t now_ms() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_us(long us) {
  timespec ts{us / 1000000, (us % 1000000) * 1000};
  ::nanosleep(&ts, nullptr);
}

// Writes "/proc/<pid>/task" or "/proc/<pid>/task/<tid>/children" into `out`.
void proc_path(char* out, size_t size, pid_t pid, pid_t tid) {
  char* p = out;
  char* end = out + size - 1;
  auto put = [&](const char* s) {
    while (*s && p < end) {
      *p++ = *s++;
    }
  };
  auto put_int = [&](int v) {
    char digits[16];
    auto [last, ec] = std::to_chars(digits, digits + sizeof(digits), v);
    *last = '\0';
    put(digits);
  };
  put("/proc/");
  put_int(pid);
  put("/task");
  if (tid > 0) {
    put("/");
    put_int(tid);
    put("/children");
  }
  *p = '\0';
}

// Appends to `pids` the children of every thread of `pid`; returns false when full.
bool append_children(pid_t pid, pid_t* pids, int& count) {
  char path[64];
  proc_path(path, sizeof(path), pid, 0);
  int dir = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return true;
  }
  alignas(8) char entries[4096];
  for (;;) {
    long n = ::syscall(SYS_getdents64, dir, entries, sizeof(entries));
    if (n <= 0) {
      break;
    }
    for (long off = 0; off < n;) {
      auto* entry = reinterpret_cast<linux_dirent64_compat*>(entries + off);
      off += entry->d_reclen;
      pid_t tid = 0;
      const char* name = entry->d_name;
      if (std::from_chars(name, name + std::strlen(name), tid).ec != std::errc() || tid <= 0) {
        continue;
      }
      char children_path[80];
      proc_path(children_path, sizeof(children_path), pid, tid);
      int fd = ::open(children_path, O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        continue;
      }
      char buffer[4096];
      ssize_t len = ::read(fd, buffer, sizeof(buffer) - 1);
      ::close(fd);
      if (len <= 0) {
        continue;
      }
      const char* p = buffer;
      const char* end = buffer + len;
      while (p < end) {
        pid_t child = 0;
        auto [next, ec] = std::from_chars(p, end, child);
        if (ec == std::errc()) {
          if (count >= k_max_tree) {
            ::close(dir);
            return false;
          }
          pids[count++] = child;
          p = next;
        } else {
          ++p;
        }
      }
    }
  }
  ::close(dir);
  return true;
}

// The descendants of `root` (excluded), breadth first; returns their number.
int tree_of(pid_t root, pid_t* pids) {
  int count = 0;
  append_children(root, pids, count);
  for (int i = 0; i < count; ++i) {
    if (!append_children(pids[i], pids, count)) {
      break;
    }
  }
  return count;
}

bool send_message(int fd, int32_t type, int32_t value, int pass_fd = -1) {
  CtlMessage message{type, value};
  iovec iov{&message, sizeof(message)};
  msghdr header{};
  header.msg_iov = &iov;
  header.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  if (pass_fd >= 0) {
    std::memset(control, 0, sizeof(control));
    header.msg_control = control;
    header.msg_controllen = sizeof(control);
    cmsghdr* cmsg = CMSG_FIRSTHDR(&header);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(cmsg), &pass_fd, sizeof(int));
  }
  for (;;) {
    ssize_t n = ::sendmsg(fd, &header, MSG_NOSIGNAL);
    if (n >= 0) {
      return true;
    }
    if (errno != EINTR) {
      return false;
    }
  }
}

[[noreturn]] void exit_now(int code) {
  // A faked or stubbed exit_group must not let the launched child run on.
  for (;;) {
    ::syscall(SYS_exit_group, code);
    ::syscall(SYS_exit, code);
    ::syscall(SYS_kill, ::syscall(SYS_getpid), SIGKILL);
  }
}

// ---- the launched program (runs in a clone of the reaper sharing its fd table) ------------

int launched_main(void* arg) {
  const ChildPlan& plan = *static_cast<const ChildPlan*>(arg);
  SharedLaunchState& shared = *plan.shared;
  // A clean signal state: nothing blocked, every disposition default (the explorer may ignore
  // SIGPIPE, and ignored signals would survive the exec).
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) {
      ::sigaction(sig, &dfl, nullptr);
    }
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  ::dup2(plan.stdin_fd, STDIN_FILENO);
  ::dup2(plan.output_fd, STDOUT_FILENO);
  ::dup2(plan.output_fd, STDERR_FILENO);

  if (plan.wait_for_tracer) {
    int64_t deadline = now_ms() + 30000;
    while (shared.tracer_ready.load() == 0) {
      if (now_ms() > deadline) {
        shared.failed_errno = ETIMEDOUT;
        shared.failed_step = step_tracer;
        exit_now(127);
      }
      sleep_us(50);
    }
  }
  if (plan.has_filter) {
    if (plan.no_new_privs) {
      ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    }
    unsigned flags = plan.listener ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
    long rc = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &plan.prog);
    if (rc < 0) {
      shared.failed_errno = errno;
      shared.failed_step = step_filter;
      exit_now(127);
    }
    if (plan.listener) {
      // A plain store: from here on, any system call could be an injected one. execve then
      // waits for the supervisor, which lets this first exec through.
      shared.listener_fd.store(static_cast<int>(rc));
    }
  }
  ::syscall(SYS_execve, plan.path, plan.argv.data(), plan.envp);
  shared.failed_errno = errno;
  shared.failed_step = step_exec;
  exit_now(127);
}

// ---- the reaper --------------------------------------------------------------------------

// Keeps only `keep` (and 0-2) open.
void close_all_but(int* keep, int n) {
  for (int i = 0; i < n; ++i) {
    for (int j = i + 1; j < n; ++j) {
      if (keep[j] < keep[i]) {
        std::swap(keep[i], keep[j]);
      }
    }
  }
  unsigned from = 3;
  for (int i = 0; i < n; ++i) {
    if (static_cast<unsigned>(keep[i]) > from) {
      ::close_range(from, static_cast<unsigned>(keep[i]) - 1, 0);
    }
    from = static_cast<unsigned>(keep[i]) + 1;
  }
  ::close_range(from, ~0u, 0);
}

class Reaper {
public:
  explicit Reaper(ChildPlan& plan) : m_plan(plan) {}

  [[noreturn]] void run() {
    setup();
    start_program();
    pass_listener();
    serve();
  }

private:
  void setup() {
    ::setsid();
    ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    ::prctl(PR_SET_NAME, "lupa-reaper", 0, 0, 0);
    // The explorer's stdio is not ours to hold.
    ::dup2(m_plan.stdin_fd, STDIN_FILENO);
    ::dup2(m_plan.stdin_fd, STDOUT_FILENO);
    ::dup2(m_plan.stdin_fd, STDERR_FILENO);
    int keep[4] = {m_plan.ctl_fd, m_plan.stdin_fd, m_plan.output_fd,
                   m_plan.join_net_fd >= 0 ? m_plan.join_net_fd : m_plan.ctl_fd};
    close_all_but(keep, 4);
    enter_network();
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigaddset(&chld, SIGPIPE);
    ::sigprocmask(SIG_BLOCK, &chld, nullptr);
    sigdelset(&chld, SIGPIPE);
    m_sigfd = ::signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  }

  // A fresh network namespace (loopback up), or the one of another tree.
  void enter_network() {
    if (m_plan.join_net_fd >= 0) {
      if (::setns(m_plan.join_net_fd, CLONE_NEWNET) != 0) {
        send_message(m_plan.ctl_fd, msg_failed, errno);
        ::_exit(127);
      }
      ::close(m_plan.join_net_fd);
    } else if (m_plan.fresh_net) {
      if (::unshare(CLONE_NEWNET) != 0) {
        send_message(m_plan.ctl_fd, msg_failed, errno);
        ::_exit(127);
      }
      int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      ifreq request{};
      std::memcpy(request.ifr_name, "lo", 3);
      if (s < 0 || ::ioctl(s, SIOCGIFFLAGS, &request) != 0 ||
          (request.ifr_flags |= IFF_UP, ::ioctl(s, SIOCSIFFLAGS, &request) != 0)) {
        send_message(m_plan.ctl_fd, msg_failed, errno);
        ::_exit(127);
      }
      ::close(s);
    }
  }

  void start_program() {
    // CLONE_FILES: the listener created by the program's seccomp() appears in our table too.
    int flags = SIGCHLD | (m_plan.listener ? CLONE_FILES : 0);
    m_root = ::clone(launched_main, m_plan.stack_top, flags, &m_plan);
    if (m_root < 0) {
      send_message(m_plan.ctl_fd, msg_failed, errno);
      ::_exit(127);
    }
    send_message(m_plan.ctl_fd, msg_started, m_root);
  }

  void pass_listener() {
    if (!m_plan.listener) {
      return;
    }
    for (;;) {
      int fd = m_plan.shared->listener_fd.load();
      if (fd >= 0) {
        send_message(m_plan.ctl_fd, msg_listener, 0, fd);
        // The program is blocked in execve until the supervisor answers; closing our copy does
        // not touch the table its exec will copy (the listener is close-on-exec anyway).
        ::close(fd);
        return;
      }
      int status = 0;
      if (::waitpid(m_root, &status, WNOHANG | __WALL) == m_root) {
        on_exit(m_root, status);
        return;
      }
      sleep_us(20);
    }
  }

  [[noreturn]] void serve() {
    for (;;) {
      reap();
      pollfd fds[2] = {{m_plan.ctl_fd, POLLIN, 0}, {m_sigfd, POLLIN, 0}};
      if (::poll(fds, 2, m_sigfd < 0 ? 20 : -1) < 0 && errno != EINTR) {
        end_tree(0);
      }
      if (fds[1].revents & POLLIN) {
        drain_signals();
      }
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        CtlMessage message{};
        ssize_t n = ::recv(m_plan.ctl_fd, &message, sizeof(message), MSG_DONTWAIT);
        if (n == sizeof(message) && message.type == msg_kill) {
          end_tree(message.value);
          send_message(m_plan.ctl_fd, msg_done, 0);
          ::_exit(0);
        }
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          end_tree(0); // the explorer is gone: nothing may survive it
          ::_exit(0);
        }
      }
    }
  }

  void drain_signals() {
    signalfd_siginfo info[8];
    while (::read(m_sigfd, info, sizeof(info)) > 0) {
    }
  }

  void on_exit(pid_t pid, int status) {
    if (pid == m_root && !m_root_reported) {
      m_root_reported = true;
      send_message(m_plan.ctl_fd, msg_root_exit, status);
    }
  }

  // Reaps every exited member; returns true when no child is left.
  bool reap() {
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG | __WALL);
      if (pid > 0) {
        on_exit(pid, status);
        continue;
      }
      if (pid < 0 && errno == EINTR) {
        continue;
      }
      if (pid < 0 && errno == ECHILD) {
        if (!m_empty_reported) {
          m_empty_reported = true;
          send_message(m_plan.ctl_fd, msg_empty, 0);
        }
        return true;
      }
      return false;
    }
  }

  void signal_tree(int sig) {
    int n = tree_of(::getpid(), m_pids);
    for (int i = 0; i < n; ++i) {
      ::kill(m_pids[i], sig);
    }
  }

  // Waits up to `ms` for the tree to go; true when it did.
  bool reap_within(int ms) {
    int64_t deadline = now_ms() + ms;
    while (!reap()) {
      int64_t left = deadline - now_ms();
      if (left <= 0) {
        return false;
      }
      pollfd fd{m_sigfd, POLLIN, 0};
      ::poll(&fd, 1, static_cast<int>(left < 10 ? left : 10));
      drain_signals();
    }
    return true;
  }

  // Ends the tree as a service manager would: SIGTERM to the app's first process, which may
  // shut its own children down (nginx's master tells its workers over their channel) for half
  // of `grace_ms`; then SIGTERM to every member for the other half; then SIGKILL until no child
  // is left. The app's own shutdown path thus runs the same way traced or not.
  void end_tree(int grace_ms) {
    if (grace_ms > 0) {
      bool done = false;
      if (!m_root_reported && m_root > 0 && ::kill(m_root, SIGTERM) == 0) {
        signal_tree(SIGCONT); // stopped members would never act on a signal
        done = reap_within(grace_ms / 2);
      }
      if (!done) {
        signal_tree(SIGTERM);
        signal_tree(SIGCONT);
        reap_within(grace_ms - grace_ms / 2);
      }
    }
    while (!reap()) {
      signal_tree(SIGKILL);
      pollfd fd{m_sigfd, POLLIN, 0};
      ::poll(&fd, 1, 5);
      drain_signals();
    }
  }

  ChildPlan& m_plan;
  pid_t m_root = -1;
  int m_sigfd = -1;
  bool m_root_reported = false;
  bool m_empty_reported = false;
  pid_t m_pids[k_max_tree];
};

// The reaper object is large (the pid table); keep it off the forked thread's stack.
[[noreturn]] void reaper_main(ChildPlan& plan, void* reaper_memory) {
  Reaper* reaper = new (reaper_memory) Reaper(plan);
  reaper->run();
}

} // namespace

bool can_isolate_network() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (::syscall(SYS_capget, &header, data) != 0) {
    return false;
  }
  return (data[CAP_SYS_ADMIN / 32].effective & (1u << (CAP_SYS_ADMIN % 32))) != 0;
}

util::Result<std::unique_ptr<ProcessTree>> ProcessTree::launch(const LaunchSpec& spec) {
  std::unique_ptr<ProcessTree> tree(new ProcessTree());

  // Everything is prepared here, before fork.
  std::vector<std::string> argv = spec.argv.empty()
                                      ? std::vector<std::string>{spec.program.string()}
                                      : spec.argv;
  std::string path = spec.program.string();
  ChildPlan plan;
  plan.path = path.c_str();
  for (std::string& a : argv) {
    plan.argv.push_back(a.data());
  }
  plan.argv.push_back(nullptr);
  plan.envp = environ;
  if (spec.filter != nullptr) {
    plan.has_filter = true;
    plan.listener = spec.filter->listener;
    plan.no_new_privs = spec.filter->no_new_privs;
    plan.prog.len = static_cast<unsigned short>(spec.filter->code.size());
    plan.prog.filter = const_cast<sock_filter*>(spec.filter->code.data());
  }
  plan.wait_for_tracer = spec.wait_for_tracer == WaitForTracer::yes;
  plan.fresh_net = spec.net.kind == NetNamespace::Kind::fresh;
  if (spec.net.kind == NetNamespace::Kind::join) {
    plan.join_net_fd =
        ::open(fmt::format("/proc/{}/ns/net", spec.net.of).c_str(), O_RDONLY | O_CLOEXEC);
    if (plan.join_net_fd < 0) {
      return util::error(util::system_error_message(
          fmt::format("cannot join the network namespace of process {}", spec.net.of)));
    }
  }

  int stdin_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int output_fd = ::open(spec.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int sockets[2] = {-1, -1};
  bool ok = stdin_fd >= 0 && output_fd >= 0 &&
            ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sockets) == 0;
  std::string failure = ok ? "" : util::system_error_message("cannot prepare to launch " + path);
  if (output_fd < 0) {
    failure = util::system_error_message("cannot create " + spec.output.string());
  }
  // One mapping: the shared state, the launched program's clone stack, the reaper object.
  size_t shared_size = 4096;
  size_t total = shared_size + k_clone_stack_size + sizeof(Reaper);
  void* memory = ok ? ::mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                             -1, 0)
                    : MAP_FAILED;
  if (ok && memory == MAP_FAILED) {
    ok = false;
    failure = util::system_error_message("mmap");
  }
  auto cleanup = [&] {
    for (int fd : {stdin_fd, output_fd, sockets[0], sockets[1], plan.join_net_fd}) {
      if (fd >= 0) {
        ::close(fd);
      }
    }
  };
  if (!ok) {
    cleanup();
    return util::error(failure);
  }
  tree->m_shared = new (memory) SharedLaunchState();
  char* base = static_cast<char*>(memory);
  plan.stack_top = base + shared_size + k_clone_stack_size;
  void* reaper_memory = base + shared_size + k_clone_stack_size;
  // The stack must not overlap the reaper object: the reaper sits above the stack top, and the
  // stack grows down from it.
  plan.shared = tree->m_shared;
  plan.stdin_fd = stdin_fd;
  plan.output_fd = output_fd;
  plan.ctl_fd = sockets[1];

  pid_t reaper = ::fork();
  if (reaper < 0) {
    std::string message = util::system_error_message("fork");
    cleanup();
    ::munmap(memory, total);
    tree->m_shared = nullptr;
    return util::error(message);
  }
  if (reaper == 0) {
    reaper_main(plan, reaper_memory);
  }
  tree->m_reaper = reaper;
  tree->m_ctl = sockets[0];
  sockets[0] = -1;
  cleanup();

  // The reaper tells us the launched pid at once.
  Clock::time_point deadline = Clock::now() + std::chrono::seconds(10);
  while (tree->m_root < 0 && !tree->m_empty && tree->m_reaper_error == 0 &&
         Clock::now() < deadline) {
    tree->poll(std::chrono::milliseconds(100));
  }
  if (tree->m_root < 0) {
    int err = tree->m_reaper_error;
    tree->terminate(std::chrono::milliseconds(0));
    return util::error(err != 0 ? util::system_error_message("cannot start " + path, err)
                                : "cannot start " + path + ": the launcher did not answer");
  }
  return tree;
}

ProcessTree::~ProcessTree() {
  terminate(std::chrono::milliseconds(0));
  if (m_listener >= 0) {
    ::close(m_listener);
  }
  if (m_shared != nullptr) {
    ::munmap(m_shared, 4096 + k_clone_stack_size + sizeof(Reaper));
  }
}

void ProcessTree::handle_message(int type, int value, int fd) {
  switch (type) {
  case msg_started:
    m_root = value;
    break;
  case msg_root_exit:
    m_root_exited = true;
    m_root_status = value;
    break;
  case msg_empty:
    m_empty = true;
    m_root_exited = true;
    break;
  case msg_listener:
    if (m_listener >= 0) {
      ::close(m_listener);
    }
    m_listener = fd;
    fd = -1;
    break;
  case msg_done:
    m_empty = true;
    m_root_exited = true;
    break;
  case msg_failed:
    m_reaper_error = value;
    break;
  default:
    break;
  }
  if (fd >= 0) {
    ::close(fd);
  }
}

void ProcessTree::poll(std::chrono::milliseconds timeout) {
  if (m_ctl < 0) {
    if (timeout.count() > 0) {
      std::this_thread::sleep_for(timeout);
    }
    return;
  }
  pollfd fd{m_ctl, POLLIN, 0};
  int rc = ::poll(&fd, 1, static_cast<int>(timeout.count()));
  if (rc <= 0) {
    return;
  }
  for (;;) {
    CtlMessage message{};
    iovec iov{&message, sizeof(message)};
    msghdr header{};
    header.msg_iov = &iov;
    header.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    header.msg_control = control;
    header.msg_controllen = sizeof(control);
    ssize_t n = ::recvmsg(m_ctl, &header, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return; // EAGAIN: nothing more for now
    }
    if (n == 0) {
      // The reaper is gone: the tree is over.
      ::close(m_ctl);
      m_ctl = -1;
      m_empty = true;
      m_root_exited = true;
      return;
    }
    int passed = -1;
    for (cmsghdr* c = CMSG_FIRSTHDR(&header); c != nullptr; c = CMSG_NXTHDR(&header, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        std::memcpy(&passed, CMSG_DATA(c), sizeof(int));
      }
    }
    if (n == sizeof(message)) {
      handle_message(message.type, message.value, passed);
    } else if (passed >= 0) {
      ::close(passed);
    }
  }
}

int ProcessTree::take_listener(std::chrono::milliseconds timeout) {
  Clock::time_point deadline = Clock::now() + timeout;
  while (m_listener < 0 && !m_root_exited && Clock::now() < deadline) {
    poll(std::chrono::milliseconds(10));
  }
  int fd = m_listener;
  m_listener = -1;
  return fd;
}

void ProcessTree::tracer_attached() { m_shared->tracer_ready.store(1); }

bool ProcessTree::wait_root(Clock::time_point deadline) {
  while (!m_root_exited) {
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    poll(std::min(left + std::chrono::milliseconds(1), std::chrono::milliseconds(100)));
  }
  return true;
}

bool ProcessTree::wait_empty(Clock::time_point deadline) {
  while (!m_empty) {
    Clock::time_point now = Clock::now();
    if (now >= deadline) {
      return false;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    poll(std::min(left + std::chrono::milliseconds(1), std::chrono::milliseconds(100)));
  }
  return true;
}

int ProcessTree::root_exit_code() const {
  if (WIFEXITED(m_root_status)) {
    return WEXITSTATUS(m_root_status);
  }
  if (WIFSIGNALED(m_root_status)) {
    return 128 + WTERMSIG(m_root_status);
  }
  return -1;
}

std::optional<std::string> ProcessTree::launch_error() const {
  if (m_shared == nullptr) {
    return std::nullopt;
  }
  int err = m_shared->failed_errno.load();
  switch (m_shared->failed_step.load()) {
  case step_tracer:
    return std::string("the tracer did not attach in time");
  case step_filter:
    return util::system_error_message("cannot install the seccomp filter", err);
  case step_exec:
    return util::system_error_message("cannot execute the program", err);
  default:
    return std::nullopt;
  }
}

std::vector<pid_t> ProcessTree::members() const {
  std::vector<pid_t> pids;
  if (m_reaped || m_reaper < 0) {
    return pids;
  }
  std::vector<pid_t> frontier{m_reaper};
  while (!frontier.empty()) {
    pid_t pid = frontier.back();
    frontier.pop_back();
    std::error_code ec;
    std::filesystem::directory_iterator it(fmt::format("/proc/{}/task", pid), ec);
    for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
      util::Result<std::string> children = util::read_file(it->path() / "children");
      if (!children) {
        continue;
      }
      for (const std::string& field : util::split(util::trim(*children), ' ')) {
        pid_t child = 0;
        if (std::from_chars(field.data(), field.data() + field.size(), child).ec ==
                std::errc() &&
            child > 0) {
          pids.push_back(child);
          frontier.push_back(child);
        }
      }
    }
  }
  return pids;
}

void ProcessTree::terminate(std::chrono::milliseconds grace) {
  if (m_reaped || m_reaper < 0) {
    return;
  }
  if (m_ctl >= 0) {
    send_message(m_ctl, msg_kill, static_cast<int32_t>(grace.count()));
  }
  // The reaper ends the tree and exits; it is our child, so wait for it. A reaper that hangs
  // (a member stuck in uninterruptible sleep) is killed after a generous delay.
  Clock::time_point deadline = Clock::now() + grace + std::chrono::seconds(10);
  for (;;) {
    int status = 0;
    pid_t pid = ::waitpid(m_reaper, &status, WNOHANG);
    if (pid == m_reaper || (pid < 0 && errno == ECHILD)) {
      break;
    }
    if (Clock::now() > deadline) {
      ::kill(m_reaper, SIGKILL);
      ::waitpid(m_reaper, &status, 0);
      break;
    }
    poll(std::chrono::milliseconds(2));
  }
  m_reaped = true;
  m_empty = true;
  m_root_exited = true;
  if (m_ctl >= 0) {
    ::close(m_ctl);
    m_ctl = -1;
  }
}

} // namespace explorer
