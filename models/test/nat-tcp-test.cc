// TCP connections through the NAT middlebox, nested NATs (a home NAT behind
// a carrier NAT), and the stateful firewall alone and in front of a NAT.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "model/punchlab-ns3-convert.h"
#include "nat-test-world.h"
#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"

namespace ns3 {
namespace {

using nattest::LanWorld;
using nattest::NestedWorld;
using nattest::UdpActor;

class NatTcpTest : public ::testing::Test {
 protected:
  NatTcpTest() {
    GlobalValue::GetValueByName("ChecksumEnabled", m_checksums);
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
  }
  ~NatTcpTest() override {
    Simulator::Destroy();
    GlobalValue::Bind("ChecksumEnabled", m_checksums);
  }
  static void Run(Time stop) {
    Simulator::Stop(stop);
    Simulator::Run();
  }

 private:
  BooleanValue m_checksums;
};

// Accepts connections, echoes every byte, closes when the peer does.
class TcpEchoServer {
 public:
  TcpEchoServer(Ptr<Node> node, const InetSocketAddress& local) {
    m_listener = Socket::CreateSocket(node, TcpSocketFactory::GetTypeId());
    NS_ABORT_UNLESS(m_listener->Bind(local) == 0);
    m_listener->Listen();
    m_listener->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                                  MakeCallback(&TcpEchoServer::OnAccept, this));
  }
  std::vector<InetSocketAddress> peers;
  uint64_t bytes = 0;

 private:
  void OnAccept(Ptr<Socket> socket, const Address& from) {
    peers.push_back(InetSocketAddress::ConvertFrom(from));
    socket->SetRecvCallback(MakeCallback(&TcpEchoServer::OnRead, this));
    socket->SetCloseCallbacks(MakeCallback(&TcpEchoServer::OnPeerClose, this),
                              MakeCallback(&TcpEchoServer::OnPeerClose, this));
    m_connections.push_back(socket);
  }
  void OnRead(Ptr<Socket> socket) {
    while (Ptr<Packet> packet = socket->Recv()) {
      bytes += packet->GetSize();
      socket->Send(packet);
    }
  }
  void OnPeerClose(Ptr<Socket> socket) { socket->Close(); }

  Ptr<Socket> m_listener;
  std::vector<Ptr<Socket>> m_connections;
};

// Connects at `start`, sends `size` bytes, closes at `close`.
class TcpClient {
 public:
  TcpClient(Ptr<Node> node, const InetSocketAddress& local, const InetSocketAddress& remote,
            uint32_t size, Time start, Time close)
      : m_size(size) {
    m_socket = Socket::CreateSocket(node, TcpSocketFactory::GetTypeId());
    NS_ABORT_UNLESS(m_socket->Bind(local) == 0);
    m_socket->SetConnectCallback(MakeCallback(&TcpClient::OnConnected, this),
                                 MakeCallback(&TcpClient::OnFailed, this));
    m_socket->SetRecvCallback(MakeCallback(&TcpClient::OnRead, this));
    Simulator::Schedule(start, [this, remote]() { m_socket->Connect(remote); });
    Simulator::Schedule(close, [this]() { m_socket->Close(); });
  }
  bool connected = false;
  bool failed = false;
  uint64_t received = 0;

 private:
  void OnConnected(Ptr<Socket> socket) {
    connected = true;
    socket->Send(Create<Packet>(m_size));
  }
  void OnFailed(Ptr<Socket>) { failed = true; }
  void OnRead(Ptr<Socket> socket) {
    while (Ptr<Packet> packet = socket->Recv()) received += packet->GetSize();
  }

  Ptr<Socket> m_socket;
  uint32_t m_size;
};

class NatTcpPresetTest : public NatTcpTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(NatTcpPresetTest, ConnectionWorksAndClosedOnesExpireSoon) {
  NatHelper helper;
  helper.SetNat(GetParam() + ",tcp_transitory_timeout=10s");
  LanWorld w(helper);
  std::vector<Time> expired;
  w.box->TraceConnectWithoutContext(
      "Expired", MakeBoundCallback(+[](std::vector<Time>* log, uint8_t protocol, const Address&,
                                       const Address&) {
                   if (protocol == 6) log->push_back(Simulator::Now());
                 },
                                   &expired));
  TcpEchoServer server(w.server, InetSocketAddress(LanWorld::Server(), 80));
  TcpClient client(w.h1, InetSocketAddress(LanWorld::H1(), 40000),
                   InetSocketAddress(LanWorld::Server(), 80), 20000, Seconds(1), Seconds(3));
  Run(Seconds(20));

  EXPECT_TRUE(client.connected);
  EXPECT_FALSE(client.failed);
  EXPECT_EQ(server.bytes, 20000u);
  EXPECT_EQ(client.received, 20000u);
  ASSERT_EQ(server.peers.size(), 1u);
  EXPECT_EQ(server.peers[0].GetIpv4(), LanWorld::External());
  const punchlab::nat::NatConfig config = w.box->GetNat().config();
  if (config.ports == punchlab::nat::PortAssignment::kPreserve) {
    EXPECT_EQ(server.peers[0].GetPort(), 40000);
  }
  // Closed at 3 s: the mapping goes after the transitory timeout, not 2 h.
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_GT(expired[0], Seconds(13));
  EXPECT_LT(expired[0], Seconds(13.1));
  EXPECT_EQ(w.box->GetPacketCounters().malformed, 0u);
  EXPECT_EQ(w.box->GetNat().counters().filtered, 0u);
}

INSTANTIATE_TEST_SUITE_P(Presets, NatTcpPresetTest,
                         ::testing::Values("port-restricted-cone", "symmetric", "cgnat"),
                         nattest::PresetTestName<::testing::TestParamInfo<std::string>>);

TEST_F(NatTcpTest, NestedNatsTranslateTwice) {
  NatHelper home;
  home.SetNat("port-restricted-cone");
  NatHelper carrier;
  carrier.SetNat("cgnat");
  NestedWorld w(home, carrier);
  const InetSocketAddress s(NestedWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor client(w.h, InetSocketAddress(NestedWorld::H(), 5000), false);
  client.SendAt(Seconds(1), s, "hello");
  TcpEchoServer tcpServer(w.server, InetSocketAddress(NestedWorld::Server(), 80));
  TcpClient tcpClient(w.h, InetSocketAddress(NestedWorld::H(), 40000),
                      InetSocketAddress(NestedWorld::Server(), 80), 5000, Seconds(2), Seconds(4));
  Run(Seconds(5));

  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].from.GetIpv4(), NestedWorld::External());
  ASSERT_EQ(client.received().size(), 1u);
  EXPECT_EQ(client.received()[0].payload, nattest::ToText(server.received()[0].from));
  ASSERT_EQ(tcpServer.peers.size(), 1u);
  EXPECT_EQ(tcpServer.peers[0].GetIpv4(), NestedWorld::External());
  EXPECT_EQ(tcpClient.received, 5000u);
  for (Ptr<NatMiddlebox> box : {w.homeBox, w.cgnatBox}) {
    const punchlab::nat::NatCounters& c = box->GetNat().counters();
    EXPECT_EQ(c.mappings_created, 2u);  // one UDP, one TCP
    EXPECT_GT(c.translated_inbound, 0u);
    EXPECT_EQ(c.filtered + c.no_mapping, 0u);
  }
  // The carrier NAT saw the home NAT's external address as the inside source.
  EXPECT_EQ(w.homeBox->GetExternalAddresses(),
            std::vector<Ipv4Address>{NestedWorld::HomeExternal()});
}

punchlab::nat::FirewallConfig Firewall() {
  punchlab::nat::FirewallConfig config;
  config.timeouts.udp = punchlab::Duration::Seconds(30);
  return config;
}

TEST_F(NatTcpTest, FirewallAloneLetsRepliesInAndBlocksUdpOnCue) {
  NatHelper helper;
  helper.DisableNat();
  helper.SetFirewall(Firewall());
  LanWorld w(helper);
  // No NAT: the server needs a route back to the private LAN.
  Ipv4StaticRoutingHelper routing;
  routing.GetStaticRouting(w.server->GetObject<Ipv4>())
      ->AddNetworkRouteTo(Ipv4Address("10.0.0.0"), Ipv4Mask("/24"), LanWorld::External(), 1);
  const InetSocketAddress s(LanWorld::Server(), 3478);
  const InetSocketAddress stranger(LanWorld::Server(), 4000);
  UdpActor server(w.server, s, true);
  UdpActor other(w.server, stranger, false);
  UdpActor client(w.h1, InetSocketAddress(LanWorld::H1(), 5000), false);
  client.SendAt(Seconds(1), s, "hello");
  other.SendAt(Seconds(2), InetSocketAddress(LanWorld::H1(), 5000), "knock");
  Simulator::Schedule(Seconds(3), &NatMiddlebox::BlockUdp, w.box, true);
  client.SendAt(Seconds(4), s, "blocked");
  TcpEchoServer tcpServer(w.server, InetSocketAddress(LanWorld::Server(), 80));
  TcpClient tcpClient(w.h1, InetSocketAddress(LanWorld::H1(), 40000),
                      InetSocketAddress(LanWorld::Server(), 80), 3000, Seconds(5), Seconds(6));
  Run(Seconds(7));

  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].from.GetIpv4(), LanWorld::H1());  // not translated
  EXPECT_EQ(client.received().size(), 1u);  // the echo; not the knock
  EXPECT_EQ(tcpClient.received, 3000u);     // TCP still flows with UDP blocked
  const punchlab::nat::FirewallCounters& c = w.box->GetFirewall().counters();
  EXPECT_EQ(c.dropped_unsolicited, 1u);
  EXPECT_EQ(c.dropped_udp_blocked, 1u);
  EXPECT_FALSE(w.box->HasNat());
}

TEST_F(NatTcpTest, FirewallInFrontOfAFullConeNatStillDropsStrangers) {
  NatHelper helper;
  helper.SetNat("full-cone");
  helper.SetFirewall(Firewall());
  LanWorld w(helper);
  const InetSocketAddress s(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor other(w.server, InetSocketAddress(LanWorld::Server(), 4000), false);
  UdpActor client(w.h1, InetSocketAddress(LanWorld::H1(), 5000), false);
  client.SendAt(Seconds(1), s, "hello");
  other.SendAt(Seconds(2), InetSocketAddress(LanWorld::External(), 5000), "knock");
  Run(Seconds(3));

  EXPECT_EQ(client.received().size(), 1u);
  EXPECT_EQ(w.box->GetNat().counters().translated_inbound, 2u);  // the NAT let both in...
  EXPECT_EQ(w.box->GetFirewall().counters().dropped_unsolicited, 1u);  // ...the firewall not
}

}  // namespace
}  // namespace ns3
