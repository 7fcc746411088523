#include <gtest/gtest.h>

#include "punchlab/nat/tcp-state.h"

namespace punchlab {
namespace nat {
namespace {

const TcpFlags kSyn(TcpFlags::kSyn);
const TcpFlags kSynAck(TcpFlags::kSyn | TcpFlags::kAck);
const TcpFlags kAck(TcpFlags::kAck);

TEST(TcpTracker, OpensEstablishesAndCloses) {
  TcpTracker t;
  t.Observe(Direction::kOutbound, kSyn);
  EXPECT_STREQ(ToString(t.state()), "opening");
  t.Observe(Direction::kOutbound, kSyn);  // a retransmitted SYN changes nothing
  EXPECT_EQ(t.state(), TcpState::kOpening);
  t.Observe(Direction::kInbound, kSynAck);
  EXPECT_STREQ(ToString(t.state()), "established");
  t.Observe(Direction::kInbound, TcpFlags(TcpFlags::kFin | TcpFlags::kAck));
  EXPECT_STREQ(ToString(t.state()), "closing");
  t.Observe(Direction::kOutbound, kAck);  // closing is for good
  EXPECT_EQ(t.state(), TcpState::kClosing);
}

TEST(TcpTracker, RstClosesAndMidStreamTrafficBothWaysEstablishes) {
  TcpTracker rst;
  rst.Observe(Direction::kOutbound, kSyn);
  rst.Observe(Direction::kInbound, TcpFlags(TcpFlags::kRst | TcpFlags::kAck));
  EXPECT_EQ(rst.state(), TcpState::kClosing);

  TcpTracker mid;  // picked up after a NAT reboot: no SYN seen
  mid.Observe(Direction::kOutbound, kAck);
  EXPECT_EQ(mid.state(), TcpState::kOpening);
  mid.Observe(Direction::kInbound, kAck);
  EXPECT_EQ(mid.state(), TcpState::kEstablished);
}

TEST(TcpTracker, IdleTimeoutFollowsProtocolAndState) {
  const FlowTimeouts t{Duration::Seconds(30), Duration::Seconds(7440), Duration::Seconds(240)};
  TcpTracker tcp;
  EXPECT_EQ(IdleTimeout(t, Protocol::kUdp, tcp), Duration::Seconds(30));
  tcp.Observe(Direction::kOutbound, kSyn);
  EXPECT_EQ(IdleTimeout(t, Protocol::kTcp, tcp), Duration::Seconds(240));
  tcp.Observe(Direction::kInbound, kSynAck);
  EXPECT_EQ(IdleTimeout(t, Protocol::kTcp, tcp), Duration::Seconds(7440));
  tcp.Observe(Direction::kOutbound, TcpFlags(TcpFlags::kRst));
  EXPECT_EQ(IdleTimeout(t, Protocol::kTcp, tcp), Duration::Seconds(240));
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
