#include "cli/top_loop.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli/interrupt.h"
#include "cli/top.h"
#include "control/control.h"
#include "control/protocol.h"

namespace rcvgov::cli {

namespace {

namespace ctl = control;

// Keys one at a time and unechoed while alive; the terminal as it was
// afterwards (Ctrl-C still raises SIGINT: ISIG stays on).
class RawKeys {
public:
	RawKeys()
	{
		if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_) != 0)
			return;
		termios raw = saved_;
		raw.c_lflag &= ~tcflag_t(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		active_ = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	}
	~RawKeys()
	{
		if (active_)
			tcsetattr(STDIN_FILENO, TCSANOW, &saved_);
	}
	RawKeys(const RawKeys &) = delete;
	RawKeys &operator=(const RawKeys &) = delete;
	bool active() const { return active_; }

private:
	termios saved_{};
	bool active_ = false;
};

double now_s()
{
	using namespace std::chrono;
	return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string wall_now()
{
	time_t t = time(nullptr);
	tm local{};
	localtime_r(&t, &local);
	char buf[64];
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &local);
	return buf;
}

Result<TopSample> take_sample(const std::string &socket, size_t sockets)
{
	TopSample s;
	auto st = ctl::call(socket, ctl::make_request(ctl::Command::Status));
	if (!st)
		return st.error();
	auto res = ctl::call(socket, ctl::make_request(ctl::Command::Resources));
	if (!res)
		return res.error();
	auto socks = ctl::call(socket, ctl::make_request(ctl::Command::Sockets, sockets));
	auto page = socks ? ctl::parse_page(*socks) : Result<ctl::Page>(socks.error());
	if (!page)
		return page.error();
	s.status = std::move(*st);
	s.resources = std::move(*res);
	s.sockets = std::move(page->items);
	s.t_s = now_s();
	s.wall = wall_now();
	return s;
}

// Waits until `until` (now_s() clock) or a key: true when it was q.
bool wait_for_quit(double until, bool keys)
{
	while (!interrupted()) {
		const double left = until - now_s();
		if (left <= 0)
			return false;
		pollfd p{STDIN_FILENO, POLLIN, 0};
		const int ms = static_cast<int>(left * 1000) + 1;
		if (!keys) {
			nap_ms(ms);
			continue;
		}
		if (poll(&p, 1, ms) == 1 && (p.revents & POLLIN)) {
			char c = 0;
			if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q'))
				return true;
		}
	}
	return true;
}

} // namespace

int run_top(const TopOptions &o)
{
	catch_interrupts();
	const bool tty = isatty(STDOUT_FILENO);
	RawKeys keys;
	std::optional<TopSample> prev;
	for (size_t frame = 1; !interrupted(); ++frame) {
		TopLayout layout = layout_for(160, 30, o.interval_s);
		winsize ws{};
		if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row)
			layout = layout_for(ws.ws_col, ws.ws_row, o.interval_s);
		const double started = now_s();
		Result<TopSample> cur = take_sample(o.socket, layout.sockets);
		if (!cur) {
			std::cerr << "rcvgovctl: " << cur.error().message << "\n";
			return 1;
		}
		const std::string text = render_top(prev ? &*prev : nullptr, *cur, layout);
		// Home, clear, frame; or frames one after another, a blank line apart.
		std::cout << (tty ? "\x1b[H\x1b[2J" : (frame > 1 ? "\n" : "")) << text
			  << std::flush;
		prev = std::move(*cur);
		if (o.count && frame >= o.count)
			break;
		if (wait_for_quit(started + o.interval_s, keys.active()))
			break;
	}
	return 0;
}

} // namespace rcvgov::cli
