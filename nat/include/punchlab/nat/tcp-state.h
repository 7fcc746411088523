// Coarse TCP connection tracking for middleboxes: enough to give half-open
// and closing connections a short idle timeout and established ones a long
// one (RFC 5382 section 5), not a full TCP state machine.
//
// A connection counts as established once packets have been seen in both
// directions (the SYN and the SYN-ACK, or mid-stream traffic both ways) and
// neither side has sent FIN or RST. A FIN or RST from either side makes it
// closing for good: a NAT does not reopen a connection it saw closed.
#pragma once

#include <cstdint>

#include "punchlab/nat/flow-types.h"
#include "punchlab/time.h"

namespace punchlab {
namespace nat {

enum class TcpState : uint8_t {
  kOpening,      // seen in one direction only (SYN sent, no answer yet)
  kEstablished,  // seen both ways, no FIN/RST
  kClosing,      // FIN or RST seen
};
const char* ToString(TcpState s);

// The idle timeouts a tracked flow lives by. RFC 5382 REQ-5 asks at least
// 2 h 4 min for established and 4 min for transitory (opening/closing) TCP;
// RFC 4787 REQ-5 asks at least 2 min for UDP.
struct FlowTimeouts {
  Duration udp = Duration::Seconds(120);
  Duration tcp_established = Duration::Seconds(7440);
  Duration tcp_transitory = Duration::Seconds(240);

  bool operator==(const FlowTimeouts& o) const {
    return udp == o.udp && tcp_established == o.tcp_established &&
           tcp_transitory == o.tcp_transitory;
  }
  bool operator!=(const FlowTimeouts& o) const { return !(*this == o); }
};

class TcpTracker {
 public:
  void Observe(Direction dir, TcpFlags flags);
  TcpState state() const;

 private:
  static constexpr uint8_t kSeenOut = 0x01;
  static constexpr uint8_t kSeenIn = 0x02;
  static constexpr uint8_t kClosed = 0x04;
  uint8_t seen_ = 0;
};

// The idle timeout for a flow of `protocol` whose TCP state is `tcp`.
Duration IdleTimeout(const FlowTimeouts& t, Protocol protocol, const TcpTracker& tcp);

}  // namespace nat
}  // namespace punchlab
