#include "enforce/actuator.h"

namespace rcvgov::enforce {

std::string_view to_string(Kind k)
{
	switch (k) {
	case Kind::Clamp: return "clamp";
	case Kind::Destroy: return "destroy";
	case Kind::RestoreClamp: return "restore-clamp";
	}
	return "?";
}

} // namespace rcvgov::enforce
