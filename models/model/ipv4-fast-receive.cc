#include "model/ipv4-fast-receive.h"

#include "model/shaped-net-device.h"
#include "ns3/icmpv4-l4-protocol.h"
#include "ns3/ip-l4-protocol.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4-static-routing.h"

namespace ns3 {

namespace {

Ipv4FastPathCounts g_counts;

// Ipv4StaticRouting::RouteInput's local delivery, then Ipv4L3Protocol::
// LocalDeliver for a packet that is not a fragment.
bool DeliverLocally(Ptr<Ipv4L3Protocol> l3, Ptr<NetDevice> device, Ptr<const Packet> p) {
  Ipv4Arrival a;
  if (!TakeIpv4(*l3, device, p, &a)) return false;
  const Ipv4Address dst = a.header.GetDestination();
  if (dst.IsMulticast() || !l3->IsDestinationAddress(dst, a.interface)) return false;
  if (!a.header.IsLastFragment() || a.header.GetFragmentOffset() != 0) return false;
  ++g_counts.delivered;
  Ptr<IpL4Protocol> protocol = l3->GetProtocol(a.header.GetProtocol(), a.interface);
  if (!protocol) return true;  // LocalDeliver drops it too
  Ptr<Packet> packet = a.packet->Copy();
  Ptr<Packet> copy = packet->Copy();  // what an ICMP port unreachable quotes
  if (protocol->Receive(packet, a.header, l3->GetInterface(a.interface)) !=
      IpL4Protocol::RX_ENDPOINT_UNREACH) {
    return true;
  }
  if (dst.IsBroadcast()) return true;  // no answer to broadcasts
  for (uint32_t i = 0; i < l3->GetNAddresses(a.interface); ++i) {
    const Ipv4InterfaceAddress address = l3->GetAddress(a.interface, i);
    if (address.GetLocal().CombineMask(address.GetMask()) == dst.CombineMask(address.GetMask()) &&
        dst.IsSubnetDirectedBroadcast(address.GetMask())) {
      return true;  // nor to subnet-directed ones
    }
  }
  Ptr<IpL4Protocol> icmp = l3->GetProtocol(Icmpv4L4Protocol::GetStaticProtocolNumber());
  icmp->GetObject<Icmpv4L4Protocol>()->SendDestUnreachPort(a.header, copy);
  return true;
}

}  // namespace

Ipv4FastPathCounts& Ipv4FastPathCountsSoFar() { return g_counts; }

bool TakeIpv4(const Ipv4L3Protocol& l3, Ptr<NetDevice> device, Ptr<const Packet> p,
              Ipv4Arrival* out) {
  const int32_t interface = l3.GetInterfaceForDevice(device);
  if (interface < 0 || !l3.IsUp(static_cast<uint32_t>(interface))) return false;
  out->interface = static_cast<uint32_t>(interface);
  out->packet = p->Copy();
  if (Node::ChecksumEnabled()) out->header.EnableChecksum();
  out->packet->RemoveHeader(out->header);
  if (out->header.GetPayloadSize() < out->packet->GetSize()) {
    out->packet->RemoveAtEnd(out->packet->GetSize() - out->header.GetPayloadSize());
  }
  return out->header.IsChecksumOk();
}

void EnableLocalFastPath(Ptr<Node> node) {
  Ptr<Ipv4L3Protocol> l3 = node->GetObject<Ipv4L3Protocol>();
  if (!l3 || !DynamicCast<Ipv4StaticRouting>(l3->GetRoutingProtocol())) return;
  for (uint32_t i = 0; i < node->GetNDevices(); ++i) {
    Ptr<ShapedNetDevice> device = DynamicCast<ShapedNetDevice>(node->GetDevice(i));
    if (device) device->SetFastReceiveCallback(MakeBoundCallback(&DeliverLocally, l3));
  }
}

}  // namespace ns3
