// A Node applies peers_changed patches (control: PeerPatch) to the peers it
// holds. The test plays the coordination server by hand (it holds the
// server's key, so it seals what it likes for the session): the real server
// never patches a peer the session lacks, so only a hand-made session can
// check what the node does with one.
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "punchlab/control/frame.h"
#include "punchlab/control/messages.h"
#include "punchlab/crypto/box.h"
#include "punchlab/disco/sealer.h"
#include "punchlab/node/node.h"
#include "punchlab/random.h"

namespace punchlab {
namespace node_test {
namespace {

using control::PeerPatch;

const Endpoint kServer = *Endpoint::Parse("203.0.113.1:443");
const Endpoint kLocal = *Endpoint::Parse("10.0.0.2:41641");

// The node's randomness, every draw kept (which draw a ping id came from).
class RecordingRandom final : public RandomSource {
 public:
  explicit RecordingRandom(uint64_t seed) : rng_(seed) {}
  void Fill(uint8_t* out, size_t n) override {
    rng_.Fill(out, n);
    draws.emplace_back(out, out + n);
  }
  std::vector<Bytes> draws;

 private:
  DeterministicRandom rng_;
};

class PatchedNode : public ::testing::Test {
 protected:
  PatchedNode()
      : keys_(7),
        server_key_(NodePrivateKey::Generate(keys_)),
        peer_key_(NodePrivateKey::Generate(keys_)),
        peer_disco_(DiscoPrivateKey::Generate(keys_).Public()),
        stranger_(NodePrivateKey::Generate(keys_).Public()),
        node_rng_(8),
        node_(NodePrivateKey::Generate(keys_), node_rng_, Config()) {}

  node::NodeConfig Config() {
    node::NodeConfig c;
    c.control.server = kServer;
    c.control.server_key = server_key_.Public();
    c.token = "token";
    c.local_endpoints = {kLocal};
    c.data_plane = node::DataPlane::kWireGuard;
    return c;
  }

  // Registered, with a netmap holding one peer, reached through DERP region 1
  // (whose connection never comes up: data waits in its queue).
  void SetUp() override {
    node_.Start(now_);
    Pump();
    ASSERT_NE(control_conn_, 0u);
    ToNode(control::ChallengeMsg{});
    ToNode(control::RegisteredMsg{IpAddress::V4(100, 64, 0, 1), "me", "lab.example"});
    control::NetmapMsg nm;
    nm.netmap.domain = "lab.example";
    nm.netmap.self = {node_.public_key(), node_.disco_key(), {kLocal}, 1,
                      IpAddress::V4(100, 64, 0, 1), "me"};
    nm.netmap.peers = {PeerInfo()};
    nm.netmap.derp_map.regions = {
        {1, "fra", {{"1a", *Endpoint::Parse("198.51.100.1:443"), 3478}}}};
    ToNode(nm);
    ASSERT_TRUE(node_.registered());
    ASSERT_TRUE(node_.HasPeer(peer_key_.Public()));
  }

  control::NodeInfo PeerInfo() const {
    return {peer_key_.Public(), peer_disco_, {*Endpoint::Parse("192.0.2.20:41641")}, 1,
            IpAddress::V4(100, 64, 0, 2), "peer"};
  }

  // Seals `msg` as the server's next message of the session and hands it in:
  // compressed after the challenge, as the node's register asks.
  void ToNode(const control::Message& msg) {
    const auto key = SharedKey::Compute(server_key_, node_.public_key());
    ASSERT_TRUE(key);
    Bytes message = control::EncodeMessage(msg, seq_++);
    if (!std::holds_alternative<control::ChallengeMsg>(msg)) message = *zstd_.Compress(message);
    const Bytes frame = control::EncodeFrame(key->Seal(keys_, message));
    node_.HandleStream(now_, control_conn_, frame);
    Pump();
  }

  void Patch(std::vector<PeerPatch> patches) {
    control::PeersChangedMsg change;
    change.patched = std::move(patches);
    ToNode(change);
  }

  // Connects the control connection (the first), leaves every other
  // connection pending, drops datagrams, keeps events.
  void Pump() {
    while (auto a = node_.PollStreamAction()) {
      if (a->kind == StreamAction::Kind::kConnect && a->remote == kServer && control_conn_ == 0) {
        control_conn_ = a->conn;
        node_.HandleConnected(now_, a->conn, kServer);
      }
    }
    while (node_.PollTransmit()) {
    }
    while (auto e = node_.PollEvent()) events_.push_back(std::move(e->body));
  }

  template <typename T>
  std::vector<T> EventsOf() const {
    std::vector<T> out;
    for (const node::EventBody& e : events_) {
      if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
    }
    return out;
  }

  DeterministicRandom keys_;
  NodePrivateKey server_key_;
  NodePrivateKey peer_key_;
  DiscoPublicKey peer_disco_;
  NodePublicKey stranger_;
  RecordingRandom node_rng_;
  node::Node node_;
  Timestamp now_ = Timestamp::Zero();
  ConnectionId control_conn_ = 0;
  uint64_t seq_ = 0;
  control::ZstdCompressor zstd_;
  std::vector<node::EventBody> events_;
};

// The node keeps its peers hashed; what it does in key order stays so:
// Peers() lists them in key order, and a netmap that drops peers removes
// (and reports) them in key order.
TEST_F(PatchedNode, PeersAreListedAndRemovedInKeyOrder) {
  control::NetmapMsg nm;
  nm.netmap.domain = "lab.example";
  nm.netmap.self = {node_.public_key(), node_.disco_key(), {kLocal}, 1,
                    IpAddress::V4(100, 64, 0, 1), "me"};
  nm.netmap.derp_map.regions = {{1, "fra", {{"1a", *Endpoint::Parse("198.51.100.1:443"), 3478}}}};
  nm.netmap.peers = {PeerInfo()};
  std::vector<NodePublicKey> extra;
  for (uint8_t i = 0; i < 40; ++i) {
    extra.push_back(NodePrivateKey::Generate(keys_).Public());
    nm.netmap.peers.push_back({extra.back(), DiscoPrivateKey::Generate(keys_).Public(),
                               {Endpoint(IpAddress::V4(192, 0, 2, i), 41641)}, 1,
                               IpAddress::V4(100, 64, 1, i), "extra"});
  }
  ToNode(nm);
  std::vector<NodePublicKey> all = extra;
  all.push_back(peer_key_.Public());
  std::sort(all.begin(), all.end());
  ASSERT_FALSE(std::is_sorted(extra.begin(), extra.end()));  // the netmap's order is not
  EXPECT_EQ(node_.Peers(), all);

  events_.clear();
  nm.netmap.peers = {PeerInfo()};
  ToNode(nm);
  std::vector<NodePublicKey> removed;
  for (const node::PeerRemoved& r : EventsOf<node::PeerRemoved>()) removed.push_back(r.peer);
  std::sort(extra.begin(), extra.end());
  EXPECT_EQ(removed, extra);
  EXPECT_EQ(node_.Peers(), std::vector<NodePublicKey>{peer_key_.Public()});
}

// A local endpoint change resets every peer's paths; a peer whose heartbeat
// is overdue pings as it resets, drawing the ping's id from the node's one
// random stream. The peers are hashed: they must be visited in key order, or
// which peer gets which id (and so every later draw) follows hash buckets.
TEST_F(PatchedNode, OverdueHeartbeatsAtALocalChangeDrawPingIdsInKeyOrder) {
  control::NetmapMsg nm;
  nm.netmap.domain = "lab.example";
  nm.netmap.self = {node_.public_key(), node_.disco_key(), {kLocal}, 1,
                    IpAddress::V4(100, 64, 0, 1), "me"};
  nm.netmap.derp_map.regions = {{1, "fra", {{"1a", *Endpoint::Parse("198.51.100.1:443"), 3478}}}};
  struct Extra {
    NodePublicKey key;
    Endpoint endpoint;
    std::unique_ptr<disco::DiscoSealer> sealer;  // the peer's side, to read its pings
  };
  std::vector<Extra> extra;
  for (uint8_t i = 0; i < 40; ++i) {
    DiscoPrivateKey disco = DiscoPrivateKey::Generate(keys_);
    const DiscoPublicKey disco_public = disco.Public();
    extra.push_back({NodePrivateKey::Generate(keys_).Public(),
                     Endpoint(IpAddress::V4(192, 0, 2, i), 41641),
                     std::make_unique<disco::DiscoSealer>(std::move(disco))});
    extra.back().sealer->AddPeer(node_.disco_key());
    nm.netmap.peers.push_back({extra.back().key, disco_public, {extra.back().endpoint}, 1,
                               IpAddress::V4(100, 64, 1, i), "extra"});
  }
  ToNode(nm);
  std::sort(extra.begin(), extra.end(),
            [](const Extra& a, const Extra& b) { return a.key < b.key; });
  // Each peer used (its paths made, its session active, its heartbeat set)...
  for (const Extra& e : extra) {
    EXPECT_EQ(node_.Send(now_, e.key, Bytes{1, 2, 3}), node::SendResult::kQueued);
    Pump();
  }
  // ...and its heartbeat overdue (no timeout handled), when the local
  // address changes.
  now_ = now_ + Duration::Seconds(6);
  const size_t draws_before = node_rng_.draws.size();
  node_.SetLocalEndpoints(now_, {*Endpoint::Parse("10.0.0.3:41641")});
  std::vector<std::optional<size_t>> draw_of(extra.size());  // each peer's ping id's draw
  while (auto t = node_.PollTransmit()) {
    for (size_t i = 0; i < extra.size(); ++i) {
      if (t->destination != extra[i].endpoint) continue;
      disco::OpenResult opened = extra[i].sealer->Open(t->payload);
      ASSERT_TRUE(opened.ok());
      const auto* ping = std::get_if<disco::Ping>(&opened.opened->message);
      ASSERT_NE(ping, nullptr);
      const Bytes id(ping->txid.begin(), ping->txid.end());
      for (size_t d = draws_before; d < node_rng_.draws.size(); ++d) {
        if (node_rng_.draws[d] == id) draw_of[i] = d;
      }
    }
  }
  for (size_t i = 0; i < extra.size(); ++i) {
    ASSERT_TRUE(draw_of[i]) << "peer " << i << " sent no ping drawn at the change";
    if (i > 0) {
      EXPECT_LT(*draw_of[i - 1], *draw_of[i]) << "peer " << i << " out of key order";
    }
  }
}

TEST_F(PatchedNode, APatchForAPeerNotHeldIsCountedAndChangesNothing) {
  const size_t events = events_.size();
  Patch({PeerPatch{stranger_, std::vector<Endpoint>{*Endpoint::Parse("192.0.2.99:1")},
                   DiscoPrivateKey::Generate(keys_).Public(), 2}});
  EXPECT_EQ(node_.stats().patches_unknown_peer, 1u);
  EXPECT_FALSE(node_.HasPeer(stranger_));
  EXPECT_EQ(node_.Peers(), std::vector<NodePublicKey>{peer_key_.Public()});
  EXPECT_EQ(*node_.FindPeerInfo(peer_key_.Public()), PeerInfo());
  EXPECT_EQ(events_.size(), events);  // no PeerAdded, no PeerRestarted
}

TEST_F(PatchedNode, ADiscoKeyPatchIsARestartThatResetsTheWireGuardPeer) {
  // First data makes the peer a WireGuard peer (its handshake waits for DERP).
  EXPECT_EQ(node_.Send(now_, peer_key_.Public(), Bytes{1, 2, 3}), node::SendResult::kQueued);
  Pump();
  ASSERT_NE(node_.FindWireGuardCounters(peer_key_.Public()), nullptr);

  const DiscoPublicKey next = DiscoPrivateKey::Generate(keys_).Public();
  Patch({PeerPatch{peer_key_.Public(), std::nullopt, next, std::nullopt}});
  const auto restarted = EventsOf<node::PeerRestarted>();
  ASSERT_EQ(restarted.size(), 1u);
  EXPECT_EQ(restarted[0].peer, peer_key_.Public());
  EXPECT_EQ(restarted[0].old_disco_key, peer_disco_);
  EXPECT_EQ(restarted[0].new_disco_key, next);
  // The old run's WireGuard sessions are gone: the next data handshakes anew.
  EXPECT_EQ(node_.FindWireGuardCounters(peer_key_.Public()), nullptr);
  control::NodeInfo expected = PeerInfo();
  expected.disco_key = next;
  EXPECT_EQ(*node_.FindPeerInfo(peer_key_.Public()), expected);
  EXPECT_EQ(node_.stats().patches_unknown_peer, 0u);
}

TEST_F(PatchedNode, AnEndpointPatchReplacesThePeersEndpointsOnly) {
  // A used peer (its paths made from the netmap's endpoints)...
  EXPECT_EQ(node_.Send(now_, peer_key_.Public(), Bytes{1, 2, 3}), node::SendResult::kQueued);
  Pump();
  ASSERT_NE(node_.FindPeerPaths(peer_key_.Public()), nullptr);
  const std::vector<Endpoint> moved = {*Endpoint::Parse("192.0.2.30:5000"),
                                       *Endpoint::Parse("10.9.0.2:41641")};
  Patch({PeerPatch{peer_key_.Public(), moved, std::nullopt, std::nullopt}});
  control::NodeInfo expected = PeerInfo();
  expected.endpoints = moved;
  EXPECT_EQ(*node_.FindPeerInfo(peer_key_.Public()), expected);
  EXPECT_TRUE(EventsOf<node::PeerRestarted>().empty());
  // ...takes the new endpoints as candidates.
  const disco::PeerPaths& paths = *node_.FindPeerPaths(peer_key_.Public());
  for (const Endpoint& ep : moved) EXPECT_NE(paths.FindCandidate(ep), nullptr) << ep.ToString();
  EXPECT_NE(node_.FindWireGuardCounters(peer_key_.Public()), nullptr);  // no restart
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
