/* Types shared by the syscall-discovery BPF program (sysdisc.bpf.c) and its user side
 * (tracer/bpf_probe.cpp). C, not C++: the BPF side gets __u32/__u64 from vmlinux.h, the C++
 * side includes <linux/types.h> first. Names are prefixed (vmlinux.h defines many structs). */
#ifndef LUPA_TRACER_SYSDISC_H
#define LUPA_TRACER_SYSDISC_H

/* Syscall numbers counted per process slot: x86-64 numbers are below 512 (x32 numbers, with
 * bit 30 set, and anything larger are counted as out of range). */
#define LUPA_NR_STRIDE 512
/* Longest path recorded, NUL included (longer ones are counted as truncated). */
#define LUPA_PATH_MAX 256
/* How many generations below the trigger process an exec may start a tree. */
#define LUPA_TRIGGER_DEPTH 4
/* "no second argument" in lupa_syscall_info.feature_arg2 / lupa_feature_key.arg2. */
#define LUPA_NO_ARG 0xff

/* Per-syscall recording rules, filled from core's tables at load time (rodata). */
struct lupa_syscall_info {
	__u8 feature_arg;  /* argument index selecting a sub-feature, or LUPA_NO_ARG */
	__u8 feature_arg2; /* a second one recorded with it (setsockopt level+name), or LUPA_NO_ARG */
	__u8 path_arg;     /* argument index of a path, or LUPA_NO_ARG */
	__u8 pad;
};

/* A distinct raw sub-feature value seen (aggregated in a hash map with its count). */
struct lupa_feature_key {
	__u32 nr;
	__u8 arg;
	__u8 arg2;
	__u16 pad;
	__u64 value;
	__u64 value2;
};

/* A distinct pseudo-file path named by syscall `nr` (zero-padded). */
struct lupa_path_key {
	__u32 nr;
	char path[LUPA_PATH_MAX];
};

/* Per-task state (task local storage): present iff the task is traced. */
struct lupa_task {
	__u32 slot;        /* process slot in the counts array (0: shared overflow slot) */
	__u32 pending_nr;  /* a path syscall whose path is read at the next syscall entry */
	__u64 pending_ptr; /* user pointer of that path */
	__u32 ignored;     /* 1: followed but not counted (its image is not the only-binary) */
	__u32 pad;
};

/* Who owns a process slot. */
struct lupa_slot_info {
	__u32 tgid;
	__u32 execs; /* successful execs seen in this process while traced */
	char comm[16];
};

/* Reasons a count may be missing; each is counted in the kernel (the `losses` global). */
enum lupa_loss {
	LUPA_LOSS_TRACK_FAILED = 0,   /* a new task of the traced tree could not be tracked */
	LUPA_LOSS_FEATURE_MAP_FULL,   /* a sub-feature value did not fit in its map */
	LUPA_LOSS_PATH_MAP_FULL,      /* a path did not fit in its map */
	LUPA_LOSS_PATH_UNREADABLE,    /* a path argument could not be read */
	LUPA_LOSS_PATH_TRUNCATED,     /* a pseudo-file path longer than LUPA_PATH_MAX - 1 */
	LUPA_LOSS_NR_OUT_OF_RANGE,    /* a syscall number >= LUPA_NR_STRIDE (or negative) */
	LUPA_LOSS_COUNT_MISSING,      /* a counter index outside the counts map */
	LUPA_LOSS_KINDS
};

/* Not losses: facts the user side reports. */
enum lupa_stat {
	LUPA_STAT_SLOTS_EXHAUSTED = 0, /* processes that shared the overflow slot */
	LUPA_STAT_TRIGGERS,            /* exec triggers that started a traced tree */
	LUPA_STAT_PATHS_RETRIED,       /* paths read after their syscall (not resident before) */
	LUPA_STAT_KINDS
};

#endif
