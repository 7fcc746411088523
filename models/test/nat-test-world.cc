#include "nat-test-world.h"

#include <sstream>

#include "model/punchlab-ns3-convert.h"
#include "ns3/csma-helper.h"
#include "ns3/internet-stack-helper.h"
#include "ns3/ipv4-address-helper.h"
#include "ns3/ipv4-raw-socket-factory.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4.h"
#include "ns3/point-to-point-helper.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

namespace ns3 {
namespace nattest {

InetSocketAddress ParseEndpoint(const std::string& text) {
  auto e = punchlab::Endpoint::Parse(text);
  NS_ABORT_MSG_UNLESS(e, "not an endpoint: " << text);
  return InetSocketAddress::ConvertFrom(ToNs3Address(*e));
}

std::string ToText(const InetSocketAddress& a) {
  std::ostringstream out;
  out << a.GetIpv4() << ":" << a.GetPort();
  return out.str();
}

UdpActor::UdpActor(Ptr<Node> node, const InetSocketAddress& local, bool echo) : m_echo(echo) {
  m_socket = Socket::CreateSocket(node, UdpSocketFactory::GetTypeId());
  NS_ABORT_MSG_IF(m_socket->Bind(local) != 0, "bind " << ToText(local));
  m_socket->SetRecvCallback(MakeCallback(&UdpActor::OnRead, this));
}

UdpActor::~UdpActor() {
  m_socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
  m_socket->Close();
}

void UdpActor::SendAt(Time at, const InetSocketAddress& to, const std::string& payload) {
  Simulator::Schedule(at - Simulator::Now(), [this, to, payload]() {
    m_socket->SendTo(Create<Packet>(reinterpret_cast<const uint8_t*>(payload.data()),
                                    static_cast<uint32_t>(payload.size())),
                     0, to);
  });
}

void UdpActor::SendAt(Time at, const InetSocketAddress& to, uint32_t bytes) {
  Simulator::Schedule(at - Simulator::Now(),
                      [this, to, bytes]() { m_socket->SendTo(Create<Packet>(bytes), 0, to); });
}

size_t UdpActor::CountFrom(const InetSocketAddress& from) const {
  size_t n = 0;
  for (const Datagram& d : m_received) {
    if (d.from.GetIpv4() == from.GetIpv4() && d.from.GetPort() == from.GetPort()) ++n;
  }
  return n;
}

void UdpActor::OnRead(Ptr<Socket> socket) {
  Address from;
  while (Ptr<Packet> packet = socket->RecvFrom(from)) {
    std::string payload(packet->GetSize(), '\0');
    packet->CopyData(reinterpret_cast<uint8_t*>(payload.data()), packet->GetSize());
    const InetSocketAddress sender = InetSocketAddress::ConvertFrom(from);
    m_received.push_back(Datagram{sender, payload, Simulator::Now()});
    if (m_echo) {
      const std::string seen = ToText(sender);
      socket->SendTo(Create<Packet>(reinterpret_cast<const uint8_t*>(seen.data()),
                                    static_cast<uint32_t>(seen.size())),
                     0, sender);
    }
  }
}

void SendRaw(Ptr<Node> from, Ipv4Address to, uint8_t protocol, const std::vector<uint8_t>& bytes) {
  Ptr<Socket> raw = Socket::CreateSocket(from, Ipv4RawSocketFactory::GetTypeId());
  raw->SetAttribute("Protocol", UintegerValue(protocol));
  raw->SendTo(Create<Packet>(bytes.data(), static_cast<uint32_t>(bytes.size())), 0,
              InetSocketAddress(to, 0));
  raw->Close();
}

namespace {

uint32_t InterfaceOf(Ptr<NetDevice> device) {
  return static_cast<uint32_t>(device->GetNode()->GetObject<Ipv4>()->GetInterfaceForDevice(device));
}

void DefaultRoute(Ptr<Node> node, Ipv4Address gateway, Ptr<NetDevice> device) {
  Ipv4StaticRoutingHelper routing;
  routing.GetStaticRouting(node->GetObject<Ipv4>())->SetDefaultRoute(gateway, InterfaceOf(device));
}

NetDeviceContainer Link(Ptr<Node> a, Ptr<Node> b, const char* network) {
  PointToPointHelper p2p;
  p2p.SetDeviceAttribute("DataRate", StringValue("1Gbps"));
  p2p.SetChannelAttribute("Delay", StringValue("5ms"));
  NetDeviceContainer devices = p2p.Install(a, b);
  Ipv4AddressHelper addresses(network, "255.255.255.0");
  addresses.Assign(devices);
  return devices;
}

}  // namespace

LanWorld::LanWorld(const NatHelper& helper) {
  h1 = CreateObject<Node>();
  h2 = CreateObject<Node>();
  nat = CreateObject<Node>();
  server = CreateObject<Node>();
  InternetStackHelper stack;
  stack.SetRoutingHelper(Ipv4StaticRoutingHelper());  // as a scenario world's hosts
  stack.Install(NodeContainer(h1, h2, nat, server));

  CsmaHelper csma;
  csma.SetChannelAttribute("DataRate", StringValue("100Mbps"));
  csma.SetChannelAttribute("Delay", StringValue("1ms"));
  lan = csma.Install(NodeContainer(h1, h2, nat));
  Ipv4AddressHelper lanAddresses("10.0.0.0", "255.255.255.0");
  lanAddresses.Assign(lan);  // h1 .1, h2 .2, nat .3
  NetDeviceContainer internet = Link(nat, server, "203.0.113.0");
  server->GetObject<Ipv4>()->AddAddress(InterfaceOf(internet.Get(1)),
                                        Ipv4InterfaceAddress(Server2(), Ipv4Mask("/24")));

  DefaultRoute(h1, Ipv4Address("10.0.0.3"), lan.Get(0));
  DefaultRoute(h2, Ipv4Address("10.0.0.3"), lan.Get(1));
  box = helper.Install(nat, InterfaceOf(lan.Get(2)), InterfaceOf(internet.Get(0)));
}

NestedWorld::NestedWorld(const NatHelper& homeHelper, const NatHelper& cgnatHelper) {
  h = CreateObject<Node>();
  home = CreateObject<Node>();
  cgnat = CreateObject<Node>();
  server = CreateObject<Node>();
  InternetStackHelper stack;
  stack.SetRoutingHelper(Ipv4StaticRoutingHelper());  // as a scenario world's hosts
  stack.Install(NodeContainer(h, home, cgnat, server));

  NetDeviceContainer lan = Link(home, h, "192.168.1.0");            // home .1, h .2
  NetDeviceContainer carrier = Link(cgnat, home, "100.64.0.0");      // cgnat .1, home .2
  NetDeviceContainer internet = Link(cgnat, server, "203.0.113.0");  // cgnat .1, server .2
  DefaultRoute(h, Ipv4Address("192.168.1.1"), lan.Get(1));
  DefaultRoute(home, Ipv4Address("100.64.0.1"), carrier.Get(1));
  homeBox = homeHelper.Install(home, InterfaceOf(lan.Get(0)), InterfaceOf(carrier.Get(1)));
  cgnatBox = cgnatHelper.Install(cgnat, InterfaceOf(carrier.Get(0)), InterfaceOf(internet.Get(0)));
}

}  // namespace nattest
}  // namespace ns3
