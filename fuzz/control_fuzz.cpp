// libFuzzer harness: control-protocol request lines, as rcvgovd's control
// server receives them from a client (control::handle_line with a handler
// that validates like the daemon's: control::parse_request), the answer
// serialized as the server sends it, and that answer read back the way
// rcvgovctl reads it (JSON, then control::parse_page).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <string>

#include "control/control.h"
#include "control/protocol.h"

using nlohmann::json;
using namespace rcvgov;

namespace {

// More rows than a page holds, so paging arithmetic is exercised.
constexpr size_t kTotalRows = 5000;

Result<json> handler(const json &req)
{
	Result<control::Request> r = control::parse_request(req);
	if (!r)
		return r.error();
	if (r->limit > control::max_page_rows)
		std::abort(); // parse_request promises the cut
	auto [begin, end] = control::page_bounds(*r, kTotalRows);
	if (begin > end || end > kTotalRows || end - begin > r->limit)
		std::abort();
	json items = json::array();
	for (size_t i = begin; i < end && i < begin + 3; ++i)
		items.push_back(i);
	// Pages built like the daemon's: items from begin, out of kTotalRows.
	return control::make_page(std::move(items), begin, kTotalRows);
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
	spdlog::set_level(spdlog::level::off);
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	// The server refuses longer requests before parsing them.
	if (size > control::max_request_bytes)
		return 0;
	std::string line(reinterpret_cast<const char *>(data), size);
	// The server answers the first line only.
	if (auto nl = line.find('\n'); nl != std::string::npos)
		line.resize(nl);

	json answer = control::handle_line(line, handler);
	if (!answer.is_object() || !answer.contains("ok"))
		std::abort();
	// What goes on the wire must be one line of valid JSON.
	std::string wire = control::serialize(answer);
	if (wire.empty() || wire.back() != '\n' || wire.find('\n') != wire.size() - 1)
		std::abort();
	json back = json::parse(wire, nullptr, /*allow_exceptions=*/false);
	if (back.is_discarded())
		std::abort();
	if (back.value("ok", false) && back.contains("data") && back["data"].is_object())
		(void)control::parse_page(back["data"]);

	// The client side of paging: whatever a (hostile) daemon answers.
	json raw = json::parse(line, nullptr, false);
	if (!raw.is_discarded())
		(void)control::parse_page(raw);
	return 0;
}
