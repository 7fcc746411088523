#include "test/relay-test-world.h"

#include "ns3/csma-helper.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-global-routing-helper.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/simulator.h"
#include "ns3/string.h"

namespace ns3 {
namespace relaytest {

RelayWorld::RelayWorld() {
  a.Create(3);
  b.Create(2);
  routerA = CreateObject<Node>();
  routerB = CreateObject<Node>();
  core = CreateObject<Node>();
  derp = CreateObject<Node>();
  control = CreateObject<Node>();
  NodeContainer all(a, b);
  all.Add(NodeContainer(routerA, routerB, core));
  all.Add(NodeContainer(derp, control));
  InternetStackHelper internet;
  internet.Install(all);

  CsmaHelper lan;
  lan.SetChannelAttribute("DataRate", StringValue("100Mbps"));
  lan.SetChannelAttribute("Delay", TimeValue(MilliSeconds(1)));
  PointToPointHelper wan;
  wan.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
  wan.SetChannelAttribute("Delay", TimeValue(MilliSeconds(10)));

  NetDeviceContainer lanA = lan.Install(NodeContainer(routerA, a));
  NetDeviceContainer lanB = lan.Install(NodeContainer(routerB, b));
  NetDeviceContainer services = lan.Install(NodeContainer(core, derp, control));
  NetDeviceContainer wanA = wan.Install(routerA, core);
  NetDeviceContainer wanB = wan.Install(routerB, core);

  Ipv4AddressHelper ip;
  ip.SetBase("10.1.1.0", "255.255.255.0");
  ip.Assign(lanA);  // routerA .1, a0 .2, a1 .3, a2 .4
  ip.SetBase("10.2.1.0", "255.255.255.0");
  ip.Assign(lanB);
  ip.SetBase("10.0.1.0", "255.255.255.252");
  ip.Assign(wanA);
  ip.SetBase("10.0.2.0", "255.255.255.252");
  ip.Assign(wanB);
  // core .1, derp .10, control .20
  ip.SetBase("203.0.113.0", "255.255.255.0");
  ip.Assign(services.Get(0));
  ip.SetBase("203.0.113.0", "255.255.255.0", "0.0.0.10");
  ip.Assign(services.Get(1));
  ip.SetBase("203.0.113.0", "255.255.255.0", "0.0.0.20");
  ip.Assign(services.Get(2));
  Ipv4GlobalRoutingHelper::PopulateRoutingTables();

  int64_t stream = 0;
  stream += internet.AssignStreams(all, stream);
  NetDeviceContainer csma(lanA, lanB);
  csma.Add(services);
  lan.AssignStreams(csma, stream);
}

void ScriptedStream::Connect(punchlab::ConnectionId conn, const punchlab::Endpoint& remote,
                             punchlab::Bytes greeting, std::optional<punchlab::TlsDial> tls) {
  m_greetings[conn] = std::move(greeting);
  Queue(punchlab::StreamAction::Connect(conn, remote, std::move(tls)));
}

void ScriptedStream::Write(punchlab::ConnectionId conn, punchlab::Bytes bytes) {
  Queue(punchlab::StreamAction::Write(conn, std::move(bytes)));
}

void ScriptedStream::Close(punchlab::ConnectionId conn) {
  Queue(punchlab::StreamAction::Close(conn, "script"));
}

void ScriptedStream::HandleConnected(punchlab::Timestamp, punchlab::ConnectionId conn,
                                     const punchlab::Endpoint&) {
  connected.insert(conn);
  auto it = m_greetings.find(conn);
  if (it != m_greetings.end() && !it->second.empty()) Write(conn, it->second);
}

void ScriptedStream::HandleStream(punchlab::Timestamp, punchlab::ConnectionId conn,
                                  punchlab::ByteView bytes) {
  punchlab::Bytes& in = received[conn];
  in.insert(in.end(), bytes.begin(), bytes.end());
}

void ScriptedStream::HandleClosed(punchlab::Timestamp now, punchlab::ConnectionId conn) {
  closedAt[conn] = now;
}

TypeId StreamActor::GetTypeId() {
  static TypeId tid = TypeId("ns3::relaytest::StreamActor")
                          .SetParent<Application>()
                          .SetGroupName("Punchlab")
                          .AddConstructor<StreamActor>();
  return tid;
}

void StreamActor::StartApplication() {
  m_host = CreateObject<MachineHost>(GetNode(), &m_script);
}

void StreamActor::ConnectAt(Time at, punchlab::ConnectionId conn, const punchlab::Endpoint& remote,
                            punchlab::Bytes greeting, std::optional<punchlab::TlsDial> tls) {
  Simulator::Schedule(at - Simulator::Now(), [this, conn, remote, greeting, tls]() {
    m_script.Connect(conn, remote, greeting, tls);
    m_host->Drain();
  });
}

void StreamActor::WriteAt(Time at, punchlab::ConnectionId conn, punchlab::Bytes bytes) {
  Simulator::Schedule(at - Simulator::Now(), [this, conn, bytes]() {
    m_script.Write(conn, bytes);
    m_host->Drain();
  });
}

void StreamActor::DoDispose() {
  if (m_host) {
    m_host->Dispose();
    m_host = nullptr;
  }
  Application::DoDispose();
}

Ptr<StreamActor> InstallStreamActor(Ptr<Node> node) {
  Ptr<StreamActor> actor = CreateObject<StreamActor>();
  node->AddApplication(actor);
  return actor;
}

punchlab::Bytes ToBytes(const std::string& text) {
  return punchlab::Bytes(text.begin(), text.end());
}

std::string ToText(Ptr<const Packet> packet) {
  std::string text(packet->GetSize(), '\0');
  packet->CopyData(reinterpret_cast<uint8_t*>(text.data()), packet->GetSize());
  return text;
}

}  // namespace relaytest
}  // namespace ns3
