// The control socket between rcvgovctl and rcvgovd: one JSON object per
// line over a unix stream socket that only root may use (the names and
// request format: control/protocol.h). The answer is {"ok": true, "data":
// ...} or {"ok": false, "error": "..."}, then the daemon closes the
// connection.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/error.h"
#include "common/unique_fd.h"
#include "control/protocol.h"

namespace rcvgov::control {

inline constexpr const char *default_socket_path = "/run/rcvgov/rcvgovd.sock";
inline constexpr size_t max_request_bytes = 64 * 1024;

// Sends one request and returns the "data" of the answer, or an Error an
// operator can act on ("connect ...: ... (is rcvgovd running?)", or the
// daemon's own error message).
Result<nlohmann::json> call(const std::string &path, const nlohmann::json &request,
			    int timeout_ms = 5000);

class Server {
public:
	// The answer's "data", or the Error sent back as {"ok": false}. A
	// handler that throws is answered with the exception's message.
	using Handler = std::function<Result<nlohmann::json>(const nlohmann::json &request)>;

	// Creates the socket (its directory 0700, the socket 0600, a stale
	// socket from a crashed daemon replaced).
	static Result<std::unique_ptr<Server>> listen(std::string path, Handler handler);
	~Server();
	Server(const Server &) = delete;
	Server &operator=(const Server &) = delete;

	// One fd for the daemon's epoll: readable when anything needs doing.
	int fd() const { return epoll_.get(); }
	// Accepts, reads and answers whatever is ready, without blocking.
	void dispatch();

private:
	Server(std::string path, Handler handler);
	Status open();
	void accept_clients();
	void on_client(int fd);
	void answer(int fd, const nlohmann::json &response);
	void drop(int fd);

	std::string path_;
	Handler handler_;
	UniqueFd listen_;
	UniqueFd epoll_;
	std::map<int, std::pair<UniqueFd, std::string>> clients_;
};

// Builds the answer for one request line; pure, so it is unit-tested.
nlohmann::json handle_line(const std::string &line, const Server::Handler &handler);

} // namespace rcvgov::control
