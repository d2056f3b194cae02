// SPDX-License-Identifier: GPL-2.0
/* Reference points for the discovery benchmark, on the same tp_btf sys_enter hook:
 *  - bench_floor: an empty program (the cost of the hook itself: the syscall slow path and
 *    the BPF run);
 *  - bench_hash: the straightforward design (../shared/PLATFORM.md's 1.7x): the pid-tree filter
 *    and the count both in hash maps. */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct bench_key {
	__u32 tgid;
	__u32 nr;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u32);
} bench_tree SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct bench_key);
	__type(value, __u64);
} bench_counts SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_floor, struct pt_regs *regs, long id)
{
	return 0;
}

SEC("tp_btf/sys_enter")
int BPF_PROG(bench_hash, struct pt_regs *regs, long id)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (!bpf_map_lookup_elem(&bench_tree, &tgid))
		return 0;
	struct bench_key key = {tgid, (__u32)id};
	__u64 *count = bpf_map_lookup_elem(&bench_counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
	} else {
		__u64 one = 1;
		bpf_map_update_elem(&bench_counts, &key, &one, BPF_NOEXIST);
	}
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(bench_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid;
	if (!bpf_map_lookup_elem(&bench_tree, &ptgid))
		return 0;
	__u32 ctgid = child->tgid;
	__u32 one = 1;
	bpf_map_update_elem(&bench_tree, &ctgid, &one, BPF_ANY);
	return 0;
}
