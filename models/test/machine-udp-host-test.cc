// MachineHost against a trivial test-only machine: timers fire at the exact
// virtual instants asked for, one armed event at a time, the drain order, and
// how `local` / transmit.source map to sockets.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "model/machine-host.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"
#include "test/two-node-link.h"

namespace ns3 {
namespace {

using punchlab::Endpoint;
using punchlab::Timestamp;

Timestamp At(double seconds) { return ToPunchlab(Seconds(seconds)); }

// Echoes every datagram back from the address it arrived on, wakes up at a
// list of instants, and logs every call the host makes into it.
class ScriptedMachine : public punchlab::DatagramMachine {
 public:
  struct Received {
    Timestamp now;
    Endpoint local;
    Endpoint remote;
    std::string payload;
  };

  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      punchlab::ByteView payload) override {
    log.push_back("rx");
    std::string text(payload.begin(), payload.end());
    received.push_back({now, local, remote, text});
    if (echo) {
      Queue(local, remote, "echo:" + text);
      Queue(local, remote, "again:" + text);
    }
  }
  void HandleTimeout(Timestamp now) override {
    log.push_back("timeout");
    fired.push_back(now);
    while (!wakeups.empty() && wakeups.front() <= now) wakeups.pop_front();
  }
  std::optional<punchlab::Transmit> PollTransmit() override {
    if (outbox.empty()) {
      log.push_back("poll-empty");
      return std::nullopt;
    }
    log.push_back("tx");
    punchlab::Transmit t = outbox.front();
    outbox.pop_front();
    return t;
  }
  std::optional<Timestamp> PollTimeout() const override {
    if (wakeups.empty()) return std::nullopt;
    return wakeups.front();
  }

  void Queue(const Endpoint& from, const Endpoint& to, const std::string& text) {
    outbox.push_back({from, to, punchlab::Bytes(text.begin(), text.end())});
  }

  bool echo = true;
  std::deque<Timestamp> wakeups;
  std::deque<punchlab::Transmit> outbox;
  std::vector<Received> received;
  std::vector<Timestamp> fired;
  std::vector<std::string> log;
};

// Two nodes on a 10.1.1.0/24 point-to-point link, 5 ms one way. Anything that
// sends is scheduled inside the run: a node's stack initializes at time 0.
class MachineUdpHostTest : public ::testing::Test {
 protected:
  void SetUp() override { nodes = twonode::BuildTwoNodeLink("1Gbps", MilliSeconds(5)).nodes; }
  void TearDown() override { Simulator::Destroy(); }

  NodeContainer nodes;
  const Endpoint a{punchlab::IpAddress::V4(10, 1, 1, 1), 5000};
  const Endpoint b{punchlab::IpAddress::V4(10, 1, 1, 2), 7000};
};

TEST_F(MachineUdpHostTest, TimeoutsFireAtExactVirtualInstantsOncePerArm) {
  ScriptedMachine m;
  m.wakeups = {At(1.5), Timestamp::FromNanos(2'000'000'001), At(7)};
  auto host = CreateObject<MachineHost>(nodes.Get(0), &m);
  host->Drain();
  Simulator::Run();
  EXPECT_EQ(m.fired, (std::vector<Timestamp>{At(1.5), Timestamp::FromNanos(2'000'000'001), At(7)}));
  EXPECT_EQ(host->GetCounters().timeouts, 3u);
}

TEST_F(MachineUdpHostTest, RearmingCancelsThePreviousTimer) {
  ScriptedMachine m;
  m.wakeups = {At(10)};
  auto host = CreateObject<MachineHost>(nodes.Get(0), &m);
  host->Drain();
  // A command at 1 s moves the wake-up earlier; the 10 s event must go away.
  Simulator::Schedule(Seconds(1), [&] {
    m.wakeups = {At(3)};
    host->Drain();
  });
  Simulator::Run();
  EXPECT_EQ(m.fired, (std::vector<Timestamp>{At(3)}));
  EXPECT_EQ(host->GetCounters().timeouts, 1u);
  // Draining twice without a change must not arm a second event either.
  ScriptedMachine m2;
  m2.wakeups = {At(20)};
  auto host2 = CreateObject<MachineHost>(nodes.Get(1), &m2);
  host2->Drain();
  host2->Drain();
  Simulator::Run();
  EXPECT_EQ(m2.fired, (std::vector<Timestamp>{At(20)}));
  EXPECT_EQ(host2->GetCounters().timeouts, 1u);
}

TEST_F(MachineUdpHostTest, DrainOrderTransmitsThenEventsThenTimer) {
  ScriptedMachine client;
  ScriptedMachine server;
  client.echo = false;
  auto clientHost = CreateObject<MachineHost>(nodes.Get(0), &client);
  auto serverHost = CreateObject<MachineHost>(nodes.Get(1), &server);
  EXPECT_EQ(clientHost->Bind(a), a);
  EXPECT_EQ(serverHost->Bind(b), b);
  serverHost->SetEventCallback(Callback<void>([&server] { server.log.push_back("events"); }));
  client.Queue(a, b, "hello");
  Simulator::ScheduleNow(&MachineHost::Drain, clientHost);
  Simulator::Run();

  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0].local, b);
  EXPECT_EQ(server.received[0].remote, a);
  EXPECT_EQ(server.received[0].payload, "hello");
  EXPECT_EQ(server.log,
            (std::vector<std::string>{"rx", "tx", "tx", "poll-empty", "events"}));

  ASSERT_EQ(client.received.size(), 2u);
  EXPECT_EQ(client.received[0].payload, "echo:hello");
  EXPECT_EQ(client.received[1].payload, "again:hello");
  EXPECT_EQ(client.received[0].local, a);
  EXPECT_EQ(client.received[0].remote, b);
  // Round trip: two 5 ms propagation delays plus microseconds of serialization.
  double rtt = (client.received[0].now - Timestamp::Zero()).millis();
  EXPECT_GE(rtt, 10.0);
  EXPECT_LT(rtt, 10.1);
  EXPECT_EQ(clientHost->GetCounters().txDatagrams, 1u);
  EXPECT_EQ(clientHost->GetCounters().rxDatagrams, 2u);
  EXPECT_EQ(serverHost->GetCounters().txDatagrams, 2u);
}

TEST_F(MachineUdpHostTest, EventCallbackMayCommandAndDrainAgain) {
  ScriptedMachine client;
  ScriptedMachine server;
  client.echo = false;
  server.echo = false;
  auto clientHost = CreateObject<MachineHost>(nodes.Get(0), &client);
  auto serverHost = CreateObject<MachineHost>(nodes.Get(1), &server);
  clientHost->Bind(a);
  serverHost->Bind(b);
  // The "application" answers each datagram with a command from its event
  // callback and drains again from inside the drain.
  struct App {
    ScriptedMachine* m;
    Ptr<MachineHost> host;
    size_t answered = 0;
    void OnEvents() {
      if (answered == m->received.size()) return;
      answered = m->received.size();
      m->Queue(m->received.back().local, m->received.back().remote, "reply");
      m->wakeups = {ToPunchlab(Simulator::Now()) + punchlab::Duration::Millis(50)};
      host->Drain();
    }
  } app{&server, serverHost};
  serverHost->SetEventCallback(MakeCallback(&App::OnEvents, &app));
  client.Queue(a, b, "hi");
  Simulator::ScheduleNow(&MachineHost::Drain, clientHost);
  Simulator::Run();
  ASSERT_EQ(client.received.size(), 1u);
  EXPECT_EQ(client.received[0].payload, "reply");
  // The wake-up set from the nested drain was armed exactly once.
  ASSERT_EQ(server.fired.size(), 1u);
  EXPECT_EQ((server.fired[0] - server.received[0].now), punchlab::Duration::Millis(50));
  EXPECT_EQ(serverHost->GetCounters().timeouts, 1u);
}

TEST_F(MachineUdpHostTest, WildcardBindReportsInterfaceAddressAndRepliesFromIt) {
  ScriptedMachine client;
  ScriptedMachine server;
  client.echo = false;
  auto clientHost = CreateObject<MachineHost>(nodes.Get(0), &client);
  auto serverHost = CreateObject<MachineHost>(nodes.Get(1), &server);
  Endpoint ephemeral = clientHost->Bind(Endpoint(punchlab::IpAddress(), 0));
  EXPECT_TRUE(ephemeral.ip.IsUnspecified());
  EXPECT_NE(ephemeral.port, 0);
  Endpoint wildcard = serverHost->Bind(Endpoint(punchlab::IpAddress(), b.port));
  EXPECT_EQ(wildcard, Endpoint(punchlab::IpAddress(), b.port));

  client.Queue(ephemeral, b, "x");
  Simulator::ScheduleNow(&MachineHost::Drain, clientHost);
  Simulator::Run();

  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0].local, b);  // the interface address, not 0.0.0.0
  EXPECT_EQ(server.received[0].remote, Endpoint(a.ip, ephemeral.port));
  // The echo named source b (an address of the node, the wildcard's port).
  ASSERT_EQ(client.received.size(), 2u);
  EXPECT_EQ(client.received[0].remote, b);
  EXPECT_EQ(client.received[0].local, Endpoint(a.ip, ephemeral.port));
}

TEST_F(MachineUdpHostTest, UnknownSourceIsDroppedAndCounted) {
  ScriptedMachine m;
  auto host = CreateObject<MachineHost>(nodes.Get(0), &m);
  host->Bind(a);
  int drops = 0;
  host->TraceConnectWithoutContext(
      "TxDrop", Callback<void, Ptr<const Packet>, const Address&, const Address&>(
                    [&drops](Ptr<const Packet>, const Address&, const Address&) { ++drops; }));
  m.Queue(Endpoint(a.ip, 5001), b, "wrong port");
  m.Queue(Endpoint(punchlab::IpAddress::V4(10, 9, 9, 9), 5000), b, "not my address");
  m.Queue(a, b, "fine");
  Simulator::ScheduleNow(&MachineHost::Drain, host);
  Simulator::Run();
  EXPECT_EQ(host->GetCounters().txNoSocket, 2u);
  EXPECT_EQ(host->GetCounters().txDatagrams, 1u);
  EXPECT_EQ(drops, 2);
}

TEST_F(MachineUdpHostTest, CloseStopsTimersAndReception) {
  ScriptedMachine client;
  ScriptedMachine server;
  client.echo = false;
  server.wakeups = {At(5)};
  auto clientHost = CreateObject<MachineHost>(nodes.Get(0), &client);
  auto serverHost = CreateObject<MachineHost>(nodes.Get(1), &server);
  clientHost->Bind(a);
  serverHost->Bind(b);
  serverHost->Drain();
  Simulator::Schedule(Seconds(1), [&] { serverHost->Close(); });
  Simulator::Schedule(Seconds(2), [&] {
    client.Queue(a, b, "late");
    clientHost->Drain();
  });
  Simulator::Run();
  EXPECT_TRUE(server.received.empty());
  EXPECT_TRUE(server.fired.empty());
}

TEST(MachineUdpHostV6Test, EchoOverIpv6) {
  NodeContainer nodes;
  nodes.Create(2);
  PointToPointHelper p2p;
  p2p.SetChannelAttribute("Delay", StringValue("2ms"));
  NetDeviceContainer devices = p2p.Install(nodes);
  InternetStackHelper stack;
  stack.Install(nodes);
  Ipv6AddressHelper ipv6;
  ipv6.SetBase(Ipv6Address("2001:db8::"), Ipv6Prefix(64));
  Ipv6InterfaceContainer ifaces = ipv6.Assign(devices);
  ifaces.SetForwarding(0, true);
  const Endpoint a6(ToPunchlab(ifaces.GetAddress(0, 1)), 5000);
  const Endpoint b6(ToPunchlab(ifaces.GetAddress(1, 1)), 7000);

  ScriptedMachine client;
  ScriptedMachine server;
  client.echo = false;
  auto clientHost = CreateObject<MachineHost>(nodes.Get(0), &client);
  auto serverHost = CreateObject<MachineHost>(nodes.Get(1), &server);
  clientHost->Bind(a6);
  serverHost->Bind(Endpoint(punchlab::IpAddress::V6({}), b6.port));
  // Give duplicate address detection time to finish before sending.
  Simulator::Schedule(Seconds(2), [&] {
    client.Queue(a6, b6, "v6");
    clientHost->Drain();
  });
  Simulator::Run();
  ASSERT_EQ(server.received.size(), 1u);
  EXPECT_EQ(server.received[0].local, b6);
  EXPECT_EQ(server.received[0].remote, a6);
  ASSERT_EQ(client.received.size(), 2u);
  EXPECT_EQ(client.received[0].payload, "echo:v6");
  Simulator::Destroy();
}

}  // namespace
}  // namespace ns3
