/* A deterministic program for the tracer's tests and benchmark, linked statically so that it
 * runs alone in a FROM-scratch container image. Every mode makes a known set of syscalls.
 *
 *   tracee work N        N getppid, then pseudo-files, sub-features, a forked child (N more)
 *   tracee loop N        N getppid (the benchmark's syscall-heavy loop); prints the wall
 *                        and thread-CPU ns per call
 *   tracee threads N T   T threads doing N getppid each
 *   tracee launch PROG ARGS...   wait for SIGUSR1, then fork+exec PROG (the container's init
 *                        or lupa-explore role); exits with PROG's status
 *   tracee waitwork N    fork a child; both wait for SIGUSR1, then do N getppid each
 *   tracee pathfault     openat() a /proc path whose string is in a not-yet-faulted page
 *   tracee pathsegv      the same, then die of SIGSEGV without another syscall */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/prctl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static void getppid_loop(long n)
{
	for (long i = 0; i < n; i++)
		syscall(SYS_getppid);
}

static int wait_child(pid_t pid)
{
	int status = 0;
	if (waitpid(pid, &status, 0) != pid)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void wait_usr1(void)
{
	sigset_t set;
	int sig = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigwait(&set, &sig);
}

static int work(long n)
{
	getppid_loop(n);
	char buf[256];
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd >= 0) {
		(void)!read(fd, buf, sizeof(buf));
		close(fd);
	}
	fd = open("/dev/null", O_RDWR);
	struct termios t;
	ioctl(fd, TCGETS, &t); /* ENOTTY */
	fcntl(fd, F_GETFL);
	close(fd);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	close(s);
	prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	void *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	madvise(p, 4096, MADV_DONTNEED);
	mprotect(p, 4096, PROT_READ);
	munmap(p, 8192);
	pid_t child = fork();
	if (child == 0) {
		getppid_loop(n);
		_exit(0);
	}
	return wait_child(child);
}

static void *thread_main(void *arg)
{
	getppid_loop((long)arg);
	return NULL;
}

static int threads(long n, int count)
{
	pthread_t ids[64];
	if (count > 64)
		count = 64;
	for (int i = 0; i < count; i++)
		pthread_create(&ids[i], NULL, thread_main, (void *)n);
	for (int i = 0; i < count; i++)
		pthread_join(ids[i], NULL);
	return 0;
}

static int launch(char **argv)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	wait_usr1();
	pid_t child = fork();
	if (child == 0) {
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		execv(argv[0], argv);
		_exit(127);
	}
	return wait_child(child);
}

static int waitwork(long n)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	pid_t child = fork();
	if (child == 0) {
		wait_usr1();
		getppid_loop(n);
		_exit(0);
	}
	printf("%d\n", (int)child);
	fflush(stdout);
	wait_usr1();
	getppid_loop(n);
	return wait_child(child);
}

static int pathfault(int die)
{
	char name[] = "/tmp/lupa-tracee-pathXXXXXX";
	int fd = mkstemp(name);
	if (fd < 0)
		return 2;
	static const char path[] = "/proc/self/stat";
	(void)!write(fd, path, sizeof(path));
	unlink(name);
	/* A fresh mapping has no page table entry until touched: BPF cannot read it at sys_enter;
	 * the kernel faults it in during openat. */
	const char *mapped = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	if (mapped == MAP_FAILED)
		return 2;
	int proc = openat(AT_FDCWD, mapped, O_RDONLY);
	if (proc < 0)
		return 3;
	if (die)
		*(volatile int *)0 = 0; /* no syscall between the openat and the end */
	close(proc);
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "work") == 0)
		return work(atol(argv[2]));
	if (argc >= 3 && strcmp(argv[1], "loop") == 0) {
		/* Wall time, and this thread's CPU time (which excludes time lost to other
		 * processes on a busy machine, and includes what BPF programs cost in this thread). */
		long n = atol(argv[2]);
		struct timespec w0, w1, c0, c1;
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		clock_gettime(CLOCK_MONOTONIC, &w0);
		getppid_loop(n);
		clock_gettime(CLOCK_MONOTONIC, &w1);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		double wall = (w1.tv_sec - w0.tv_sec) * 1e9 + (w1.tv_nsec - w0.tv_nsec);
		double cpu = (c1.tv_sec - c0.tv_sec) * 1e9 + (c1.tv_nsec - c0.tv_nsec);
		printf("%.1f %.1f\n", n > 0 ? wall / n : 0.0, n > 0 ? cpu / n : 0.0);
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "threads") == 0)
		return threads(atol(argv[2]), atoi(argv[3]));
	if (argc >= 3 && strcmp(argv[1], "launch") == 0)
		return launch(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "waitwork") == 0)
		return waitwork(atol(argv[2]));
	if (argc >= 2 && strcmp(argv[1], "pathfault") == 0)
		return pathfault(0);
	if (argc >= 2 && strcmp(argv[1], "pathsegv") == 0)
		return pathfault(1);
	fprintf(stderr, "usage: tracee work N | loop N | threads N T | launch PROG ARGS... | "
			"waitwork N | pathfault | pathsegv\n");
	return 2;
}
