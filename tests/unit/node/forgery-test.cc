// Forged, truncated, garbled and replayed disco (and data) packets aimed at
// a node with working direct paths: each is dropped and counted, and no
// path changes.
#include <gtest/gtest.h>

#include <vector>

#include "node-world.h"
#include "punchlab/disco/sealer.h"
#include "punchlab/node/data-frame.h"

namespace punchlab {
namespace node_test {
namespace {

const disco::PathConfig kPaths;
const Duration kPeriod = Ms(100);

// Disco packet sizes on the wire (message.h): header, MAC, type+version, payload.
constexpr size_t kPingSize =
    disco::kHeaderSize + kBoxOverhead + disco::kMessageHeaderSize + disco::kPingPayloadSize;
constexpr size_t kPongSize =
    disco::kHeaderSize + kBoxOverhead + disco::kMessageHeaderSize + disco::kPongPayloadSize;

struct Captured {
  Endpoint remote;
  Bytes packet;
};

TEST(Forgery, BadDiscoAndDataAreDroppedCountedAndChangeNoPath) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  // The latest real ping delivered to B and pong delivered to A.
  Captured ping_to_b;
  Captured pong_to_a;
  p.w.world.on_deliver = [&](const testsupport::DatagramSeen& d) {
    if (!disco::LooksLikeDisco(d.payload)) return;
    if (d.local == p.b->local() && d.payload.size() == kPingSize) {
      ping_to_b = {d.remote, d.payload.ToBytes()};
    }
    if (d.local == p.a->local() && d.payload.size() == kPongSize) {
      pong_to_a = {d.remote, d.payload.ToBytes()};
    }
  };
  p.w.StartAndSettle();
  const Timestamp end = p.w.world.now() + Sec(30);
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, end);
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, end);
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return p.a->PathTo(*p.b).direct() && p.b->PathTo(*p.a).direct(); },
      p.w.world.now() + kPaths.ping_interval * 2));
  p.w.world.RunFor(Sec(4));  // a heartbeat round trip or two since
  ASSERT_EQ(ping_to_b.remote, TwoNodes::PublicA());
  ASSERT_EQ(pong_to_a.remote, TwoNodes::PublicB());
  p.w.world.on_deliver = nullptr;

  const Path a_path = p.a->PathTo(*p.b);
  const Path b_path = p.b->PathTo(*p.a);
  const size_t a_events = p.a->EventsOf<node::PathChanged>().size();
  const size_t b_events = p.b->EventsOf<node::PathChanged>().size();
  const node::NodeStats a0 = p.a->node->stats();
  const node::NodeStats b0 = p.b->node->stats();
  const disco::SealerStats bs0 = p.b->node->sealer_stats();

  auto inject_b = [&](Bytes packet) {
    p.w.world.InjectDatagram(p.b->local(), TwoNodes::PublicA(), std::move(packet));
  };

  // 1. Sealed by a stranger's disco key (not in B's netmap).
  DeterministicRandom attacker_rng(666);
  disco::DiscoSealer attacker(DiscoPrivateKey::Generate(attacker_rng));
  attacker.AddPeer(p.b->node->disco_key());
  disco::TxId txid{};
  txid.fill(0x42);
  const Bytes stranger =
      *attacker.Seal(attacker_rng, p.b->node->disco_key(), disco::Ping{txid, p.a->pub(), 0});
  inject_b(stranger);
  // 2. The same packet claiming to come from A's disco key: the box does
  //    not open under (B, A).
  Bytes impostor = stranger;
  const DiscoPublicKey a_disco = p.a->node->disco_key();
  std::copy(a_disco.raw().begin(), a_disco.raw().end(), impostor.begin() + disco::kMagicSize);
  inject_b(impostor);
  // 3. A real ping cut short of a whole message, and cut inside the box.
  inject_b(Bytes(ping_to_b.packet.begin(), ping_to_b.packet.begin() + disco::kMinPacketSize - 1));
  inject_b(Bytes(ping_to_b.packet.begin(), ping_to_b.packet.end() - 5));
  // 4. A real ping with one bit flipped inside the box.
  Bytes garbled = ping_to_b.packet;
  garbled[disco::kHeaderSize + 3] ^= 0x01;
  inject_b(garbled);
  // 5. A real ping replayed (same txid, same source): not answered again.
  inject_b(ping_to_b.packet);
  // 6. A real pong replayed to A: its txid was already answered.
  p.w.world.InjectDatagram(p.a->local(), pong_to_a.remote, pong_to_a.packet);
  // 7. Data: tampered, from a node key nobody knows, and too short to be data.
  DeterministicRandom data_rng(7);
  const NodePrivateKey stranger_key = NodePrivateKey::Generate(data_rng);
  const auto key_ab = *SharedKey::Compute(stranger_key, p.b->pub());
  Bytes data = node::SealData(data_rng, p.a->pub(), key_ab, Text("forged"));  // claims to be A
  inject_b(data);
  inject_b(node::SealData(data_rng, stranger_key.Public(), key_ab, Text("stranger")));
  inject_b(Bytes{node::kDataFrameType, 1, 2, 3});

  const node::NodeStats& a1 = p.a->node->stats();
  const node::NodeStats& b1 = p.b->node->stats();
  const disco::SealerStats& bs1 = p.b->node->sealer_stats();
  using disco::DropReason;
  EXPECT_EQ(bs1.Dropped(DropReason::kUnknownSender) - bs0.Dropped(DropReason::kUnknownSender), 1u);
  EXPECT_EQ(bs1.Dropped(DropReason::kBoxFailed) - bs0.Dropped(DropReason::kBoxFailed), 3u);
  EXPECT_EQ(bs1.Dropped(DropReason::kTooShort) - bs0.Dropped(DropReason::kTooShort), 1u);
  EXPECT_EQ(b1.disco_not_opened - b0.disco_not_opened, 5u);
  EXPECT_EQ(b1.disco_pings_not_answered - b0.disco_pings_not_answered, 1u);
  EXPECT_EQ(b1.disco_dropped - b0.disco_dropped, 6u);
  EXPECT_EQ(b1.disco_pongs_sent, b0.disco_pongs_sent);  // nothing above earned a pong
  EXPECT_EQ(a1.disco_pongs_rejected - a0.disco_pongs_rejected, 1u);
  EXPECT_EQ(a1.disco_dropped - a0.disco_dropped, 1u);
  EXPECT_EQ(p.a->node->FindPeerPaths(p.b->pub())->stats().pongs_duplicate_txid, 1u);
  EXPECT_EQ(b1.data_bad_box - b0.data_bad_box, 1u);
  EXPECT_EQ(b1.data_unknown_sender - b0.data_unknown_sender, 1u);
  EXPECT_EQ(b1.unknown_datagrams - b0.unknown_datagrams, 1u);
  EXPECT_EQ(b1.data_dropped - b0.data_dropped, 2u);

  // Nothing moved, now or over the next heartbeats.
  p.w.world.RunFor(kPaths.heartbeat_interval * 2);
  EXPECT_EQ(p.a->PathTo(*p.b), a_path);
  EXPECT_EQ(p.b->PathTo(*p.a), b_path);
  EXPECT_EQ(p.a->EventsOf<node::PathChanged>().size(), a_events);
  EXPECT_EQ(p.b->EventsOf<node::PathChanged>().size(), b_events);
  for (const auto& [at, e] : p.b->EventsOf<node::DataReceived>()) {
    EXPECT_NE(std::string(e.data.begin(), e.data.end()), "forged");
  }
}


// The DERP map pins each server's key: a node refuses a server in the
// region's place that presents another (an impostor, or a misconfiguration),
// and talks to one that presents the pinned key.
TEST(Forgery, DerpServerWithAnotherKeyThanTheMapPinsIsRefused) {
  for (const bool right_key : {true, false}) {
    TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
    control::DerpMap map;
    for (const node::RegionId id : {1, 2}) {
      const RegionSpec& r = p.w.Region(id);
      control::DerpNode n = NodeWorld::PlainDerpNode(r);
      DeterministicRandom other(7);
      n.public_key = right_key ? p.w.RegionServer(id).derp().public_key()
                               : NodePrivateKey::Generate(other).Public();
      map.regions.push_back(control::DerpRegion{id, r.name, {n}});
    }
    p.w.control_server().SetDerpMap(p.w.world.now(), map);
    p.w.StartAll();
    p.w.world.RunFor(Sec(5));
    const auto& a = *p.a->node;
    ASSERT_NE(a.home_region(), node::kNoRegion) << right_key;
    EXPECT_EQ(a.DerpConnected(a.home_region()), right_key);
    if (right_key) continue;
    const auto lost = p.a->EventsOf<node::DerpDisconnected>();
    ASSERT_FALSE(lost.empty());
    EXPECT_NE(lost.front().second.reason.find("is not the configured"), std::string::npos)
        << lost.front().second.reason;
    EXPECT_EQ(p.w.RegionServer(a.home_region()).derp().stats().clients_registered, 0u);
  }
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
