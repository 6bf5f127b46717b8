// The control protocol between rcvgovctl and rcvgovd: one JSON object per
// line over a unix stream socket that only root may use. A request is
// {"cmd": "...", ...}; the answer is {"ok": true, "data": ...} or
// {"ok": false, "error": "..."}, then the daemon closes the connection.
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "common/unique_fd.h"

namespace rcvgov::control {

inline constexpr const char *default_socket_path = "/run/rcvgov/rcvgovd.sock";
inline constexpr size_t max_request_bytes = 64 * 1024;

// Sends one request and returns the "data" of the answer. Throws
// std::runtime_error with a message an operator can act on.
nlohmann::json call(const std::string &path, const nlohmann::json &request, int timeout_ms = 5000);

class Server {
public:
	using Handler = std::function<nlohmann::json(const nlohmann::json &request)>;

	// Creates the socket (its directory 0700, the socket 0600, a stale
	// socket from a crashed daemon replaced). Throws std::runtime_error.
	Server(std::string path, Handler handler);
	~Server();
	Server(const Server &) = delete;
	Server &operator=(const Server &) = delete;

	// One fd for the daemon's epoll: readable when anything needs doing.
	int fd() const { return epoll_.get(); }
	// Accepts, reads and answers whatever is ready, without blocking.
	void dispatch();

private:
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
