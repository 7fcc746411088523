// DERP over TLS on real loopback sockets: realio::Host runs TLS (OpenSSL)
// under the DERP machines, which stay the same sans-IO code. A pinned
// self-signed certificate is accepted and another refused (the handshake
// fails, the client never connects, both sides count it); a server key that
// the DERP map does not pin is refused over TLS too; a silent peer is dropped
// after the handshake timeout; and the replay of issue 16: a victim's
// connection is captured on the path and its bytes replayed on a new
// connection — over plain HTTP the replayer takes over the victim's key
// (every packet for it goes to the replayer), over TLS the replay fails its
// handshake and the victim keeps its packets.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "loopback-helpers.h"
#include "punchlab/derp/client.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/derp/server.h"
#include "realio/os-random.h"
#include "realio/tls-context.h"

namespace punchlab::realio {
namespace {

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

std::shared_ptr<TlsServerContext> LoopbackCert() {
  static const auto cert = TlsServerContext::SelfSigned("derp.test", {IpAddress::V4(127, 0, 0, 1)});
  return cert;
}

struct Relay {
  Relay(EventLoop& loop, RandomSource& rng, std::shared_ptr<TlsServerContext> tls,
        Duration handshake_timeout = Duration::Seconds(10))
      : server(NodePrivateKey::Generate(rng), rng),
        host(loop, server, [this] { Drain(); }, Options(handshake_timeout)) {
    at = tls ? host.ListenTls(kLoopbackAnyPort, tls) : host.Listen(kLoopbackAnyPort);
  }
  Host::Options Options(Duration handshake_timeout) {
    Host::Options o;
    o.tls_handshake_timeout = handshake_timeout;
    o.on_write_blocked = [this](Timestamp now, ConnectionId c) { server.HandleWriteBlocked(now, c); };
    o.on_writable = [this](Timestamp now, ConnectionId c) { server.HandleWritable(now, c); };
    o.on_tls_failure = [this](const Endpoint&, const std::string& why) { tls_failures.push_back(why); };
    return o;
  }
  void Drain() {
    while (auto ev = server.PollEvent()) {
      if (const auto* c = std::get_if<derp::ClientConnected>(&*ev)) conn_of[c->key] = c->conn;
    }
  }
  derp::Server server;
  Host host;
  Endpoint at;
  std::map<NodePublicKey, ConnectionId> conn_of;
  std::vector<std::string> tls_failures;
};

struct Client {
  Client(EventLoop& loop, RandomSource& rng, derp::ClientConfig config,
         std::optional<NodePrivateKey> key = std::nullopt)
      : client(key ? std::move(*key) : NodePrivateKey::Generate(rng), rng, std::move(config)),
        host(loop, client, [this] { Drain(); }, Options()) {
    client.Start(MonotonicNow());
    host.Drain();
  }
  Host::Options Options() {
    Host::Options o;
    o.on_tls_failure = [this](const Endpoint&, const std::string& why) { tls_failures.push_back(why); };
    return o;
  }
  void Drain() {
    while (auto ev = client.PollEvent()) {
      if (auto* r = std::get_if<derp::Received>(&*ev)) received.push_back(std::move(*r));
      if (auto* d = std::get_if<derp::Disconnected>(&*ev)) lost.push_back(d->reason);
    }
  }
  void Send(const NodePublicKey& to, const std::string& text) {
    ASSERT_TRUE(client.Send(MonotonicNow(), to, Text(text)));
    host.Drain();
  }
  derp::Client client;
  Host host;
  std::vector<derp::Received> received;
  std::vector<std::string> lost;
  std::vector<std::string> tls_failures;
};

derp::ClientConfig Dial(const Endpoint& server, std::optional<TlsDial> tls) {
  derp::ClientConfig c;
  c.server = server;
  c.tls = std::move(tls);
  c.initial_backoff = Duration::Millis(20);
  c.max_backoff = Duration::Millis(100);
  return c;
}

TlsDial Pinned(const std::string& pin) {
  TlsDial d;
  d.cert_name = pin;
  return d;
}

TEST(DerpTls, PinnedCertificateRelaysBothWays) {
  EventLoop loop;
  OsRandom rng;
  Relay relay(loop, rng, LoopbackCert());
  Client a(loop, rng, Dial(relay.at, Pinned(LoopbackCert()->CertPin())));
  Client b(loop, rng, Dial(relay.at, Pinned(LoopbackCert()->CertPin())));
  ASSERT_TRUE(RunUntil(loop, [&] { return a.client.connected() && b.client.connected(); }));
  a.Send(b.client.public_key(), "a->b");
  b.Send(a.client.public_key(), "b->a");
  // 200 KiB in one write: many TLS records, the host's queue under them.
  const Bytes big(60000, 0x5a);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(a.client.Send(MonotonicNow(), b.client.public_key(), big));
  a.host.Drain();
  ASSERT_TRUE(RunUntil(loop, [&] { return b.received.size() == 5 && a.received.size() == 1; }));
  EXPECT_EQ(b.received[0].data, Text("a->b"));
  EXPECT_EQ(a.received[0].data, Text("b->a"));
  for (size_t i = 1; i < 5; ++i) EXPECT_EQ(b.received[i].data, big);
  EXPECT_EQ(relay.host.tls_stats().handshakes, 2u);
  EXPECT_EQ(a.host.tls_stats().handshakes, 1u);
  EXPECT_EQ(relay.host.tls_stats().failures, 0u);
  EXPECT_EQ(relay.server.stats().protocol_errors, 0u);
}

// A server that logs its keys (the lab's --pcap runs) writes, per TLS 1.3
// session, the NSS key log lines Wireshark reads: the same client random on
// each, and both sides' traffic secrets.
TEST(DerpTls, ServerLogsSessionSecretsInTheKeyLogFormat) {
  const std::string file = ::testing::TempDir() + "derp-tls-keylog-" + std::to_string(getpid());
  std::remove(file.c_str());
  const auto cert = TlsServerContext::SelfSigned("derp.test", {IpAddress::V4(127, 0, 0, 1)});
  cert->LogKeysTo(file);
  EventLoop loop;
  OsRandom rng;
  Relay relay(loop, rng, cert);
  Client a(loop, rng, Dial(relay.at, Pinned(cert->CertPin())));
  ASSERT_TRUE(RunUntil(loop, [&] { return a.client.connected(); }));
  std::ifstream in(file);
  std::map<std::string, std::string> random_of;  // label -> client random
  for (std::string line; std::getline(in, line);) {
    const size_t a_space = line.find(' ');
    const size_t b_space = line.find(' ', a_space + 1);
    ASSERT_NE(b_space, std::string::npos) << line;
    const std::string random = line.substr(a_space + 1, b_space - a_space - 1);
    EXPECT_EQ(random.size(), 64u) << line;
    EXPECT_EQ(random.find_first_not_of("0123456789abcdef"), std::string::npos) << line;
    random_of[line.substr(0, a_space)] = random;
  }
  std::remove(file.c_str());
  for (const char* label : {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_HANDSHAKE_TRAFFIC_SECRET",
                            "CLIENT_TRAFFIC_SECRET_0", "SERVER_TRAFFIC_SECRET_0"}) {
    ASSERT_TRUE(random_of.count(label)) << label;
    EXPECT_EQ(random_of[label], random_of["CLIENT_TRAFFIC_SECRET_0"]) << label;
  }
}

TEST(DerpTls, AnotherCertificateThanThePinnedOneIsRefused) {
  EventLoop loop;
  OsRandom rng;
  Relay relay(loop, rng, LoopbackCert());
  const std::string other = TlsServerContext::SelfSigned("derp.test", {})->CertPin();
  Client a(loop, rng, Dial(relay.at, Pinned(other)));
  ASSERT_TRUE(RunUntil(loop, [&] { return a.lost.size() >= 2 && relay.tls_failures.size() >= 2; }));
  EXPECT_FALSE(a.client.connected());
  EXPECT_EQ(a.lost[0], "connect failed");
  ASSERT_FALSE(a.tls_failures.empty());
  EXPECT_NE(a.tls_failures[0].find("is not the pinned " + other), std::string::npos)
      << a.tls_failures[0];
  EXPECT_EQ(a.tls_failures[0], a.host.tls_stats().last_failure);
  EXPECT_GE(a.host.tls_stats().failures, 2u);
  // The server heard the refusal (an alert), and the DERP server nothing.
  EXPECT_NE(relay.tls_failures[0].find("bad certificate"), std::string::npos) << relay.tls_failures[0];
  EXPECT_EQ(relay.server.stats().connections_accepted, 0u);
  EXPECT_EQ(relay.host.ConnectionCount(), 0u);
}

TEST(DerpTls, CertificateCheckedByNameAgainstTheSystemRootsRefusesSelfSigned) {
  EventLoop loop;
  OsRandom rng;
  Relay relay(loop, rng, LoopbackCert());
  TlsDial by_name;
  by_name.cert_name = "derp.test";
  Client a(loop, rng, Dial(relay.at, by_name));
  ASSERT_TRUE(RunUntil(loop, [&] { return !a.tls_failures.empty(); }));
  EXPECT_NE(a.tls_failures[0].find("self-signed"), std::string::npos) << a.tls_failures[0];
  EXPECT_FALSE(a.client.connected());

  TlsDial insecure;
  insecure.insecure_for_tests = true;
  Client b(loop, rng, Dial(relay.at, insecure));
  ASSERT_TRUE(RunUntil(loop, [&] { return b.client.connected(); }));
}

TEST(DerpTls, ServerKeyNotTheMapsIsRefusedOverTls) {
  EventLoop loop;
  OsRandom rng;
  Relay relay(loop, rng, LoopbackCert());
  derp::ClientConfig config = Dial(relay.at, Pinned(LoopbackCert()->CertPin()));
  config.server_key = NodePrivateKey::Generate(rng).Public();
  Client a(loop, rng, config);
  ASSERT_TRUE(RunUntil(loop, [&] { return !a.lost.empty(); }));
  EXPECT_NE(a.lost[0].find("is not the configured"), std::string::npos) << a.lost[0];
  EXPECT_EQ(a.client.stats().server_key_refused, 1u);
  EXPECT_EQ(a.host.tls_stats().handshakes, 1u);  // TLS was fine; the DERP key was not
  EXPECT_EQ(relay.server.stats().clients_registered, 0u);
}

TEST(DerpTls, SilentPeerIsDroppedAfterTheHandshakeTimeout) {
  EventLoop loop;
  OsRandom rng;
  Relay relay(loop, rng, LoopbackCert(), Duration::Millis(200));
  ScriptedPeer silent(loop, relay.at);
  ASSERT_TRUE(RunUntil(loop, [&] { return silent.closed(); }));
  ASSERT_EQ(relay.tls_failures.size(), 1u);
  EXPECT_EQ(relay.tls_failures[0], "tls handshake not done within 200ms");
  EXPECT_EQ(relay.server.stats().connections_accepted, 0u);
}

// A man in the middle that forwards both ways and records what the client
// sent: the capture an attacker on the path would replay.
class Tap final : public testsupport::QueuedStreamMachine {
 public:
  Tap(EventLoop& loop, const Endpoint& server) : server_(server), host_(loop, *this) {
    at = host_.Listen(kLoopbackAnyPort);
  }
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) override {
    if (conn >= Host::kFirstAcceptedId) {
      client_ = conn;
      Queue(StreamAction::Connect(kUpstream, server_));
    }
  }
  void HandleStream(Timestamp, ConnectionId conn, ByteView bytes) override {
    if (conn == client_) {
      captured.insert(captured.end(), bytes.begin(), bytes.end());
      Queue(StreamAction::Write(kUpstream, Bytes(bytes.begin(), bytes.end())));
    } else {
      Queue(StreamAction::Write(client_, Bytes(bytes.begin(), bytes.end())));
    }
  }
  void HandleClosed(Timestamp, ConnectionId) override {}

  Endpoint at;
  Bytes captured;

 private:
  static constexpr ConnectionId kUpstream = 1;
  Endpoint server_;
  ConnectionId client_ = 0;
  Host host_;
};

// Packets relayed to a raw peer: RecvPacket frames after the 101 head.
size_t RecvPackets(const Bytes& received) {
  derp::HttpHeadReader http;
  if (http.Feed(received) != derp::HttpHeadReader::State::kDone) return 0;
  derp::FrameReader frames;
  frames.Feed(http.TakeRest());
  size_t n = 0;
  while (auto f = frames.Next()) n += f->type == derp::FrameType::kRecvPacket;
  return n;
}

struct ReplayOutcome {
  size_t victim_received = 0;
  size_t replayer_received = 0;
  bool replayer_closed = false;
  uint64_t registrations = 0;
  uint64_t server_tls_failures = 0;
};

// The victim connects through the tap; its captured bytes are replayed on a
// new connection; then a peer sends it 20 packets.
ReplayOutcome Replay(std::shared_ptr<TlsServerContext> tls) {
  EventLoop loop;
  OsRandom rng;
  ReplayOutcome out;
  Relay relay(loop, rng, tls);
  Tap tap(loop, relay.at);
  std::optional<TlsDial> dial;
  if (tls) dial = Pinned(tls->CertPin());
  Client victim(loop, rng, Dial(tap.at, dial));
  Client sender(loop, rng, Dial(relay.at, dial));
  EXPECT_TRUE(RunUntil(loop, [&] { return victim.client.connected() && sender.client.connected(); }));
  const NodePublicKey victim_key = victim.client.public_key();
  // Let the handshake's last bytes (ClientInfo and what follows) pass the tap.
  EXPECT_TRUE(RunUntil(loop, [&] { return relay.conn_of.count(victim_key) == 1; }));

  ScriptedPeer replayer(loop, relay.at);
  EXPECT_TRUE(RunUntil(loop, [&] { return replayer.connected(); }));
  replayer.Send(tap.captured);
  // Plain HTTP: the server registers the key a second time (the replay).
  // TLS: the handshake fails and the server closes the connection.
  RunUntil(loop, [&] {
    return relay.server.stats().clients_registered == 3 || replayer.closed();
  });
  for (int i = 0; i < 20; ++i) sender.Send(victim_key, "for the victim " + std::to_string(i));
  RunUntil(loop, [&] {
    return victim.received.size() + RecvPackets(replayer.received()) == 20;
  }, Duration::Seconds(3));
  out.victim_received = victim.received.size();
  out.replayer_received = RecvPackets(replayer.received());
  out.replayer_closed = replayer.closed();
  out.registrations = relay.server.stats().clients_registered;
  out.server_tls_failures = relay.host.tls_stats().failures;
  return out;
}

TEST(DerpTls, ReplayedClientInfoTakesOverTheKeyOverPlainHttp) {
  // What plain HTTP still exposes (docs/PROTOCOL.md): the server cannot tell
  // a replayed ClientInfo from the victim's, and the newest connection for a
  // key gets its packets.
  const ReplayOutcome r = Replay(nullptr);
  EXPECT_EQ(r.registrations, 3u);
  EXPECT_EQ(r.replayer_received, 20u);
  EXPECT_EQ(r.victim_received, 0u);
}

TEST(DerpTls, ReplayOverTlsFailsAndTheVictimKeepsItsPackets) {
  const ReplayOutcome r = Replay(LoopbackCert());
  EXPECT_TRUE(r.replayer_closed);
  EXPECT_EQ(r.server_tls_failures, 1u);
  EXPECT_EQ(r.registrations, 2u);  // the victim and the sender, nobody else
  EXPECT_EQ(r.replayer_received, 0u);
  EXPECT_EQ(r.victim_received, 20u);
}

}  // namespace
}  // namespace punchlab::realio
