#include "control/control.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/errno_text.h"

namespace rcvgov::control {

namespace {

constexpr size_t max_clients = 32;

Result<sockaddr_un> make_addr(const std::string &path)
{
	sockaddr_un a{};
	a.sun_family = AF_UNIX;
	if (path.size() >= sizeof(a.sun_path))
		return Error::msg("control socket path too long (" + std::to_string(path.size()) +
					  " bytes, at most " +
					  std::to_string(sizeof(a.sun_path) - 1) + "): " + path,
				  ENAMETOOLONG);
	std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
	return a;
}

std::string parent_dir(const std::string &path)
{
	auto slash = path.rfind('/');
	return slash == std::string::npos || slash == 0 ? "" : path.substr(0, slash);
}

bool write_all(int fd, const std::string &s)
{
	size_t off = 0;
	while (off < s.size()) {
		ssize_t n = ::send(fd, s.data() + off, s.size() - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		off += static_cast<size_t>(n);
	}
	return true;
}

} // namespace

nlohmann::json handle_line(const std::string &line, const Server::Handler &handler)
{
	nlohmann::json req;
	try {
		req = nlohmann::json::parse(line);
	} catch (const nlohmann::json::parse_error &e) {
		return {{"ok", false}, {"error", std::string("request is not JSON: ") + e.what()}};
	}
	if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
		return {{"ok", false},
			{"error", "request must be an object with a string \"cmd\""}};
	try {
		Result<nlohmann::json> r = handler(req);
		if (!r)
			return {{"ok", false}, {"error", r.error().message}};
		return {{"ok", true}, {"data", std::move(r).value()}};
	} catch (const std::exception &e) {
		return {{"ok", false}, {"error", e.what()}};
	}
}

Server::Server(std::string path, Handler handler)
    : path_(std::move(path)), handler_(std::move(handler))
{
}

Result<std::unique_ptr<Server>> Server::listen(std::string path, Handler handler)
{
	std::unique_ptr<Server> s(new Server(std::move(path), std::move(handler)));
	if (Status st = s->open(); !st)
		return st.error();
	return s;
}

Status Server::open()
{
	std::string dir = parent_dir(path_);
	if (!dir.empty()) {
		if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
			return Error::sys(errno, "mkdir " + dir);
		chmod(dir.c_str(), 0700);
	}
	auto addr = make_addr(path_);
	if (!addr)
		return addr.error();
	listen_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
	if (!listen_)
		return Error::sys(errno, "socket(AF_UNIX)");
	// A socket file left by a daemon that crashed: nobody answers on it.
	unlink(path_.c_str());
	mode_t old = umask(0177);
	int rc = bind(listen_.get(), reinterpret_cast<sockaddr *>(&*addr), sizeof(*addr));
	int bind_errno = errno;
	umask(old);
	if (rc != 0) {
		listen_.reset(); // not ours: the destructor must not unlink it
		return Error::sys(bind_errno, "bind " + path_);
	}
	if (::listen(listen_.get(), 16) != 0)
		return Error::sys(errno, "listen " + path_);
	epoll_.reset(epoll_create1(EPOLL_CLOEXEC));
	if (!epoll_)
		return Error::sys(errno, "epoll_create1");
	epoll_event ev{};
	ev.events = EPOLLIN;
	ev.data.fd = listen_.get();
	if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, listen_.get(), &ev) != 0)
		return Error::sys(errno, "epoll_ctl");
	return Status();
}

Server::~Server()
{
	clients_.clear();
	if (listen_)
		unlink(path_.c_str());
}

void Server::dispatch()
{
	epoll_event evs[16];
	int n = epoll_wait(epoll_.get(), evs, 16, 0);
	for (int i = 0; i < n; ++i) {
		if (evs[i].data.fd == listen_.get())
			accept_clients();
		else
			on_client(evs[i].data.fd);
	}
}

void Server::accept_clients()
{
	for (;;) {
		int cfd = accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				spdlog::warn("control: accept: {}", errno_text(errno));
			return;
		}
		UniqueFd client(cfd);
		ucred cred{};
		socklen_t len = sizeof(cred);
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
			answer(cfd,
			       {{"ok", false},
				{"error", "permission denied: only root may talk to rcvgovd"}});
			continue;
		}
		if (clients_.size() >= max_clients) {
			answer(cfd, {{"ok", false}, {"error", "too many control clients, retry"}});
			continue;
		}
		epoll_event ev{};
		ev.events = EPOLLIN;
		ev.data.fd = cfd;
		if (epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, cfd, &ev) != 0)
			continue;
		clients_.emplace(cfd, std::make_pair(std::move(client), std::string()));
	}
}

void Server::on_client(int fd)
{
	auto it = clients_.find(fd);
	if (it == clients_.end())
		return;
	std::string &buf = it->second.second;
	char chunk[4096];
	bool eof = false;
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0) {
			drop(fd);
			return;
		}
		if (n == 0) {
			// A client may half-close after its request: answer it.
			eof = true;
			break;
		}
		buf.append(chunk, static_cast<size_t>(n));
		if (buf.size() > max_request_bytes) {
			answer(fd, {{"ok", false}, {"error", "request larger than 64 KiB"}});
			drop(fd);
			return;
		}
	}
	auto nl = buf.find('\n');
	if (nl == std::string::npos) {
		if (eof) {
			if (!buf.empty())
				answer(fd, handle_line(buf, handler_));
			drop(fd);
		}
		return;
	}
	answer(fd, handle_line(buf.substr(0, nl), handler_));
	drop(fd);
}

void Server::answer(int fd, const nlohmann::json &response)
{
	// Answers can be large (every socket): write them blocking, bounded by
	// a send timeout so a stuck client cannot stall the daemon for long.
	int flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	timeval tv{1, 0};
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!write_all(fd, response.dump() + "\n"))
		spdlog::debug("control: client went away before the answer was sent");
}

void Server::drop(int fd)
{
	epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
	clients_.erase(fd);
}

Result<nlohmann::json> call(const std::string &path, const nlohmann::json &request, int timeout_ms)
{
	UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return Error::sys(errno, "socket(AF_UNIX)");
	auto addr = make_addr(path);
	if (!addr)
		return addr.error();
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&*addr), sizeof(*addr)) != 0) {
		int e = errno;
		std::string hint = (e == ENOENT || e == ECONNREFUSED) ? " (is rcvgovd running?)"
				   : e == EACCES		      ? " (run as root)"
								      : "";
		return Error{e, "connect " + path + ": " + errno_text(e) + hint};
	}
	timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (!write_all(fd.get(), request.dump() + "\n"))
		return Error::sys(errno, "sending to " + path);
	std::string buf;
	char chunk[65536];
	for (;;) {
		ssize_t n = recv(fd.get(), chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return Error::sys(errno, "reading from " + path);
		if (n == 0)
			break;
		buf.append(chunk, static_cast<size_t>(n));
	}
	nlohmann::json resp = nlohmann::json::parse(buf, nullptr, false);
	if (resp.is_discarded() || !resp.is_object())
		return Error::msg("rcvgovd answered something that is not a JSON object", EPROTO);
	if (!resp.value("ok", false)) {
		const auto &e = resp["error"];
		return Error::msg("rcvgovd: " + (e.is_string() ? e.get<std::string>()
							       : std::string("unknown error")));
	}
	return resp["data"];
}

} // namespace rcvgov::control
