// The parts of the control socket that are not the server's event loop:
// one request line to one answer (handle_line), the answer's bytes
// (serialize), and the client (call).
#include "control/control.h"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/errno_text.h"

namespace rcvgov::control {

namespace {

// rcvgovctl never needs more than one page; anything bigger is not ours.
constexpr size_t max_answer_bytes = 64 << 20;

nlohmann::json refuse(const std::string &error)
{
	return {{"ok", false}, {"error", error}};
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

std::string serialize(const nlohmann::json &response)
{
	return response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

nlohmann::json handle_line(const std::string &line, const Server::Handler &handler)
{
	try {
		nlohmann::json req = nlohmann::json::parse(line, nullptr, false);
		if (req.is_discarded()) {
			// Parse again for the message: where and why it is not JSON.
			try {
				nlohmann::json unused = nlohmann::json::parse(line);
			} catch (const nlohmann::json::parse_error &e) {
				return refuse(std::string("request is not JSON: ") + e.what());
			}
			return refuse("request is not JSON");
		}
		if (!req.is_object() || !req.contains("cmd") || !req["cmd"].is_string())
			return refuse("request must be an object with a string \"cmd\"");
		Result<nlohmann::json> r = handler(req);
		if (!r)
			return refuse(r.error().message);
		return {{"ok", true}, {"data", std::move(r).value()}};
	} catch (const std::exception &e) {
		return refuse(e.what());
	} catch (...) {
		return refuse("internal error answering this request");
	}
}

nlohmann::json ServerStats::to_json() const
{
	return {{"accepted", accepted},
		{"answered", answered},
		{"errors_answered", errors_answered},
		{"refused_uid", refused_uid},
		{"evicted", evicted},
		{"timed_out", timed_out},
		{"oversized_requests", oversized_requests},
		{"oversized_replies", oversized_replies},
		{"client_errors", client_errors},
		{"internal_errors", internal_errors}};
}

namespace {

Result<nlohmann::json> call_once(const std::string &path, const nlohmann::json &request,
				 int timeout_ms)
{
	UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
	if (!fd)
		return Error::sys(errno, "socket(AF_UNIX)");
	sockaddr_un addr{};
	addr.sun_family = AF_UNIX;
	if (path.size() >= sizeof(addr.sun_path))
		return Error::msg("control socket path too long (" + std::to_string(path.size()) +
					  " bytes, at most " +
					  std::to_string(sizeof(addr.sun_path) - 1) + "): " + path,
				  ENAMETOOLONG);
	std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
	timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd.get(), reinterpret_cast<sockaddr *>(&addr), sizeof(addr)) != 0) {
		int e = errno;
		std::string hint = (e == ENOENT || e == ECONNREFUSED) ? " (is rcvgovd running?)"
				   : e == EACCES		      ? " (run as root)"
								      : "";
		return Error{e, "connect " + path + ": " + errno_text(e) + hint};
	}
	if (!write_all(fd.get(), serialize(request)))
		return Error::sys(errno, "sending to " + path);
	std::string buf;
	char chunk[65536];
	for (;;) {
		ssize_t n = recv(fd.get(), chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == ECONNRESET && !buf.empty())
			break; // the daemon closed without reading all we sent
		if (n < 0)
			return Error::sys(errno, "reading from " + path);
		if (n == 0)
			break;
		buf.append(chunk, static_cast<size_t>(n));
		if (buf.size() > max_answer_bytes)
			return Error::msg("rcvgovd's answer is larger than 64 MiB", EMSGSIZE);
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

// Closed before any answer, or evicted among too many clients: a flood of
// other clients on the socket, not an answer to this request.
bool crowded_out(const Error &e)
{
	return e.errnum == EPIPE || e.errnum == ECONNRESET || e.errnum == EAGAIN ||
	       e.message.find("control clients are connected") != std::string::npos;
}

} // namespace

// Every request is read-only: asking again after being crowded out is safe.
Result<nlohmann::json> call(const std::string &path, const nlohmann::json &request, int timeout_ms)
{
	for (int attempt = 1;; ++attempt) {
		Result<nlohmann::json> r = call_once(path, request, timeout_ms);
		if (r.ok() || attempt == 3 || !crowded_out(r.error()))
			return r;
		usleep(10000 * attempt);
	}
}

} // namespace rcvgov::control
