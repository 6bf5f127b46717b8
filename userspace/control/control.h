// The control socket between rcvgovctl and rcvgovd: one JSON object per
// line over a unix stream socket that only root may use (the names and
// request format: control/protocol.h). The answer is {"ok": true, "data":
// ...} or {"ok": false, "error": "..."}, then the daemon closes the
// connection.
//
// The server is built for clients that misbehave: whatever bytes a client
// sends get an error answer or a close, never an exception out of
// dispatch(); answers are written without blocking from a bounded buffer
// per client; a client that does not send a whole request, or does not read
// its answer, within idle_timeout_ms is closed; at most max_clients are
// connected, the one idle the longest is closed when another arrives; only
// uid 0 is served (SO_PEERCRED, checked at accept).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/types.h>

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

struct ServerLimits {
	size_t max_request = max_request_bytes;
	size_t max_reply = 4 << 20;	 // one answer, serialized
	size_t max_buffered = 32 << 20;	 // every answer not yet read, together
	size_t max_clients = 64;	 // connected at once
	uint32_t idle_timeout_ms = 5000; // for a whole request, then for its answer
	uid_t allowed_uid = 0;		 // the only peer uid served
};

// What the server did, counted (rcvgovctl status shows it).
struct ServerStats {
	uint64_t accepted = 0;
	uint64_t answered = 0;	      // answers fully written
	uint64_t errors_answered = 0; // of which {"ok": false}
	uint64_t refused_uid = 0;     // peer not allowed_uid
	uint64_t evicted = 0;	      // closed for a new client over max_clients
	uint64_t timed_out = 0;	      // closed after idle_timeout_ms
	uint64_t oversized_requests = 0;
	uint64_t oversized_replies = 0;
	uint64_t client_errors = 0;   // reset, hung up before the answer was read
	uint64_t internal_errors = 0; // exceptions caught at the boundary
	nlohmann::json to_json() const;
};

class Server {
public:
	// The answer's "data", or the Error sent back as {"ok": false}. A
	// handler that throws is answered with the exception's message.
	using Handler = std::function<Result<nlohmann::json>(const nlohmann::json &request)>;

	// Creates the socket, 0600. Its directory is created 0700 when it does
	// not exist; an existing one must be a directory (not a symlink) owned
	// by root with mode 0700, or this refuses: rcvgovd never changes a
	// directory it did not create. A socket file nobody answers on (a
	// crashed daemon's) is replaced; one a live daemon answers on is not.
	static Result<std::unique_ptr<Server>> listen(std::string path, Handler handler,
						      ServerLimits limits = {});
	~Server();
	Server(const Server &) = delete;
	Server &operator=(const Server &) = delete;

	// One fd for the daemon's epoll: readable when anything needs doing
	// (a client, or the idle timer inside it).
	int fd() const { return epoll_.get(); }
	// Accepts, reads, answers and times out whatever is ready, without
	// blocking. Never throws.
	void dispatch() noexcept;

	const ServerStats &stats() const { return stats_; }
	size_t clients() const { return clients_.size(); }

private:
	struct Client {
		UniqueFd fd;
		std::string in;
		std::string out; // the answer, from out_off on not yet written
		size_t out_off = 0;
		bool answering = false;
		uint64_t last_active_ns = 0; // accepted, bytes in, bytes out
		uint64_t deadline_ns = 0;
	};

	Server(std::string path, Handler handler, ServerLimits limits);
	Status open();
	void dispatch_once();
	void accept_clients();
	void admit(UniqueFd fd);
	void evict_idlest();
	void on_readable(Client &c);
	void reply(Client &c, const nlohmann::json &response);
	void flush(Client &c);
	void sweep();
	void arm_timer();
	void drop(int fd);
	void say_and_drop(Client &c, const std::string &error);

	std::string path_;
	Handler handler_;
	ServerLimits limits_;
	ServerStats stats_;
	UniqueFd listen_;
	UniqueFd epoll_;
	UniqueFd timer_;
	dev_t sock_dev_ = 0; // the socket file we bound: removed at exit only
	ino_t sock_ino_ = 0; // if it is still ours
	size_t buffered_ = 0;
	std::map<int, Client> clients_;
};

// Builds the answer for one request line; pure, so it is unit-tested.
// Never throws for any input.
nlohmann::json handle_line(const std::string &line, const Server::Handler &handler);

// The answer as one line: invalid UTF-8 (in a request echoed in an error,
// or in a process name) is replaced, never thrown.
std::string serialize(const nlohmann::json &response);

// The socket's directory and a stale socket (socket_dir.cpp), for listen().
// The directory of `path` ("." when none): created 0700 when missing,
// otherwise checked as listen() says.
Status prepare_socket_dir(const std::string &path);
// Removes a socket file at `path` that nobody answers on; refuses when a
// daemon answers or the path is something else than a socket.
Status clear_stale_socket(const std::string &path);

} // namespace rcvgov::control
