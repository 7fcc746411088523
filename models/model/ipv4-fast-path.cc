#include "model/ipv4-fast-path.h"

#include "model/shaped-net-device.h"
#include "ns3/icmpv4-l4-protocol.h"
#include "ns3/inet-socket-address.h"
#include "ns3/object-vector.h"
#include "ns3/ip-l4-protocol.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/udp-header.h"
#include "ns3/udp-l4-protocol.h"

namespace ns3 {

namespace {

Ipv4FastPathCounts g_counts;

}  // namespace

Ipv4FastPathCounts& Ipv4FastPathCountsSoFar() { return g_counts; }

bool TakeIpv4(const Ipv4L3Protocol& l3, Ptr<NetDevice> device, Ptr<const Packet> p,
              Ipv4Arrival* out) {
  const int32_t interface = l3.GetInterfaceForDevice(device);
  if (interface < 0 || !l3.IsUp(static_cast<uint32_t>(interface))) return false;
  out->interface = static_cast<uint32_t>(interface);
  out->packet = p->Copy();
  out->checksums = Node::ChecksumEnabled();
  if (out->checksums) out->header.EnableChecksum();
  out->packet->RemoveHeader(out->header);
  if (out->header.GetPayloadSize() < out->packet->GetSize()) {
    out->packet->RemoveAtEnd(out->packet->GetSize() - out->header.GetPayloadSize());
  }
  return out->header.IsChecksumOk();
}

void EnableLocalFastPath(Ptr<Node> node) {
  Ptr<Ipv4L3Protocol> l3 = node->GetObject<Ipv4L3Protocol>();
  Ptr<Ipv4StaticRouting> routing =
      l3 ? DynamicCast<Ipv4StaticRouting>(l3->GetRoutingProtocol()) : nullptr;
  if (!routing || node->GetObject<Ipv4LocalFastPath>()) return;
  Ptr<Ipv4LocalFastPath> fast = CreateObject<Ipv4LocalFastPath>(l3, routing);
  node->AggregateObject(fast);
  for (uint32_t i = 0; i < node->GetNDevices(); ++i) {
    Ptr<ShapedNetDevice> device = DynamicCast<ShapedNetDevice>(node->GetDevice(i));
    if (device) device->SetFastReceiveCallback(MakeCallback(&Ipv4LocalFastPath::Receive, fast));
  }
}

NS_OBJECT_ENSURE_REGISTERED(Ipv4LocalFastPath);

TypeId Ipv4LocalFastPath::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::Ipv4LocalFastPath").SetParent<Object>().SetGroupName("Punchlab");
  return tid;
}

Ipv4LocalFastPath::Ipv4LocalFastPath(Ptr<Ipv4L3Protocol> l3, Ptr<Ipv4StaticRouting> routing)
    : m_l3(l3), m_routing(routing) {}

void Ipv4LocalFastPath::DoDispose() {
  m_l3 = nullptr;
  m_routing = nullptr;
  m_udpReceivers.clear();
  Object::DoDispose();
}

bool Ipv4LocalFastPath::AddUdpReceiver(Ptr<Socket> socket, UdpReceiver receiver) {
  Address name;
  if (!m_l3 || socket->GetSockName(name) != 0 || !InetSocketAddress::IsMatchingType(name)) {
    return false;
  }
  const InetSocketAddress bound = InetSocketAddress::ConvertFrom(name);
  const Ipv4Address address = bound.GetIpv4();
  if (address == Ipv4Address::GetAny() || bound.GetPort() == 0 || socket->GetBoundNetDevice()) {
    ++g_counts.receivers_refused;
    return false;
  }
  // The node's other UDP sockets, from UdpL4Protocol's socket list (its
  // endpoints are private): none may be bound to this address and port.
  Ptr<UdpL4Protocol> udp = m_l3->GetObject<UdpL4Protocol>();
  ObjectVectorValue sockets;
  if (!udp) return false;
  udp->GetAttribute("SocketList", sockets);
  for (auto it = sockets.Begin(); it != sockets.End(); ++it) {
    Ptr<Socket> other = DynamicCast<Socket>(it->second);
    Address otherName;
    if (!other || other == socket || other->GetSockName(otherName) != 0 ||
        !InetSocketAddress::IsMatchingType(otherName)) {
      continue;
    }
    const InetSocketAddress o = InetSocketAddress::ConvertFrom(otherName);
    if (o.GetIpv4() == address && o.GetPort() == bound.GetPort()) {
      ++g_counts.receivers_refused;
      return false;
    }
  }
  m_udpReceivers[{address.Get(), bound.GetPort()}] = UdpEntry{socket, receiver};
  return true;
}

void Ipv4LocalFastPath::RemoveUdpReceiver(Ptr<Socket> socket) {
  // Found by the address and port it is bound to (a socket stays bound to
  // what AddUdpReceiver read); a socket whose name has gone is looked for.
  Address name;
  if (socket->GetSockName(name) == 0 && InetSocketAddress::IsMatchingType(name)) {
    const InetSocketAddress bound = InetSocketAddress::ConvertFrom(name);
    const auto it = m_udpReceivers.find({bound.GetIpv4().Get(), bound.GetPort()});
    if (it != m_udpReceivers.end() && it->second.socket == socket) {
      m_udpReceivers.erase(it);
      return;
    }
  }
  for (auto it = m_udpReceivers.begin(); it != m_udpReceivers.end(); ++it) {
    if (it->second.socket == socket) {
      m_udpReceivers.erase(it);
      return;
    }
  }
}

bool Ipv4LocalFastPath::Receive(Ptr<NetDevice> device, Ptr<const Packet> p) {
  if (!m_l3) return false;
  Ipv4Arrival a;
  if (!TakeIpv4(*m_l3, device, p, &a)) return false;
  const Ipv4Address dst = a.header.GetDestination();
  if (dst.IsMulticast() || !m_l3->IsDestinationAddress(dst, a.interface)) return false;
  if (!a.header.IsLastFragment() || a.header.GetFragmentOffset() != 0) return false;
  ++g_counts.delivered;
  Ptr<IpL4Protocol> protocol = m_l3->GetProtocol(a.header.GetProtocol(), a.interface);
  if (!protocol) return true;  // LocalDeliver drops it too
  if (a.header.GetProtocol() == UdpL4Protocol::PROT_NUMBER && DeliverUdp(a)) return true;
  Ptr<Packet> packet = a.packet->Copy();
  Ptr<Packet> copy = packet->Copy();  // what an ICMP port unreachable quotes
  if (protocol->Receive(packet, a.header, m_l3->GetInterface(a.interface)) !=
      IpL4Protocol::RX_ENDPOINT_UNREACH) {
    return true;
  }
  if (dst.IsBroadcast()) return true;  // no answer to broadcasts
  for (uint32_t i = 0; i < m_l3->GetNAddresses(a.interface); ++i) {
    const Ipv4InterfaceAddress address = m_l3->GetAddress(a.interface, i);
    if (address.GetLocal().CombineMask(address.GetMask()) == dst.CombineMask(address.GetMask()) &&
        dst.IsSubnetDirectedBroadcast(address.GetMask())) {
      return true;  // nor to subnet-directed ones
    }
  }
  Ptr<IpL4Protocol> icmp = m_l3->GetProtocol(Icmpv4L4Protocol::GetStaticProtocolNumber());
  icmp->GetObject<Icmpv4L4Protocol>()->SendDestUnreachPort(a.header, copy);
  return true;
}

bool Ipv4LocalFastPath::DeliverUdp(const Ipv4Arrival& a) {
  if (m_udpReceivers.empty()) return false;
  // UdpL4Protocol::Receive: the checksum (a bad one is ns-3's to drop), then
  // the endpoint: a socket bound to this very address and port, alone
  // (AddUdpReceiver), is the one ns-3's lookup returns while it is bound to
  // no device.
  UdpHeader udp;
  if (a.checksums) udp.EnableChecksums();
  udp.InitializeChecksum(a.header.GetSource(), a.header.GetDestination(),
                         UdpL4Protocol::PROT_NUMBER);
  a.packet->PeekHeader(udp);
  if (!udp.IsChecksumOk()) return false;
  const auto it = m_udpReceivers.find({a.header.GetDestination().Get(), udp.GetDestinationPort()});
  if (it == m_udpReceivers.end()) return false;
  if (it->second.socket->GetBoundNetDevice()) {
    ++g_counts.udp_to_ns3;
    return false;
  }
  // Called through a copy (a counted reference to the same function): the
  // receiver may close or rebind its socket while it runs, which erases or
  // replaces its entry here and would destroy the callback (and what it
  // captured) in mid-call.
  const UdpReceiver receiver = it->second.receiver;
  Ptr<Packet> payload = a.packet->Copy();
  payload->RemoveHeader(udp);
  if (!receiver(payload, a.header, udp.GetSourcePort())) {
    ++g_counts.udp_to_ns3;
    return false;
  }
  ++g_counts.received;
  return true;
}

bool Ipv4LocalFastPath::SendUdp(Ptr<const Packet> payload, Ipv4Address source, uint16_t sourcePort,
                           Ipv4Address destination, uint16_t destinationPort) {
  // UdpSocketImpl::DoSendTo refuses more than MAX_IPV4_UDP_DATAGRAM_SIZE
  // (65,507); what a socket bound to an address (no TTL, TOS or priority
  // set) adds, a disabled don't-fragment tag, Ipv4L3Protocol::Send removes.
  if (!m_l3 || payload->GetSize() > 65507) return false;
  // Ipv4L3Protocol::Send without a route: limited broadcasts, link-local
  // multicast and subnet-directed broadcasts are sent out of every interface
  // they concern; multicast routes differently.
  if (destination.IsBroadcast() || destination.IsMulticast()) return false;
  for (uint32_t i = 0; i < m_l3->GetNInterfaces(); ++i) {
    for (uint32_t j = 0; j < m_l3->GetNAddresses(i); ++j) {
      const Ipv4InterfaceAddress address = m_l3->GetAddress(i, j);
      const Ipv4Mask mask = address.GetMask();
      if (destination.IsSubnetDirectedBroadcast(mask) &&
          destination.CombineMask(mask) == address.GetLocal().CombineMask(mask)) {
        return false;
      }
    }
  }
  // UdpL4Protocol::Send.
  Ptr<Packet> packet = payload->Copy();
  UdpHeader udp;
  if (Node::ChecksumEnabled()) {
    udp.EnableChecksums();
    udp.InitializeChecksum(source, destination, UdpL4Protocol::PROT_NUMBER);
  }
  udp.SetDestinationPort(destinationPort);
  udp.SetSourcePort(sourcePort);
  packet->AddHeader(udp);
  // Ipv4L3Protocol::Send's route lookup (Ipv4StaticRouting reads the
  // destination and no output device). Without a route ns-3 drops the packet
  // and gives the identification back: its own path does that.
  Ipv4Header header;
  header.SetSource(source);
  header.SetDestination(destination);
  header.SetProtocol(UdpL4Protocol::PROT_NUMBER);
  header.SetPayloadSize(static_cast<uint16_t>(packet->GetSize()));
  Socket::SocketErrno error;
  Ptr<Ipv4Route> route = m_routing->RouteOutput(packet, header, nullptr, error);
  if (!route) return false;
  ++g_counts.sent;
  m_l3->Send(packet, source, destination, UdpL4Protocol::PROT_NUMBER, route);
  return true;
}

}  // namespace ns3
