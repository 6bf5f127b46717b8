// The control server against clients that misbehave: garbage, invalid
// UTF-8, oversized requests, half-open and idle clients, too many clients,
// a client that never reads its answer, a non-root client, huge answers.
// The server is driven directly (no daemon), from its fd, as the daemon
// does.
#include <gtest/gtest.h>
#include <random>
#include <sys/stat.h>
#include <sys/wait.h>

#include "control/control.h"
#include "control/control_test_util.h"

namespace rcvgov::control {
namespace {

using namespace ctltest;

// "small": a short answer; "big": `big_bytes` of data; "rows": one page
// over 2500 numbered rows (the daemon's paging, in miniature).
size_t big_bytes = 1 << 20;
Result<nlohmann::json> handler(const nlohmann::json &req)
{
	std::string cmd = req["cmd"];
	if (cmd == "big")
		return nlohmann::json(std::string(big_bytes, 'x'));
	if (cmd == "badutf8")
		return nlohmann::json(std::string("comm\xff\xfe"));
	if (cmd == "rows") {
		auto r = parse_request({{"cmd", "sockets"}});
		Request page = *r;
		if (req.contains("limit"))
			page.limit = std::min(req["limit"].get<size_t>(), max_page_rows);
		if (req.contains("offset"))
			page.offset = req["offset"].get<size_t>();
		auto [b, e] = page_bounds(page, 2500);
		nlohmann::json items = nlohmann::json::array();
		for (size_t i = b; i < e; ++i)
			items.push_back(i);
		return make_page(std::move(items), b, 2500);
	}
	return nlohmann::json{{"echo", cmd}};
}

ServerLimits quick()
{
	ServerLimits l;
	l.idle_timeout_ms = 300;
	return l;
}

struct Fixture : ::testing::Test {
	TempDir dir;
	std::string sock = dir.path() + "/ctl.sock";
	std::unique_ptr<Server> server;
	void start(ServerLimits l = quick())
	{
		auto made = Server::listen(sock, handler, l);
		ASSERT_TRUE(made.ok()) << made.error().message;
		server = std::move(made).value();
	}
	// The whole answer of one request sent by a raw client.
	std::string ask(const std::string &bytes)
	{
		Peer p(sock);
		p.send(bytes);
		EXPECT_TRUE(pump_until_closed(*server, p, 2000)) << "no close after " << bytes;
		return p.got;
	}
};

using ControlAbuse = Fixture;

TEST_F(ControlAbuse, GarbageGetsAnErrorOrACloseNeverAnException)
{
	start();
	std::mt19937 rng(42);
	for (int round = 0; round < 20; ++round) {
		std::string junk(100000, '\0');
		for (auto &c : junk)
			c = static_cast<char>(rng());
		std::string got = ask(junk);
		if (!got.empty()) {
			EXPECT_NE(got.find("\"ok\":false"), std::string::npos)
				<< got.substr(0, 200);
		}
	}
	for (const char *line : {"\xff\xfe\n", "{\"cmd\":\"\xff\"}\n", "{\"cmd\":\"nope\xc3\"}\n",
				 "\n", "null\n", "{\"cmd\":\"small\"", "\x00\x01\n"}) {
		std::string got = ask(line);
		ASSERT_FALSE(got.empty()) << line;
		auto j = nlohmann::json::parse(got, nullptr, false);
		ASSERT_TRUE(j.is_object()) << got;
		EXPECT_EQ(j["ok"], false) << got; // an error, or "no complete request"
	}
	EXPECT_NE(ask("{\"cmd\":\"small\"}\n").find(R"("echo":"small")"), std::string::npos);
	EXPECT_EQ(server->stats().internal_errors, 0u);
}

TEST_F(ControlAbuse, InvalidUtf8InAnAnswerIsReplaced)
{
	start();
	std::string got = ask("{\"cmd\":\"badutf8\"}\n");
	auto j = nlohmann::json::parse(got, nullptr, false);
	ASSERT_TRUE(j.is_object()) << got;
	EXPECT_EQ(j["ok"], true);
	EXPECT_EQ(j["data"], "comm\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_F(ControlAbuse, TwoMiBRequestIsRefusedEarly)
{
	start();
	Peer p(sock);
	std::string chunk(65536, 'a');
	size_t sent = 0;
	bool stopped = false;
	// Keep pushing (the server reads as we go) until the server closes.
	pump_until(*server, 3000, [&] {
		if (sent < (2u << 20)) {
			ssize_t n = ::send(p.fd.get(), chunk.data(), chunk.size(),
					   MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n > 0)
				sent += static_cast<size_t>(n);
			else if (errno != EAGAIN)
				stopped = true;
		}
		p.read();
		return p.closed || stopped;
	});
	pump_until_closed(*server, p, 1000);
	EXPECT_NE(p.got.find("request larger than 64 KiB"), std::string::npos) << p.got;
	EXPECT_TRUE(p.closed);
	EXPECT_LT(sent, 2u << 20) << "the server read the whole 2 MiB";
	EXPECT_EQ(server->stats().oversized_requests, 1u);
	EXPECT_EQ(server->clients(), 0u);
}

TEST_F(ControlAbuse, HalfOpenAndIdleClientsAreClosed)
{
	start();
	// Half a request, then nothing: closed with a word when the time is up.
	Peer half(sock);
	half.send("{\"cmd\":");
	Peer silent(sock); // connects and says nothing
	uint64_t t0 = now_ms();
	ASSERT_TRUE(pump_until_closed(*server, half, 2000));
	ASSERT_TRUE(pump_until_closed(*server, silent, 2000));
	uint64_t took = now_ms() - t0;
	EXPECT_GE(took, 250u);
	EXPECT_LT(took, 1500u);
	EXPECT_NE(half.got.find("no complete request within 300 ms"), std::string::npos)
		<< half.got;
	EXPECT_EQ(server->stats().timed_out, 2u);
	EXPECT_EQ(server->clients(), 0u);
	// Half a request, then a half-close: answered as it is.
	Peer eof(sock);
	eof.send("{\"cmd\":\"small\"}");
	shutdown(eof.fd.get(), SHUT_WR);
	ASSERT_TRUE(pump_until_closed(*server, eof, 2000));
	EXPECT_NE(eof.got.find(R"("echo":"small")"), std::string::npos) << eof.got;
}

TEST_F(ControlAbuse, OverTheCapTheClientIdleTheLongestGoes)
{
	ServerLimits l = quick();
	l.max_clients = 3;
	l.idle_timeout_ms = 10000;
	start(l);
	Peer a(sock);
	pump(*server, 20);
	Peer b(sock);
	pump(*server, 20);
	Peer c(sock);
	pump(*server, 20);
	ASSERT_EQ(server->clients(), 3u);
	b.send("{"); // b said something: the silent ones go first, oldest first
	pump(*server, 20);
	Peer d(sock);
	ASSERT_TRUE(pump_until_closed(*server, a, 2000));
	EXPECT_NE(a.got.find("idle the longest"), std::string::npos) << a.got;
	Peer e(sock);
	ASSERT_TRUE(pump_until_closed(*server, c, 2000));
	for (Peer *p : {&b, &d, &e})
		p->read();
	EXPECT_FALSE(b.closed);
	EXPECT_FALSE(d.closed);
	EXPECT_FALSE(e.closed);
	EXPECT_EQ(server->stats().evicted, 2u);
	EXPECT_EQ(server->clients(), 3u);
	// The newest is served.
	e.send("{\"cmd\":\"small\"}\n");
	ASSERT_TRUE(pump_until_closed(*server, e, 2000));
	EXPECT_NE(e.got.find(R"("echo":"small")"), std::string::npos) << e.got;
}

TEST_F(ControlAbuse, AClientThatNeverReadsDoesNotStopTheNext)
{
	start();
	Peer stuck(sock);
	stuck.send("{\"cmd\":\"big\"}\n"); // 1 MiB it never reads
	pump(*server, 50);
	EXPECT_EQ(server->clients(), 1u) << "the answer cannot have been sent whole";
	uint64_t t0 = now_ms();
	std::string got = ask("{\"cmd\":\"small\"}\n");
	EXPECT_LT(now_ms() - t0, 200u);
	EXPECT_NE(got.find(R"("echo":"small")"), std::string::npos) << got;
	// Then the stuck one is closed when its time is up.
	pump_until(*server, 2000, [&] { return server->clients() == 0; });
	EXPECT_EQ(server->clients(), 0u);
	EXPECT_EQ(server->stats().timed_out, 1u);
}

TEST_F(ControlAbuse, AnAnswerOverTheCapIsRefusedWithAHint)
{
	ServerLimits l = quick();
	l.max_reply = 64 * 1024;
	start(l);
	std::string got = ask("{\"cmd\":\"big\"}\n");
	EXPECT_NE(got.find("\"ok\":false"), std::string::npos) << got.substr(0, 200);
	EXPECT_NE(got.find("ask for a page with"), std::string::npos) << got;
	EXPECT_EQ(server->stats().oversized_replies, 1u);
}

TEST_F(ControlAbuse, AnswersWaitingForReadersAreBoundedTogether)
{
	ServerLimits l = quick();
	l.max_buffered = 3 << 20;
	start(l);
	std::vector<std::unique_ptr<Peer>> stuck;
	for (int i = 0; i < 4; ++i) {
		stuck.push_back(std::make_unique<Peer>(sock));
		stuck.back()->send("{\"cmd\":\"big\"}\n");
		pump(*server, 20);
	}
	pump(*server, 50);
	for (auto &p : stuck)
		p->read(); // the beginning of the big answers, or the busy error
	bool busy = false;
	for (auto &p : stuck)
		busy |= p->got.find("rcvgovd is busy") != std::string::npos;
	EXPECT_TRUE(busy);
}

TEST_F(ControlAbuse, NonRootIsRefusedWithAnAnswer)
{
	if (geteuid() != 0)
		GTEST_SKIP() << "needs root to switch to uid 65534";
	start();
	// Let uid 65534 reach the socket at all: the server's own check is
	// what is under test.
	ASSERT_EQ(chmod(dir.path().c_str(), 0711), 0);
	ASSERT_EQ(chmod(sock.c_str(), 0666), 0);
	int pipefd[2];
	ASSERT_EQ(pipe(pipefd), 0);
	pid_t pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		// Only system calls here: the parent may have threads.
		close(pipefd[0]);
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		int fd = socket(AF_UNIX, SOCK_STREAM, 0);
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock.c_str());
		if (connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof(a)) != 0)
			_exit(3);
		const char req[] = "{\"cmd\":\"small\"}\n";
		(void)!send(fd, req, sizeof(req) - 1, MSG_NOSIGNAL);
		char buf[512];
		ssize_t n, total = 0;
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			(void)!write(pipefd[1], buf, static_cast<size_t>(n));
			total += n;
		}
		_exit(total > 0 ? 0 : 4);
	}
	close(pipefd[1]);
	int status = 0;
	pump_until(*server, 3000, [&] { return waitpid(pid, &status, WNOHANG) == pid; });
	std::string got;
	char buf[512];
	ssize_t n;
	while ((n = read(pipefd[0], buf, sizeof(buf))) > 0)
		got.append(buf, static_cast<size_t>(n));
	close(pipefd[0]);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(WEXITSTATUS(status), 0);
	EXPECT_NE(got.find("permission denied: only root"), std::string::npos) << got;
	EXPECT_NE(got.find("uid 65534"), std::string::npos) << got;
	EXPECT_EQ(server->stats().refused_uid, 1u);
	EXPECT_EQ(server->clients(), 0u);
}

TEST_F(ControlAbuse, PagingVisitsEveryRowOnce)
{
	start();
	Loop loop(*server);
	std::vector<size_t> seen;
	size_t offset = 0, pages = 0;
	for (;;) {
		auto data = call(sock, {{"cmd", "rows"}, {"limit", 700}, {"offset", offset}});
		ASSERT_TRUE(data.ok()) << data.error().message;
		auto page = parse_page(*data);
		ASSERT_TRUE(page.ok()) << page.error().message;
		EXPECT_EQ(page->total, 2500u);
		for (const auto &i : page->items)
			seen.push_back(i);
		++pages;
		if (!page->next_offset)
			break;
		offset = *page->next_offset;
	}
	EXPECT_EQ(pages, 4u);
	ASSERT_EQ(seen.size(), 2500u);
	for (size_t i = 0; i < seen.size(); ++i)
		ASSERT_EQ(seen[i], i);
	// No limit: the default page; a limit over the cap: cut to it.
	auto d = call(sock, {{"cmd", "rows"}});
	ASSERT_TRUE(d.ok());
	EXPECT_EQ((*d)["items"].size(), default_page_rows);
	EXPECT_EQ((*d)["next_offset"], default_page_rows);
	auto m = call(sock, {{"cmd", "rows"}, {"limit", 1000000}});
	ASSERT_TRUE(m.ok());
	EXPECT_EQ((*m)["items"].size(), max_page_rows);
}

} // namespace
} // namespace rcvgov::control
