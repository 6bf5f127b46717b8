#include "tracker/peer_key.h"

namespace rcvgov::tracker {

namespace {

std::string v4_key(const uint8_t *a)
{
	return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) +
	       ".0/24";
}

void append_hex(std::string &s, unsigned v)
{
	static constexpr char digits[] = "0123456789abcdef";
	bool started = false;
	for (int shift = 12; shift >= 0; shift -= 4) {
		const unsigned d = (v >> shift) & 0xf;
		if (d || started || shift == 0) {
			s += digits[d];
			started = true;
		}
	}
}

} // namespace

std::optional<std::string> peer_key(uint16_t family, const std::array<uint8_t, 16> &addr)
{
	if (family == kAfInet)
		return v4_key(addr.data());
	if (family != kAfInet6)
		return std::nullopt;
	static constexpr uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	bool is_mapped = true;
	for (int i = 0; i < 12; ++i)
		is_mapped = is_mapped && addr[i] == mapped[i];
	if (is_mapped)
		return v4_key(addr.data() + 12);

	// RFC 5952 text of the /64: the interface half is zero, so the longest
	// run of zero groups always contains it and takes in any zero groups
	// that end the prefix; the remaining groups print without leading zeros.
	unsigned groups[4];
	for (int g = 0; g < 4; ++g)
		groups[g] = unsigned(addr[2 * g]) << 8 | addr[2 * g + 1];
	int kept = 4;
	while (kept > 0 && groups[kept - 1] == 0)
		--kept;
	std::string s;
	for (int g = 0; g < kept; ++g) {
		if (g)
			s += ':';
		append_hex(s, groups[g]);
	}
	return s + "::/64";
}

} // namespace rcvgov::tracker
