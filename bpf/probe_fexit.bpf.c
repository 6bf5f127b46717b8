// SPDX-License-Identifier: GPL-2.0
/*
 * Smallest possible fexit program: the loader retargets it at each function
 * it would like to trace and tries load + attach, so "does fexit work on this
 * kernel, on this function" is answered by the kernel itself (EPERM under
 * some lockdowns, ENOENT or ESRCH when the function is inlined or missing)
 * rather than guessed from a version number.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

__u64 hits;

SEC("fexit/tcp_try_coalesce")
int BPF_PROG(probe_exit)
{
	__sync_fetch_and_add(&hits, 1);
	return 0;
}
