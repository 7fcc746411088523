// The DERP client machine: handshake, liveness, reconnect with backoff.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "derp/derp-world.h"
#include "punchlab/crypto/box.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/http-upgrade.h"

namespace punchlab {
namespace derp {
namespace {

using testing::DerpClientHost;
using testing::DerpWorld;
using testing::RawStream;
using testing::Text;

constexpr const char* kServer = "192.0.2.1:443";

std::vector<Duration> RetryDelays(const DerpClientHost& c) {
  std::vector<Duration> out;
  for (const auto& e : c.Events<Disconnected>()) out.push_back(e.event.retry_at - e.at);
  return out;
}

TEST(DerpClient, ReconnectsWithBackoffAfterTheServerClosesIt) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  EXPECT_EQ(a.client->state(), ClientState::kConnected);

  world.net.CutStream(a.link());
  world.RunFor(Duration::Seconds(1));
  auto lost = a.Events<Disconnected>();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].event.reason, "connection closed by server");
  const Duration delay = lost[0].event.retry_at - lost[0].at;
  EXPECT_GE(delay, Duration::Millis(50));
  EXPECT_LE(delay, Duration::Millis(150));
  // b is told a left (they had not talked, so no PeerGone), and a is back.
  ASSERT_EQ(a.Events<Connected>().size(), 2u);
  EXPECT_EQ(a.Events<Connecting>().at(1).at, lost[0].event.retry_at);
  EXPECT_EQ(a.client->stats().connect_attempts, 2u);
  EXPECT_EQ(server.server->client_count(), 2u);
  ASSERT_TRUE(a.Send(b.key(), Text("back")));
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(b.ReceivedFrom(a.key()), std::vector<std::string>{"back"});
}

TEST(DerpClient, BackoffDoublesWithJitterUpToTheCapAndResetsAfterSuccess) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();

  const Endpoint address = *Endpoint::Parse(kServer);
  world.net.Unlisten(address);
  world.net.CutStream(a.link());
  world.RunFor(Duration::Seconds(120));
  auto delays = RetryDelays(a);
  ASSERT_GE(delays.size(), 12u);
  std::vector<int64_t> distinct;
  for (size_t i = 0; i < delays.size(); ++i) {
    Duration base = Duration::Millis(100);
    for (size_t k = 0; k < i && base < Duration::Seconds(10); ++k) base = base * 2;
    if (base > Duration::Seconds(10)) base = Duration::Seconds(10);
    EXPECT_GE(delays[i], base / 2) << i;
    EXPECT_LE(delays[i], base + base / 2) << i;
    distinct.push_back(delays[i].nanos());
  }
  EXPECT_EQ(a.Events<Disconnected>().back().event.reason, "connect failed");
  // Capped: the late delays are all within [5 s, 15 s] but not all equal.
  EXPECT_NE(distinct[10], distinct[11]);

  world.net.Listen(server.id, address);
  world.RunFor(Duration::Seconds(16));
  ASSERT_TRUE(a.client->connected());
  const size_t before = RetryDelays(a).size();
  world.net.CutStream(a.link());
  world.RunFor(Duration::Seconds(1));
  auto after = RetryDelays(a);
  ASSERT_EQ(after.size(), before + 1);
  EXPECT_LE(after.back(), Duration::Millis(150));
  EXPECT_TRUE(a.client->connected());
}

TEST(DerpClient, RestartingSetsTheNextDelay) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  world.Do(server, [&](Timestamp now) {
    server.server->AnnounceRestart(now, Duration::Millis(2500), Duration::Seconds(30));
  });
  world.RunFor(Duration::Seconds(1));
  auto restarting = a.Events<Restarting>();
  ASSERT_EQ(restarting.size(), 1u);
  EXPECT_EQ(restarting[0].event.reconnect_in, Duration::Millis(2500));
  EXPECT_EQ(restarting[0].event.try_for, Duration::Seconds(30));
  auto lost = a.Events<Disconnected>();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].event.retry_at - lost[0].at, Duration::Millis(2500));
  EXPECT_EQ(server.server->client_count(), 0u);
  world.RunFor(Duration::Seconds(2));
  EXPECT_TRUE(a.client->connected());
}

TEST(DerpClient, SilentServerIsDetectedByTheIdleTimeout) {
  DerpWorld world;
  ServerConfig quiet;
  quiet.keepalive_interval = Duration::Seconds(3600);
  auto& server = world.AddServer(kServer, 1, quiet);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  const Timestamp connected = a.Events<Connected>().at(0).at;
  world.RunFor(Duration::Seconds(131));
  auto lost = a.Events<Disconnected>();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].at, connected + Duration::Seconds(130));
  EXPECT_NE(lost[0].event.reason.find("nothing heard from the server for 130s"), std::string::npos);
  EXPECT_TRUE(a.client->connected());  // and back
  EXPECT_EQ(server.server->client_count(), 1u);
}

TEST(DerpClient, MuteServerFailsTheHandshakeAfterTenSeconds) {
  DerpWorld world;
  RawStream mute;  // accepts and never answers
  world.AddRaw(kServer, mute, /*listen=*/true);
  auto& a = world.AddClient("198.51.100.10:40000", 10, *Endpoint::Parse(kServer));
  a.Start();
  world.RunFor(Duration::Seconds(10) - Duration::Millis(1));
  EXPECT_EQ(a.client->state(), ClientState::kUpgrading);
  world.RunFor(Duration::Millis(2));
  auto lost = a.Events<Disconnected>();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].at, Timestamp::Zero() + Duration::Seconds(10));
  EXPECT_EQ(lost[0].event.reason, "handshake not finished within 10s");
  // The request went out and the connection was closed by the client.
  const Bytes& heard = mute.received.begin()->second;
  EXPECT_EQ(Bytes(heard.begin(), heard.begin() + 9), Text("GET /derp").ToBytes());
  world.RunFor(Duration::Millis(100));
  EXPECT_TRUE(mute.closed.count(mute.received.begin()->first));
}

TEST(DerpClient, PinnedServerKeyMismatchIsRefused) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  DeterministicRandom rng(4);
  ClientConfig config;
  config.server_key = NodePrivateKey::Generate(rng).Public();
  auto& a = world.AddClient("198.51.100.10:40000", 10, server, config);
  a.Start();
  world.RunFor(Duration::Millis(100));
  EXPECT_FALSE(a.client->connected());
  auto lost = a.Events<Disconnected>();
  ASSERT_GE(lost.size(), 1u);
  EXPECT_NE(lost[0].event.reason.find("is not the configured"), std::string::npos);
  EXPECT_EQ(a.client->stats().protocol_errors, lost.size());
  EXPECT_EQ(a.client->stats().server_key_refused, lost.size());
  EXPECT_EQ(server.server->stats().clients_registered, 0u);
}

// TLS is the host's: the client asks for it in its kConnect, and a world
// without TLS (this one, as ns-3) refuses the connect rather than run the
// stream in plain text.
TEST(DerpClient, TlsDialIsCarriedInTheConnectAndAWorldWithoutTlsRefusesIt) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  ClientConfig config;
  config.tls = TlsDial{"", "sha256-raw:" + std::string(64, 'a'), false};
  DeterministicRandom rng(4);
  Client bare(NodePrivateKey::Generate(rng), rng, config);
  bare.Start(Timestamp::Zero());
  auto connect = bare.PollStreamAction();
  ASSERT_TRUE(connect && connect->kind == StreamAction::Kind::kConnect);
  EXPECT_EQ(connect->tls, config.tls);

  auto& a = world.AddClient("198.51.100.10:40000", 10, server, config);
  a.Start();
  world.RunFor(Duration::Millis(100));
  EXPECT_FALSE(a.client->connected());
  ASSERT_FALSE(a.Events<Disconnected>().empty());
  EXPECT_EQ(a.Events<Disconnected>()[0].event.reason, "connect failed");
  EXPECT_GE(world.net.stats().streams_refused_tls, 1u);
  EXPECT_EQ(server.server->stats().connections_accepted, 0u);
}

// Makes `script` a hand-written DERP server's start: it answers each
// connection's upgrade request and sends `server_key` (ServerKey), and keeps
// the connection in `conn` for the test to write to.
void AnswerUpgrades(RawStream& script, const NodePublicKey& server_key, ConnectionId& conn) {
  script.on_connected = [&script, server_key, &conn](ConnectionId c) {
    conn = c;
    Bytes hello = BuildUpgradeResponse(server_key);
    AppendFrame(hello, ServerKeyFrame{server_key});
    script.Write(c, hello);
  };
}

// A hand-written server: checks what the client says and says everything a
// DERP server may say.
TEST(DerpClient, HandshakeAndEveryServerFrameAgainstAScriptedServer) {
  DerpWorld world;
  DeterministicRandom rng(77);
  auto server_key = NodePrivateKey::Generate(rng);
  auto peer = NodePrivateKey::Generate(rng).Public();
  RawStream script;
  const auto script_id = world.AddRaw(kServer, script, /*listen=*/true);
  auto& a = world.AddClient("198.51.100.10:40000", 10, *Endpoint::Parse(kServer));
  a.SetPreferred(true);
  ConnectionId conn = 0;
  AnswerUpgrades(script, server_key.Public(), conn);
  a.Start();
  world.RunFor(Duration::Seconds(1));
  EXPECT_EQ(a.client->state(), ClientState::kHandshaking);

  // The client's request, then a ClientInfo whose box opens with its key.
  HttpHeadReader http;
  ASSERT_EQ(http.Feed(script.received[conn]), HttpHeadReader::State::kDone);
  std::string why;
  EXPECT_TRUE(CheckUpgradeRequest(http.head(), why)) << why;
  FrameReader from_client;
  from_client.Feed(http.TakeRest());
  auto info = Decode<ClientInfoFrame>(*from_client.Next());
  ASSERT_TRUE(info);
  EXPECT_EQ(info->key, a.key());
  auto shared = SharedKey::Compute(server_key, info->key);
  auto json = shared->Open(info->sealed);
  ASSERT_TRUE(json);
  // What Tailscale's client sends: this client answers the server's pings.
  EXPECT_EQ(std::string(json->begin(), json->end()), "{\"CanAckPings\":true,\"version\":2}");

  world.Do(script_id, [&](Timestamp) {
    script.Write(conn, Encode(ServerInfoFrame{shared->Seal(rng, Text("{\"version\":2}"))}));
  });
  world.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(a.client->connected());
  EXPECT_EQ(a.Events<Connected>().at(0).event.server_key, server_key.Public());
  Bytes burst;
  AppendFrame(burst, PingFrame{{1, 1, 2, 3, 5, 8, 13, 21}});
  AppendFrame(burst, HealthFrame{"duplicate connection"});
  AppendFrame(burst, PeerPresentFrame{peer, std::nullopt, std::nullopt});
  AppendFrame(burst, PeerGoneFrame{peer, PeerGoneReason::kNotHere});
  AppendFrame(burst, static_cast<FrameType>(0x42), Bytes{1});
  AppendFrame(burst, KeepAliveFrame{});
  AppendFrame(burst, RecvPacketFrame{peer, Text("relayed").ToBytes()});
  world.Do(script_id, [&](Timestamp) { script.Write(conn, burst); });
  world.RunFor(Duration::Seconds(1));

  EXPECT_EQ(a.EventNames(), (std::vector<std::string>{"Connecting", "Connected", "Health",
                                                       "PeerPresent", "PeerGone", "Received"}));
  EXPECT_EQ(a.Events<Health>().at(0).event.problem, "duplicate connection");
  EXPECT_EQ(a.Events<PeerGone>().at(0).event.reason, PeerGoneReason::kNotHere);
  EXPECT_EQ(a.ReceivedFrom(peer), std::vector<std::string>{"relayed"});
  EXPECT_EQ(a.client->stats().unknown_frames, 1u);
  EXPECT_EQ(a.client->stats().keepalives_received, 1u);

  // The whole stream from the client: request, ClientInfo, the remembered
  // NotePreferred(1) right after the handshake, then the Pong for the Ping.
  HttpHeadReader again;
  ASSERT_EQ(again.Feed(script.received[conn]), HttpHeadReader::State::kDone);
  FrameReader all;
  all.Feed(again.TakeRest());
  std::vector<Frame> said;
  while (auto f = all.Next()) said.push_back(std::move(*f));
  ASSERT_EQ(said.size(), 3u);
  EXPECT_EQ(said[0].type, FrameType::kClientInfo);
  EXPECT_TRUE(Decode<NotePreferredFrame>(said[1])->preferred);
  EXPECT_EQ(Decode<PongFrame>(said[2])->data, (PingData{1, 1, 2, 3, 5, 8, 13, 21}));
  EXPECT_EQ(a.client->stats().pongs_sent, 1u);

  // A malformed frame ends the connection and the client retries.
  world.Do(script_id, [&](Timestamp) { script.Write(conn, Bytes{0x05, 0, 0, 0, 3, 1, 2, 3}); });
  world.RunFor(Duration::Millis(25));  // there and back; backoff is >= 50 ms
  EXPECT_TRUE(script.closed.count(conn));
  auto lost = a.Events<Disconnected>();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].event.reason, "protocol error: malformed RecvPacket");
  EXPECT_EQ(a.client->state(), ClientState::kBackoff);
}

// A ServerInfo whose JSON is followed by a NUL and more is not JSON (JSON
// allows a raw NUL nowhere; nlohmann's lexer alone would stop at it and
// accept the object): the client ends the connection as for any bad
// ServerInfo.
TEST(DerpClient, AServerInfoWithARawNulIsNotJson) {
  for (const bool nul : {false, true}) {
    DerpWorld world;
    DeterministicRandom rng(78);
    auto server_key = NodePrivateKey::Generate(rng);
    RawStream script;
    const auto script_id = world.AddRaw(kServer, script, /*listen=*/true);
    auto& a = world.AddClient("198.51.100.10:40000", 10, *Endpoint::Parse(kServer));
    ConnectionId conn = 0;
    AnswerUpgrades(script, server_key.Public(), conn);
    a.Start();
    world.RunFor(Duration::Seconds(1));
    ASSERT_EQ(a.client->state(), ClientState::kHandshaking);
    auto shared = SharedKey::Compute(server_key, a.key());
    const std::string info = nul ? std::string("{\"version\":2}\0x", 15) : "{\"version\":2}";
    world.Do(script_id, [&](Timestamp) {
      script.Write(conn, Encode(ServerInfoFrame{shared->Seal(rng, Text(info))}));
    });
    world.RunFor(Duration::Millis(25));  // there and back; backoff is >= 50 ms
    if (!nul) {
      EXPECT_TRUE(a.client->connected());
      continue;
    }
    EXPECT_FALSE(a.client->connected());
    EXPECT_TRUE(a.Events<Connected>().empty());
    auto lost = a.Events<Disconnected>();
    ASSERT_EQ(lost.size(), 1u);
    EXPECT_EQ(lost[0].event.reason, "protocol error: ServerInfo does not hold a JSON object");
  }
}

TEST(DerpClient, ReceivedPacketsReuseBuffersTheApplicationHandsBack) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  world.ConnectAll();
  a.Send(b.key(), Text("first!"));  // as long as the next
  world.RunFor(Duration::Seconds(1));
  auto received = [&b]() -> Received& {
    for (auto it = b.events.rbegin(); it != b.events.rend(); ++it) {
      if (auto* r = std::get_if<Received>(&it->event)) return *r;
    }
    throw std::runtime_error("nothing received");
  };
  ASSERT_EQ(b.Events<Received>().size(), 1u);
  Bytes done = std::move(received().data);
  const uint8_t* memory = done.data();
  b.client->RecycleReceived(std::move(done));
  a.Send(b.key(), Text("second"));
  world.RunFor(Duration::Seconds(1));
  ASSERT_EQ(b.Events<Received>().size(), 2u);
  const Received& second = received();
  EXPECT_EQ(std::string(second.data.begin(), second.data.end()), "second");
  EXPECT_EQ(second.data.data(), memory);  // the handed-back buffer, not a new one
}

TEST(DerpClient, SendIsRefusedWhenNotConnectedOrOversize) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  auto& b = world.AddClient("198.51.100.11:40000", 11, server);
  EXPECT_FALSE(a.Send(b.key(), Text("early")));
  EXPECT_FALSE(a.Ping(PingData{}));
  world.ConnectAll();
  EXPECT_FALSE(a.Send(b.key(), Bytes(kMaxPacketSize + 1, 0)));
  EXPECT_TRUE(a.Send(b.key(), Bytes(kMaxPacketSize, 0)));
  world.RunFor(Duration::Seconds(1));
  ASSERT_EQ(b.Events<Received>().size(), 1u);
  EXPECT_EQ(b.Events<Received>()[0].event.data.size(), kMaxPacketSize);
  EXPECT_EQ(a.client->stats().send_dropped, 2u);
}

TEST(DerpClient, PreferenceIsRepeatedAfterReconnect) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  a.SetPreferred(true);
  world.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(server.server->FindClient(a.key())->preferred);
  world.net.CutStream(a.link());
  world.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(a.client->connected());
  EXPECT_EQ(a.client->stats().connect_attempts, 2u);
  EXPECT_TRUE(server.server->FindClient(a.key())->preferred);
}

TEST(DerpClient, StopClosesAndStaysDown) {
  DerpWorld world;
  auto& server = world.AddServer(kServer, 1);
  auto& a = world.AddClient("198.51.100.10:40000", 10, server);
  world.ConnectAll();
  a.Stop();
  world.RunFor(Duration::Seconds(60));
  EXPECT_EQ(a.client->state(), ClientState::kStopped);
  auto lost = a.Events<Disconnected>();
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_EQ(lost[0].event.retry_at, Timestamp::Max());
  EXPECT_EQ(server.server->client_count(), 0u);
  EXPECT_FALSE(a.client->PollTimeout());
  a.Start();
  world.RunFor(Duration::Seconds(1));
  EXPECT_TRUE(a.client->connected());
}

}  // namespace
}  // namespace derp
}  // namespace punchlab
