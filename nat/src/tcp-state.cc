#include "punchlab/nat/tcp-state.h"

namespace punchlab {
namespace nat {

const char* ToString(TcpState s) {
  switch (s) {
    case TcpState::kOpening: return "opening";
    case TcpState::kEstablished: return "established";
    case TcpState::kClosing: return "closing";
  }
  return "?";
}

void TcpTracker::Observe(Direction dir, TcpFlags flags) {
  seen_ |= dir == Direction::kOutbound ? kSeenOut : kSeenIn;
  if (flags.fin() || flags.rst()) seen_ |= kClosed;
}

TcpState TcpTracker::state() const {
  if (seen_ & kClosed) return TcpState::kClosing;
  if ((seen_ & kSeenOut) && (seen_ & kSeenIn)) return TcpState::kEstablished;
  return TcpState::kOpening;
}

Duration IdleTimeout(const FlowTimeouts& t, Protocol protocol, const TcpTracker& tcp) {
  if (protocol == Protocol::kUdp) return t.udp;
  return tcp.state() == TcpState::kEstablished ? t.tcp_established : t.tcp_transitory;
}

}  // namespace nat
}  // namespace punchlab
