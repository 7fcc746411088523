// The shared test world (tests/support/) on its own: the NAT behaviours the
// node tests rely on, additive latency, hairpinning, loss, streams.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/mini-nat.h"
#include "support/queued-datagram.h"
#include "support/queued-stream.h"
#include "support/virtual-world.h"

namespace punchlab {
namespace testsupport {
namespace {

Endpoint Ep(const char* text) { return *Endpoint::Parse(text); }
IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }
Timestamp At(Duration d) { return Timestamp::Zero() + d; }
const Duration kS = Duration::Seconds(1);

const Endpoint kIn = Ep("10.0.0.2:5000");
const Endpoint kServer1 = Ep("198.51.100.1:3478");
const Endpoint kServer2 = Ep("198.51.100.2:3478");

TEST(MiniNat, EndpointIndependentMappingReusesOnePort) {
  MiniNat nat(Ip("192.0.2.1"), NatConfig::PortRestrictedCone(), 1);
  const auto m1 = nat.Outbound(At(kS), kIn, kServer1);
  const auto m2 = nat.Outbound(At(kS), kIn, kServer2);
  ASSERT_TRUE(m1 && m2);
  EXPECT_EQ(*m1, *m2);
  EXPECT_EQ(*m1, Ep("192.0.2.1:5000"));  // port preserved
}

TEST(MiniNat, SymmetricMappingGivesEachDestinationItsOwnPort) {
  MiniNat nat(Ip("192.0.2.1"), NatConfig::Symmetric(), 1);
  const auto m1 = nat.Outbound(At(kS), kIn, kServer1);
  const auto m2 = nat.Outbound(At(kS), kIn, kServer2);
  const auto m3 = nat.Outbound(At(kS), kIn, Ep("198.51.100.1:3479"));
  ASSERT_TRUE(m1 && m2 && m3);
  EXPECT_NE(m1->port, m2->port);
  EXPECT_NE(m1->port, m3->port);
  EXPECT_EQ(nat.Outbound(At(kS), kIn, kServer1), m1);
  EXPECT_EQ(nat.MappingCount(At(kS)), 3u);
}

TEST(MiniNat, FilteringDecidesWhoGetsIn) {
  const Endpoint same_ip_other_port = Ep("198.51.100.1:9999");
  const Endpoint stranger = Ep("203.0.113.9:1");
  struct Case {
    NatConfig config;
    bool same_ip_other_port_in;
    bool stranger_in;
  };
  for (const Case& c : {Case{NatConfig::FullCone(), true, true},
                        Case{NatConfig::RestrictedCone(), true, false},
                        Case{NatConfig::PortRestrictedCone(), false, false}}) {
    MiniNat nat(Ip("192.0.2.1"), c.config, 1);
    const uint16_t port = nat.Outbound(At(kS), kIn, kServer1)->port;
    EXPECT_EQ(nat.Inbound(At(kS), kServer1, port), kIn) << c.config.ToString();
    EXPECT_EQ(nat.Inbound(At(kS), same_ip_other_port, port).has_value(), c.same_ip_other_port_in)
        << c.config.ToString();
    EXPECT_EQ(nat.Inbound(At(kS), stranger, port).has_value(), c.stranger_in)
        << c.config.ToString();
    EXPECT_FALSE(nat.Inbound(At(kS), kServer1, static_cast<uint16_t>(port + 1)));
  }
}

TEST(MiniNat, MappingsTimeOutUnlessRefreshedAndFlushForgetsThem) {
  NatConfig config = NatConfig::PortRestrictedCone();
  config.ports = PortAssignment::kSequential;
  MiniNat nat(Ip("192.0.2.1"), config, 1);
  const uint16_t port = nat.Outbound(At(kS), kIn, kServer1)->port;
  // Inbound does not refresh (the default): the flow dies timeout after the
  // last outbound packet.
  EXPECT_TRUE(nat.Inbound(At(kS) + config.mapping_timeout - Duration::Nanos(1), kServer1, port));
  EXPECT_FALSE(nat.Inbound(At(kS) + config.mapping_timeout, kServer1, port));
  // Outbound keeps it alive.
  const uint16_t port2 = nat.Outbound(At(kS * 100), kIn, kServer1)->port;
  EXPECT_NE(port2, port);  // a new mapping, next sequential port
  nat.Outbound(At(kS * 120), kIn, kServer1);
  EXPECT_TRUE(nat.Inbound(At(kS * 140), kServer1, port2));
  nat.Flush();
  EXPECT_FALSE(nat.Inbound(At(kS * 140), kServer1, port2));
  EXPECT_NE(nat.Outbound(At(kS * 140), kIn, kServer1)->port, port2);
}

// Ports come from the NAT library's pool (nat/port-pool.h), as NatTable's do.
TEST(MiniNat, PreservedPortTakenFallsBackToTheNextPortUpward) {
  MiniNat nat(Ip("192.0.2.1"), NatConfig::PortRestrictedCone(), 1);
  const auto first = nat.Outbound(At(kS), Ep("10.0.0.2:41641"), kServer1);
  const auto second = nat.Outbound(At(kS), Ep("10.0.0.3:41641"), kServer1);
  EXPECT_EQ(first->port, 41641);
  EXPECT_EQ(second->port, 41642);
}

// Port preservation with a mapping per destination: one inside socket keeps
// its port towards every destination, sharing one binding (NatTable's rule).
TEST(MiniNat, PreservingSymmetricNatSharesThePortAcrossDestinations) {
  NatConfig config = NatConfig::Symmetric();
  config.ports = PortAssignment::kPreserve;
  MiniNat nat(Ip("192.0.2.1"), config, 1);
  const auto to1 = nat.Outbound(At(kS), kIn, kServer1);
  const auto to2 = nat.Outbound(At(kS), kIn, kServer2);
  ASSERT_TRUE(to1 && to2);
  EXPECT_EQ(to1->port, kIn.port);
  EXPECT_EQ(to2->port, kIn.port);
  EXPECT_EQ(nat.MappingCount(At(kS)), 2u);
  // Another inside socket with the same port gets a port of its own.
  const auto other = nat.Outbound(At(kS), Ep("10.0.0.3:5000"), kServer1);
  EXPECT_EQ(other->port, kIn.port + 1);
  // Both mappings end with the binding's last flow, and the port is free again.
  const Timestamp later = At(kS) + config.mapping_timeout;
  EXPECT_EQ(nat.MappingCount(later), 0u);
  EXPECT_EQ(nat.Outbound(later, Ep("10.0.0.3:5000"), kServer2)->port,
            kIn.port);
}

// Echoes every datagram back to its sender and remembers when it arrived.
class Echo final : public testsupport::QueuedDatagramMachine {
 public:
  explicit Echo(bool reply) : reply_(reply) {}
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override {
    seen.push_back({now, remote, payload.ToBytes()});
    if (reply_) Queue(Transmit{local, remote, payload.ToBytes()});
  }
  void Send(const Endpoint& from, const Endpoint& to, const std::string& text) {
    Queue(Transmit{from, to, Bytes(text.begin(), text.end())});
  }

  struct Seen {
    Timestamp at;
    Endpoint remote;
    Bytes payload;
  };
  std::vector<Seen> seen;

 private:
  bool reply_;
};

TEST(VirtualWorld, DatagramsCrossNatsWithAdditiveLatency) {
  VirtualWorld w;
  const NatId nat = w.AddNat("nat", VirtualWorld::kInternet, Ip("192.0.2.1"),
                             NatConfig::PortRestrictedCone(), LinkParams{Duration::Millis(10), 0});
  const HostId client = w.AddHost("client", w.InsideOf(nat), {kIn.ip}, {Duration::Millis(1), 0});
  const HostId server = w.AddHost("server", VirtualWorld::kInternet, {kServer1.ip},
                                  {Duration::Millis(5), 0});
  Echo c(false);
  Echo s(true);
  const MachineId cm = w.Attach(client, {"client", &c, nullptr, {kIn}, {}, {}});
  w.Attach(server, {"server", &s, nullptr, {kServer1}, {}, {}});
  w.Do(cm, [&](Timestamp) { c.Send(kIn, kServer1, "hi"); });
  w.RunUntil(At(kS));
  ASSERT_EQ(s.seen.size(), 1u);
  EXPECT_EQ(s.seen[0].at, At(Duration::Millis(16)));  // 1 + 10 + 5
  EXPECT_EQ(s.seen[0].remote, Ep("192.0.2.1:5000"));  // translated
  ASSERT_EQ(c.seen.size(), 1u);
  EXPECT_EQ(c.seen[0].at, At(Duration::Millis(32)));
  EXPECT_EQ(c.seen[0].remote, kServer1);
  // A stranger's datagram to the mapping is filtered.
  Echo stranger(false);
  const HostId sh = w.AddHost("stranger", VirtualWorld::kInternet, {Ip("203.0.113.9")});
  const MachineId sm = w.Attach(sh, {"stranger", &stranger, nullptr, {Ep("203.0.113.9:1")}, {}, {}});
  w.Do(sm, [&](Timestamp) { stranger.Send(Ep("203.0.113.9:1"), Ep("192.0.2.1:5000"), "x"); });
  w.RunFor(kS);
  EXPECT_EQ(c.seen.size(), 1u);
  EXPECT_EQ(w.stats().datagrams_nat_dropped, 1u);
}

TEST(VirtualWorld, HairpinOnlyWhenTheNatAllowsIt) {
  for (bool hairpin : {false, true}) {
    VirtualWorld w;
    NatConfig config = NatConfig::FullCone();
    config.hairpin = hairpin;
    const NatId nat = w.AddNat("nat", VirtualWorld::kInternet, Ip("192.0.2.1"), config);
    const Endpoint a = Ep("10.0.0.2:7"), b = Ep("10.0.0.3:7");
    const HostId ha = w.AddHost("a", w.InsideOf(nat), {a.ip});
    const HostId hb = w.AddHost("b", w.InsideOf(nat), {b.ip});
    Echo ea(false), eb(false);
    const MachineId ma = w.Attach(ha, {"a", &ea, nullptr, {a}, {}, {}});
    const MachineId mb = w.Attach(hb, {"b", &eb, nullptr, {b}, {}, {}});
    // b opens a mapping (to anywhere); a sends to it via the public address.
    w.Do(mb, [&](Timestamp) { eb.Send(b, kServer1, "open"); });
    w.RunFor(kS);
    const auto b_public = w.nat(nat).ExistingMapping(w.now(), b, kServer1);
    ASSERT_TRUE(b_public);
    w.Do(ma, [&](Timestamp) { ea.Send(a, *b_public, "hairpin"); });
    w.RunFor(kS);
    ASSERT_EQ(eb.seen.size(), hairpin ? 1u : 0u);
    if (hairpin) {
      EXPECT_EQ(eb.seen[0].remote.ip, Ip("192.0.2.1"));  // seen as the NAT
    }
  }
}

TEST(VirtualWorld, LossIsSeededAndPartial) {
  auto run = [](uint64_t seed) {
    VirtualWorld w(seed);
    const HostId h1 = w.AddHost("1", VirtualWorld::kInternet, {kServer1.ip}, {Duration::Millis(1), 0.5});
    const HostId h2 = w.AddHost("2", VirtualWorld::kInternet, {kServer2.ip});
    Echo e1(false), e2(false);
    const MachineId m1 = w.Attach(h1, {"1", &e1, nullptr, {kServer1}, {}, {}});
    w.Attach(h2, {"2", &e2, nullptr, {kServer2}, {}, {}});
    w.Do(m1, [&](Timestamp) {
      for (int i = 0; i < 1000; ++i) e1.Send(kServer1, kServer2, std::to_string(i));
    });
    w.RunFor(kS);
    std::vector<std::string> got;
    for (const auto& s : e2.seen) got.emplace_back(s.payload.begin(), s.payload.end());
    return got;
  };
  const auto a = run(3);
  EXPECT_GT(a.size(), 400u);
  EXPECT_LT(a.size(), 600u);
  EXPECT_EQ(run(3), a);
  EXPECT_NE(run(4), a);
}

TEST(VirtualWorld, InterceptRewritesOrDropsWhatMachinesSend) {
  VirtualWorld w;
  const HostId h1 = w.AddHost("1", VirtualWorld::kInternet, {kServer1.ip});
  const HostId h2 = w.AddHost("2", VirtualWorld::kInternet, {kServer2.ip});
  Echo e1(false), e2(false);
  const MachineId m1 = w.Attach(h1, {"1", &e1, nullptr, {kServer1}, {}, {}});
  w.Attach(h2, {"2", &e2, nullptr, {kServer2}, {}, {}});
  w.intercept = [](MachineId, Transmit& t) {
    if (t.payload == Bytes{'d'}) return false;
    t.destination = kServer2;  // everything else goes to 2
    return true;
  };
  w.Do(m1, [&](Timestamp) {
    e1.Send(kServer1, Ep("192.0.2.99:1"), "r");
    e1.Send(kServer1, kServer2, "d");
  });
  w.RunFor(kS);
  ASSERT_EQ(e2.seen.size(), 1u);
  EXPECT_EQ(e2.seen[0].payload, Bytes{'r'});
  EXPECT_EQ(w.stats().datagrams_intercepted, 1u);
}

// Records everything a stream machine is told; a client also connects and
// writes on command.
class Pipe final : public QueuedStreamMachine {
 public:
  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override {
    log.push_back("connected " + std::to_string(conn) + " " + remote.ToString() + " @" +
                  (now - Timestamp::Zero()).ToString());
  }
  void HandleStream(Timestamp now, ConnectionId, ByteView bytes) override {
    log.push_back("data " + std::string(bytes.begin(), bytes.end()) + " @" +
                  (now - Timestamp::Zero()).ToString());
  }
  void HandleClosed(Timestamp now, ConnectionId conn) override {
    log.push_back("closed " + std::to_string(conn) + " @" + (now - Timestamp::Zero()).ToString());
  }

  std::vector<std::string> log;
};

TEST(VirtualWorld, StreamsConnectCarryBytesInOrderAndClose) {
  VirtualWorld w;
  w.capture_streams = true;
  w.max_segment = 3;
  const NatId nat = w.AddNat("nat", VirtualWorld::kInternet, Ip("192.0.2.1"),
                             NatConfig::Symmetric(), LinkParams{Duration::Millis(10), 0});
  const HostId hc = w.AddHost("c", w.InsideOf(nat), {kIn.ip}, {Duration::Millis(1), 0});
  const HostId hs = w.AddHost("s", VirtualWorld::kInternet, {Ip("203.0.113.1")},
                              {Duration::Millis(4), 0});
  Pipe client, server;
  const Endpoint listen = Ep("203.0.113.1:443");
  const MachineId mc = w.Attach(hc, {"c", nullptr, &client, {}, {}, {}});
  w.Attach(hs, {"s", nullptr, &server, {}, {listen}, {}});
  w.Do(mc, [&](Timestamp) {
    client.Queue(StreamAction::Connect(7, listen));
    client.Queue(StreamAction::Connect(8, Ep("203.0.113.1:80")));
  });
  w.RunFor(kS);
  // One way is 1 + 10 + 4 = 15 ms; the server sees the NAT's address.
  ASSERT_EQ(server.log.size(), 1u);
  EXPECT_EQ(server.log[0].rfind("connected ", 0), 0u);
  EXPECT_NE(server.log[0].find(" 192.0.2.1:"), std::string::npos);
  EXPECT_NE(server.log[0].find("@15ms"), std::string::npos);
  EXPECT_EQ(client.log, (std::vector<std::string>{"connected 7 203.0.113.1:443 @30ms",
                                                  "closed 8 @30ms"}));
  w.Do(mc, [&](Timestamp) {
    client.Queue(StreamAction::Write(7, Bytes{'a', 'b', 'c', 'd', 'e'}));
    client.Queue(StreamAction::Close(7, "done"));
  });
  w.RunFor(kS);
  EXPECT_EQ(server.log[1], "data abc @1015ms");
  EXPECT_EQ(server.log[2], "data de @1015ms");
  EXPECT_EQ(server.log[3].rfind("closed ", 0), 0u);
  const auto links = w.StreamLinksTo(listen);
  ASSERT_EQ(links.size(), 1u);
  EXPECT_EQ(w.StreamBytesToServer(links[0]), (Bytes{'a', 'b', 'c', 'd', 'e'}));
  EXPECT_EQ(w.stats().streams_opened, 1u);
  EXPECT_EQ(w.stats().streams_refused, 1u);
}

// A listener can stop and start accepting; what it accepted stays, and the
// world tells which server-side id each accepted link has.
TEST(VirtualWorld, UnlistenRefusesNewStreamsKeepsAcceptedOnesAndListenRestores) {
  VirtualWorld w;
  const HostId hc = w.AddHost("c", VirtualWorld::kInternet, {Ip("198.51.100.1")},
                              {Duration::Millis(2), 0});
  const HostId hs = w.AddHost("s", VirtualWorld::kInternet, {Ip("203.0.113.1")},
                              {Duration::Millis(3), 0});
  Pipe client, server;
  const Endpoint listen = Ep("203.0.113.1:443");
  const MachineId mc = w.Attach(hc, {"c", nullptr, &client, {}, {}, {}});
  const MachineId ms = w.Attach(hs, {"s", nullptr, &server, {}, {listen}, {}});
  auto connect = [&](ConnectionId conn) {
    w.Do(mc, [&](Timestamp) { client.Queue(StreamAction::Connect(conn, listen)); });
  };
  connect(1);
  w.RunFor(kS);
  const StreamLinkId first = w.StreamLinksFrom(mc).back();
  ASSERT_TRUE(w.StreamServerConn(first));
  const std::string accepted = "connected " + std::to_string(*w.StreamServerConn(first)) + " ";
  EXPECT_EQ(server.log.at(0).rfind(accepted, 0), 0u);

  w.Unlisten(listen);
  connect(2);
  w.RunFor(kS);
  // Refused after the round trip to the server's host (2 x 5 ms).
  EXPECT_EQ(client.log.back(), "closed 2 @1010ms");
  EXPECT_FALSE(w.StreamServerConn(w.StreamLinksFrom(mc).back()));
  EXPECT_TRUE(w.StreamOpenAtServer(first));

  w.Listen(ms, listen);
  connect(3);
  w.RunFor(kS);
  EXPECT_EQ(client.log.back(), "connected 3 203.0.113.1:443 @2010ms");
  EXPECT_EQ(w.stats().streams_opened, 2u);
  EXPECT_EQ(w.stats().streams_refused, 1u);
  EXPECT_THROW(w.Listen(ms, Ep("198.51.100.1:443")), std::logic_error);
}

}  // namespace
}  // namespace testsupport
}  // namespace punchlab
