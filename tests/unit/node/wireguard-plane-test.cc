// The Node with WireGuard as its data plane (NodeConfig::data_plane): the
// handshake goes over the path the node chooses (DERP first, then direct),
// nothing is lost behind it, and two peers that start sending at once
// collide as wireguard-go's do (no tie-break: only time apart breaks it).
#include <gtest/gtest.h>

#include "node-world.h"
#include "punchlab/wireguard/device.h"
#include "punchlab/wireguard/messages.h"

namespace punchlab {
namespace node_test {
namespace {

const Duration kPeriod = Ms(100);
constexpr node::DataPlane kWireGuard = node::DataPlane::kWireGuard;

const wireguard::PeerCounters& Wg(const NodeHost& self, const NodeHost& peer) {
  const wireguard::PeerCounters* c = self.node->FindWireGuardCounters(peer.pub());
  EXPECT_NE(c, nullptr) << self.name;
  static const wireguard::PeerCounters kNone;
  return c ? *c : kNone;
}

// When `self` first received data from `peer`.
Timestamp FirstData(const NodeHost& self, const NodeHost& peer) {
  for (const auto& [at, e] : self.EventsOf<node::DataReceived>()) {
    if (e.peer == peer.pub()) return at;
  }
  return Timestamp::Zero();
}

TEST(WireGuardPlane, OneSenderHandshakesOnceGoesDirectAndLosesNothing) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::FullCone(), 1, {}, false, kWireGuard);
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(20));
  p.w.world.RunUntil(t0 + Sec(21));

  // One handshake, started by the first send; the data it held arrives no
  // later than a handshake round trip and a one-way over DERP.
  const Duration derp_one_way = p.ToRegion(1) * 2;
  EXPECT_LE(FirstData(*p.b, *p.a), t0 + derp_one_way * 3);
  EXPECT_EQ(Wg(*p.a, *p.b).initiations_sent, 1u);
  EXPECT_EQ(Wg(*p.a, *p.b).handshakes, 1u);
  EXPECT_EQ(Wg(*p.b, *p.a).handshakes, 1u);
  EXPECT_EQ(p.b->node->wireguard_counters().unknown_index, 0u);
  // Everything arrived.
  const size_t sent = static_cast<size_t>(p.w.SentCount(*p.a, "a2b"));
  EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDirect, "a2b") +
                p.b->Received(*p.a, Path::Kind::kDerp, "a2b"),
            sent);
  EXPECT_GT(p.b->Received(*p.a, Path::Kind::kDirect, "a2b"), 0u);
  EXPECT_EQ(Wg(*p.a, *p.b).data_sent, sent);
  EXPECT_EQ(Wg(*p.b, *p.a).data_received, sent);
  EXPECT_EQ(p.a->PathTo(*p.b), Path::Direct(TwoNodes::PublicB()));
  // B only receives: its passive keepalive answers within KEEPALIVE_TIMEOUT.
  EXPECT_GT(Wg(*p.b, *p.a).keepalives_sent, 0u);
  EXPECT_EQ(Wg(*p.a, *p.b).keepalives_received, Wg(*p.b, *p.a).keepalives_sent);
}

// wireguard-go has no tie-break for simultaneous initiations: each side
// consumes the other's initiation (which voids its own handshake) and
// answers; neither response finds its handshake. Both responses count
// against the initiation rate limit, so the next try is REKEY_TIMEOUT away.
TEST(WireGuardPlane, TwoSendersStartingAtOnceCollideAsWireGuardGoDoes) {
  TwoNodes p(NatConfig::Symmetric(), NatConfig::Symmetric(), 1, {}, false, kWireGuard);
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(30));
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, t0 + Sec(30));
  p.w.world.RunUntil(t0 + Sec(31));
  for (const NodeHost* h : {p.a, p.b}) {
    EXPECT_GE(h->node->wireguard_counters().unknown_index, 1u) << h->name;
  }
  EXPECT_GE(FirstData(*p.b, *p.a), t0 + wireguard::Timers::kRekeyTimeout);
  EXPECT_GE(FirstData(*p.a, *p.b), t0 + wireguard::Timers::kRekeyTimeout);
}

// Senders that start further apart than the one-way delay of the path the
// handshake takes never collide: one handshake, nothing lost, both ways.
TEST(WireGuardPlane, SendersStartingApartByMoreThanTheOneWayDelayDoNotCollide) {
  TwoNodes p(NatConfig::Symmetric(), NatConfig::Symmetric(), 1, {}, false, kWireGuard);
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  const Duration derp_one_way = p.ToRegion(1) * 2;
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(30));
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, t0 + Sec(30), derp_one_way + Ms(1));
  p.w.world.RunUntil(t0 + Sec(31));
  // A's initiation reaches B before B sends: B answers, and its own first
  // data waits (rate limit) for A's first transport message to confirm the
  // session. Everything over DERP (symmetric NATs): initiation, response,
  // A's data; then B's.
  EXPECT_EQ(FirstData(*p.b, *p.a), t0 + derp_one_way * 3);
  EXPECT_EQ(FirstData(*p.a, *p.b), t0 + derp_one_way * 4);
  EXPECT_EQ(Wg(*p.a, *p.b).handshakes, 1u);
  EXPECT_EQ(Wg(*p.b, *p.a).handshakes, 1u);
  EXPECT_EQ(Wg(*p.a, *p.b).initiations_sent, 1u);
  EXPECT_EQ(Wg(*p.b, *p.a).initiations_sent, 0u);
  EXPECT_EQ(p.a->node->wireguard_counters().unknown_index, 0u);
  EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDerp, "a2b"),
            static_cast<size_t>(p.w.SentCount(*p.a, "a2b")));
  EXPECT_EQ(p.a->Received(*p.b, Path::Kind::kDerp, "b2a"),
            static_cast<size_t>(p.w.SentCount(*p.b, "b2a")));
  EXPECT_EQ(Wg(*p.a, *p.b).staged_dropped + Wg(*p.b, *p.a).staged_dropped, 0u);
}

// Transport messages that are tampered, name no session, or come again are
// dropped and counted, and deliver nothing.
TEST(WireGuardPlane, TamperedUnknownAndReplayedTransportAreDroppedAndCounted) {
  TwoNodes p(NatConfig::FullCone(), NatConfig::FullCone(), 1, {}, false, kWireGuard);
  Bytes last_to_b;
  Endpoint from_a;
  p.w.world.on_deliver = [&](const testsupport::DatagramSeen& d) {
    if (d.local == p.b->local() &&
        wireguard::ClassifyMessage(d.payload) == wireguard::MessageType::kTransport &&
        d.payload.size() > wireguard::kKeepaliveSize) {
      last_to_b = d.payload.ToBytes();
      from_a = d.remote;
    }
  };
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(5));
  p.w.world.RunUntil(t0 + Sec(6));
  p.w.world.on_deliver = nullptr;
  ASSERT_FALSE(last_to_b.empty());  // direct data reached B

  const size_t received = p.b->Received(*p.a, Path::Kind::kDirect);
  const node::NodeStats b0 = p.b->node->stats();
  const uint64_t replayed0 = Wg(*p.b, *p.a).replayed;
  auto inject = [&](const Bytes& b) { p.w.world.InjectDatagram(p.b->local(), from_a, b); };
  Bytes tampered = last_to_b;
  tampered.back() ^= 0x01;
  inject(tampered);
  Bytes no_session = last_to_b;
  no_session[4] ^= 0xff;  // the receiver index
  inject(no_session);
  inject(last_to_b);                   // replayed
  inject(Bytes{4, 0, 0, 0, 1, 2, 3});  // too short for a transport message: not WireGuard
  const node::NodeStats& b1 = p.b->node->stats();
  EXPECT_EQ(b1.data_bad_box - b0.data_bad_box, 2u);  // tampered, replayed
  EXPECT_EQ(b1.data_unknown_sender - b0.data_unknown_sender, 1u);
  EXPECT_EQ(b1.data_dropped - b0.data_dropped, 3u);
  EXPECT_EQ(b1.unknown_datagrams - b0.unknown_datagrams, 1u);
  EXPECT_EQ(Wg(*p.b, *p.a).replayed - replayed0, 1u);
  EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDirect), received);
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
