// TcpConnectionIndex: a listening MachineHost's established connections are
// found by 4-tuple, only what the index does not hold (SYNs to the listener)
// goes through ns-3's endpoint list, bytes still arrive in order, and a
// connection that TCP let go leaves the index.
#include "model/tcp-connection-index.h"

#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "model/machine-host.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "support/queued-stream.h"
#include "test/relay-test-world.h"
#include "test/two-node-link.h"

namespace ns3 {
namespace {

using punchlab::ConnectionId;
using punchlab::Endpoint;
using punchlab::Timestamp;

punchlab::Bytes Pattern(size_t n, uint8_t salt) {
  punchlab::Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>((i + salt) % 251);
  return out;
}

// Echoes what it reads; records what it accepted and what closed.
class EchoServer final : public punchlab::testsupport::QueuedStreamMachine {
 public:
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint&) override {
    accepted.push_back(conn);
  }
  void HandleStream(Timestamp, ConnectionId conn, punchlab::ByteView bytes) override {
    Queue(punchlab::StreamAction::Write(conn, {bytes.begin(), bytes.end()}));
  }
  void HandleClosed(Timestamp, ConnectionId conn) override { closed.push_back(conn); }

  std::vector<ConnectionId> accepted;
  std::vector<ConnectionId> closed;
};

// client 10.1.1.1 --p2p 10 Mbps, 5 ms-- 10.1.1.2 server, listening on :7000
class TcpConnectionIndexTest : public ::testing::Test {
 protected:
  TcpConnectionIndexTest() {
    nodes = twonode::BuildTwoNodeLink("10Mbps", MilliSeconds(5)).nodes;
    serverHost = CreateObject<MachineHost>(nodes.Get(1), &server);
    EXPECT_EQ(serverHost->Listen(kServer), kServer);
    clientHost = CreateObject<MachineHost>(nodes.Get(0), &client);
    index = DynamicCast<TcpConnectionIndex>(
        nodes.Get(1)->GetObject<Ipv4>()->GetProtocol(TcpL4Protocol::PROT_NUMBER));
  }
  ~TcpConnectionIndexTest() override {
    clientHost->Dispose();
    serverHost->Dispose();
    Simulator::Destroy();
  }

  void ConnectAt(Time at, ConnectionId conn, punchlab::Bytes greeting) {
    Simulator::Schedule(at, [this, conn, greeting]() {
      client.Connect(conn, kServer, greeting);
      clientHost->Drain();
    });
  }

  const Endpoint kServer = *Endpoint::Parse("10.1.1.2:7000");
  NodeContainer nodes;
  EchoServer server;
  relaytest::ScriptedStream client;
  Ptr<MachineHost> serverHost;
  Ptr<MachineHost> clientHost;
  Ptr<TcpConnectionIndex> index;
};

TEST_F(TcpConnectionIndexTest, EstablishedConnectionsAreFoundByTheIndexAndEchoInOrder) {
  ASSERT_TRUE(index) << "a listening host's node receives TCP through the index";
  // The client does not listen: its node keeps ns-3's TcpL4Protocol.
  EXPECT_FALSE(DynamicCast<TcpConnectionIndex>(
      nodes.Get(0)->GetObject<Ipv4>()->GetProtocol(TcpL4Protocol::PROT_NUMBER)));
  std::map<ConnectionId, punchlab::Bytes> sent;
  for (ConnectionId conn = 1; conn <= 3; ++conn) {
    sent[conn] = Pattern(30 * 1000, static_cast<uint8_t>(conn));
    ConnectAt(Seconds(1) + MilliSeconds(2 * conn), conn, sent[conn]);
  }
  Simulator::Run();

  EXPECT_EQ(server.accepted.size(), 3u);
  for (ConnectionId conn = 1; conn <= 3; ++conn) EXPECT_EQ(client.received[conn], sent[conn]);
  EXPECT_EQ(index->GetIndexedConnections(), 3u);
  // Only the three SYNs met the listener through ns-3's list; everything
  // after them (handshake ACKs, 90 kB of data, ACKs) came through the index.
  EXPECT_EQ(index->GetListSegments(), 3u);
  EXPECT_GT(index->GetIndexedSegments(), 3u * 30u * 1000u / 536u);
}

TEST_F(TcpConnectionIndexTest, AConnectionTcpLetGoLeavesTheIndex) {
  ConnectAt(Seconds(1), 1, punchlab::Bytes{'h', 'i'});
  Simulator::Schedule(Seconds(2), [this]() {
    client.Close(1);
    clientHost->Drain();
  });
  Simulator::Run();  // FIN both ways, then TIME_WAIT on the client

  EXPECT_EQ(client.received[1], (punchlab::Bytes{'h', 'i'}));
  EXPECT_EQ(server.closed, std::vector<ConnectionId>{MachineHost::kFirstAcceptedId});
  EXPECT_EQ(serverHost->GetConnectionCount(), 0u);
  // The server's socket went from LAST_ACK to CLOSED, gave its endpoint back
  // and died: nothing of it is left to be found.
  EXPECT_EQ(index->GetIndexedConnections(), 0u);
}

}  // namespace
}  // namespace ns3
