#include "helper/classify-topology.h"

#include "helper/nat-helper.h"
#include "helper/stun-helper.h"
#include "ns3/abort.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

namespace ns3 {

namespace {

// The server listens before the client sends its first probe.
const Time kClientStart = MilliSeconds(100);
// Probe steps that wait one after the other besides the extra sockets' probes:
// test I, filtering (two probes at once), mapping II, mapping III, hairpin.
constexpr int64_t kSequentialSteps = 5;

NetDeviceContainer Link(Ptr<Node> a, Ptr<Node> b, Time delay, const char* rate) {
  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", StringValue(rate));
  p2p.SetChannelAttribute("Delay", TimeValue(delay));
  return p2p.Install(a, b);
}

// Addresses `devices` (a, b) of one /24 `network` with host parts `a` and `b`.
void Assign(const NetDeviceContainer& devices, const char* network, const char* a,
            const char* b) {
  Ipv4AddressHelper helper;
  helper.SetBase(network, "255.255.255.0", a);
  helper.Assign(NetDeviceContainer(devices.Get(0)));
  helper.SetBase(network, "255.255.255.0", b);
  helper.Assign(NetDeviceContainer(devices.Get(1)));
}

uint32_t InterfaceOf(Ptr<NetDevice> device) {
  return device->GetNode()->GetObject<Ipv4>()->GetInterfaceForDevice(device);
}

// A default route via `gateway`, out of `device`.
void DefaultRoute(Ptr<NetDevice> device, const char* gateway) {
  Ipv4StaticRoutingHelper routing;
  routing.GetStaticRouting(device->GetNode()->GetObject<Ipv4>())
      ->SetDefaultRoute(Ipv4Address(gateway), InterfaceOf(device));
}

}  // namespace

ClassifyTopology::ClassifyTopology(const ClassifyTopologyConfig& config) : m_config(config) {
  m_nodes.Create(4);
  InternetStackHelper stack;
  stack.SetRoutingHelper(Ipv4StaticRoutingHelper());
  stack.SetIpv6StackInstall(false);
  stack.Install(m_nodes);

  const NetDeviceContainer lan = Link(GetClient(), GetNatNode(), config.lanDelay, "100Mbps");
  const NetDeviceContainer uplink = Link(GetNatNode(), GetRouter(), config.uplinkDelay, "1Gbps");
  const NetDeviceContainer internet =
      Link(GetRouter(), GetServer(), config.internetDelay, "1Gbps");
  Assign(lan, "192.168.1.0", "0.0.0.2", "0.0.0.1");
  Assign(uplink, "203.0.113.0", "0.0.0.1", "0.0.0.254");
  Assign(internet, "198.51.100.0", "0.0.0.254", "0.0.0.1");
  Ptr<Ipv4> serverIp = GetServer()->GetObject<Ipv4>();
  serverIp->AddAddress(InterfaceOf(internet.Get(1)),
                       Ipv4InterfaceAddress(ServerAlternateAddress(), Ipv4Mask("255.255.255.0")));

  DefaultRoute(lan.Get(0), "192.168.1.1");
  DefaultRoute(internet.Get(1), "198.51.100.254");
  // Before the NAT: the middlebox wraps the routing the node has when installed.
  DefaultRoute(uplink.Get(0), "203.0.113.254");
  NatHelper nat;
  nat.SetNat(config.nat);
  nat.SetSeed(config.seed);
  m_nat = nat.Install(GetNatNode(), InterfaceOf(lan.Get(1)), InterfaceOf(uplink.Get(0)));

  StunServerHelper server(ServerPrimaryAddress(), kServerPrimaryPort);
  server.SetAlternate(ServerAlternateAddress(), kServerAlternatePort);
  m_server = DynamicCast<StunServerApplication>(server.Install(GetServer()).Get(0));
  m_server->SetStartTime(Seconds(0));

  m_discovery = CreateObject<NatDiscoveryApplication>();
  m_discovery->SetAttribute("ServerAddress", AddressValue(ServerPrimaryAddress()));
  m_discovery->SetAttribute("ServerPort", UintegerValue(kServerPrimaryPort));
  m_discovery->SetAttribute("ExtraSockets", UintegerValue(config.extraSockets));
  m_discovery->SetAttribute("Deadline", TimeValue(config.probeDeadline));
  m_discovery->SetAttribute("Seed", UintegerValue(config.seed));
  GetClient()->AddApplication(m_discovery);
  m_discovery->SetStartTime(kClientStart);
  m_discovery->TraceConnectWithoutContext("Report",
                                          MakeCallback(&ClassifyTopology::OnReport, this));

  m_stopTime = kClientStart +
               config.probeDeadline * (kSequentialSteps + int64_t{config.extraSockets}) +
               Seconds(1);
}

void ClassifyTopology::OnReport(const punchlab::stun::NatReport&) {
  // Nothing else in this world matters once the report is in (NAT expiry
  // timers would otherwise keep the simulation going).
  Simulator::Stop();
}

punchlab::stun::NatReport ClassifyTopology::Run() {
  Simulator::Stop(m_stopTime);
  Simulator::Run();
  const std::optional<punchlab::stun::NatReport>& report = m_discovery->GetReport();
  NS_ABORT_MSG_UNLESS(report, "ClassifyTopology: no NAT report by " << m_stopTime.As(Time::S));
  return *report;
}

punchlab::stun::NatReport ClassifyNat(const ClassifyTopologyConfig& config) {
  punchlab::stun::NatReport report;
  {
    ClassifyTopology topology(config);
    report = topology.Run();
  }
  Simulator::Destroy();
  return report;
}

}  // namespace ns3
