#include "helper/stun-demo-topology.h"

#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/point-to-point-helper.h"

namespace ns3 {

namespace {

// PPP framing that PointToPointNetDevice adds to every IP datagram.
constexpr uint32_t kPppHeaderBytes = 2;

NetDeviceContainer Link(Ptr<Node> a, Ptr<Node> b, Time delay, DataRate rate) {
  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", DataRateValue(rate));
  p2p.SetChannelAttribute("Delay", TimeValue(delay));
  return p2p.Install(a, b);
}

void Assign(Ptr<NetDevice> device, const char* address, const char* first) {
  Ipv4AddressHelper helper;
  helper.SetBase(address, "255.255.255.0", first);
  helper.Assign(NetDeviceContainer(device));
}

void DefaultRoute(Ptr<Node> node, const char* gateway) {
  Ipv4StaticRoutingHelper routing;
  Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
  routing.GetStaticRouting(ipv4)->SetDefaultRoute(Ipv4Address(gateway), 1);
}

}  // namespace

StunDemoTopology::StunDemoTopology(const StunDemoTopologyConfig& config) : m_config(config) {
  m_nodes.Create(3);
  m_lanDevices = Link(GetClient(), GetRouter(), config.lanDelay, config.lanRate);
  m_internetDevices = Link(GetRouter(), GetServer(), config.internetDelay, config.internetRate);

  InternetStackHelper stack;
  stack.SetRoutingHelper(Ipv4StaticRoutingHelper());
  stack.SetIpv6StackInstall(false);
  stack.Install(m_nodes);

  Assign(m_lanDevices.Get(0), "192.168.1.0", "0.0.0.2");
  Assign(m_lanDevices.Get(1), "192.168.1.0", "0.0.0.1");
  Assign(m_internetDevices.Get(0), "203.0.113.0", "0.0.0.1");
  Assign(m_internetDevices.Get(1), "203.0.113.0", "0.0.0.10");
  Ptr<Ipv4> serverIp = GetServer()->GetObject<Ipv4>();
  serverIp->AddAddress(serverIp->GetInterfaceForDevice(m_internetDevices.Get(1)),
                       Ipv4InterfaceAddress(ServerAlternateAddress(), Ipv4Mask("255.255.255.0")));

  DefaultRoute(GetClient(), "192.168.1.1");
  DefaultRoute(GetServer(), "203.0.113.1");
}

Time StunDemoTopology::GetOneWayDelay() const {
  return m_config.lanDelay + m_config.internetDelay;
}

Time StunDemoTopology::GetSerializationDelay(uint32_t bytes) const {
  return m_config.lanRate.CalculateBytesTxTime(bytes + kPppHeaderBytes) +
         m_config.internetRate.CalculateBytesTxTime(bytes + kPppHeaderBytes);
}

}  // namespace ns3
