// Text for the tracker's enums: the words operators see in logs, the
// `resources` view and the override table.
#include "tracker/decision.h"
#include "tracker/result.h"
#include "tracker/scope.h"

namespace rcvgov::tracker {

std::string_view to_string(ScopeKind k)
{
	switch (k) {
	case ScopeKind::System: return "system";
	case ScopeKind::Service: return "service";
	case ScopeKind::Peer: return "peer";
	case ScopeKind::Socket: return "socket";
	}
	return "?";
}

std::optional<ScopeKind> parse_scope_kind(std::string_view s)
{
	for (ScopeKind k :
	     {ScopeKind::System, ScopeKind::Service, ScopeKind::Peer, ScopeKind::Socket})
		if (s == to_string(k))
			return k;
	return std::nullopt;
}

std::string_view to_string(Action a)
{
	switch (a) {
	case Action::Clamp: return "clamp";
	case Action::Reclaim: return "reclaim";
	}
	return "?";
}

std::string_view to_string(Reason r)
{
	switch (r) {
	case Reason::OverLimit: return "over-limit";
	case Reason::Inflated: return "inflated";
	}
	return "?";
}

std::string_view to_string(Outcome o)
{
	switch (o) {
	case Outcome::Done: return "done";
	case Outcome::DryRun: return "dry-run";
	case Outcome::Failed: return "failed";
	case Outcome::Skipped: return "skipped";
	case Outcome::Gone: return "gone";
	}
	return "?";
}

std::string_view to_string(EnforceState s)
{
	switch (s) {
	case EnforceState::None: return "none";
	case EnforceState::PendingClamp: return "pending-clamp";
	case EnforceState::PendingReclaim: return "pending-reclaim";
	case EnforceState::Clamped: return "clamped";
	case EnforceState::Destroyed: return "destroyed";
	case EnforceState::Failed: return "failed";
	case EnforceState::WouldClamp: return "would-clamp";
	case EnforceState::WouldReclaim: return "would-reclaim";
	}
	return "?";
}

std::string_view to_string(Error e)
{
	switch (e) {
	case Error::StaleHandle: return "stale or unknown handle";
	case Error::UnknownCookie: return "no participant with this socket cookie";
	case Error::DuplicateCookie: return "a participant with this socket cookie exists";
	case Error::DuplicateKey: return "the parent already has an account with this key";
	case Error::InvalidKind: return "an account of this kind cannot be created here";
	case Error::DepthExceeded: return "the account chain would be too deep";
	case Error::Cycle: return "an account cannot be moved under itself";
	case Error::SystemAccount: return "not allowed on the system account";
	case Error::CapacityExceeded: return "too many accounts or participants";
	case Error::NotPending: return "no decision of this action is pending for this participant";
	case Error::ReleaseBelowZero: return "released more than was claimed (usage set to zero)";
	case Error::Overflow: return "usage beyond the per-socket maximum (saturated)";
	}
	return "?";
}

std::string describe(const Decision &d)
{
	std::string s(to_string(d.action));
	s += " cookie=" + std::to_string(d.cookie);
	s += " usage=" + std::to_string(d.usage);
	if (d.age) {
		const auto ms =
			std::chrono::duration_cast<std::chrono::milliseconds>(*d.age).count();
		s += " stalled=" + std::to_string(ms / 1000) + "." +
		     std::to_string(ms % 1000 / 100) + "s";
	} else {
		s += " stalled=no";
	}
	s += " scope=";
	s += to_string(d.scope);
	s += " reason=";
	s += to_string(d.reason);
	s += " limit=" + std::to_string(d.limit);
	s += " scope_usage=" + std::to_string(d.scope_usage);
	if (!d.unit.is_null())
		s += " unit=account#" + std::to_string(d.unit.index);
	return s;
}

} // namespace rcvgov::tracker
