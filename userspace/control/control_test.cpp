#include "control/control.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

#include "control/control_test_util.h"

namespace rcvgov::control {
namespace {

Result<nlohmann::json> echo(const nlohmann::json &req)
{
	if (req["cmd"] == "boom")
		return Error::msg("boom failed");
	if (req["cmd"] == "throw")
		throw std::runtime_error("thrown");
	return nlohmann::json{{"echo", req["cmd"]}};
}

TEST(HandleLine, Ok)
{
	auto r = handle_line(R"({"cmd":"status"})", echo);
	EXPECT_EQ(r["ok"], true);
	EXPECT_EQ(r["data"]["echo"], "status");
}

TEST(HandleLine, BadJson)
{
	auto r = handle_line("{not json", echo);
	EXPECT_EQ(r["ok"], false);
	EXPECT_NE(r["error"].get<std::string>().find("not JSON"), std::string::npos);
}

TEST(HandleLine, MissingCmd)
{
	for (const char *line : {R"({"x":1})", R"([1,2])", R"({"cmd":5})"}) {
		auto r = handle_line(line, echo);
		EXPECT_EQ(r["ok"], false) << line;
		EXPECT_NE(r["error"].get<std::string>().find("cmd"), std::string::npos);
	}
}

TEST(HandleLine, HandlerErrorBecomesAnswer)
{
	auto r = handle_line(R"({"cmd":"boom"})", echo);
	EXPECT_EQ(r["ok"], false);
	EXPECT_EQ(r["error"], "boom failed");
	r = handle_line(R"({"cmd":"throw"})", echo);
	EXPECT_EQ(r["ok"], false);
	EXPECT_EQ(r["error"], "thrown");
}

TEST(HandleLine, NeverThrows)
{
	auto weird = [](const nlohmann::json &) -> Result<nlohmann::json> { throw 42; };
	auto r = handle_line(R"({"cmd":"x"})", weird);
	EXPECT_EQ(r["ok"], false);
	for (std::string line : {std::string("\xff\xfe"), std::string("{\"cmd\":\"\xff\"}"),
				 std::string(1, '\0'), std::string("[[[[[[[[[[[[[[[[")}) {
		auto a = handle_line(line, echo);
		EXPECT_EQ(a["ok"], false) << line;
		// The answer carries the bad bytes in its message: it must still
		// serialize (invalid UTF-8 replaced).
		EXPECT_NO_THROW((void)serialize(a));
	}
}

TEST(Serialize, ReplacesInvalidUtf8)
{
	nlohmann::json j = {{"ok", true}, {"data", std::string("comm\xff\xfe")}};
	std::string s = serialize(j);
	EXPECT_EQ(s.back(), '\n');
	EXPECT_NE(s.find("comm\xef\xbf\xbd"), std::string::npos) << s; // U+FFFD
	EXPECT_TRUE(nlohmann::json::accept(s));
}

using ctltest::TempDir;

TEST(Server, RoundTripAndPermissions)
{
	TempDir dir;
	std::string sock = dir.path() + "/run/ctl.sock";
	auto made = Server::listen(sock, echo);
	ASSERT_TRUE(made.ok()) << made.error().message;
	Server &server = **made;
	struct stat st;
	ASSERT_EQ(stat(sock.c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0600u);
	ASSERT_EQ(stat((dir.path() + "/run").c_str(), &st), 0);
	EXPECT_EQ(st.st_mode & 0777, 0700u);

	std::atomic<bool> stop{false};
	std::thread loop([&] {
		while (!stop) {
			server.dispatch();
			usleep(1000);
		}
	});
	auto hello = call(sock, {{"cmd", "hello"}});
	ASSERT_TRUE(hello.ok()) << hello.error().message;
	EXPECT_EQ((*hello)["echo"], "hello");
	auto boom = call(sock, {{"cmd", "boom"}});
	ASSERT_FALSE(boom.ok());
	EXPECT_EQ(boom.error().message, "rcvgovd: boom failed");
	stop = true;
	loop.join();
}

TEST(Client, NoDaemonSaysSo)
{
	auto r = call("/tmp/rcvgov-definitely-missing.sock", {{"cmd", "status"}});
	ASSERT_FALSE(r.ok());
	EXPECT_EQ(r.error().errnum, ENOENT);
	EXPECT_NE(r.error().message.find("is rcvgovd running?"), std::string::npos)
		<< r.error().message;
}

TEST(Server, BadPathIsAnError)
{
	auto r = Server::listen("/proc/rcvgov-cannot/ctl.sock", echo);
	ASSERT_FALSE(r.ok());
	EXPECT_NE(r.error().message.find("/proc/rcvgov-cannot"), std::string::npos)
		<< r.error().message;
	auto longp = Server::listen("/tmp/" + std::string(200, 'x'), echo);
	ASSERT_FALSE(longp.ok());
	EXPECT_EQ(longp.error().errnum, ENAMETOOLONG);
}

} // namespace
} // namespace rcvgov::control

namespace rcvgov::control {
namespace {

TEST(Server, AnswersAHalfClosedClientWithoutNewline)
{
	char tmpl[] = "/tmp/rcvgov-ctl-XXXXXX";
	std::string dir = mkdtemp(tmpl);
	std::string sock = dir + "/ctl.sock";
	{
		auto made = Server::listen(sock, echo);
		ASSERT_TRUE(made.ok()) << made.error().message;
		Server &server = **made;
		UniqueFd c(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
		sockaddr_un a{};
		a.sun_family = AF_UNIX;
		std::snprintf(a.sun_path, sizeof(a.sun_path), "%s", sock.c_str());
		ASSERT_EQ(connect(c.get(), reinterpret_cast<sockaddr *>(&a), sizeof(a)), 0);
		const char req[] = R"({"cmd":"half"})";
		ASSERT_EQ(send(c.get(), req, sizeof(req) - 1, 0), ssize_t(sizeof(req) - 1));
		shutdown(c.get(), SHUT_WR);
		std::string got;
		char buf[256];
		for (int i = 0; i < 200 && got.find('\n') == std::string::npos; ++i) {
			server.dispatch();
			ssize_t n = recv(c.get(), buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0)
				got.append(buf, size_t(n));
			usleep(1000);
		}
		EXPECT_NE(got.find(R"("echo":"half")"), std::string::npos) << got;
	}
	rmdir(dir.c_str());
}

} // namespace
} // namespace rcvgov::control
