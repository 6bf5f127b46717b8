#include "enforce/diag_actuator.h"

#include <cerrno>

#include "diag/sock_diag.h"

namespace rcvgov::enforce {

namespace {

diag::DiagSocket to_diag(const Target &t)
{
	diag::DiagSocket d;
	d.cookie = t.cookie;
	d.family = t.local.family;
	d.saddr = t.local.addr;
	d.daddr = t.peer.addr;
	d.sport = t.local.port;
	d.dport = t.peer.port;
	d.state = t.state;
	return d;
}

} // namespace

ActResult DiagActuator::destroy(const netns::Namespace &ns, const Target &t)
{
	Result<ActResult> res = netns::run_in(ns, [&]() -> Result<ActResult> {
		// The re-check: the socket as it is now.
		Result<diag::DiagSocket> now = diag::lookup(to_diag(t));
		if (!now.ok())
			return ActResult::of(now.error().errnum == ENOENT ? Outcome::Gone
									  : Outcome::Failed,
					     now.error().errnum, now.error().message);
		if (now->rqueue == 0)
			return ActResult::of(Outcome::Skipped, 0,
					     "its receive queue drained since the decision");
		if (!t.position_is_seq) {
			uint32_t pos = uint32_t(now->bytes_received - now->rqueue);
			if (pos != t.copied_seq)
				return ActResult::of(Outcome::Skipped, 0,
						     "reader progressed since the decision");
		} else if (seq_probe_) {
			Result<uint32_t> seq = seq_probe_(t);
			if (!seq.ok())
				return ActResult::of(Outcome::Gone, seq.error().errnum,
						     seq.error().message);
			if (*seq != t.copied_seq)
				return ActResult::of(Outcome::Skipped, 0,
						     "reader progressed since the decision");
		}
		ActResult r;
		r.via = "sock_diag";
		r.before = now->rmem_alloc;
		Status st = diag::destroy(*now);
		if (st.ok()) {
			r.outcome = Outcome::Done;
		} else {
			r.outcome = st.error().errnum == ENOENT ? Outcome::Gone : Outcome::Failed;
			r.errnum = st.error().errnum;
			r.detail = st.error().message;
		}
		return r;
	});
	if (!res.ok())
		return ActResult::of(Outcome::Failed, res.error().errnum, res.error().message);
	return *res;
}

std::vector<ActResult> DiagActuator::apply(std::span<const Action> actions)
{
	std::vector<ActResult> out;
	out.reserve(actions.size());
	for (const Action &a : actions) {
		if (a.kind != Kind::Destroy) {
			out.push_back(ActResult::of(
				Outcome::Failed, EOPNOTSUPP,
				"sock_diag can only destroy sockets; window clamps need the "
				"BPF enforcement programs"));
			continue;
		}
		const netns::Namespace *ns = namespaces_.find(a.target.netns_cookie);
		if (!ns) {
			out.push_back(
				ActResult::of(Outcome::Gone, 0, "its network namespace is gone"));
			continue;
		}
		out.push_back(destroy(*ns, a.target));
	}
	return out;
}

} // namespace rcvgov::enforce
