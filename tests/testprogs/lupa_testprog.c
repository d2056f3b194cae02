/* lupa_testprog MODE [ARGS]: small programs with a known system call behaviour, for the
 * explorer's tests and benchmarks. Calls that libc may not wrap are made through syscall(2). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/sched.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int say(const char* text) { return (int)write(1, text, strlen(text)); }

static int mode_getppid(long n) {
  for (long i = 0; i < n; ++i) {
    syscall(SYS_getppid);
  }
  return 0;
}

static int mode_new_calls(void) {
  /* clone3: a child that exits at once */
  struct clone_args args;
  memset(&args, 0, sizeof(args));
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, sizeof(args));
  if (pid == 0) {
    syscall(SYS_exit_group, 0);
  }
  if (pid > 0) {
    waitpid((pid_t)pid, NULL, 0);
  }
  /* openat2 */
  struct open_how how;
  memset(&how, 0, sizeof(how));
  how.flags = O_RDONLY;
  long fd = syscall(SYS_openat2, AT_FDCWD, "/etc/hostname", &how, sizeof(how));
  if (fd >= 0) {
    close((int)fd);
  }
  /* close_range, pidfd_open, faccessat2 */
  syscall(SYS_close_range, 100, 200, 0);
  long pidfd = syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd >= 0) {
    close((int)pidfd);
  }
  syscall(SYS_faccessat2, AT_FDCWD, "/etc/hostname", R_OK, 0);
  say("new calls done\n");
  return 0;
}

static void* thread_main(void* arg) {
  (void)arg;
  struct sysinfo info;
  sysinfo(&info);
  /* Outlive pthread_create's return, so the join always waits (a futex call every run). */
  struct timespec ts = {0, 20 * 1000000L};
  nanosleep(&ts, NULL);
  return NULL;
}

static int mode_threads(int n) {
  pthread_t threads[64];
  if (n > 64) {
    n = 64;
  }
  for (int i = 0; i < n; ++i) {
    pthread_create(&threads[i], NULL, thread_main, NULL);
  }
  for (int i = 0; i < n; ++i) {
    pthread_join(threads[i], NULL);
  }
  say("threads done\n");
  return 0;
}

static void* exec_thread_main(void* arg) {
  (void)arg;
  /* Let the main thread reach pause() first, so every run makes the same calls. */
  struct timespec ts = {0, 200 * 1000000L};
  nanosleep(&ts, NULL);
  char* argv[] = {"/bin/true", NULL};
  execv("/bin/true", argv);
  return NULL;
}

static int mode_exec_thread(void) {
  pthread_t thread;
  pthread_create(&thread, NULL, exec_thread_main, NULL);
  pause(); /* the exec replaces this thread too */
  return 1;
}

static int mode_vfork(void) {
  pid_t pid = vfork();
  if (pid == 0) {
    char* argv[] = {"/bin/true", NULL};
    execv("/bin/true", argv);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

static volatile sig_atomic_t g_usr1;
static void on_usr1(int sig) {
  (void)sig;
  g_usr1++;
}

static int mode_signals(void) {
  struct sigaction action;
  memset(&action, 0, sizeof(action));
  action.sa_handler = on_usr1;
  sigaction(SIGUSR1, &action, NULL);
  for (int i = 0; i < 3; ++i) {
    kill(getpid(), SIGUSR1);
  }
  /* A child stops itself (group-stop), the parent sees it stopped and continues it. */
  pid_t child = fork();
  if (child == 0) {
    kill(getpid(), SIGSTOP);
    _exit(7);
  }
  int status = 0;
  waitpid(child, &status, WUNTRACED);
  if (!WIFSTOPPED(status)) {
    return 2;
  }
  kill(child, SIGCONT);
  waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 7 || g_usr1 != 3) {
    return 3;
  }
  say("signals done\n");
  return 0;
}

static int mode_sysinfo(void) {
  struct sysinfo info;
  sysinfo(&info);
  say("bin-out\n");
  return 0;
}

static int mode_daemon(void) {
  if (fork() == 0) {
    setsid();
    if (fork() == 0) {
      for (;;) {
        pause();
      }
    }
    _exit(0);
  }
  for (;;) {
    pause();
  }
}

/* SIGTERM in serve mode: the server's shutdown makes one call it never makes otherwise. */
static void serve_shutdown(int sig) {
  (void)sig;
  syscall(SYS_getpgrp);
  _exit(0);
}

/* A TCP server on 127.0.0.1:PORT answering "ok\n" to every connection, after DELAY ms; on
 * SIGTERM it calls getpgrp (only then) and exits. */
static int mode_serve(int port, int delay_ms) {
  signal(SIGTERM, serve_shutdown);
  if (delay_ms > 0) {
    struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((unsigned short)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr*)&addr, sizeof(addr)) != 0 || listen(s, 16) != 0) {
    perror("bind/listen");
    return 1;
  }
  for (;;) {
    int c = accept(s, NULL, NULL);
    if (c >= 0) {
      write(c, "ok\n", 3);
      close(c);
    }
  }
}

__attribute__((noreturn)) static void mode_busy(void) {
  volatile unsigned long x = 0;
  for (;;) {
    ++x;
  }
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "";
  if (strcmp(mode, "getppid") == 0) {
    return mode_getppid(argc > 2 ? atol(argv[2]) : 1000000);
  }
  if (strcmp(mode, "new-calls") == 0) {
    return mode_new_calls();
  }
  if (strcmp(mode, "threads") == 0) {
    return mode_threads(argc > 2 ? atoi(argv[2]) : 4);
  }
  if (strcmp(mode, "exec-thread") == 0) {
    return mode_exec_thread();
  }
  if (strcmp(mode, "vfork") == 0) {
    return mode_vfork();
  }
  if (strcmp(mode, "signals") == 0) {
    return mode_signals();
  }
  if (strcmp(mode, "sysinfo") == 0) {
    return mode_sysinfo();
  }
  if (strcmp(mode, "daemon") == 0) {
    return mode_daemon();
  }
  if (strcmp(mode, "serve") == 0 && argc > 2) {
    return mode_serve(atoi(argv[2]), argc > 3 ? atoi(argv[3]) : 0);
  }
  if (strcmp(mode, "busy") == 0) {
    mode_busy();
  }
  fprintf(stderr, "usage: lupa_testprog getppid [N] | new-calls | threads [N] | exec-thread | "
                  "vfork | signals | sysinfo | daemon | serve PORT [DELAY_MS] | busy\n");
  return 2;
}
