// The DERP server machine in the virtual world (hosts 10 ms apart).
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "derp/derp-world.h"
#include "punchlab/crypto/box.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/disco/message.h"

namespace punchlab {
namespace derp {
namespace {

using testing::DerpClientHost;
using testing::DerpServerHost;
using testing::DerpWorld;
using testing::RawStream;
using testing::Text;

constexpr const char* kServer = "192.0.2.1:443";

// HTTP upgrade + ClientInfo claiming `claimed`, its box (holding `info`)
// sealed by `sealer`.
Bytes RawHandshake(const NodePrivateKey& sealer, const NodePublicKey& claimed,
                   const NodePublicKey& server, RandomSource& rng,
                   const std::string& info = "{\"version\":2}") {
  Bytes out = BuildUpgradeRequest("derp");
  auto shared = SharedKey::Compute(sealer, server);
  AppendFrame(out, ClientInfoFrame{claimed, shared->Seal(rng, Text(info))});
  return out;
}

// The frames a raw client received after the server's HTTP response.
std::vector<Frame> FramesAfterHttp(const Bytes& received) {
  HttpHeadReader http;
  if (http.Feed(received) != HttpHeadReader::State::kDone) return {};
  FrameReader reader;
  reader.Feed(http.TakeRest());
  std::vector<Frame> out;
  while (auto f = reader.Next()) out.push_back(std::move(*f));
  return out;
}

// What a relay takes for disco: the magic, then room for key and nonce.
Bytes DiscoLooking() {
  Bytes b(disco::kMagic.begin(), disco::kMagic.end());
  b.resize(disco::kHeaderSize + 24, 0x5a);
  return b;
}

std::vector<PeerGoneFrame> PeerGones(const DerpClientHost& c) {
  std::vector<PeerGoneFrame> out;
  for (const auto& e : c.Events<PeerGone>())
    out.push_back({e.event.peer, e.event.reason});
  return out;
}

TEST(DerpServer, TwoClientsExchangePackets) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  EXPECT_EQ(server.server->client_count(), 2u);
  auto connected = server.Events<ClientConnected>();
  ASSERT_EQ(connected.size(), 2u);
  EXPECT_EQ(std::set<NodePublicKey>({connected[0].event.key, connected[1].event.key}),
            std::set<NodePublicKey>({a.key(), b.key()}));
  EXPECT_EQ(a.Events<Connected>().at(0).event.server_key, server.server->public_key());

  const Timestamp sent = world.now();
  ASSERT_TRUE(a.Send(b.key(), Text("hello")));
  ASSERT_TRUE(b.Send(a.key(), Text("world!")));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(b.ReceivedFrom(a.key()), std::vector<std::string>{"hello"});
  EXPECT_EQ(a.ReceivedFrom(b.key()), std::vector<std::string>{"world!"});
  // Client -> server -> client: two one-way latencies.
  EXPECT_EQ(b.Events<Received>().at(0).at, sent + Duration::Millis(20));
  EXPECT_EQ(server.server->stats().packets_relayed, 2u);
  EXPECT_EQ(server.server->stats().bytes_relayed, 11u);
  EXPECT_EQ(b.client->stats().packets_received, 1u);
}

TEST(DerpServer, EverythingSplitIntoOneByteSegmentsStillWorks) {
  DerpWorld world;
  world.net.max_segment = 1;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(a.Send(b.key(), Text("packet " + std::to_string(i))));
  }
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(b.ReceivedFrom(a.key()),
            (std::vector<std::string>{"packet 0", "packet 1", "packet 2", "packet 3", "packet 4"}));
  EXPECT_EQ(server.server->stats().protocol_errors, 0u);
}

TEST(DerpServer, ForgedClientInfoIsRefusedAndClosed) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  DeterministicRandom rng(99);
  auto victim = NodePrivateKey::Generate(rng);
  auto attacker = NodePrivateKey::Generate(rng);
  const NodePublicKey server_key = server.server->public_key();

  RawStream forger;
  RawStream honest;
  const auto forger_id = world.AddRaw("203.0.113.66:1", forger);
  const auto honest_id = world.AddRaw("203.0.113.67:1", honest);
  forger.on_connected = [&](ConnectionId c) {
    forger.Write(c, RawHandshake(attacker, victim.Public(), server_key, rng));
  };
  honest.on_connected = [&](ConnectionId c) {
    honest.Write(c, RawHandshake(victim, victim.Public(), server_key, rng));
  };
  world.Do(forger_id, [&](Timestamp) { forger.Connect(1, *Endpoint::Parse(kServer)); });
  world.RunFor(Duration::Seconds(1));

  EXPECT_TRUE(forger.closed.count(1));
  auto frames = FramesAfterHttp(forger.received[1]);
  ASSERT_EQ(frames.size(), 1u);  // ServerKey, and no ServerInfo
  EXPECT_EQ(frames[0].type, FrameType::kServerKey);
  auto errors = server.Events<ProtocolViolation>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].event.reason.find("does not open with the claimed key"), std::string::npos)
      << errors[0].event.reason;
  EXPECT_TRUE(server.Events<ClientConnected>().empty());
  EXPECT_FALSE(server.server->FindClient(victim.Public()));
  EXPECT_EQ(server.server->stats().protocol_errors, 1u);

  // The same bytes sealed by the key they claim are accepted.
  world.Do(honest_id, [&](Timestamp) { honest.Connect(1, *Endpoint::Parse(kServer)); });
  world.RunFor(Duration::Seconds(1));
  EXPECT_FALSE(honest.closed.count(1));
  auto ok = FramesAfterHttp(honest.received[1]);
  ASSERT_EQ(ok.size(), 2u);
  auto info = Decode<ServerInfoFrame>(ok[1]);
  ASSERT_TRUE(info);
  auto opened = SharedKey::Compute(victim, server_key)->Open(info->sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(std::string(opened->begin(), opened->end()), "{\"version\":2}");
  EXPECT_TRUE(server.server->FindClient(victim.Public()));
}

// A ClientInfo whose JSON is followed by a NUL and more is not JSON (JSON
// allows a raw NUL nowhere; nlohmann's lexer alone would stop at it and
// accept the object): refused and closed like any bad ClientInfo.
TEST(DerpServer, AClientInfoWithARawNulIsNotJson) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  DeterministicRandom rng(98);
  auto client = NodePrivateKey::Generate(rng);
  const NodePublicKey server_key = server.server->public_key();
  RawStream raw;
  const auto raw_id = world.AddRaw("203.0.113.66:1", raw);
  raw.on_connected = [&](ConnectionId c) {
    raw.Write(c, RawHandshake(client, client.Public(), server_key, rng,
                              std::string("{\"version\":2}\0x", 15)));
  };
  world.Do(raw_id, [&](Timestamp) { raw.Connect(1, *Endpoint::Parse(kServer)); });
  world.RunFor(Duration::Seconds(1));

  EXPECT_TRUE(raw.closed.count(1));
  auto frames = FramesAfterHttp(raw.received[1]);
  ASSERT_EQ(frames.size(), 1u);  // ServerKey, and no ServerInfo
  auto errors = server.Events<ProtocolViolation>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].event.reason, "ClientInfo does not hold a JSON object");
  EXPECT_TRUE(server.Events<ClientConnected>().empty());
  EXPECT_FALSE(server.server->FindClient(client.Public()));
}

TEST(DerpServer, UnknownDestinationGetsRateLimitedPeerGoneNotHere) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  DeterministicRandom rng(5);
  const NodePublicKey nobody = NodePrivateKey::Generate(rng).Public();

  auto burst = [&] {
    for (int i = 0; i < 10; ++i) a.Send(nobody, DiscoLooking());
    world.RunFor(Duration::Millis(100));
  };
  // Data to an absent key is dropped without an answer (as derpserver:
  // Tailscale's clients drop their route on PeerGone).
  for (int i = 0; i < 5; ++i) a.Send(nobody, Text("data"));
  world.RunFor(Duration::Millis(100));
  EXPECT_TRUE(PeerGones(a).empty());
  EXPECT_EQ(server.server->stats().packets_dropped_unknown_dest, 5u);
  burst();
  auto gone = PeerGones(a);
  ASSERT_EQ(gone.size(), 3u);  // the burst allowance
  for (const auto& g : gone) {
    EXPECT_EQ(g.key, nobody);
    EXPECT_EQ(g.reason, PeerGoneReason::kNotHere);
  }
  EXPECT_EQ(server.server->stats().packets_dropped_unknown_dest, 15u);
  EXPECT_EQ(server.server->stats().peer_gone_not_here_sent, 3u);
  EXPECT_EQ(server.server->stats().peer_gone_not_here_suppressed, 7u);

  world.RunFor(Duration::Millis(1000));  // one token back
  burst();
  EXPECT_EQ(PeerGones(a).size(), 4u);

  world.RunFor(Duration::Seconds(60));  // full again, but never above the burst
  burst();
  EXPECT_EQ(PeerGones(a).size(), 7u);
  EXPECT_EQ(server.server->stats().packets_dropped_unknown_dest, 35u);
  EXPECT_EQ(server.server->stats().packets_relayed, 0u);
}

// As derpserver's peerGoneWatchers: those that were relayed packets from the
// departed client hear of it; those that only sent to it do not.
TEST(DerpServer, DepartedClientProducesPeerGoneForThoseThatReceivedFromIt) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);  // a sent to b
  auto& c = world.AddClient("198.51.100.12:40000", 12, server);  // c sent to a
  auto& d = world.AddClient("198.51.100.13:40000", 13, server);  // strangers
  world.ConnectAll();
  a.Send(b.key(), Text("to b"));
  c.Send(a.key(), Text("to a"));
  d.Send(b.key(), Text("d to b"));
  world.RunFor(Duration::Seconds(1));

  a.Stop();
  world.RunFor(Duration::Seconds(1));
  auto gone = server.Events<ClientDisconnected>();
  ASSERT_EQ(gone.size(), 1u);
  EXPECT_EQ(gone[0].event.key, a.key());
  EXPECT_EQ(gone[0].event.reason, "connection closed by peer");
  auto g = PeerGones(b);
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].key, a.key());
  EXPECT_EQ(g[0].reason, PeerGoneReason::kDisconnected);
  EXPECT_TRUE(PeerGones(c).empty());  // c only sent to a
  EXPECT_TRUE(PeerGones(d).empty());
  EXPECT_EQ(server.server->stats().peer_gone_disconnected_sent, 1u);
  EXPECT_EQ(server.server->client_count(), 3u);

  // d leaving tells b (d sent to b), and nobody else.
  d.Stop();
  world.RunFor(Duration::Seconds(1));
  ASSERT_EQ(PeerGones(b).size(), 2u);
  EXPECT_EQ(PeerGones(b)[1].key, d.key());
  EXPECT_TRUE(PeerGones(c).empty());
}

// As derpserver (dupPolicy lastWriterIsActive): a second connection for a
// key does not close the first; whichever sent last gets the key's packets,
// and the key is gone only when its last connection is.
TEST(DerpServer, TwoConnectionsForOneKeyStayAndTheLastWriterGetsPackets) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  DeterministicRandom key_rng(42);
  auto key = NodePrivateKey::Generate(key_rng);
  auto& old_conn = world.AddClientWithKey("198.51.100.10:40000", 10, key.Clone(), server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  auto& new_conn = world.AddClientWithKey("198.51.100.20:40000", 20, key.Clone(), server);
  old_conn.Start();
  b.Start();
  world.RunFor(Duration::Seconds(1));
  b.Send(key.Public(), Text("to old"));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(old_conn.ReceivedFrom(b.key()), std::vector<std::string>{"to old"});
  const ConnectionId old_server_conn = server.server->FindClient(key.Public())->conn;

  new_conn.Start();
  world.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(new_conn.client->connected());
  EXPECT_TRUE(old_conn.client->connected());
  EXPECT_TRUE(server.Events<ClientDisconnected>().empty());
  const ConnectionId new_server_conn =
      world.ServerConn(new_conn);
  EXPECT_EQ(server.server->FindClient(key.Public())->conn, new_server_conn);
  EXPECT_EQ(server.server->stats().duplicate_clients, 1u);
  EXPECT_EQ(server.server->client_count(), 2u);  // keys

  b.Send(key.Public(), Text("to new"));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(new_conn.ReceivedFrom(b.key()), std::vector<std::string>{"to new"});
  EXPECT_EQ(old_conn.ReceivedFrom(b.key()).size(), 1u);

  // The old connection speaks: it is the active one again.
  old_conn.Send(b.key(), Text("old speaks"));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(b.ReceivedFrom(key.Public()), std::vector<std::string>{"old speaks"});
  EXPECT_EQ(server.server->FindClient(key.Public())->conn, old_server_conn);
  b.Send(key.Public(), Text("to old again"));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(old_conn.ReceivedFrom(b.key()),
            (std::vector<std::string>{"to old", "to old again"}));

  // One of two leaving is not the key leaving: b is not told.
  new_conn.Stop();
  world.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(PeerGones(b).empty());
  EXPECT_EQ(server.server->FindClient(key.Public())->conn, old_server_conn);
  old_conn.Stop();
  world.RunFor(Duration::Seconds(1));
  ASSERT_EQ(PeerGones(b).size(), 1u);  // b was relayed packets from the key
  EXPECT_EQ(PeerGones(b)[0].key, key.Public());
  EXPECT_FALSE(server.server->FindClient(key.Public()));
}

TEST(DerpServer, MalformedInputClosesOnlyThatConnection) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  const NodePublicKey server_key = server.server->public_key();
  DeterministicRandom rng(3);

  struct Bad {
    std::string name;
    Bytes after_handshake;  // empty: `raw` replaces the handshake
    Bytes raw;
    std::string reason;
  };
  std::vector<Bad> bads = {
      {"oversized length", {0x04, 0xff, 0xff, 0xff, 0xff}, {}, "announces 4294967295 bytes"},
      {"short SendPacket",
       {0x04, 0, 0, 0, 10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
       {},
       "malformed SendPacket"},
      {"NotePreferred of 2 bytes", {0x07, 0, 0, 0, 2, 1, 1}, {}, "malformed NotePreferred"},
      {"TLS instead of HTTP",
       {},
       {0x16, 0x03, 0x01, 0x00, 0xa5, '\r', '\n', '\r', '\n'},
       "not a DERP upgrade"},
      {"frame before ClientInfo", {}, {}, "expected ClientInfo, got SendPacket"},
  };
  bads[4].raw = BuildUpgradeRequest("derp");
  AppendFrame(bads[4].raw, SendPacketFrame{a.key(), Bytes{1}});

  std::vector<std::unique_ptr<RawStream>> raws;
  std::vector<testing::MachineId> raw_ids;
  std::vector<NodePrivateKey> keys;
  for (size_t i = 0; i < bads.size(); ++i) {
    raws.push_back(std::make_unique<RawStream>());
    keys.push_back(NodePrivateKey::Generate(rng));
    raw_ids.push_back(world.AddRaw("203.0.113." + std::to_string(10 + i) + ":1", *raws.back()));
    RawStream* raw = raws.back().get();
    raw->on_connected = [&, i, raw](ConnectionId c) {
      if (bads[i].after_handshake.empty()) {
        raw->Write(c, bads[i].raw);
        return;
      }
      Bytes out = RawHandshake(keys[i], keys[i].Public(), server_key, rng);
      out.insert(out.end(), bads[i].after_handshake.begin(), bads[i].after_handshake.end());
      raw->Write(c, out);
    };
  }
  // Traffic between a and b in flight while the bad connections misbehave:
  // the bad bytes reach the server 3 latencies after the connect (the raw
  // side learns it is connected after 2), between a's and b's packets.
  for (size_t i = 0; i < raws.size(); ++i) {
    world.Do(raw_ids[i], [&](Timestamp) { raws[i]->Connect(1, *Endpoint::Parse(kServer)); });
  }
  world.RunFor(Duration::Millis(10));
  for (int i = 0; i < 3; ++i) {
    a.Send(b.key(), Text("a" + std::to_string(i)));
    b.Send(a.key(), Text("b" + std::to_string(i)));
    world.RunFor(Duration::Millis(7));
  }
  world.RunFor(Duration::Seconds(1));
  a.Send(b.key(), Text("after"));
  world.RunFor(Duration::Seconds(1));

  EXPECT_EQ(b.ReceivedFrom(a.key()), (std::vector<std::string>{"a0", "a1", "a2", "after"}));
  EXPECT_EQ(a.ReceivedFrom(b.key()), (std::vector<std::string>{"b0", "b1", "b2"}));
  EXPECT_TRUE(a.client->connected());
  EXPECT_TRUE(b.client->connected());
  EXPECT_EQ(a.client->stats().connect_attempts, 1u);

  auto errors = server.Events<ProtocolViolation>();
  ASSERT_EQ(errors.size(), bads.size());
  for (size_t i = 0; i < bads.size(); ++i) {
    EXPECT_TRUE(raws[i]->closed.count(1)) << bads[i].name;
    bool found = false;
    for (const auto& e : errors) found |= e.event.reason.find(bads[i].reason) != std::string::npos;
    EXPECT_TRUE(found) << bads[i].name;
  }
  EXPECT_EQ(std::string(raws[3]->received[1].begin(), raws[3]->received[1].end())
                .rfind("HTTP/1.1 426", 0),
            0u);
  // The three that had registered are also reported gone.
  EXPECT_EQ(server.Events<ClientDisconnected>().size(), 3u);
  EXPECT_EQ(server.server->stats().protocol_errors, bads.size());
  EXPECT_EQ(server.server->client_count(), 2u);
}

TEST(DerpServer, QueueOverflowIsDroppedAndCounted) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  const ConnectionId b_conn = world.ServerConn(b);

  world.Do(server, [&](Timestamp now) { server.server->HandleWriteBlocked(now, b_conn); });
  for (int i = 0; i < 40; ++i) a.Send(b.key(), Text(std::to_string(i)));
  world.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(b.Events<Received>().empty());
  EXPECT_EQ(server.server->stats().packets_dropped_queue_overflow, 8u);
  EXPECT_EQ(server.server->FindClient(b.key())->queue_overflow_drops, 8u);
  EXPECT_EQ(server.server->stats().packets_relayed, 0u);

  world.Do(server, [&](Timestamp now) { server.server->HandleWritable(now, b_conn); });
  world.RunFor(Duration::Seconds(1));
  // The oldest were dropped to make room (derpserver: fresher packets win).
  std::vector<std::string> expected;
  for (int i = 8; i < 40; ++i) expected.push_back(std::to_string(i));
  EXPECT_EQ(b.ReceivedFrom(a.key()), expected);
  EXPECT_EQ(server.server->stats().packets_relayed, 32u);

  // Unblocked again: nothing more is dropped.
  for (int i = 0; i < 40; ++i) a.Send(b.key(), Text("more"));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(b.ReceivedFrom(a.key()).size(), 72u);
  EXPECT_EQ(server.server->stats().packets_dropped_queue_overflow, 8u);
}

// Disco has a queue of its own: a flood of data to a blocked client does not
// push out the disco that would let it find a direct path.
TEST(DerpServer, BlockedDiscoQueuedApartFromData) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  const ConnectionId b_conn = world.ServerConn(b);

  world.Do(server, [&](Timestamp now) { server.server->HandleWriteBlocked(now, b_conn); });
  a.Send(b.key(), DiscoLooking());
  for (int i = 0; i < 100; ++i) a.Send(b.key(), Text("data"));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(server.server->stats().packets_dropped_queue_overflow, 68u);
  world.Do(server, [&](Timestamp now) { server.server->HandleWritable(now, b_conn); });
  world.RunFor(Duration::Seconds(1));
  const auto got = b.Events<Received>();
  ASSERT_EQ(got.size(), 33u);
  EXPECT_EQ(got[0].event.data, DiscoLooking());  // released first
  EXPECT_EQ(server.server->stats().packets_relayed, 33u);
}

TEST(DerpServer, BlockedQueueKeepsOrderCountsOnReleaseAndDropsWhenGone) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  const ConnectionId b_conn = world.ServerConn(b);

  world.Do(server, [&](Timestamp now) { server.server->HandleWriteBlocked(now, b_conn); });
  a.Send(b.key(), Text("one"));
  world.RunFor(Duration::Millis(100));
  b.Ping(PingData{1, 2, 3, 4, 5, 6, 7, 8});  // its Pong waits too
  world.RunFor(Duration::Millis(100));
  a.Send(b.key(), Text("two"));
  world.RunFor(Duration::Millis(100));
  EXPECT_EQ(server.server->stats().packets_relayed, 0u);  // queued is not relayed yet
  EXPECT_TRUE(b.Events<Pong>().empty());

  world.Do(server, [&](Timestamp now) { server.server->HandleWritable(now, b_conn); });
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(b.ReceivedFrom(a.key()), (std::vector<std::string>{"one", "two"}));
  ASSERT_EQ(b.Events<Pong>().size(), 1u);
  // Control frames go out first, then the packets in the order they came.
  std::vector<std::string> order;
  for (const std::string& name : b.EventNames()) {
    if (name == "Received" || name == "Pong") order.push_back(name);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"Pong", "Received", "Received"}));
  EXPECT_EQ(server.server->stats().packets_relayed, 2u);
  EXPECT_EQ(server.server->stats().bytes_relayed, 6u);

  // Queued for a connection that then goes: counted as dropped for a gone peer.
  world.Do(server, [&](Timestamp now) { server.server->HandleWriteBlocked(now, b_conn); });
  for (int i = 0; i < 3; ++i) a.Send(b.key(), Text("late"));
  world.RunFor(Duration::Millis(100));
  b.Stop();
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(server.server->stats().packets_dropped_gone, 3u);
  EXPECT_EQ(server.server->stats().packets_relayed, 2u);
}

// Bytes the bare machine wrote to `conn`, and whether it closed it.
std::pair<std::string, bool> Written(Server& server, ConnectionId conn) {
  std::string out;
  bool closed = false;
  while (auto a = server.PollStreamAction()) {
    if (a->conn != conn) continue;
    if (a->kind == StreamAction::Kind::kWrite) out.append(a->data.begin(), a->data.end());
    if (a->kind == StreamAction::Kind::kClose) closed = true;
  }
  return {out, closed};
}

TEST(DerpServer, HttpProbeFastStartAndWebsocket) {
  DeterministicRandom rng(4);
  Server server(NodePrivateKey::Generate(rng), rng);
  const Endpoint remote = *Endpoint::Parse("198.51.100.10:40000");
  const Timestamp now;
  auto send = [&](ConnectionId conn, const std::string& head) {
    server.HandleConnected(now, conn, remote);
    server.HandleStream(now, conn, Text(head));
    return Written(server, conn);
  };
  // A latency probe: 200, closed, not a protocol error.
  for (const std::string method : {"GET", "HEAD"}) {
    const auto [out, closed] = send(method == "GET" ? 1 : 2,
                                    method + " /derp/probe HTTP/1.1\r\nHost: derp\r\n\r\n");
    EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << out;
    EXPECT_TRUE(closed);
  }
  EXPECT_EQ(server.stats().probes_answered, 2u);
  EXPECT_EQ(server.stats().protocol_errors, 0u);

  // Derp-Fast-Start: 1: the ServerKey frame comes first, no HTTP head.
  const auto [fast, fast_closed] = send(
      3, "GET /derp HTTP/1.1\r\nHost: derp\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
         "Derp-Fast-Start: 1\r\n\r\n");
  EXPECT_FALSE(fast_closed);
  FrameReader reader;
  reader.Feed(Text(fast));
  auto key = reader.Next();
  ASSERT_TRUE(key);
  EXPECT_EQ(Decode<ServerKeyFrame>(*key)->key, server.public_key());

  // Websocket: not spoken here (426), a documented difference from derper.
  const auto [ws, ws_closed] = send(
      4, "GET /derp HTTP/1.1\r\nHost: derp\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n");
  EXPECT_EQ(ws.rfind("HTTP/1.1 426", 0), 0u);
  EXPECT_TRUE(ws_closed);
}

TEST(DerpServer, RelaysIntoWriteBuffersTheHostHandsBack) {
  // Two raw clients on a bare machine, so the test sees the write actions.
  DeterministicRandom rng(3);
  Server server(NodePrivateKey::Generate(rng), rng);
  const NodePrivateKey ka = NodePrivateKey::Generate(rng);
  const NodePrivateKey kb = NodePrivateKey::Generate(rng);
  const Endpoint remote = *Endpoint::Parse("198.51.100.10:40000");
  Timestamp now;
  for (auto [conn, key] : {std::pair<ConnectionId, const NodePrivateKey*>{1, &ka}, {2, &kb}}) {
    server.HandleConnected(now, conn, remote);
    server.HandleStream(now, conn, RawHandshake(*key, key->Public(), server.public_key(), rng));
  }
  ASSERT_EQ(server.client_count(), 2u);
  while (server.PollStreamAction()) {
  }

  Bytes spare;
  spare.reserve(128 * 1024);
  const uint8_t* memory = spare.data();
  server.RecycleWriteBuffer(std::move(spare));
  const std::string text = "via a recycled buffer";
  const Bytes packet(text.begin(), text.end());
  Bytes send;
  AppendFrame(send, SendPacketFrame{kb.Public(), packet});
  server.HandleStream(now, 1, send);
  auto write = server.PollStreamAction();
  ASSERT_TRUE(write);
  EXPECT_EQ(write->kind, StreamAction::Kind::kWrite);
  EXPECT_EQ(write->conn, 2u);
  EXPECT_EQ(write->data.data(), memory);  // the same memory, not a new allocation
  FrameReader reader;
  reader.Feed(write->data);
  auto frame = reader.Next();
  ASSERT_TRUE(frame);
  auto recv = Decode<RecvPacketFrame>(*frame);
  ASSERT_TRUE(recv);
  EXPECT_EQ(recv->source, ka.Public());
  EXPECT_EQ(recv->packet, packet);

  // Only a few buffers of a sensible size are kept.
  Bytes tiny;
  tiny.reserve(16);
  const uint8_t* tiny_memory = tiny.data();
  server.RecycleWriteBuffer(std::move(tiny));
  server.HandleStream(now, 1, send);
  write = server.PollStreamAction();
  ASSERT_TRUE(write);
  EXPECT_NE(write->data.data(), tiny_memory);
}

TEST(DerpServer, KeepAliveEverySixtySecondsWithPerConnectionJitter) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  std::vector<DerpClientHost*> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(&world.AddClient("198.51.100." + std::to_string(10 + i) + ":40000",
                                       static_cast<uint64_t>(10 + i), server));
  }
  std::vector<std::vector<Timestamp>> arrivals(clients.size());
  world.observer = [&](Timestamp now) {
    for (size_t i = 0; i < clients.size(); ++i) {
      while (arrivals[i].size() < clients[i]->client->stats().keepalives_received) {
        arrivals[i].push_back(now);
      }
    }
  };
  world.ConnectAll();
  world.RunFor(Duration::Seconds(600));

  std::set<int64_t> periods;
  for (size_t i = 0; i < clients.size(); ++i) {
    const Timestamp connected = clients[i]->Events<Connected>().at(0).at;
    ASSERT_GE(arrivals[i].size(), 9u);
    Timestamp prev = connected;
    for (Timestamp t : arrivals[i]) {
      const Duration gap = t - prev;
      EXPECT_GE(gap, Duration::Seconds(60));
      EXPECT_LE(gap, Duration::Seconds(65));
      prev = t;
    }
    periods.insert((arrivals[i][1] - arrivals[i][0]).nanos());
    // Keepalives keep the client's idle timer from ever firing.
    EXPECT_EQ(clients[i]->client->stats().connect_attempts, 1u);
  }
  EXPECT_EQ(periods.size(), clients.size()) << "jitter should differ between connections";
  EXPECT_GE(server.server->stats().keepalives_sent, 36u);
}

TEST(DerpServer, PingIsEchoedAsPong) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  const PingData data = {9, 8, 7, 6, 5, 4, 3, 2};
  ASSERT_TRUE(a.Ping(data));
  world.RunFor(Duration::Seconds(1));
  auto pongs = a.Events<Pong>();
  ASSERT_EQ(pongs.size(), 1u);
  EXPECT_EQ(pongs[0].event.data, Bytes(data.begin(), data.end()));
  EXPECT_EQ(server.server->stats().pongs_sent, 1u);
}

TEST(DerpServer, NotePreferredIsRecorded) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  EXPECT_FALSE(server.server->FindClient(a.key())->preferred);
  a.SetPreferred(true);
  world.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(server.server->FindClient(a.key())->preferred);
  a.SetPreferred(false);
  world.RunFor(Duration::Seconds(1));
  EXPECT_FALSE(server.server->FindClient(a.key())->preferred);
}

TEST(DerpServer, SilentConnectionTimesOutDuringHandshake) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  RawStream mute;
  const auto mute_id = world.AddRaw("203.0.113.9:1", mute);
  world.Do(mute_id, [&](Timestamp) { mute.Connect(1, *Endpoint::Parse(kServer)); });
  world.RunFor(Duration::Seconds(9));
  EXPECT_FALSE(mute.closed.count(1));
  world.RunFor(Duration::Seconds(2));
  EXPECT_TRUE(mute.closed.count(1));
  auto errors = server.Events<ProtocolViolation>();
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].event.reason.find("handshake not finished within 10s"), std::string::npos);
  EXPECT_EQ(server.server->stats().handshake_timeouts, 1u);
  EXPECT_FALSE(server.server->PollTimeout());
}

TEST(DerpServer, ForwardPacketFromAPlainClientIsRefused) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  DeterministicRandom rng(8);
  auto key = NodePrivateKey::Generate(rng);
  RawStream raw;
  const auto raw_id = world.AddRaw("203.0.113.9:1", raw);
  raw.on_connected = [&](ConnectionId c) {
    Bytes out = RawHandshake(key, key.Public(), server.server->public_key(), rng);
    AppendFrame(out, ForwardPacketFrame{key.Public(), b.key(), Bytes{1, 2}});
    raw.Write(c, out);
  };
  world.Do(raw_id, [&](Timestamp) { raw.Connect(1, *Endpoint::Parse(kServer)); });
  world.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(raw.closed.count(1));
  EXPECT_TRUE(b.Events<Received>().empty());
  EXPECT_NE(server.Events<ProtocolViolation>().at(0).event.reason.find("not a mesh peer"),
            std::string::npos);
}

TEST(DerpServer, UnknownFrameTypesAreSkipped) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  DeterministicRandom rng(8);
  auto key = NodePrivateKey::Generate(rng);
  RawStream raw;
  const auto raw_id = world.AddRaw("203.0.113.9:1", raw);
  raw.on_connected = [&](ConnectionId c) {
    Bytes out = RawHandshake(key, key.Public(), server.server->public_key(), rng);
    AppendFrame(out, static_cast<FrameType>(0x10), Bytes{});  // WatchConns, mesh-only
    AppendFrame(out, static_cast<FrameType>(0x7f), Bytes{1, 2, 3});
    AppendFrame(out, SendPacketFrame{b.key(), Bytes{'o', 'k'}});
    raw.Write(c, out);
  };
  world.Do(raw_id, [&](Timestamp) { raw.Connect(1, *Endpoint::Parse(kServer)); });
  world.RunFor(Duration::Seconds(1));
  EXPECT_FALSE(raw.closed.count(1));
  EXPECT_EQ(b.ReceivedFrom(key.Public()), std::vector<std::string>{"ok"});
  EXPECT_EQ(server.server->stats().unknown_frames, 2u);
}

TEST(DerpServer, RegionsAreIndependentServers) {
  DerpWorld world;
  auto& fra = world.AddServer("192.0.2.1:443", 1);
  auto& nyc = world.AddServer("192.0.2.2:443", 2);
  auto& a = world.AddClient("198.51.100.10:40000", 10, fra);
  auto& b = world.AddClient("198.51.100.11:40000", 11, nyc);
  world.ConnectAll();
  EXPECT_NE(fra.server->public_key(), nyc.server->public_key());
  EXPECT_EQ(fra.server->client_count(), 1u);
  EXPECT_EQ(nyc.server->client_count(), 1u);
  a.Send(b.key(), Text("cross-region"));
  a.Send(b.key(), DiscoLooking());
  world.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(b.Events<Received>().empty());
  ASSERT_EQ(PeerGones(a).size(), 1u);  // for the disco packet only
  EXPECT_EQ(PeerGones(a)[0].reason, PeerGoneReason::kNotHere);
}

}  // namespace
}  // namespace derp
}  // namespace punchlab
