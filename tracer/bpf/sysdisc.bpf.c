// SPDX-License-Identifier: GPL-2.0
/* Syscall discovery in the kernel: counts the syscalls of one process tree or one cgroup v2
 * per (process slot, syscall number) in a per-CPU array, records the raw values of the
 * arguments that select a sub-feature and the pseudo-file paths (/proc, /sys, /dev) named by
 * path syscalls in hash maps, and counts every loss. Nothing is sent per syscall: user space
 * reads the maps when the measurement ends.
 *
 * Scope (rodata, set at load time):
 *  - cgroup_id/cgroup_level: only tasks in that cgroup v2 or below it;
 *  - whole_cgroup: every task of the cgroup is traced (else only the traced tree);
 *  - trigger_tgid (+ trigger_dev/ino): a tree starts when that process, or one of its
 *    descendants (up to LUPA_TRIGGER_DEPTH generations), execs (that binary); the exec syscall
 *    itself is counted once, as strace does;
 *  - user space may also mark running tasks as traced (task storage keyed by pidfd);
 *  - only_dev/only_ino: calls count only while the task's image is that binary (Loupe's
 *    --only-consider); other tasks of the tree are followed, not counted. As in ptrace
 *    discovery, the execve that makes a task run the binary is judged by the image it left.
 * Traced tasks carry task local storage; forks of a traced task are traced too. */
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "sysdisc.h"

char LICENSE[] SEC("license") = "GPL";

#define LUPA_EEXIST 17
#define LUPA_NR_EXECVE 59
#define LUPA_NR_EXECVEAT 322

const volatile __u64 cgroup_id = 0;
const volatile __u32 cgroup_level = 0;
const volatile __u32 whole_cgroup = 0;
const volatile __u32 trigger_tgid = 0;
const volatile __u64 trigger_dev = 0;
const volatile __u64 trigger_ino = 0;
const volatile __u64 only_dev = 0;
const volatile __u64 only_ino = 0;
const volatile __u32 max_slots = 1;
const volatile __u32 record_features = 1;
const volatile __u32 record_paths = 1;
const volatile struct lupa_syscall_info syscall_info[LUPA_NR_STRIDE];

__u64 losses[LUPA_LOSS_KINDS];
__u64 stats[LUPA_STAT_KINDS];
__u32 next_slot = 1;

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct lupa_task);
} tasks SEC(".maps");

/* counts[slot * LUPA_NR_STRIDE + nr]; max_entries is set by user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LUPA_NR_STRIDE);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lupa_slot_info);
} slots SEC(".maps");

/* Slot of each process met lazily (whole-cgroup mode), so its threads share it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} tgid_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lupa_feature_key);
	__type(value, __u64);
} features SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct lupa_path_key);
	__type(value, __u64);
} paths SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lupa_path_key);
} path_buf SEC(".maps");

static __always_inline void lose(int kind)
{
	if (kind >= 0 && kind < LUPA_LOSS_KINDS)
		__sync_fetch_and_add(&losses[kind], 1);
}

static __always_inline bool in_cgroup(void)
{
	return !cgroup_id || bpf_get_current_ancestor_cgroup_id(cgroup_level) == cgroup_id;
}

static __always_inline __u64 arg_of(struct pt_regs *regs, __u32 i)
{
	switch (i) {
	case 0: return regs->di;
	case 1: return regs->si;
	case 2: return regs->dx;
	case 3: return regs->r10;
	case 4: return regs->r8;
	case 5: return regs->r9;
	}
	return 0;
}

/* A fresh process slot for `p` (0, the shared overflow slot, when none is left). */
static __always_inline __u32 new_slot(struct task_struct *p)
{
	__u32 slot = __sync_fetch_and_add(&next_slot, 1);
	if (slot >= max_slots) {
		__sync_fetch_and_add(&stats[LUPA_STAT_SLOTS_EXHAUSTED], 1);
		return 0;
	}
	struct lupa_slot_info *info = bpf_map_lookup_elem(&slots, &slot);
	if (info) {
		info->tgid = BPF_CORE_READ(p, tgid);
		bpf_probe_read_kernel_str(info->comm, sizeof(info->comm), p->comm);
	}
	return slot;
}

static __always_inline struct lupa_task *track(struct task_struct *p, __u32 slot, __u32 ignored)
{
	struct lupa_task *st =
		bpf_task_storage_get(&tasks, p, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!st) {
		lose(LUPA_LOSS_TRACK_FAILED);
		return 0;
	}
	st->slot = slot;
	st->pending_nr = 0;
	st->pending_ptr = 0;
	st->ignored = ignored;
	return st;
}

static __always_inline bool is_file(struct file *file, __u64 dev, __u64 ino)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	return inode && BPF_CORE_READ(inode, i_ino) == ino && BPF_CORE_READ(inode, i_sb, s_dev) == dev;
}

/* 1 when `file` (a task's new image) is not the only-binary, so its calls do not count. */
static __always_inline __u32 ignored_image(struct file *file)
{
	return only_ino && !is_file(file, only_dev, only_ino);
}

/* Whole-cgroup mode: a task of the cgroup met for the first time. */
static __always_inline struct lupa_task *track_lazily(struct task_struct *task)
{
	__u32 tgid = task->tgid;
	__u32 *known = bpf_map_lookup_elem(&tgid_slots, &tgid);
	__u32 slot;
	if (known) {
		slot = *known;
	} else {
		slot = new_slot(task);
		if (slot && bpf_map_update_elem(&tgid_slots, &tgid, &slot, BPF_NOEXIST) == -LUPA_EEXIST) {
			/* Another thread of the process won the race: share its slot. */
			known = bpf_map_lookup_elem(&tgid_slots, &tgid);
			if (known)
				slot = *known;
		}
	}
	return track(task, slot, ignored_image(BPF_CORE_READ(task, mm, exe_file)));
}

static __always_inline void count(__u32 slot, long nr)
{
	if ((__u64)nr >= LUPA_NR_STRIDE) {
		lose(LUPA_LOSS_NR_OUT_OF_RANGE);
		return;
	}
	__u32 idx = slot * LUPA_NR_STRIDE + (__u32)nr;
	__u64 *c = bpf_map_lookup_elem(&counts, &idx);
	if (!c) {
		lose(LUPA_LOSS_COUNT_MISSING);
		return;
	}
	/* Atomic although per-CPU: a preempted program must not lose a concurrent increment. */
	__sync_fetch_and_add(c, 1);
}

/* Adds one to `key` in hash map `map`, inserting it; counts a loss of `kind` when full. */
static __always_inline void add_one(void *map, void *key, int kind)
{
	__u64 *c = bpf_map_lookup_elem(map, key);
	if (c) {
		__sync_fetch_and_add(c, 1);
		return;
	}
	__u64 one = 1;
	long err = bpf_map_update_elem(map, key, &one, BPF_NOEXIST);
	if (err == -LUPA_EEXIST) {
		c = bpf_map_lookup_elem(map, key);
		if (c)
			__sync_fetch_and_add(c, 1);
	} else if (err) {
		lose(kind);
	}
}

static __always_inline void record_feature(struct pt_regs *regs, long nr, __u8 arg, __u8 arg2)
{
	struct lupa_feature_key key = {};
	key.nr = nr;
	key.arg = arg;
	key.arg2 = arg2;
	key.value = arg_of(regs, arg);
	if (arg2 != LUPA_NO_ARG)
		key.value2 = arg_of(regs, arg2);
	add_one(&features, &key, LUPA_LOSS_FEATURE_MAP_FULL);
}

/* "/proc", "/sys", "/dev", or a path below them (core::is_pseudo_file_path). */
static __always_inline bool is_pseudo_file(const char *p)
{
	if (p[0] != '/')
		return false;
	if (p[1] == 'p' && p[2] == 'r' && p[3] == 'o' && p[4] == 'c')
		return p[5] == '/' || p[5] == 0;
	if ((p[1] == 's' && p[2] == 'y' && p[3] == 's') || (p[1] == 'd' && p[2] == 'e' && p[3] == 'v'))
		return p[4] == '/' || p[4] == 0;
	return false;
}

enum lupa_mem { LUPA_USER_MEM, LUPA_KERNEL_MEM };

/* Records the path at `ptr` if it is a pseudo-file; a negative errno if it could not be read. */
static __always_inline long record_path(long nr, __u64 ptr, enum lupa_mem mem)
{
	__u32 zero = 0;
	struct lupa_path_key *k = bpf_map_lookup_elem(&path_buf, &zero);
	if (!k)
		return 0;
	__builtin_memset(k, 0, sizeof(*k));
	long n = mem == LUPA_USER_MEM
			 ? bpf_probe_read_user_str(k->path, sizeof(k->path), (void *)ptr)
			 : bpf_probe_read_kernel_str(k->path, sizeof(k->path), (void *)ptr);
	if (n < 0)
		return n;
	if (!is_pseudo_file(k->path))
		return 0;
	if (n >= LUPA_PATH_MAX)
		lose(LUPA_LOSS_PATH_TRUNCATED);
	k->nr = nr;
	add_one(&paths, k, LUPA_LOSS_PATH_MAP_FULL);
	return 0;
}

/* A path syscall whose path was not resident at its sys_enter (a string in a page the task
 * never touched): the kernel faulted the page in while running that call, so it is read at the
 * task's next syscall entry, at its exec (the kernel's copy) or at its exit. A program on raw
 * sys_exit would cost about +25 ns on every syscall of the machine, and per-syscall exit
 * tracepoints take about 70 ms each to detach. */
static __always_inline void finish_pending_path(struct lupa_task *st)
{
	__u64 ptr = st->pending_ptr;
	__u32 nr = st->pending_nr;
	st->pending_ptr = 0;
	st->pending_nr = 0;
	if (record_path(nr, ptr, LUPA_USER_MEM) < 0)
		lose(LUPA_LOSS_PATH_UNREADABLE);
	else
		__sync_fetch_and_add(&stats[LUPA_STAT_PATHS_RETRIED], 1);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(lupa_sys_enter, struct pt_regs *regs, long id)
{
	if (!in_cgroup())
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct lupa_task *st = bpf_task_storage_get(&tasks, task, 0, 0);
	if (!st) {
		if (!whole_cgroup)
			return 0;
		st = track_lazily(task);
		if (!st)
			return 0;
	}
	if (st->pending_ptr)
		finish_pending_path(st);
	if (st->ignored)
		return 0;
	if ((__u64)id >= LUPA_NR_STRIDE) {
		lose(LUPA_LOSS_NR_OUT_OF_RANGE);
		return 0;
	}
	count(st->slot, id);

	__u8 feature_arg = syscall_info[id].feature_arg;
	if (record_features && feature_arg != LUPA_NO_ARG)
		record_feature(regs, id, feature_arg, syscall_info[id].feature_arg2);

	__u8 path_arg = syscall_info[id].path_arg;
	if (record_paths && path_arg != LUPA_NO_ARG) {
		__u64 ptr = arg_of(regs, path_arg);
		if (ptr && record_path(id, ptr, LUPA_USER_MEM) < 0) {
			st->pending_nr = id;
			st->pending_ptr = ptr;
		}
	}
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(lupa_exit, struct task_struct *p, bool group_dead)
{
	/* Since 6.16 this runs before the task drops its memory (the two-argument form). */
	struct lupa_task *st = bpf_task_storage_get(&tasks, p, 0, 0);
	if (st && st->pending_ptr)
		finish_pending_path(st);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(lupa_fork, struct task_struct *parent, struct task_struct *child)
{
	struct lupa_task *pst = bpf_task_storage_get(&tasks, parent, 0, 0);
	if (!pst)
		return 0;
	__u32 slot = child->tgid == parent->tgid ? pst->slot : new_slot(child);
	track(child, slot, pst->ignored);
	return 0;
}

static __always_inline bool is_trigger_binary(struct linux_binprm *bprm)
{
	return !trigger_ino || is_file(bprm->file, trigger_dev, trigger_ino);
}

/* True when `p` is the trigger process or one of its descendants, up to LUPA_TRIGGER_DEPTH
 * generations below it (lupa-explore starts an app through a per-run reaper: a grandchild). */
static __always_inline bool descends_from_trigger(struct task_struct *p)
{
	struct task_struct *t = p;
	for (int i = 0; i <= LUPA_TRIGGER_DEPTH; i++) {
		if (!t)
			return false;
		if (BPF_CORE_READ(t, tgid) == trigger_tgid)
			return true;
		t = BPF_CORE_READ(t, real_parent);
	}
	return false;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(lupa_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct lupa_task *st = bpf_task_storage_get(&tasks, p, 0, 0);
	if (st) {
		__u32 slot = st->slot;
		struct lupa_slot_info *info = bpf_map_lookup_elem(&slots, &slot);
		if (info && slot) {
			info->execs++;
			bpf_probe_read_kernel_str(info->comm, sizeof(info->comm), p->comm);
		}
		if (st->pending_ptr) {
			/* An exec whose path was not resident at sys_enter: the kernel's copy is here. */
			if (record_path(st->pending_nr, (__u64)bprm->filename, LUPA_KERNEL_MEM) < 0)
				lose(LUPA_LOSS_PATH_UNREADABLE);
			else
				__sync_fetch_and_add(&stats[LUPA_STAT_PATHS_RETRIED], 1);
			st->pending_ptr = 0;
			st->pending_nr = 0;
		}
		st->ignored = ignored_image(bprm->file);
		return 0;
	}
	if (!trigger_tgid)
		return 0;
	if (!descends_from_trigger(p))
		return 0;
	if (!is_trigger_binary(bprm) || !in_cgroup())
		return 0;

	__u32 slot = new_slot(p);
	__u32 ignored = ignored_image(bprm->file);
	st = track(p, slot, ignored);
	if (!st)
		return 0;
	__sync_fetch_and_add(&stats[LUPA_STAT_TRIGGERS], 1);
	struct lupa_slot_info *info = bpf_map_lookup_elem(&slots, &slot);
	if (info && slot)
		info->execs = 1;

	/* The exec that started the tree is counted once (its sys_enter came before tracking),
	 * unless the new image is not the only-binary. */
	if (ignored)
		return 0;
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(p);
	long nr = regs ? BPF_CORE_READ(regs, orig_ax) : LUPA_NR_EXECVE;
	if (nr != LUPA_NR_EXECVEAT)
		nr = LUPA_NR_EXECVE;
	count(slot, nr);
	if (record_paths)
		record_path(nr, (__u64)bprm->filename, LUPA_KERNEL_MEM);
	return 0;
}
