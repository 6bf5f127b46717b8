// The control server's event loop: everything inside one epoll fd (the
// listening socket, every client, and a timerfd for the idle deadlines),
// so the daemon only watches fd() and calls dispatch(). Nothing blocks and
// nothing a client sends can make dispatch() throw (see control.h).
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>
#include <vector>

#include "common/clock.h"
#include "common/errno_text.h"
#include "control/control.h"

namespace rcvgov::control {

namespace {

constexpr int max_events = 32;
// Accepts per dispatch(): a flood of connections cannot keep the daemon's
// loop here; the listening socket stays readable and the loop comes back.
// Few enough that the requests of the clients just accepted are read before
// a burst of newer connections could evict them.
constexpr int max_accepts = 16;

nlohmann::json refuse(const std::string &error)
{
	return {{"ok", false}, {"error", error}};
}

// A short answer to a client that is being closed: it fits in an empty
// socket buffer; if not, the close says enough.
void say(int fd, const std::string &error)
{
	std::string s = serialize(refuse(error));
	(void)!::send(fd, s.data(), s.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

// Log the 1st, 2nd, 4th, 8th... occurrence: a client looping on a refused
// request cannot flood the journal.
bool log_now(uint64_t count)
{
	return count && (count & (count - 1)) == 0;
}

std::string kib(size_t n)
{
	return n % (1 << 20) == 0 ? std::to_string(n >> 20) + " MiB"
				  : std::to_string(n >> 10) + " KiB";
}

} // namespace

Server::Server(std::string path, Handler handler, ServerLimits limits)
    : path_(std::move(path)), handler_(std::move(handler)), limits_(limits)
{
}

Result<std::unique_ptr<Server>> Server::listen(std::string path, Handler handler,
					       ServerLimits limits)
{
	std::unique_ptr<Server> s(new Server(std::move(path), std::move(handler), limits));
	if (Status st = s->open(); !st)
		return st.error();
	return s;
}

Status Server::open()
{
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (path_.size() >= sizeof(addr.sun_path))
		return Error::msg("control socket path too long (" + std::to_string(path_.size()) +
					  " bytes, at most " +
					  std::to_string(sizeof(addr.sun_path) - 1) + "): " + path_,
				  ENAMETOOLONG);
	std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
	if (Status st = prepare_socket_dir(path_); !st)
		return st;
	if (Status st = clear_stale_socket(path_); !st)
		return st;
	listen_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!listen_)
		return Error::sys(errno, "socket(AF_UNIX)");
	mode_t old = umask(0177);
	int rc = bind(listen_.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr));
	int bind_errno = errno;
	umask(old);
	if (rc != 0) {
		listen_.reset(); // not ours: the destructor must not unlink it
		return Error::sys(bind_errno, "bind " + path_);
	}
	struct stat st;
	if (stat(path_.c_str(), &st) == 0) {
		sock_dev_ = st.st_dev;
		sock_ino_ = st.st_ino;
	}
	if (::listen(listen_.get(), 512) != 0)
		return Error::sys(errno, "listen " + path_);
	epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!epoll_)
		return Error::sys(errno, "epoll_create1");
	timer_.reset(timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
	if (!timer_)
		return Error::sys(errno, "timerfd_create");
	for (int fd : {listen_.get(), timer_.get()}) {
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0)
			return Error::sys(errno, "epoll_ctl");
	}
	return Status();
}

Server::~Server()
{
	clients_.clear();
	// Remove the socket file only if it is still the one we bound.
	struct stat st;
	if (listen_ && stat(path_.c_str(), &st) == 0 && st.st_dev == sock_dev_ &&
	    st.st_ino == sock_ino_)
		unlink(path_.c_str());
}

void Server::dispatch() noexcept
{
	try {
		dispatch_once();
	} catch (const std::exception &e) {
		++stats_.internal_errors;
		spdlog::error("control: {} (caught; the control socket goes on)", e.what());
	} catch (...) {
		++stats_.internal_errors;
		spdlog::error("control: unknown exception (caught; the control socket goes on)");
	}
	try {
		sweep();
		arm_timer();
	} catch (...) {
		++stats_.internal_errors;
	}
}

void Server::dispatch_once()
{
	epoll_event evs[max_events];
	int n = epoll_wait(epoll_.get(), evs, max_events, 0);
	bool accept = false;
	// Clients first, new connections last: a request that has arrived is
	// read before a burst of newer connections could evict its client.
	for (int i = 0; i < n; ++i) {
		int fd = evs[i].data.fd;
		if (fd == listen_.get()) {
			accept = true;
			continue;
		}
		if (fd == timer_.get()) {
			uint64_t ticks;
			(void)!read(fd, &ticks, sizeof(ticks));
			continue;
		}
		auto it = clients_.find(fd);
		if (it == clients_.end())
			continue;
		try {
			if (it->second.answering)
				flush(it->second);
			else
				on_readable(it->second);
		} catch (const std::exception &e) {
			// One client's trouble (an allocation failing) closes that
			// client, nothing else.
			++stats_.internal_errors;
			spdlog::error("control: client {}: {} (caught, client closed)", fd,
				      e.what());
			drop(fd);
		}
	}
	if (accept)
		accept_clients();
}

void Server::accept_clients()
{
	for (int i = 0; i < max_accepts; ++i) {
		int cfd = accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				spdlog::warn("control: accept: {}", errno_text(errno));
			return;
		}
		UniqueFd client(cfd);
		++stats_.accepted;
		ucred cred{};
		socklen_t len = sizeof(cred);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 ||
		    cred.uid != limits_.allowed_uid) {
			++stats_.refused_uid;
			if (log_now(stats_.refused_uid))
				spdlog::warn("control: refused a client with uid {} (pid {}); {} "
					     "refused so far",
					     cred.uid, cred.pid, stats_.refused_uid);
			say(cfd, "permission denied: only root may talk to rcvgovd (this client "
				 "runs as uid " +
					 std::to_string(cred.uid) + ")");
			continue; // closed by `client`
		}
		admit(std::move(client));
	}
}

void Server::admit(UniqueFd fd)
{
	if (clients_.size() >= limits_.max_clients)
		evict_idlest();
	epoll_event ev{};
	ev.events = EPOLLIN | EPOLLRDHUP;
	ev.data.fd = fd.get();
	if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
		spdlog::warn("control: epoll_ctl: {}", errno_text(errno));
		return;
	}
	uint64_t now = mono_ns();
	Client c;
	c.last_active_ns = now;
	c.deadline_ns = now + uint64_t{limits_.idle_timeout_ms} * 1000000ULL;
	int key = fd.get();
	c.fd = std::move(fd);
	auto [it, inserted] = clients_.insert_or_assign(key, std::move(c));
	(void)inserted;
	// A client usually sends its request right after connecting: read it
	// now rather than after the next burst of connections.
	on_readable(it->second);
}

void Server::evict_idlest()
{
	// The oldest of those that have sent nothing yet; when every client has
	// (a partial request, or an answer waiting), the one quiet the longest.
	auto idler = [](const auto &a, const auto &b) {
		bool a_silent = a.second.in.empty() && !a.second.answering;
		bool b_silent = b.second.in.empty() && !b.second.answering;
		if (a_silent != b_silent)
			return a_silent;
		return a.second.last_active_ns < b.second.last_active_ns;
	};
	auto idlest = std::min_element(clients_.begin(), clients_.end(), idler);
	if (idlest == clients_.end())
		return;
	++stats_.evicted;
	spdlog::debug("control: {} clients: closing the one idle the longest", clients_.size());
	say_and_drop(idlest->second, "closed: " + std::to_string(limits_.max_clients) +
					     " control clients are connected and this one was "
					     "idle the longest");
}

void Server::on_readable(Client &c)
{
	int fd = c.fd.get();
	char chunk[16384];
	bool eof = false, line = false;
	for (;;) {
		// Never buffer more than one byte beyond the limit.
		size_t room = limits_.max_request + 1 - c.in.size();
		ssize_t n = recv(fd, chunk, std::min(sizeof(chunk), room), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			++stats_.client_errors;
			return drop(fd);
		}
		if (n == 0) {
			eof = true; // a client may half-close after its request
			break;
		}
		size_t from = c.in.size();
		c.in.append(chunk, static_cast<size_t>(n));
		c.last_active_ns = mono_ns();
		if (c.in.find('\n', from) != std::string::npos) {
			line = true;
			break;
		}
		if (c.in.size() > limits_.max_request) {
			++stats_.oversized_requests;
			return reply(c, refuse("request larger than " + kib(limits_.max_request) +
					       ": closing"));
		}
	}
	if (line) {
		std::string request = c.in.substr(0, c.in.find('\n'));
		return reply(c, handle_line(request, handler_));
	}
	if (!eof)
		return;
	if (c.in.empty())
		return drop(fd); // closed without asking anything
	std::string request = std::move(c.in);
	reply(c, handle_line(request, handler_));
}

void Server::reply(Client &c, const nlohmann::json &response)
{
	std::string s = serialize(response);
	bool ok = response.is_object() && response.value("ok", false);
	if (s.size() > limits_.max_reply) {
		++stats_.oversized_replies;
		s = serialize(refuse("the answer is " + std::to_string(s.size()) +
				     " bytes, more than the " + kib(limits_.max_reply) +
				     " an answer may be: ask for a page with \"limit\" and "
				     "\"offset\" (rcvgovctl --limit N pages by itself)"));
		ok = false;
	}
	if (buffered_ + s.size() > limits_.max_buffered) {
		s = serialize(refuse("rcvgovd is busy: " + std::to_string(buffered_) +
				     " bytes of answers wait for clients that do not read "
				     "them; retry in a few seconds"));
		ok = false;
	}
	if (!ok)
		++stats_.errors_answered;
	c.in.clear();
	c.in.shrink_to_fit();
	c.out = std::move(s);
	c.out_off = 0;
	buffered_ += c.out.size();
	c.answering = true;
	c.deadline_ns = mono_ns() + uint64_t{limits_.idle_timeout_ms} * 1000000ULL;
	// Only writability from now on: a client that keeps sending, or that
	// half-closed, must not keep the fd readable (level-triggered) forever.
	epoll_event ev{};
	ev.events = EPOLLOUT;
	ev.data.fd = c.fd.get();
	epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
	flush(c);
}

void Server::flush(Client &c)
{
	int fd = c.fd.get();
	while (c.out_off < c.out.size()) {
		ssize_t n = ::send(fd, c.out.data() + c.out_off, c.out.size() - c.out_off,
				   MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; // EPOLLOUT brings us back
		if (n <= 0) {
			++stats_.client_errors;
			spdlog::debug("control: client went away before the answer was sent");
			return drop(fd);
		}
		c.out_off += static_cast<size_t>(n);
		c.last_active_ns = mono_ns();
	}
	++stats_.answered;
	drop(fd);
}

void Server::sweep()
{
	uint64_t now = mono_ns();
	std::vector<int> late;
	for (const auto &[fd, c] : clients_)
		if (c.deadline_ns <= now)
			late.push_back(fd);
	for (int fd : late) {
		auto it = clients_.find(fd);
		if (it == clients_.end())
			continue;
		++stats_.timed_out;
		std::string what = it->second.answering ? "did not read its answer"
							: "sent no complete request";
		spdlog::debug("control: closing a client that {} within {} ms", what,
			      limits_.idle_timeout_ms);
		say_and_drop(it->second, "closed: no complete request within " +
						 std::to_string(limits_.idle_timeout_ms) + " ms");
	}
}

void Server::arm_timer()
{
	itimerspec its{};
	if (!clients_.empty()) {
		uint64_t next = UINT64_MAX;
		for (const auto &[fd, c] : clients_)
			next = std::min(next, c.deadline_ns);
		uint64_t now = mono_ns();
		uint64_t in = next > now ? next - now : 0;
		in = std::max<uint64_t>(in, 1000000); // at least 1 ms: 0 disarms
		its.it_value.tv_sec = static_cast<time_t>(in / 1000000000ULL);
		its.it_value.tv_nsec = static_cast<long>(in % 1000000000ULL);
	}
	timerfd_settime(timer_.get(), 0, &its, nullptr);
}

void Server::say_and_drop(Client &c, const std::string &error)
{
	if (!c.answering)
		say(c.fd.get(), error);
	drop(c.fd.get());
}

void Server::drop(int fd)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	buffered_ -= std::min(buffered_, it->second.out.size());
	epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
	clients_.erase(it);
}

} // namespace rcvgov::control
