// Expiry, refresh direction, TCP state timeouts and faults of NatTable.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "nat/nat-test-util.h"
#include "punchlab/nat/flow-tracker.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/random.h"

namespace punchlab {
namespace nat {
namespace {

using testing::Config;
using testing::Ep;
using testing::Ip;
using testing::Sec;
using InVerdict = InboundResult::Verdict;

const Endpoint kX = Ep("10.0.0.1:5000");
const Endpoint kA = Ep("198.51.100.1:3478");
const Endpoint kP = Ep("198.51.100.7:41641");
const TcpFlags kSyn(TcpFlags::kSyn);
const TcpFlags kSynAck(TcpFlags::kSyn | TcpFlags::kAck);
const TcpFlags kAck(TcpFlags::kAck);
const TcpFlags kFin(TcpFlags::kFin | TcpFlags::kAck);
const TcpFlags kRst(TcpFlags::kRst);

class NatTimersTest : public ::testing::Test {
 protected:
  NatTable Make(const std::string& spec) {
    return NatTable(Config(spec), {Ip("203.0.113.1")}, rng_);
  }
  DeterministicRandom rng_{3};
};

bool Admits(NatTable& nat, Timestamp now, const Endpoint& remote, const Endpoint& ext,
            Protocol p = Protocol::kUdp, TcpFlags f = TcpFlags()) {
  return nat.Inbound(now, p, remote, ext, f).verdict == InVerdict::kTranslate;
}

TEST_F(NatTimersTest, UdpMappingExpiresAfterIdleTimeout) {
  NatTable nat = Make("port-restricted-cone,udp_timeout=30s");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  EXPECT_EQ(nat.NextExpiry(), Sec(30));
  EXPECT_TRUE(Admits(nat, Sec(29), kA, e));
  // Outbound refreshes.
  nat.Outbound(Sec(25), Protocol::kUdp, kX, kA);
  EXPECT_EQ(nat.NextExpiry(), Sec(55));
  EXPECT_TRUE(Admits(nat, Sec(54), kA, e));
  EXPECT_EQ(nat.counters().mappings_expired, 0u);
  nat.Expire(Sec(55));
  EXPECT_EQ(nat.mapping_count(), 0u);
  EXPECT_EQ(nat.counters().mappings_expired, 1u);
  EXPECT_EQ(nat.counters().flows_expired, 1u);
  EXPECT_EQ(nat.NextExpiry(), Timestamp::Max());
  const InboundResult late = nat.Inbound(Sec(56), Protocol::kUdp, kA, e);
  EXPECT_EQ(late.reason, DropReason::kNoMapping);
}

// The next expiry is asked after every packet and remembered between
// changes: refreshing the flow that expires first, or another one, opening a
// flow and expiring one each give the exact answer at once.
TEST_F(NatTimersTest, NextExpiryIsExactAfterEveryChange) {
  NatTable nat = Make("symmetric,udp_timeout=30s");
  nat.Outbound(Sec(0), Protocol::kUdp, kX, kA);  // flow A: expires at 30
  EXPECT_EQ(nat.NextExpiry(), Sec(30));
  nat.Outbound(Sec(5), Protocol::kUdp, kX, kP);  // flow P: expires at 35
  EXPECT_EQ(nat.NextExpiry(), Sec(30));
  EXPECT_EQ(nat.NextExpiry(), Sec(30));
  nat.Outbound(Sec(10), Protocol::kUdp, kX, kA);  // A refreshed: P is next
  EXPECT_EQ(nat.NextExpiry(), Sec(35));
  nat.Outbound(Sec(12), Protocol::kUdp, kX, kA);  // A again: P still next
  EXPECT_EQ(nat.NextExpiry(), Sec(35));
  nat.Outbound(Sec(20), Protocol::kUdp, kX, kP);  // P refreshed: A (42) is next
  EXPECT_EQ(nat.NextExpiry(), Sec(42));
  nat.Expire(Sec(42));
  EXPECT_EQ(nat.NextExpiry(), Sec(50));
  nat.Outbound(Sec(43), Protocol::kTcp, kX, kA, kSyn);  // a TCP flow's transitory 240 s
  EXPECT_EQ(nat.NextExpiry(), Sec(50));
  nat.Expire(Sec(50));
  EXPECT_EQ(nat.NextExpiry(), Sec(43 + 240));
  nat.Outbound(Sec(60), Protocol::kTcp, kX, kA, kFin);  // closing: still transitory, from now
  EXPECT_EQ(nat.NextExpiry(), Sec(60 + 240));
}

// NextExpiry remembers the head's flow by address: a copy of a tracker (and
// so of a NatTable or Firewall) has flows of its own and must notice when
// its head flow is touched; a move keeps the flows and the answer.
TEST_F(NatTimersTest, CopiedOrMovedTrackerKeepsNextExpiryExact) {
  FlowTimeouts timeouts;
  timeouts.udp = Duration::Seconds(30);
  const FlowKey a{Protocol::kUdp, kX, kA};
  const FlowKey p{Protocol::kUdp, kX, kP};
  FlowTracker original(timeouts);
  original.Open(Sec(0), a, 1, Direction::kOutbound, TcpFlags());  // expires at 30
  original.Open(Sec(5), p, 1, Direction::kOutbound, TcpFlags());  // expires at 35
  ASSERT_EQ(original.NextExpiry(), Sec(30));  // settled on a

  FlowTracker copy = original;
  copy.Touch(Sec(10), a, *copy.Find(a), Direction::kOutbound, TcpFlags(), true);  // a: 40
  EXPECT_EQ(copy.NextExpiry(), Sec(35));
  EXPECT_EQ(original.NextExpiry(), Sec(30));

  FlowTracker assigned(timeouts);
  assigned = original;
  assigned.Touch(Sec(12), a, *assigned.Find(a), Direction::kOutbound, TcpFlags(), true);
  EXPECT_EQ(assigned.NextExpiry(), Sec(35));

  ASSERT_EQ(copy.NextExpiry(), Sec(35));  // settled on p
  FlowTracker moved = std::move(copy);
  EXPECT_EQ(moved.NextExpiry(), Sec(35));
  moved.Touch(Sec(20), p, *moved.Find(p), Direction::kOutbound, TcpFlags(), true);  // p: 50
  EXPECT_EQ(moved.NextExpiry(), Sec(40));
  FlowTracker move_assigned(timeouts);
  move_assigned = std::move(moved);
  EXPECT_EQ(move_assigned.NextExpiry(), Sec(40));
  move_assigned.Touch(Sec(21), a, *move_assigned.Find(a), Direction::kOutbound, TcpFlags(), true);
  EXPECT_EQ(move_assigned.NextExpiry(), Sec(50));
}

TEST_F(NatTimersTest, ExpiryObserverHearsOfEachExpiredBinding) {
  NatTable nat = Make("symmetric-port-preserving,udp_timeout=30s");
  std::vector<std::string> heard;
  nat.SetExpiryObserver([&](Protocol p, const Endpoint& inside, const Endpoint& external) {
    heard.push_back(std::string(ToString(p)) + " " + inside.ToString() + " " + external.ToString());
  });
  nat.Outbound(Sec(0), Protocol::kUdp, kX, kA);
  nat.Outbound(Sec(10), Protocol::kUdp, kX, kP);  // shares the binding
  nat.Expire(Sec(30));
  EXPECT_TRUE(heard.empty());
  nat.Expire(Sec(40));
  EXPECT_EQ(heard, std::vector<std::string>{"udp 10.0.0.1:5000 203.0.113.1:5000"});
  EXPECT_EQ(nat.counters().mappings_expired, 2u);
}

TEST_F(NatTimersTest, ExpiryIsLazyWithoutAnExpireCall) {
  NatTable nat = Make("port-restricted-cone,udp_timeout=30s");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  EXPECT_EQ(nat.Inbound(Sec(30), Protocol::kUdp, kA, e).reason, DropReason::kNoMapping);
  EXPECT_EQ(nat.counters().mappings_expired, 1u);
}

TEST_F(NatTimersTest, InboundRefreshesOnlyWithRefreshBoth) {
  for (const char* refresh : {"outbound", "both"}) {
    NatTable nat = Make(std::string("port-restricted-cone,udp_timeout=30s,refresh=") + refresh);
    const Endpoint e = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
    EXPECT_TRUE(Admits(nat, Sec(20), kA, e));
    const bool both = std::string(refresh) == "both";
    EXPECT_EQ(nat.NextExpiry(), both ? Sec(50) : Sec(30)) << refresh;
    EXPECT_EQ(Admits(nat, Sec(40), kA, e), both) << refresh;
  }
}

TEST_F(NatTimersTest, RefreshBothKeepsAFullConeMappingAliveFromOutside) {
  // X talked to a STUN server once; a peer keeps sending to X's mapping.
  NatTable nat = Make("full-cone,ports=random,udp_timeout=30s,refresh=both");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  for (int t = 20; t <= 120; t += 20) EXPECT_TRUE(Admits(nat, Sec(t), kP, e)) << t;
  EXPECT_EQ(nat.Outbound(Sec(130), Protocol::kUdp, kX, Ep("198.51.100.9:1")).external_src, e);

  NatTable strict = Make("full-cone,ports=random,udp_timeout=30s,refresh=outbound");
  const Endpoint s = strict.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  EXPECT_TRUE(Admits(strict, Sec(20), kP, s));
  EXPECT_FALSE(Admits(strict, Sec(40), kP, s));
}

TEST_F(NatTimersTest, EachFlowKeepsItsOwnFilterPermission) {
  NatTable nat = Make("port-restricted-cone,udp_timeout=30s");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  nat.Outbound(Sec(20), Protocol::kUdp, kX, kP);
  // The mapping lives on through the flow to P, but A's permission ran out.
  const InboundResult from_a = nat.Inbound(Sec(35), Protocol::kUdp, kA, e);
  EXPECT_EQ(from_a.reason, DropReason::kFiltered);
  EXPECT_TRUE(Admits(nat, Sec(35), kP, e));
  EXPECT_EQ(nat.counters().flows_expired, 1u);
  EXPECT_EQ(nat.counters().mappings_expired, 0u);
}

TEST_F(NatTimersTest, TcpSynOnlyFlowGetsTheTransitoryTimeout) {
  NatTable nat = Make("port-restricted-cone,tcp_transitory_timeout=4m,tcp_established_timeout=2h");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kTcp, kX, kA, kSyn).external_src;
  EXPECT_EQ(nat.NextExpiry(), Sec(240));
  EXPECT_FALSE(Admits(nat, Sec(241), kA, e, Protocol::kTcp, kSynAck));
}

TEST_F(NatTimersTest, EstablishedTcpGetsTheLongTimeoutAndClosingTheShortOne) {
  NatTable nat = Make("port-restricted-cone,tcp_transitory_timeout=4m,tcp_established_timeout=2h");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kTcp, kX, kA, kSyn).external_src;
  ASSERT_TRUE(Admits(nat, Sec(1), kA, e, Protocol::kTcp, kSynAck));
  // Established by the SYN-ACK: the timer runs from the last outbound packet.
  EXPECT_EQ(nat.NextExpiry(), Sec(7200));
  nat.Outbound(Sec(1), Protocol::kTcp, kX, kA, kAck);
  EXPECT_TRUE(Admits(nat, Sec(7000), kA, e, Protocol::kTcp, kAck));
  nat.Outbound(Sec(7100), Protocol::kTcp, kX, kA, kAck);
  EXPECT_EQ(nat.NextExpiry(), Sec(7100 + 7200));
  // FIN from inside: short timeout from now on.
  nat.Outbound(Sec(7200), Protocol::kTcp, kX, kA, kFin);
  EXPECT_EQ(nat.NextExpiry(), Sec(7200 + 240));
  EXPECT_TRUE(Admits(nat, Sec(7300), kA, e, Protocol::kTcp, kFin));
  EXPECT_FALSE(Admits(nat, Sec(7441), kA, e, Protocol::kTcp, kAck));
}

TEST_F(NatTimersTest, InboundRstShortensTheTimerEvenWithoutInboundRefresh) {
  NatTable nat = Make("port-restricted-cone,tcp_transitory_timeout=4m,tcp_established_timeout=2h");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kTcp, kX, kA, kSyn).external_src;
  ASSERT_TRUE(Admits(nat, Sec(1), kA, e, Protocol::kTcp, kSynAck));
  nat.Outbound(Sec(50), Protocol::kTcp, kX, kA, kAck);
  ASSERT_TRUE(Admits(nat, Sec(100), kA, e, Protocol::kTcp, kRst));
  // Last refresh was the outbound ACK at 50 s.
  EXPECT_EQ(nat.NextExpiry(), Sec(50 + 240));
  nat.Expire(Sec(290));
  EXPECT_EQ(nat.mapping_count(), 0u);
}

TEST_F(NatTimersTest, RebootLosesEveryMapping) {
  NatTable nat = Make("full-cone,ports=sequential,port_range=6000-6999,udp_timeout=30s");
  const Endpoint e = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  nat.Outbound(Sec(0), Protocol::kTcp, kX, kA, kSyn);
  nat.Outbound(Sec(0), Protocol::kUdp, Ep("10.0.0.2:1"), kA);
  nat.Reboot(Sec(10));
  EXPECT_EQ(nat.counters().reboots, 1u);
  EXPECT_EQ(nat.counters().mappings_lost, 3u);
  EXPECT_EQ(nat.mapping_count(), 0u);
  EXPECT_EQ(nat.flow_count(), 0u);
  EXPECT_EQ(nat.NextExpiry(), Timestamp::Max());
  EXPECT_EQ(nat.Inbound(Sec(11), Protocol::kUdp, kA, e).reason, DropReason::kNoMapping);
  // Sequential assignment starts over; a fresh mapping is made on demand.
  EXPECT_EQ(nat.Outbound(Sec(12), Protocol::kUdp, Ep("10.0.0.3:1"), kA).external_src.port, 6000);
}

TEST_F(NatTimersTest, RebootCanComeBackWithANewExternalAddress) {
  NatTable nat = Make("full-cone,udp_timeout=30s");
  const Endpoint before = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  EXPECT_EQ(before.ip, Ip("203.0.113.1"));
  // Already expired by the reboot: counted as expired, not lost.
  nat.Reboot(Sec(40), std::vector<IpAddress>{Ip("203.0.113.99")});
  EXPECT_EQ(nat.counters().mappings_expired, 1u);
  EXPECT_EQ(nat.counters().mappings_lost, 0u);
  EXPECT_FALSE(nat.IsExternalAddress(Ip("203.0.113.1")));
  EXPECT_EQ(nat.external_addresses(), std::vector<IpAddress>{Ip("203.0.113.99")});
  const Endpoint after = nat.Outbound(Sec(41), Protocol::kUdp, kX, kA).external_src;
  EXPECT_EQ(after, Ep("203.0.113.99:5000"));
  EXPECT_EQ(nat.Inbound(Sec(42), Protocol::kUdp, kA, before).reason, DropReason::kNoMapping);
}

TEST_F(NatTimersTest, MappingBehaviourChangeKeepsLiveFlowsOnTheirMappings) {
  NatTable nat = Make("full-cone,ports=random");
  const Endpoint old_ext = nat.Outbound(Sec(0), Protocol::kUdp, kX, kA).external_src;
  nat.SetMappingBehaviour(Dependence::kAddressAndPortDependent);
  EXPECT_EQ(nat.config().mapping, Dependence::kAddressAndPortDependent);
  // The old flow keeps its mapping, and so does inbound to it.
  EXPECT_EQ(nat.Outbound(Sec(1), Protocol::kUdp, kX, kA).external_src, old_ext);
  EXPECT_TRUE(Admits(nat, Sec(1), kP, old_ext));
  // New flows get new mappings, one per destination.
  const Endpoint to_p = nat.Outbound(Sec(2), Protocol::kUdp, kX, kP).external_src;
  const Endpoint to_q = nat.Outbound(Sec(2), Protocol::kUdp, kX, Ep("198.51.100.8:1")).external_src;
  EXPECT_NE(to_p, old_ext);
  EXPECT_NE(to_q, old_ext);
  EXPECT_NE(to_p, to_q);
  EXPECT_EQ(nat.Outbound(Sec(3), Protocol::kUdp, kX, kA).external_src, old_ext);
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
