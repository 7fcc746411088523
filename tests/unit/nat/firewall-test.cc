#include <gtest/gtest.h>

#include "nat/nat-test-util.h"
#include "punchlab/nat/firewall.h"

namespace punchlab {
namespace nat {
namespace {

using testing::Ep;
using testing::Sec;

const Endpoint kIn = Ep("192.0.2.10:41641");
const Endpoint kRemote = Ep("198.51.100.1:3478");
const Endpoint kStranger = Ep("198.51.100.66:3478");

TEST(Firewall, OutboundPassesAndOpensTheWayBack) {
  Firewall fw{FirewallConfig{}};
  EXPECT_EQ(fw.Inbound(Sec(0), Protocol::kUdp, kRemote, kIn), DropReason::kFiltered);
  EXPECT_EQ(fw.Outbound(Sec(1), Protocol::kUdp, kIn, kRemote), DropReason::kNone);
  EXPECT_EQ(fw.Inbound(Sec(2), Protocol::kUdp, kRemote, kIn), DropReason::kNone);
  // Only that exact remote endpoint.
  EXPECT_EQ(fw.Inbound(Sec(2), Protocol::kUdp, kStranger, kIn), DropReason::kFiltered);
  EXPECT_EQ(fw.Inbound(Sec(2), Protocol::kUdp, Ep("198.51.100.1:3479"), kIn),
            DropReason::kFiltered);
  EXPECT_EQ(fw.Inbound(Sec(2), Protocol::kTcp, kRemote, kIn), DropReason::kFiltered);
  EXPECT_EQ(fw.counters().passed_outbound, 1u);
  EXPECT_EQ(fw.counters().passed_inbound, 1u);
  EXPECT_EQ(fw.counters().dropped_unsolicited, 4u);
}

TEST(Firewall, FlowsTimeOutAndTrafficEitherWayRefreshes) {
  FirewallConfig cfg;
  cfg.timeouts.udp = Duration::Seconds(30);
  Firewall fw(cfg);
  fw.Outbound(Sec(0), Protocol::kUdp, kIn, kRemote);
  EXPECT_EQ(fw.NextExpiry(), Sec(30));
  EXPECT_EQ(fw.Inbound(Sec(25), Protocol::kUdp, kRemote, kIn), DropReason::kNone);
  EXPECT_EQ(fw.NextExpiry(), Sec(55));
  EXPECT_EQ(fw.Inbound(Sec(50), Protocol::kUdp, kRemote, kIn), DropReason::kNone);
  EXPECT_EQ(fw.Inbound(Sec(81), Protocol::kUdp, kRemote, kIn), DropReason::kFiltered);
  EXPECT_EQ(fw.counters().flows_expired, 1u);
  EXPECT_EQ(fw.flow_count(), 0u);
}

TEST(Firewall, TcpTimeoutsFollowConnectionState) {
  Firewall fw{FirewallConfig{}};
  fw.Outbound(Sec(0), Protocol::kTcp, kIn, kRemote, TcpFlags(TcpFlags::kSyn));
  EXPECT_EQ(fw.NextExpiry(), Sec(240));
  fw.Inbound(Sec(1), Protocol::kTcp, kRemote, kIn, TcpFlags(TcpFlags::kSyn | TcpFlags::kAck));
  EXPECT_EQ(fw.NextExpiry(), Sec(1 + 7440));
  fw.Outbound(Sec(10), Protocol::kTcp, kIn, kRemote, TcpFlags(TcpFlags::kRst));
  EXPECT_EQ(fw.NextExpiry(), Sec(10 + 240));
}

TEST(Firewall, BlockUdpDropsAllUdpEvenOnLiveFlows) {
  Firewall fw{FirewallConfig{}};
  ASSERT_EQ(fw.Outbound(Sec(0), Protocol::kUdp, kIn, kRemote), DropReason::kNone);
  fw.BlockUdp(true);
  EXPECT_TRUE(fw.config().block_udp);
  EXPECT_EQ(fw.Outbound(Sec(1), Protocol::kUdp, kIn, kRemote), DropReason::kUdpBlocked);
  EXPECT_EQ(fw.Inbound(Sec(1), Protocol::kUdp, kRemote, kIn), DropReason::kUdpBlocked);
  EXPECT_EQ(fw.Outbound(Sec(1), Protocol::kTcp, kIn, kRemote), DropReason::kNone);
  EXPECT_EQ(fw.counters().dropped_udp_blocked, 2u);
  fw.BlockUdp(false);
  EXPECT_EQ(fw.Inbound(Sec(2), Protocol::kUdp, kRemote, kIn), DropReason::kNone);
}

TEST(Firewall, InboundAllowListAdmitsUnsolicitedTrafficToListedPorts) {
  FirewallConfig cfg;
  cfg.inbound_allow = {PortRule{Protocol::kTcp, 22, 22}, PortRule{Protocol::kUdp, 41641, 41641}};
  cfg.outbound_allow = {PortRule{Protocol::kTcp, 443, 443}};
  Firewall fw(cfg);
  EXPECT_EQ(fw.Inbound(Sec(0), Protocol::kTcp, kStranger, Ep("192.0.2.10:22"),
                       TcpFlags(TcpFlags::kSyn)),
            DropReason::kNone);
  EXPECT_EQ(fw.Inbound(Sec(0), Protocol::kTcp, kStranger, Ep("192.0.2.10:23")),
            DropReason::kFiltered);
  EXPECT_EQ(fw.Inbound(Sec(0), Protocol::kUdp, kStranger, Ep("192.0.2.10:22")),
            DropReason::kFiltered);
  EXPECT_EQ(fw.Inbound(Sec(0), Protocol::kUdp, kStranger, kIn), DropReason::kNone);
  // Replies on an admitted flow pass although the remote port is not on the
  // outbound allow-list.
  EXPECT_EQ(fw.Outbound(Sec(1), Protocol::kTcp, Ep("192.0.2.10:22"), kStranger,
                        TcpFlags(TcpFlags::kSyn | TcpFlags::kAck)),
            DropReason::kNone);
}

TEST(Firewall, OutboundAllowListRestrictsNewFlows) {
  FirewallConfig cfg;
  cfg.outbound_allow = {PortRule{Protocol::kTcp, 443, 443}, PortRule{Protocol::kUdp, 53, 53}};
  Firewall fw(cfg);
  EXPECT_EQ(fw.Outbound(Sec(0), Protocol::kTcp, kIn, Ep("198.51.100.1:443")), DropReason::kNone);
  EXPECT_EQ(fw.Outbound(Sec(0), Protocol::kUdp, kIn, Ep("198.51.100.1:53")), DropReason::kNone);
  EXPECT_EQ(fw.Outbound(Sec(0), Protocol::kTcp, kIn, Ep("198.51.100.1:80")),
            DropReason::kNotAllowed);
  EXPECT_EQ(fw.Outbound(Sec(0), Protocol::kUdp, kIn, Ep("198.51.100.1:443")),
            DropReason::kNotAllowed);
  EXPECT_EQ(fw.counters().dropped_not_allowed, 2u);
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
