// The DERP applications in ns-3 (relay-test-world.h: two LANs behind
// routers, the DERP server on the services LAN): clients on different LANs
// exchange packets through the relay; a forged ClientInfo is refused; a
// client that disappears produces PeerGone for those that received from it; garbage
// on a connection closes only that connection; and the DERP server answers
// STUN on UDP. Every connection, raw ones included, runs the modelled TLS
// handshake first (the server's default, as the lab's).
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "helper/derp-helper.h"
#include "helper/stun-helper.h"
#include "model/derp-client-application.h"
#include "model/derp-server-application.h"
#include "model/punchlab-ns3-convert.h"
#include "model/tls-model.h"
#include "model/stun-client-application.h"
#include "ns3/inet-socket-address.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"
#include "punchlab/crypto/box.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/frames.h"
#include "punchlab/derp/http-upgrade.h"
#include "test/relay-test-world.h"

namespace ns3 {
namespace {

using punchlab::NodePrivateKey;
using punchlab::NodePublicKey;
using punchlab::derp::PeerGoneReason;
using relaytest::InstallStreamActor;
using relaytest::RelayWorld;
using relaytest::StreamActor;
using relaytest::ToBytes;
using relaytest::ToText;

struct Received {
  Time at;
  NodePublicKey source;
  std::string text;
};

// What one client application saw, from its trace sources.
struct ClientLog {
  std::vector<Time> connected;
  std::vector<std::string> disconnected;
  std::vector<Received> received;
  std::vector<std::pair<NodePublicKey, PeerGoneReason>> gone;

  std::vector<std::string> TextsFrom(const NodePublicKey& source) const {
    std::vector<std::string> out;
    for (const auto& r : received) {
      if (r.source == source) out.push_back(r.text);
    }
    return out;
  }
};

// HTTP upgrade + a ClientInfo claiming `claimed`, its box sealed by `sealer`.
punchlab::Bytes RawHandshake(const NodePrivateKey& sealer, const NodePublicKey& claimed,
                             const NodePublicKey& server, punchlab::RandomSource& rng) {
  punchlab::Bytes out = punchlab::derp::BuildUpgradeRequest("derp");
  auto shared = punchlab::SharedKey::Compute(sealer, server);
  punchlab::derp::AppendFrame(
      out, punchlab::derp::ClientInfoFrame{claimed, shared->Seal(rng, ToBytes("{\"version\":2}"))});
  return out;
}

// The frames a raw client received after the server's HTTP response.
std::vector<punchlab::derp::Frame> FramesAfterHttp(const punchlab::Bytes& received) {
  punchlab::derp::HttpHeadReader http;
  if (http.Feed(received) != punchlab::derp::HttpHeadReader::State::kDone) return {};
  punchlab::derp::FrameReader reader;
  reader.Feed(http.TakeRest());
  std::vector<punchlab::derp::Frame> out;
  while (auto f = reader.Next()) out.push_back(std::move(*f));
  return out;
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class DerpRelayTest : public ::testing::Test {
 protected:
  DerpRelayTest() {
    DerpServerHelper helper(RelayWorld::DerpAddress());
    server = DynamicCast<DerpServerApplication>(helper.Install(world.derp).Get(0));
    server->TraceConnectWithoutContext("ProtocolError",
                                       Callback<void, uint64_t, const std::string&>(
                                           [this](uint64_t conn, const std::string& reason) {
                                             protocolErrors.emplace_back(conn, reason);
                                           }));
    server->TraceConnectWithoutContext("ClientDisconnected",
                                       Callback<void, const NodePublicKey&, const std::string&>(
                                           [this](const NodePublicKey& key, const std::string&) {
                                             serverSawLeave.push_back(key);
                                           }));
    // Clients reconnect and servers send keepalives forever.
    Simulator::Stop(Seconds(10));
  }
  ~DerpRelayTest() override { Simulator::Destroy(); }

  // A client pinned to the server's key (known before the run).
  Ptr<DerpClientApplication> InstallClient(Ptr<Node> node) {
    DerpClientHelper helper(RelayWorld::DerpAddress());
    helper.SetServerKey(server->GetPublicKey());
    auto app = DynamicCast<DerpClientApplication>(helper.Install(node).Get(0));
    ClientLog& log = logs[PeekPointer(app)];
    app->TraceConnectWithoutContext(
        "Connected", Callback<void, const NodePublicKey&>([this, &log](const NodePublicKey& key) {
          EXPECT_EQ(key, server->GetPublicKey());
          log.connected.push_back(Simulator::Now());
        }));
    app->TraceConnectWithoutContext(
        "Disconnected", Callback<void, const std::string&>(
                            [&log](const std::string& why) { log.disconnected.push_back(why); }));
    app->TraceConnectWithoutContext(
        "Rx", Callback<void, const NodePublicKey&, Ptr<const Packet>>(
                  [&log](const NodePublicKey& source, Ptr<const Packet> p) {
                    log.received.push_back({Simulator::Now(), source, ToText(p)});
                  }));
    app->TraceConnectWithoutContext("PeerGone",
                                    Callback<void, const NodePublicKey&, PeerGoneReason>(
                                        [&log](const NodePublicKey& peer, PeerGoneReason reason) {
                                          log.gone.emplace_back(peer, reason);
                                        }));
    return app;
  }

  void SendAt(Time at, Ptr<DerpClientApplication> from, Ptr<DerpClientApplication> to,
              const std::string& text) {
    const NodePublicKey destination = to->GetPublicKey();
    Simulator::Schedule(at, [from, destination, text]() {
      EXPECT_TRUE(from->Send(destination, ToBytes(text))) << text;
    });
  }

  const ClientLog& Log(Ptr<DerpClientApplication> app) { return logs[PeekPointer(app)]; }

  const punchlab::Endpoint kDerp{ToPunchlab(RelayWorld::DerpAddress()), 443};
  // Raw connections speak the server's (modelled) TLS first, as any client.
  const punchlab::TlsDial kTls = [] {
    punchlab::TlsDial dial;
    dial.insecure_for_tests = true;
    return dial;
  }();
  RelayWorld world;
  Ptr<DerpServerApplication> server;
  std::map<DerpClientApplication*, ClientLog> logs;
  std::vector<std::pair<uint64_t, std::string>> protocolErrors;
  std::vector<NodePublicKey> serverSawLeave;
};

TEST_F(DerpRelayTest, TwoClientsOnDifferentLansExchangePacketsThroughTheRelay) {
  Ptr<DerpClientApplication> a = InstallClient(world.a.Get(0));
  Ptr<DerpClientApplication> b = InstallClient(world.b.Get(0));
  SendAt(Seconds(1), a, b, "hello");
  SendAt(Seconds(1), b, a, "world!");
  Simulator::Run();

  EXPECT_EQ(Log(a).connected.size(), 1u);
  EXPECT_EQ(Log(b).connected.size(), 1u);
  EXPECT_EQ(Log(b).TextsFrom(a->GetPublicKey()), std::vector<std::string>{"hello"});
  EXPECT_EQ(Log(a).TextsFrom(b->GetPublicKey()), std::vector<std::string>{"world!"});
  // Client -> relay -> client: each leg is LAN + WAN + services LAN (12 ms) one way.
  const Time arrival = Log(b).received.at(0).at;
  EXPECT_GE(arrival, Seconds(1) + MilliSeconds(24));
  EXPECT_LT(arrival, Seconds(1) + MilliSeconds(30));

  EXPECT_EQ(server->GetStats().clients_registered, 2u);
  EXPECT_EQ(server->GetStats().packets_relayed, 2u);
  EXPECT_EQ(server->GetStats().bytes_relayed, 11u);
  EXPECT_EQ(server->GetClientCount(), 2u);
  auto seenA = server->FindClient(a->GetPublicKey());
  ASSERT_TRUE(seenA);
  EXPECT_EQ(seenA->remote.ip, ToPunchlab(RelayWorld::A(0)));
  EXPECT_GE(seenA->conn, MachineHost::kFirstAcceptedId);
  EXPECT_EQ(a->GetStats().packets_received, 1u);
  EXPECT_EQ(a->GetStats().packets_sent, 1u);
  EXPECT_TRUE(protocolErrors.empty());
}

TEST_F(DerpRelayTest, ForgedClientInfoIsRefusedAndTheVictimKeepsItsSession) {
  Ptr<DerpClientApplication> victim = InstallClient(world.a.Get(0));
  Ptr<DerpClientApplication> peer = InstallClient(world.b.Get(0));
  Ptr<StreamActor> forger = InstallStreamActor(world.a.Get(2));
  punchlab::DeterministicRandom rng(99);
  const NodePrivateKey attacker = NodePrivateKey::Generate(rng);
  forger->ConnectAt(Seconds(1), 1, kDerp,
                    RawHandshake(attacker, victim->GetPublicKey(), server->GetPublicKey(), rng),
                    kTls);
  SendAt(Seconds(2), peer, victim, "still yours");
  uint64_t victimConn = 0;
  Simulator::Schedule(Seconds(0.5),
                      [&]() { victimConn = server->FindClient(victim->GetPublicKey())->conn; });
  Simulator::Run();

  EXPECT_TRUE(forger->IsClosed(1));
  auto frames = FramesAfterHttp(forger->Script().received.at(1));
  ASSERT_EQ(frames.size(), 1u);  // ServerKey, and no ServerInfo
  EXPECT_EQ(frames[0].type, punchlab::derp::FrameType::kServerKey);
  ASSERT_EQ(protocolErrors.size(), 1u);
  EXPECT_TRUE(Contains(protocolErrors[0].second, "does not open with the claimed key"))
      << protocolErrors[0].second;
  EXPECT_EQ(server->GetStats().protocol_errors, 1u);
  EXPECT_EQ(server->GetStats().clients_registered, 2u);

  // The victim's session was never touched.
  ASSERT_NE(victimConn, 0u);
  EXPECT_EQ(server->FindClient(victim->GetPublicKey())->conn, victimConn);
  EXPECT_EQ(Log(victim).TextsFrom(peer->GetPublicKey()), std::vector<std::string>{"still yours"});
  EXPECT_TRUE(Log(victim).disconnected.empty());
}

// As derpserver: PeerGone(disconnected) to those that were relayed packets
// from the client that left; PeerGone(not here) only for disco-looking packets.
TEST_F(DerpRelayTest, ClientThatDisappearsProducesPeerGoneForThoseThatReceivedFromIt) {
  Ptr<DerpClientApplication> a = InstallClient(world.a.Get(0));
  Ptr<DerpClientApplication> b = InstallClient(world.b.Get(0));
  Ptr<DerpClientApplication> c = InstallClient(world.a.Get(1));
  SendAt(Seconds(1), a, b, "ping");
  SendAt(Seconds(1.5), b, a, "pong");
  a->SetStopTime(Seconds(3));
  SendAt(Seconds(4), c, a, "anyone?");  // data: dropped, not answered
  // Disco magic "TS" U+1F4AC, then room for the sender key and the nonce.
  SendAt(Seconds(4.5), c, a, std::string("TS\xf0\x9f\x92\xac") + std::string(60, 'k'));
  Simulator::Run();

  ASSERT_EQ(serverSawLeave.size(), 1u);
  EXPECT_EQ(serverSawLeave[0], a->GetPublicKey());
  // b received from a: told it left.
  EXPECT_EQ(Log(b).gone, (std::vector<std::pair<NodePublicKey, PeerGoneReason>>{
                             {a->GetPublicKey(), PeerGoneReason::kDisconnected}}));
  // c never did: told only when it sends disco to a key that is not there.
  EXPECT_EQ(Log(c).gone, (std::vector<std::pair<NodePublicKey, PeerGoneReason>>{
                             {a->GetPublicKey(), PeerGoneReason::kNotHere}}));
  EXPECT_EQ(server->GetClientCount(), 2u);
  EXPECT_EQ(server->GetStats().peer_gone_disconnected_sent, 1u);
  EXPECT_EQ(server->GetStats().packets_dropped_unknown_dest, 2u);
}

TEST_F(DerpRelayTest, GarbageClosesOnlyItsOwnConnection) {
  Ptr<DerpClientApplication> a = InstallClient(world.a.Get(0));
  Ptr<DerpClientApplication> b = InstallClient(world.b.Get(0));
  Ptr<StreamActor> raw = InstallStreamActor(world.a.Get(2));
  // Not an HTTP upgrade at all.
  raw->ConnectAt(Seconds(1), 1, kDerp, ToBytes("GARBAGE / SMTP/9\r\n\r\n"), kTls);
  // A proper client session, then a frame header announcing 4 GiB.
  punchlab::DeterministicRandom rng(7);
  const NodePrivateKey own = NodePrivateKey::Generate(rng);
  raw->ConnectAt(Seconds(1), 2, kDerp,
                 RawHandshake(own, own.Public(), server->GetPublicKey(), rng), kTls);
  raw->WriteAt(Seconds(1.5), 2, punchlab::Bytes{0x04, 0xff, 0xff, 0xff, 0xff, 0x00});
  SendAt(Seconds(2), a, b, "unaffected");
  SendAt(Seconds(2), b, a, "likewise");
  Simulator::Run();

  EXPECT_TRUE(raw->IsClosed(1));
  const punchlab::Bytes& refusal = raw->Script().received.at(1);
  EXPECT_TRUE(Contains(std::string(refusal.begin(), refusal.end()), "426"));
  EXPECT_TRUE(raw->IsClosed(2));
  ASSERT_EQ(protocolErrors.size(), 2u);
  EXPECT_EQ(server->GetStats().protocol_errors, 2u);
  // The second one had registered: its key left with its connection.
  ASSERT_EQ(serverSawLeave.size(), 1u);
  EXPECT_EQ(serverSawLeave[0], own.Public());

  EXPECT_EQ(Log(b).TextsFrom(a->GetPublicKey()), std::vector<std::string>{"unaffected"});
  EXPECT_EQ(Log(a).TextsFrom(b->GetPublicKey()), std::vector<std::string>{"likewise"});
  EXPECT_TRUE(Log(a).disconnected.empty());
  EXPECT_TRUE(Log(b).disconnected.empty());
  EXPECT_EQ(server->GetClientCount(), 2u);
}

// A client that completes its handshake and then never reads: its TCP window
// closes, the server's socket fills, the host reports the connection
// blocked, the relay queues SendQueueDepth frames for it and drops the rest;
// packets between the others still flow.
TEST_F(DerpRelayTest, ClientThatStopsReadingCostsBoundedMemoryAndOthersStillFlow) {
  Ptr<DerpClientApplication> a = InstallClient(world.a.Get(0));
  Ptr<DerpClientApplication> b = InstallClient(world.b.Get(0));
  punchlab::DeterministicRandom rng(5);
  const NodePrivateKey stalled = NodePrivateKey::Generate(rng);
  const punchlab::Bytes handshake =
      RawHandshake(stalled, stalled.Public(), server->GetPublicKey(), rng);
  // A bare socket with no receive callback: after the TLS handshake (read
  // once, by hand) nothing ever reads its buffer.
  Ptr<Socket> sink = Socket::CreateSocket(world.a.Get(2), TcpSocketFactory::GetTypeId());
  auto tls = punchlab::tlsmodel::Session::Client(kTls);
  auto send = [](Ptr<Socket> s, punchlab::ByteView bytes) {
    s->Send(Create<Packet>(bytes.data(), static_cast<uint32_t>(bytes.size())));
  };
  Simulator::Schedule(Seconds(0.5), [&]() {
    sink->Bind();
    sink->SetConnectCallback(Callback<void, Ptr<Socket>>([&](Ptr<Socket> s) {
                               tls.Start();
                               send(s, tls.Output());
                               tls.ClearOutput();
                             }),
                             MakeNullCallback<void, Ptr<Socket>>());
    sink->Connect(InetSocketAddress(RelayWorld::DerpAddress(), 443));
  });
  // The server's flight is in by then (a round trip is 24 ms).
  Simulator::Schedule(Seconds(0.7), [&]() {
    while (Ptr<Packet> p = sink->Recv()) {
      punchlab::Bytes bytes(p->GetSize());
      p->CopyData(bytes.data(), p->GetSize());
      tls.Feed(bytes);
    }
    ASSERT_TRUE(tls.open());
    punchlab::Bytes out = tls.Output().ToBytes();
    out.insert(out.end(), handshake.begin(), handshake.end());
    send(sink, out);
  });
  constexpr uint32_t kFlood = 1000;
  Simulator::Schedule(Seconds(1), [&]() {
    const punchlab::Bytes packet(1000, 0x5a);
    for (uint32_t i = 0; i < kFlood; ++i) EXPECT_TRUE(a->Send(stalled.Public(), packet));
  });
  SendAt(Seconds(2), a, b, "through");
  SendAt(Seconds(2), b, a, "and back");
  Simulator::Run();

  ASSERT_TRUE(server->FindClient(stalled.Public()));
  const auto& stats = server->GetStats();
  EXPECT_EQ(server->GetTcpCounters().writeBlocked, 1u);
  EXPECT_EQ(server->GetTcpCounters().outputOverflows, 0u);
  EXPECT_GT(stats.packets_dropped_queue_overflow, 0u);
  EXPECT_EQ(server->FindClient(stalled.Public())->queue_overflow_drops,
            stats.packets_dropped_queue_overflow);
  // Every packet was relayed, dropped, or is among the 32 (SendQueueDepth)
  // still queued for the stalled connection.
  EXPECT_EQ(stats.packets_relayed + stats.packets_dropped_queue_overflow + 32, kFlood + 2);
  EXPECT_EQ(Log(b).TextsFrom(a->GetPublicKey()), std::vector<std::string>{"through"});
  EXPECT_EQ(Log(a).TextsFrom(b->GetPublicKey()), std::vector<std::string>{"and back"});
}

TEST_F(DerpRelayTest, DerpServerAnswersStunOnUdp) {
  Ptr<DerpClientApplication> relayed = InstallClient(world.a.Get(0));
  StunClientHelper stun(RelayWorld::DerpAddress(), 3478);
  auto probe = DynamicCast<StunClientApplication>(stun.Install(world.a.Get(0)).Get(0));
  probe->SetStartTime(Seconds(1));
  Simulator::Run();

  auto result = probe->GetLastResult();
  ASSERT_TRUE(result);
  const auto* ok = std::get_if<punchlab::stun::StunSuccess>(&*result);
  ASSERT_NE(ok, nullptr);
  // No NAT on the way: the DERP node saw the client's own address.
  EXPECT_EQ(ok->mapped,
            punchlab::Endpoint(ToPunchlab(RelayWorld::A(0)), probe->GetLocalEndpoint().port));
  EXPECT_EQ(ok->response_source, server->GetStunEndpoint());
  EXPECT_EQ(server->GetStunStats().requests, 1u);
  EXPECT_EQ(server->GetStunStats().success_responses, 1u);
  // The relay beside it is unaffected.
  EXPECT_EQ(Log(relayed).connected.size(), 1u);
}

}  // namespace
}  // namespace ns3
