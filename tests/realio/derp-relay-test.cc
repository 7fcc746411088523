// The DERP server and clients on real loopback TCP through Host, with
// the host's backpressure wired to the server as punchlab-node derp-server
// does: packets relayed both ways, a forged ClientInfo refused, PeerGone for
// a vanished correspondent, garbage closing only its own connection, and a
// client that stops reading costing bounded memory (queued, then dropped and
// counted).
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loopback-helpers.h"
#include "punchlab/crypto/box.h"
#include "punchlab/derp/client.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/derp/server.h"
#include "realio/os-random.h"

namespace punchlab::realio {
namespace {

constexpr size_t kMaxServerOutput = 8 << 20;

struct RelayServer {
  explicit RelayServer(EventLoop& loop, RandomSource& rng)
      : server(NodePrivateKey::Generate(rng), rng),
        host(loop, server, [this] { OnEvents(); }, Options()) {
    at = host.Listen(kLoopbackAnyPort);
  }

  Host::Options Options() {
    Host::Options options;
    options.max_output = kMaxServerOutput;
    options.on_write_blocked = [this](Timestamp now, ConnectionId conn) {
      server.HandleWriteBlocked(now, conn);
    };
    options.on_writable = [this](Timestamp now, ConnectionId conn) {
      server.HandleWritable(now, conn);
    };
    return options;
  }

  void OnEvents() {
    while (auto ev = server.PollEvent()) {
      if (const auto* c = std::get_if<derp::ClientConnected>(&*ev)) conn_of[c->key] = c->conn;
      events.push_back(*ev);
    }
    if (on_drain) on_drain();
  }

  size_t protocol_errors() const { return server.stats().protocol_errors; }

  derp::Server server;
  Host host;
  Endpoint at;
  std::map<NodePublicKey, ConnectionId> conn_of;
  std::vector<derp::ServerEvent> events;
  std::function<void()> on_drain;
};

struct TestClient {
  TestClient(EventLoop& loop, RandomSource& rng, const Endpoint& server)
      : client(NodePrivateKey::Generate(rng), rng, Config(server)),
        host(loop, client, [this] {
          while (auto ev = client.PollEvent()) {
            if (auto* r = std::get_if<derp::Received>(&*ev)) {
              received.push_back(std::move(*r));
            } else if (const auto* g = std::get_if<derp::PeerGone>(&*ev)) {
              gone.push_back(*g);
            } else if (std::holds_alternative<derp::Pong>(*ev)) {
              ++pongs;
            }
          }
          if (on_drain) on_drain();
        }, Options()) {
    client.Start(MonotonicNow());
    host.Drain();
  }

  // Tells the test when its socket is backed up (see `blocked`).
  Host::Options Options() {
    Host::Options options;
    options.on_write_blocked = [this](Timestamp, ConnectionId) { blocked = true; };
    options.on_writable = [this](Timestamp, ConnectionId) { blocked = false; };
    return options;
  }

  static derp::ClientConfig Config(const Endpoint& server) {
    derp::ClientConfig config;
    config.server = server;
    return config;
  }

  const NodePublicKey& key() const { return client.public_key(); }
  void Send(const NodePublicKey& to, const std::string& text) {
    ASSERT_TRUE(client.Send(MonotonicNow(), to, Bytes(text.begin(), text.end())));
    host.Drain();
  }
  bool GotText(const NodePublicKey& from, const std::string& text) const {
    for (const auto& ev : received) {
      if (ev.source == from && ev.data == Bytes(text.begin(), text.end())) return true;
    }
    return false;
  }

  derp::Client client;
  Host host;
  std::vector<derp::Received> received;
  std::vector<derp::PeerGone> gone;
  int pongs = 0;
  bool blocked = false;
  std::function<void()> on_drain;
};

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

class DerpRelay : public ::testing::Test {
 protected:
  std::unique_ptr<TestClient> Connected() {
    auto c = std::make_unique<TestClient>(loop, rng, relay.at);
    EXPECT_TRUE(RunUntil(loop, [&] { return c->client.connected(); }));
    return c;
  }
  // a and b exchange one packet each way; true when both arrived.
  bool Exchange(TestClient& a, TestClient& b, const std::string& tag) {
    a.Send(b.key(), "a->b " + tag);
    b.Send(a.key(), "b->a " + tag);
    return RunUntil(loop, [&] {
      return b.GotText(a.key(), "a->b " + tag) && a.GotText(b.key(), "b->a " + tag);
    });
  }

  EventLoop loop;
  OsRandom rng;
  RelayServer relay{loop, rng};
};

TEST_F(DerpRelay, TwoClientsExchangePacketsInOrder) {
  auto a = Connected();
  auto b = Connected();
  ASSERT_TRUE(Exchange(*a, *b, "hello"));
  for (int i = 0; i < 500; ++i) {
    ASSERT_TRUE(a->client.Send(MonotonicNow(), b->key(), Text(std::to_string(i))));
  }
  a->host.Drain();
  ASSERT_TRUE(RunUntil(loop, [&] { return b->received.size() == 501; }));
  for (int i = 0; i < 500; ++i) {
    EXPECT_EQ(b->received[static_cast<size_t>(i) + 1].data, Text(std::to_string(i)));
    EXPECT_EQ(b->received[static_cast<size_t>(i) + 1].source, a->key());
  }
  EXPECT_EQ(relay.server.stats().packets_relayed, 502u);
  EXPECT_EQ(relay.server.client_count(), 2u);
}

// Reads the 101 response and the ServerKey frame a DERP server greets with.
std::optional<NodePublicKey> ReadServerKey(const Bytes& received) {
  derp::HttpHeadReader http;
  if (http.Feed(received) != derp::HttpHeadReader::State::kDone) return std::nullopt;
  derp::FrameReader frames;
  frames.Feed(http.TakeRest());
  auto frame = frames.Next();
  if (!frame) return std::nullopt;
  auto key = derp::Decode<derp::ServerKeyFrame>(*frame);
  if (!key) return std::nullopt;
  return key->key;
}

TEST_F(DerpRelay, ForgedClientInfoIsRefusedAndTheVictimKeepsItsKey) {
  auto victim = Connected();
  auto other = Connected();
  const ConnectionId victim_conn = relay.conn_of.at(victim->key());

  ScriptedPeer forger(loop, relay.at);
  forger.Send(derp::BuildUpgradeRequest("derp"));
  std::optional<NodePublicKey> server_key;
  ASSERT_TRUE(RunUntil(loop, [&] { return (server_key = ReadServerKey(forger.received())).has_value(); }));
  // Claims the victim's key but can only seal with a key it holds.
  const NodePrivateKey forger_key = NodePrivateKey::Generate(rng);
  auto shared = SharedKey::Compute(forger_key, *server_key);
  ASSERT_TRUE(shared);
  forger.Send(derp::Encode(derp::ClientInfoFrame{victim->key(), shared->Seal(rng, Text("{}"))}));

  ASSERT_TRUE(RunUntil(loop, [&] { return forger.closed(); }));
  EXPECT_EQ(relay.protocol_errors(), 1u);
  ASSERT_TRUE(relay.server.FindClient(victim->key()));
  EXPECT_EQ(relay.server.FindClient(victim->key())->conn, victim_conn);
  ASSERT_TRUE(Exchange(*victim, *other, "after the forgery"));
}

TEST_F(DerpRelay, VanishedClientIsReportedGoneToThoseItTalkedTo) {
  auto a = Connected();
  auto b = Connected();
  auto bystander = Connected();
  ASSERT_TRUE(Exchange(*a, *b, "before"));
  const NodePublicKey b_key = b->key();
  b.reset();  // its socket closes without a word

  ASSERT_TRUE(RunUntil(loop, [&] { return !a->gone.empty(); }));
  EXPECT_EQ(a->gone[0].peer, b_key);
  EXPECT_EQ(a->gone[0].reason, derp::PeerGoneReason::kDisconnected);
  // The bystander never talked to b: it hears nothing (give it a round trip).
  bystander->client.Ping(MonotonicNow(), derp::PingData{1, 2, 3, 4, 5, 6, 7, 8});
  bystander->host.Drain();
  ASSERT_TRUE(RunUntil(loop, [&] { return bystander->pongs == 1; }));
  EXPECT_TRUE(bystander->gone.empty());
  EXPECT_EQ(relay.server.client_count(), 2u);
}

TEST_F(DerpRelay, GarbageClosesOnlyItsOwnConnection) {
  auto a = Connected();
  auto b = Connected();

  // Not HTTP at all: 426 and close.
  ScriptedPeer not_http(loop, relay.at);
  Bytes junk(10000);  // longer than any HTTP head the server reads
  rng.Fill(junk.data(), junk.size());
  not_http.Send(junk);
  // A proper upgrade, then a frame header announcing 4 GiB.
  ScriptedPeer bad_frame(loop, relay.at);
  bad_frame.Send(derp::BuildUpgradeRequest("derp"));
  ASSERT_TRUE(RunUntil(loop, [&] { return ReadServerKey(bad_frame.received()).has_value(); }));
  bad_frame.Send(Bytes{0x02, 0xff, 0xff, 0xff, 0xff, 1, 2, 3});

  ASSERT_TRUE(RunUntil(loop, [&] { return not_http.closed() && bad_frame.closed(); }));
  const std::string reply(not_http.received().begin(), not_http.received().end());
  EXPECT_EQ(reply.rfind("HTTP/1.1 426", 0), 0u) << reply;
  EXPECT_EQ(relay.server.client_count(), 2u);
  ASSERT_TRUE(Exchange(*a, *b, "after the garbage"));
}

TEST_F(DerpRelay, ClientThatStopsReadingCostsBoundedMemory) {
  // The slow client lives on a loop of its own that stops running after the
  // handshake: its socket fills up, then the server's.
  EventLoop slow_loop;
  auto fast = Connected();
  TestClient slow(slow_loop, rng, relay.at);
  ASSERT_TRUE(RunUntil({&loop, &slow_loop}, [&] { return slow.client.connected(); }));
  ASSERT_TRUE(RunUntil(loop, [&] { return relay.conn_of.count(slow.key()) > 0; }));
  const ConnectionId slow_conn = relay.conn_of.at(slow.key());

  constexpr size_t kPacket = 16 << 10;
  constexpr size_t kPackets = 4096;  // 64 MiB: far more than the kernel buffers
  size_t sent = 0;
  size_t most_pending = 0;
  relay.on_drain = [&] {
    most_pending = std::max(most_pending, relay.host.PendingOutput(slow_conn));
  };
  const Bytes packet(kPacket, 0x42);
  fast->on_drain = [&] {
    // A batch per drain while the fast client's own socket keeps up; the
    // nested Drain() makes the host write it and call back for the next.
    if (fast->blocked || sent == kPackets) return;
    for (int i = 0; i < 16 && sent < kPackets; ++i, ++sent) {
      fast->client.Send(MonotonicNow(), slow.key(), packet);
    }
    fast->host.Drain();
  };
  fast->host.Drain();
  const auto& stats = relay.server.stats();
  ASSERT_TRUE(RunUntil(loop, [&] {
    // Up to send_queue_depth (32) frames wait in the blocked connection's queue.
    return sent == kPackets &&
           stats.packets_relayed + stats.packets_dropped_queue_overflow + 32 == kPackets;
  }, Duration::Seconds(30))) << "sent " << sent << ", relayed " << stats.packets_relayed
                             << ", dropped " << stats.packets_dropped_queue_overflow
                             << ", fast blocked " << fast->blocked << ", fast pending "
                             << fast->host.PendingOutput(fast->client.connection())
                             << ", slow pending at the server " << relay.host.PendingOutput(slow_conn);

  EXPECT_GT(stats.packets_dropped_queue_overflow, 0u);
  EXPECT_GE(relay.host.stats().write_blocked, 1u);
  EXPECT_EQ(relay.host.stats().closed_output_overflow, 0u);
  // High-water mark + a read's worth + one released queue of 32 frames.
  EXPECT_LE(most_pending, (256u << 10) + (64u << 10) + 33 * (kPacket + 64));
  ASSERT_TRUE(relay.server.FindClient(slow.key()));
  EXPECT_GT(relay.server.FindClient(slow.key())->queue_overflow_drops, 0u);

  // Meanwhile the server still serves the fast client.
  fast->client.Ping(MonotonicNow(), derp::PingData{9, 9, 9, 9, 9, 9, 9, 9});
  fast->host.Drain();
  ASSERT_TRUE(RunUntil(loop, [&] { return fast->pongs == 1; }));

  // Once the slow client reads again the queue goes out too, and it gets
  // exactly what was relayed: every packet is accounted for.
  ASSERT_TRUE(RunUntil({&loop, &slow_loop}, [&] {
    return stats.packets_relayed + stats.packets_dropped_queue_overflow == kPackets &&
           slow.received.size() == stats.packets_relayed;
  }, Duration::Seconds(30)));
  for (const auto& ev : slow.received) {
    ASSERT_EQ(ev.source, fast->key());
    ASSERT_EQ(ev.data, packet);
  }
}

}  // namespace
}  // namespace punchlab::realio
