#include "enforce/bpf_enforcer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <cerrno>
#include <cstring>
#include <spdlog/spdlog.h>
#include <stdexcept>
#include <unistd.h>

#include "bpf/kernel_btf.h"
#include "bpf/libbpf_log.h"
#include "common/errno_text.h"
#include "common/unique_fd.h"
#include "enforce.skel.h"

namespace rcvgov::enforce {

namespace {

struct SkelFree {
	void operator()(enforce_bpf *s) const { enforce_bpf__destroy(s); }
};

std::vector<uint8_t> read_all(int fd)
{
	std::vector<uint8_t> out;
	uint8_t buf[4096];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			throw std::runtime_error("reading the enforcement iterator: " +
						 errno_text(errno));
		if (n == 0)
			return out;
		out.insert(out.end(), buf, buf + n);
	}
}

} // namespace

struct BpfEnforcer::Impl {
	std::unique_ptr<enforce_bpf, SkelFree> skel;
	bool can_destroy = false;
};

BpfEnforcer::BpfEnforcer() : impl_(new Impl)
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

BpfEnforcer::~BpfEnforcer() = default;

bool BpfEnforcer::can_destroy() const
{
	return impl_->can_destroy;
}

std::vector<ActionResult> BpfEnforcer::apply(const std::vector<rcvgov_action> &actions,
					     const std::vector<netns::Namespace> &namespaces)
{
	std::vector<ActionResult> out;
	if (actions.empty())
		return out;
	int map = bpf_map__fd(impl_->skel->maps.actions);
	bool any_destroy = false, any_clamp = false;
	for (const auto &a : actions) {
		if (bpf_map_update_elem(map, &a.cookie, &a, BPF_ANY) != 0)
			throw std::runtime_error("filling the actions map: " + errno_text(errno));
		(a.kind == RCVGOV_ACT_DESTROY ? any_destroy : any_clamp) = true;
	}
	std::vector<bpf_link *> links;
	if (any_clamp)
		links.push_back(impl_->skel->links.enforce_clamp);
	if (any_destroy) {
		if (!impl_->can_destroy)
			throw std::runtime_error(
				"bpf_sock_destroy is not available on this kernel");
		links.push_back(impl_->skel->links.enforce_destroy);
	}
	for (const auto &ns : namespaces) {
		std::string err;
		netns::run_in(
			ns,
			[&] {
				for (bpf_link *link : links) {
					UniqueFd fd(bpf_iter_create(bpf_link__fd(link)));
					if (!fd) {
						err = "bpf_iter_create: " + errno_text(errno);
						return;
					}
					auto bytes = read_all(fd.get());
					for (size_t off = 0;
					     off + sizeof(rcvgov_action_result) <= bytes.size();
					     off += sizeof(rcvgov_action_result)) {
						rcvgov_action_result r;
						std::memcpy(&r, bytes.data() + off, sizeof(r));
						out.push_back({r.cookie, r.kind, r.rc, r.before,
							       r.after, r.rcvbuf_after});
					}
				}
			},
			err);
		if (!err.empty())
			spdlog::debug("enforcement in {}: {}", ns.origin, err);
	}
	for (const auto &a : actions)
		bpf_map_delete_elem(map, &a.cookie);
	return out;
}

} // namespace rcvgov::enforce
