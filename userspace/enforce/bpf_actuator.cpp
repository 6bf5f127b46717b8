#include "enforce/bpf_actuator.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <map>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <unistd.h>

#include "bpf/kernel_btf.h"
#include "bpf/libbpf_log.h"
#include "common/error.h"
#include "common/unique_fd.h"
#include "core/abi.h"
#include "enforce.skel.h"
#include "enforce/owner_fd.h"

namespace rcvgov::enforce {

namespace {

struct SkelFree {
	void operator()(enforce_bpf *s) const { enforce_bpf__destroy(s); }
};

uint32_t abi_kind(Kind k)
{
	switch (k) {
	case Kind::Clamp: return RCVGOV_ACT_CLAMP;
	case Kind::Destroy: return RCVGOV_ACT_DESTROY;
	case Kind::RestoreClamp: return RCVGOV_ACT_RESTORE;
	}
	return 0;
}

// Reads one iterator to its end in record-sized chunks.
Status read_results(int fd, std::vector<rcvgov_action_result> &out)
{
	rcvgov_action_result buf[64];
	size_t have = 0; // bytes of a partial record at the start of buf
	for (;;) {
		ssize_t n = read(fd, reinterpret_cast<char *>(buf) + have, sizeof(buf) - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return Error::sys(errno, "reading the enforcement iterator");
		if (n == 0)
			return {};
		have += size_t(n);
		size_t whole = have / sizeof(rcvgov_action_result);
		out.insert(out.end(), buf, buf + whole);
		have -= whole * sizeof(rcvgov_action_result);
		if (have)
			std::memmove(buf, buf + whole, have);
	}
}

ActResult from_record(const rcvgov_action_result &r)
{
	ActResult a;
	a.before = r.before;
	a.after = r.after;
	a.rcvbuf_after = r.rcvbuf_after;
	if (r.rc == 0) {
		a.outcome = Outcome::Done;
	} else if (r.kind == RCVGOV_ACT_DESTROY && r.rc == -EAGAIN) {
		a.outcome = Outcome::Skipped;
		a.detail = "reader progressed (or its queue drained) since the decision";
	} else {
		a.outcome = Outcome::Failed;
		a.errnum = -r.rc;
		a.detail = errno_text(-r.rc);
	}
	return a;
}

} // namespace

struct BpfActuator::Impl {
	const netns::Registry &namespaces;
	std::unique_ptr<enforce_bpf, SkelFree> skel;
	bool can_destroy = false;
	// The clamp fast path (enforce/owner_fd.h): off once the kernel or
	// the daemon's privileges refuse it for every process alike.
	bool owner_fd = true;

	// Clamps and restores through the owner's descriptor where the owner
	// is known and still holds the socket: marks those it did in `done`.
	void fast_path(std::span<const Action> actions, std::vector<ActResult> &out,
		       std::vector<char> &done);
	// Runs the iterators of one namespace for the given actions.
	Status run(const netns::Namespace &ns, std::span<const Action *const> acts,
		   std::map<uint64_t, rcvgov_action_result> &found);
};

BpfActuator::BpfActuator(const netns::Registry &namespaces)
    : impl_(new Impl{namespaces, nullptr, false, true})
{
	// The kfunc is in BTF where the kernel has it; nothing else tells.
	impl_->can_destroy = bpf::KernelBtf::load().has_func("bpf_sock_destroy");
	bpf::libbpf_log_mark();
	impl_->skel.reset(enforce_bpf__open());
	if (!impl_->skel)
		throw std::runtime_error("opening the enforcement object: " + errno_text(errno));
	bpf_program__set_autoload(impl_->skel->progs.enforce_destroy, impl_->can_destroy);
	int err = enforce_bpf__load(impl_->skel.get());
	if (err)
		throw std::runtime_error("loading the enforcement programs: " + errno_text(-err) +
					 " [" + bpf::libbpf_log_head(1) + "]");
	err = enforce_bpf__attach(impl_->skel.get());
	if (err)
		throw std::runtime_error("attaching the enforcement iterators: " +
					 errno_text(-err));
}

BpfActuator::~BpfActuator() = default;

bool BpfActuator::supports(Kind k) const
{
	return k != Kind::Destroy || impl_->can_destroy;
}

Status BpfActuator::Impl::run(const netns::Namespace &ns, std::span<const Action *const> acts,
			      std::map<uint64_t, rcvgov_action_result> &found)
{
	int map = bpf_map__fd(skel->maps.actions);
	bool any_destroy = false, any_clamp = false;
	Status st;
	for (const Action *a : acts) {
		rcvgov_action rec{};
		rec.cookie = a->target.cookie;
		rec.kind = abi_kind(a->kind);
		rec.value = a->window_clamp;
		rec.rcvbuf = a->rcvbuf_lock;
		rec.copied_seq = a->target.copied_seq;
		if (bpf_map_update_elem(map, &rec.cookie, &rec, BPF_ANY) != 0) {
			st = Error::sys(errno, "filling the actions map");
			break;
		}
		(a->kind == Kind::Destroy ? any_destroy : any_clamp) = true;
	}
	std::vector<rcvgov_action_result> results;
	if (st.ok()) {
		std::vector<bpf_link *> links;
		if (any_clamp)
			links.push_back(skel->links.enforce_clamp);
		if (any_destroy)
			links.push_back(skel->links.enforce_destroy);
		st = netns::run_in(ns, [&]() -> Status {
			for (bpf_link *link : links) {
				UniqueFd fd(bpf_iter_create(bpf_link__fd(link)));
				if (!fd)
					return Error::sys(errno, "bpf_iter_create");
				if (Status s = read_results(fd.get(), results); !s.ok())
					return s;
			}
			return {};
		});
	}
	for (const Action *a : acts)
		bpf_map_delete_elem(map, &a->target.cookie);
	for (const auto &r : results)
		found[r.cookie] = r;
	return st;
}

void BpfActuator::Impl::fast_path(std::span<const Action> actions, std::vector<ActResult> &out,
				  std::vector<char> &done)
{
	for (size_t i = 0; i < actions.size() && owner_fd; ++i) {
		const Action &a = actions[i];
		const Target &t = a.target;
		if (a.kind == Kind::Destroy || !t.owner_pid || !t.owner_ino)
			continue;
		// The owner passed the socket on, forked away or exited: the
		// walk still finds it, so only a refusal for everyone matters.
		auto fd = find_socket_fd(static_cast<pid_t>(t.owner_pid), t.owner_ino);
		if (!fd)
			continue;
		auto sock = borrow_socket(static_cast<pid_t>(t.owner_pid), *fd, t.cookie);
		if (!sock) {
			if (owner_fd_unusable(sock.error())) {
				owner_fd = false;
				spdlog::warn("clamp fast path off, clamps walk the namespace "
					     "(pidfd_getfd needs CAP_SYS_PTRACE and Yama "
					     "ptrace_scope below 3): {}",
					     sock.error().message);
			}
			continue;
		}
		// A refusal goes to the iterator too: it reports it with its rc.
		ActResult r = apply_on_fd(sock->get(), a);
		if (r.outcome != Outcome::Done)
			continue;
		out[i] = std::move(r);
		out[i].via = "owner fd";
		done[i] = 1;
	}
}

std::vector<ActResult> BpfActuator::apply(std::span<const Action> actions)
{
	std::vector<ActResult> out(actions.size());
	std::vector<char> done(actions.size());
	if (impl_->owner_fd)
		impl_->fast_path(actions, out, done);
	// Each namespace is entered once, for all of its targets.
	std::map<uint64_t, std::vector<const Action *>> by_ns;
	for (size_t i = 0; i < actions.size(); ++i) {
		const Action &a = actions[i];
		if (done[i])
			continue;
		if (!supports(a.kind)) {
			out[i] = ActResult::of(
				Outcome::Failed, EOPNOTSUPP,
				"bpf_sock_destroy is not available on this kernel (6.5+)");
			continue;
		}
		by_ns[a.target.netns_cookie].push_back(&a);
	}
	for (const auto &[netns_cookie, acts] : by_ns) {
		const netns::Namespace *ns = impl_->namespaces.find(netns_cookie);
		std::map<uint64_t, rcvgov_action_result> found;
		Status st;
		if (!ns)
			st = Error::msg("network namespace " + std::to_string(netns_cookie) +
					" is gone");
		else
			st = impl_->run(*ns, acts, found);
		for (const Action *a : acts) {
			ActResult &r = out[size_t(a - actions.data())];
			auto it = found.find(a->target.cookie);
			if (it != found.end() && it->second.kind == abi_kind(a->kind)) {
				r = from_record(it->second);
				r.via = "iter/tcp";
			} else if (!st.ok() && ns)
				r = ActResult::of(Outcome::Failed, st.error().errnum,
						  st.error().message);
			else
				r = ActResult::of(Outcome::Gone, 0,
						  ns ? "no such socket in its namespace"
						     : "its network namespace is gone");
		}
	}
	return out;
}

} // namespace rcvgov::enforce
