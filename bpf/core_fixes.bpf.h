/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel struct drift handled with CO-RE, not with version #ifdefs.
 *
 * Callers pass BTF pointers (tracing program arguments, the iterator's
 * socket), so fields are read with plain loads: the verifier makes them
 * direct loads (BPF_PROBE_MEM), where BPF_CORE_READ() would cost a
 * bpf_probe_read_kernel() call per field. Pointers loaded from a BTF
 * pointer (skc_net.net, sk_cgrp_data.cgroup, cgroup->kn) are BTF pointers
 * too, so the whole chain is loads.
 */
#ifndef RCVGOV_CORE_FIXES_BPF_H
#define RCVGOV_CORE_FIXES_BPF_H

#include <bpf/bpf_core_read.h>

/*
 * net_cookie is a plain u64 since 5.14, which every kernel rcvgov targets
 * has; a kernel without it fails the CO-RE relocation and the loader falls
 * back to sock_diag, naming the field.
 */
static __always_inline __u64 rcvgov_net_cookie(const struct sock *sk)
{
	return sk->__sk_common.skc_net.net->net_cookie;
}

/*
 * sk_cgrp_data.cgroup exists with CONFIG_SOCK_CGROUP_DATA (5.15+ layout);
 * without it the owner's cgroup is unknown and reported as 0.
 */
static __always_inline __u64 rcvgov_sk_cgroup_id(const struct sock *sk)
{
	struct cgroup *cgrp;

	if (!bpf_core_field_exists(sk->sk_cgrp_data))
		return 0;
	cgrp = sk->sk_cgrp_data.cgroup;
	if (!cgrp)
		return 0;
	return cgrp->kn->id;
}

#endif /* RCVGOV_CORE_FIXES_BPF_H */
