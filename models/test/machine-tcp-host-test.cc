// MachineHost against trivial test-only machines (an echo server and the
// scripted client of relay-test-world.h) on a point-to-point link: accepted
// ids, in-order delivery, partial writes through a small TCP send buffer,
// close after flush, peer close, refused connects, the timer, backpressure
// hooks and the output bound.
#include "model/machine-host.h"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "model/punchlab-ns3-convert.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "test/relay-test-world.h"
#include "test/two-node-link.h"

namespace ns3 {
namespace {

using punchlab::ConnectionId;
using punchlab::Endpoint;
using punchlab::Timestamp;
using relaytest::ScriptedStream;

constexpr ConnectionId kFirstAccepted = MachineHost::kFirstAcceptedId;

// Patterned bytes (0, 1, ..., 250, 0, ...): a lost, duplicated or reordered
// chunk shows up as a mismatch.
punchlab::Bytes Pattern(size_t n) {
  punchlab::Bytes out(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i % 251);
  return out;
}

// Accepts connections, echoes what it reads (unless told not to), can greet
// every connection with a blob and close it at once, wakes at the instants
// listed, and records every call the host makes.
class ServerMachine : public punchlab::StreamMachine {
 public:
  void HandleConnected(Timestamp, ConnectionId conn, const Endpoint& remote) override {
    accepted.emplace_back(conn, remote);
    if (!greeting.empty()) actions.push_back(punchlab::StreamAction::Write(conn, greeting));
    if (closeAfterGreeting) actions.push_back(punchlab::StreamAction::Close(conn, "test"));
  }
  void HandleStream(Timestamp, ConnectionId conn, punchlab::ByteView bytes) override {
    punchlab::Bytes& in = received[conn];
    in.insert(in.end(), bytes.begin(), bytes.end());
    if (echo) actions.push_back(punchlab::StreamAction::Write(conn, {bytes.begin(), bytes.end()}));
  }
  void HandleClosed(Timestamp now, ConnectionId conn) override { closed.emplace_back(conn, now); }
  void HandleTimeout(Timestamp now) override {
    fired.push_back(now);
    while (!wakeups.empty() && wakeups.front() <= now) wakeups.pop_front();
  }
  std::optional<punchlab::StreamAction> PollStreamAction() override {
    if (actions.empty()) return std::nullopt;
    punchlab::StreamAction a = std::move(actions.front());
    actions.pop_front();
    return a;
  }
  std::optional<Timestamp> PollTimeout() const override {
    if (wakeups.empty()) return std::nullopt;
    return wakeups.front();
  }

  bool echo = true;
  punchlab::Bytes greeting;
  bool closeAfterGreeting = false;
  std::deque<Timestamp> wakeups;
  std::deque<punchlab::StreamAction> actions;
  std::vector<std::pair<ConnectionId, Endpoint>> accepted;
  std::map<ConnectionId, punchlab::Bytes> received;
  std::vector<std::pair<ConnectionId, Timestamp>> closed;
  std::vector<Timestamp> fired;
};

// client 10.1.1.1 --p2p 10 Mbps, 5 ms-- 10.1.1.2 server
class MachineTcpHostTest : public ::testing::Test {
 protected:
  MachineTcpHostTest() {
    TypeId::AttributeInformation info;
    TcpSocket::GetTypeId().LookupAttributeByName("SndBufSize", &info);
    m_defaultSndBuf = info.initialValue;
    nodes = twonode::BuildTwoNodeLink("10Mbps", MilliSeconds(5)).nodes;
  }
  ~MachineTcpHostTest() override {
    for (auto& host : hosts) host->Dispose();
    Simulator::Destroy();
    Config::SetDefault("ns3::TcpSocket::SndBufSize", *m_defaultSndBuf);
  }

  static void SetSendBuffer(uint32_t bytes) {
    Config::SetDefault("ns3::TcpSocket::SndBufSize", UintegerValue(bytes));
  }

  Ptr<MachineHost> Host(uint32_t node, punchlab::StreamMachine& machine) {
    hosts.push_back(CreateObject<MachineHost>(nodes.Get(node), &machine));
    return hosts.back();
  }
  // The server host, listening on 10.1.1.2:7000.
  Ptr<MachineHost> Server() {
    Ptr<MachineHost> host = Host(1, server);
    EXPECT_EQ(host->Listen(kServer), kServer);
    return host;
  }
  // The client host; at `at` it connects as conn 1 and writes `greeting`.
  Ptr<MachineHost> Client(Time at, punchlab::Bytes greeting) {
    return Client(at, greeting, kServer);
  }
  Ptr<MachineHost> Client(Time at, punchlab::Bytes greeting, Endpoint to) {
    Ptr<MachineHost> host = Host(0, client);
    Simulator::Schedule(at, [this, host, to, greeting]() {
      client.Connect(1, to, greeting);
      host->Drain();
    });
    return host;
  }

  const Endpoint kClientIp = *Endpoint::Parse("10.1.1.1:0");
  const Endpoint kServer = *Endpoint::Parse("10.1.1.2:7000");
  NodeContainer nodes;
  std::vector<Ptr<MachineHost>> hosts;
  ServerMachine server;
  ScriptedStream client;
  Ptr<const AttributeValue> m_defaultSndBuf;
};

TEST_F(MachineTcpHostTest, AcceptedConnectionGetsAHighIdAndBytesEchoInOrder) {
  Ptr<MachineHost> serverHost = Server();
  const punchlab::Bytes blob = Pattern(100 * 1000);
  Ptr<MachineHost> clientHost = Client(Seconds(1), blob);
  std::vector<std::pair<uint64_t, Endpoint>> connected;
  serverHost->TraceConnectWithoutContext(
      "Connected", Callback<void, uint64_t, const Address&>([&](uint64_t conn, const Address& a) {
        connected.emplace_back(conn, ToPunchlabEndpoint(a));
      }));
  Simulator::Run();

  ASSERT_EQ(server.accepted.size(), 1u);
  EXPECT_EQ(server.accepted[0].first, kFirstAccepted);
  EXPECT_EQ(server.accepted[0].second.ip, kClientIp.ip);
  ASSERT_EQ(connected.size(), 1u);
  EXPECT_EQ(connected[0], server.accepted[0]);
  EXPECT_EQ(server.received[kFirstAccepted], blob);
  EXPECT_EQ(client.received[1], blob);
  EXPECT_TRUE(client.connected.count(1));
  EXPECT_TRUE(client.closedAt.empty());
  EXPECT_TRUE(server.closed.empty());
  EXPECT_EQ(serverHost->GetConnectionCount(), 1u);
  EXPECT_EQ(serverHost->GetCounters().accepted, 1u);
  EXPECT_EQ(serverHost->GetCounters().bytesRead, blob.size());
  EXPECT_EQ(serverHost->GetCounters().bytesWritten, blob.size());
  EXPECT_EQ(clientHost->GetCounters().connectsStarted, 1u);
  EXPECT_EQ(clientHost->GetCounters().bytesWritten, blob.size());
  EXPECT_EQ(clientHost->GetCounters().bytesRead, blob.size());
}

TEST_F(MachineTcpHostTest, SmallSendBufferSplitsAWriteAndKeepsTheRestInOrder) {
  SetSendBuffer(4096);
  server.echo = false;
  Ptr<MachineHost> serverHost = Server();
  const punchlab::Bytes blob = Pattern(200 * 1000);
  Ptr<MachineHost> clientHost = Client(Seconds(1), {});
  std::vector<uint32_t> chunks;
  clientHost->TraceConnectWithoutContext(
      "StreamTx", Callback<void, uint64_t, Ptr<const Packet>>([&](uint64_t conn, Ptr<const Packet> p) {
        EXPECT_EQ(conn, 1u);
        chunks.push_back(p->GetSize());
      }));
  size_t pendingAfterWrite = 0;
  Simulator::Schedule(Seconds(2), [&]() {
    client.Write(1, blob);
    clientHost->Drain();
    pendingAfterWrite = clientHost->GetPendingOutput(1);
  });
  Simulator::Run();

  // The socket took at most its buffer; the host kept the rest.
  EXPECT_GE(pendingAfterWrite, blob.size() - 4096);
  ASSERT_GT(chunks.size(), blob.size() / 4096);
  for (uint32_t c : chunks) EXPECT_LE(c, 4096u);
  EXPECT_EQ(server.received[kFirstAccepted], blob);
  EXPECT_EQ(clientHost->GetPendingOutput(1), 0u);
  EXPECT_EQ(clientHost->GetCounters().bytesWritten, blob.size());
}

TEST_F(MachineTcpHostTest, WritesBeforeTheConnectCompletesGoFirst) {
  server.echo = false;
  Server();
  Ptr<MachineHost> clientHost = Client(Seconds(1), {});
  Simulator::Schedule(Seconds(1), [&]() {
    client.Write(1, punchlab::Bytes{'e', 'a', 'r', 'l', 'y', ' '});
    clientHost->Drain();
  });
  Simulator::Schedule(Seconds(2), [&]() {
    client.Write(1, punchlab::Bytes{'l', 'a', 't', 'e'});
    clientHost->Drain();
  });
  Simulator::Run();
  const punchlab::Bytes& in = server.received[kFirstAccepted];
  EXPECT_EQ(std::string(in.begin(), in.end()), "early late");
}

TEST_F(MachineTcpHostTest, CloseWaitsUntilEveryBufferedByteIsWritten) {
  SetSendBuffer(4096);
  server.echo = false;
  server.greeting = Pattern(300 * 1000);
  server.closeAfterGreeting = true;
  Ptr<MachineHost> serverHost = Server();
  Client(Seconds(1), {});
  std::vector<std::pair<uint64_t, std::string>> closes;
  serverHost->TraceConnectWithoutContext("Closed", Callback<void, uint64_t, const std::string&>(
                                                       [&](uint64_t conn, const std::string& why) {
                                                         closes.emplace_back(conn, why);
                                                       }));
  Simulator::Run();

  EXPECT_EQ(client.received[1], server.greeting);
  ASSERT_TRUE(client.closedAt.count(1));  // the client read the FIN after the last byte
  ASSERT_EQ(closes.size(), 1u);
  EXPECT_EQ(closes[0], std::make_pair(kFirstAccepted, std::string("closed by machine")));
  EXPECT_TRUE(server.closed.empty());  // it asked for the close: no HandleClosed
  EXPECT_EQ(serverHost->GetCounters().closedByMachine, 1u);
  EXPECT_EQ(serverHost->GetCounters().bytesWritten, server.greeting.size());
  EXPECT_EQ(serverHost->GetConnectionCount(), 0u);
}

TEST_F(MachineTcpHostTest, PeerCloseDeliversTheLastBytesThenHandleClosed) {
  server.echo = false;
  Ptr<MachineHost> serverHost = Server();
  Ptr<MachineHost> clientHost = Client(Seconds(1), punchlab::Bytes{'b', 'y', 'e'});
  Simulator::Schedule(Seconds(2), [&]() {
    client.Write(1, punchlab::Bytes{'!'});
    client.Close(1);
    clientHost->Drain();
  });
  Simulator::Run();

  const punchlab::Bytes& in = server.received[kFirstAccepted];
  EXPECT_EQ(std::string(in.begin(), in.end()), "bye!");
  ASSERT_EQ(server.closed.size(), 1u);
  EXPECT_EQ(server.closed[0].first, kFirstAccepted);
  // The FIN follows the last byte one way: 5 ms plus serialization.
  EXPECT_GE(server.closed[0].second, ToPunchlab(Seconds(2) + MilliSeconds(5)));
  EXPECT_LT(server.closed[0].second, ToPunchlab(Seconds(2) + MilliSeconds(6)));
  EXPECT_EQ(serverHost->GetCounters().closedByPeer, 1u);
  EXPECT_EQ(serverHost->GetConnectionCount(), 0u);
  EXPECT_EQ(clientHost->GetCounters().closedByMachine, 1u);
  EXPECT_TRUE(client.closedAt.empty());  // it asked for the close
}

// Nobody listens on 7001. ns-3.37's TCP ignores the RST|ACK that answers a SYN
// (SYN_SENT drops ACK segments without SYN), so the connect fails only when
// the SYN retries run out: ConnTimeout 3 s doubled per retry, ConnCount 6,
// 3+6+12+24+48+96 = 189 s. Machines bound that with their own handshake
// timeouts; the host's part is to report the failure at all.
TEST_F(MachineTcpHostTest, ConnectThatNeverCompletesIsReportedAsClosed) {
  Ptr<MachineHost> clientHost = Client(Seconds(1), {}, *Endpoint::Parse("10.1.1.2:7001"));
  Simulator::Schedule(Seconds(200), [&]() {
    client.Write(1, punchlab::Bytes{'?'});
    clientHost->Drain();
  });
  Simulator::Run();
  EXPECT_TRUE(client.connected.empty());
  ASSERT_TRUE(client.closedAt.count(1));
  EXPECT_EQ(client.closedAt[1], ToPunchlab(Seconds(1 + 189)));
  EXPECT_EQ(clientHost->GetCounters().connectsFailed, 1u);
  EXPECT_EQ(clientHost->GetConnectionCount(), 0u);
  EXPECT_EQ(clientHost->GetCounters().badActions, 1u);  // the write after the failure
}

TEST_F(MachineTcpHostTest, TimerFiresAtTheInstantsAskedForWithOneEventArmed) {
  server.wakeups = {ToPunchlab(Seconds(1.5)), ToPunchlab(Seconds(2.25))};
  Ptr<MachineHost> serverHost = Server();
  Simulator::Schedule(Seconds(1), [&]() { serverHost->Drain(); });
  // A drain in between re-arms instead of adding a second event.
  Simulator::Schedule(Seconds(1.2), [&]() { serverHost->Drain(); });
  Simulator::Run();
  EXPECT_EQ(server.fired,
            (std::vector<Timestamp>{ToPunchlab(Seconds(1.5)), ToPunchlab(Seconds(2.25))}));
  EXPECT_EQ(serverHost->GetCounters().timeouts, 2u);
  EXPECT_EQ(Simulator::Now(), Seconds(2.25));
}

TEST_F(MachineTcpHostTest, BackpressureHooksFireAboveHighWaterAndBelowLowWater) {
  SetSendBuffer(4096);
  server.echo = false;
  server.greeting = Pattern(100 * 1000);
  Ptr<MachineHost> serverHost = Server();
  serverHost->SetAttribute("HighWater", UintegerValue(20000));
  serverHost->SetAttribute("LowWater", UintegerValue(5000));
  std::vector<std::pair<std::string, ConnectionId>> hooks;
  size_t pendingWhenWritable = 0;
  serverHost->SetBackpressureCallbacks(
      Callback<void, Timestamp, ConnectionId>(
          [&](Timestamp, ConnectionId conn) { hooks.emplace_back("blocked", conn); }),
      Callback<void, Timestamp, ConnectionId>([&](Timestamp, ConnectionId conn) {
        hooks.emplace_back("writable", conn);
        pendingWhenWritable = serverHost->GetPendingOutput(conn);
      }));
  Client(Seconds(1), {});
  Simulator::Run();

  EXPECT_EQ(hooks, (std::vector<std::pair<std::string, ConnectionId>>{
                       {"blocked", kFirstAccepted}, {"writable", kFirstAccepted}}));
  EXPECT_LE(pendingWhenWritable, 5000u);
  EXPECT_EQ(serverHost->GetCounters().writeBlocked, 1u);
  EXPECT_EQ(client.received[1], server.greeting);
}

TEST_F(MachineTcpHostTest, OutputAboveMaxOutputClosesTheConnection) {
  SetSendBuffer(4096);
  server.echo = false;
  server.greeting = Pattern(100 * 1000);
  Ptr<MachineHost> serverHost = Server();
  serverHost->SetAttribute("MaxOutput", UintegerValue(50000));
  Client(Seconds(1), {});
  Simulator::Run();

  ASSERT_EQ(server.closed.size(), 1u);
  EXPECT_EQ(server.closed[0].first, kFirstAccepted);
  EXPECT_EQ(serverHost->GetCounters().outputOverflows, 1u);
  EXPECT_TRUE(client.closedAt.count(1));
  EXPECT_LT(client.received[1].size(), server.greeting.size());
}

}  // namespace
}  // namespace ns3
