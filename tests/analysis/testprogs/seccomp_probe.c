/* A static program whose syscalls show what a seccomp profile does (tests/analysis).
 *   seccomp_probe          prints "<call>=<return> errno=<errno>" for mkdir, sync, uname and
 *                          sysinfo, then "created=<0|1>" (did the mkdir create anything?)
 *   seccomp_probe --check  the same, and exits 0 only if mkdir was faked (returned 0, created
 *                          nothing), sync and uname were stubbed and sysinfo denied (ENOSYS)
 *   seccomp_probe --serve  waits for a signal (a long-running "app" to `exec` into) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

static long report(const char* name, long ret, int* err) {
  *err = ret < 0 ? errno : 0;
  printf("%s=%ld errno=%d\n", name, ret, *err);
  return ret;
}

int main(int argc, char** argv) {
  if (argc > 1 && strcmp(argv[1], "--serve") == 0) {
    syscall(SYS_pause);
    return 0;
  }
  const char* dir = "/tmp/lupa-probe-dir";
  struct utsname uts;
  struct sysinfo info;
  int mkdir_err, sync_err, uname_err, sysinfo_err;
  errno = 0;
  long mkdir_ret = report("mkdir", syscall(SYS_mkdir, dir, 0755), &mkdir_err);
  errno = 0;
  long sync_ret = report("sync", syscall(SYS_sync), &sync_err);
  errno = 0;
  long uname_ret = report("uname", syscall(SYS_uname, &uts), &uname_err);
  errno = 0;
  long sysinfo_ret = report("sysinfo", syscall(SYS_sysinfo, &info), &sysinfo_err);
  struct stat st;
  int created = stat(dir, &st) == 0;
  printf("created=%d\n", created);
  fflush(stdout);
  if (argc > 1 && strcmp(argv[1], "--check") == 0) {
    int ok = mkdir_ret == 0 && !created && sync_ret == -1 && sync_err == ENOSYS &&
             uname_ret == -1 && uname_err == ENOSYS && sysinfo_ret == -1 && sysinfo_err == ENOSYS;
    return ok ? 0 : 1;
  }
  return 0;
}
