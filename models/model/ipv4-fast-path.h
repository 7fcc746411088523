// Packets between a ShapedNetDevice and a node's sockets without ns-3's
// per-packet detours, with the same effect.
//
// ns-3.37's Ipv4L3Protocol::Receive builds (and frees) four callbacks per
// packet for its routing protocol, and reaches it through the node's
// protocol handlers and the traffic control layer: some 10 k instructions
// per packet before anything is decided, a quarter of a scenario world's
// packet path. Sending, a UDP socket bound to an address reaches
// Ipv4L3Protocol::Send without a route, which builds a header, looks the
// route up, gives the header's identification back and calls itself again
// with the route: some 9 k instructions per datagram before the one call
// that sends. These functions do the steps that decide what happens to a
// packet, in ns-3's order, and call ns-3's own protocols:
//
//   TakeIpv4        Ipv4L3Protocol::Receive up to routing: the interface
//                   must be up, the IPv4 header is removed (its checksum
//                   checked when checksums are on), frame padding trimmed.
//   EnableLocalFastPath  a host whose routing is Ipv4StaticRouting: a
//                   unicast to one of its addresses is delivered as
//                   Ipv4StaticRouting::RouteInput and Ipv4L3Protocol::
//                   LocalDeliver deliver it (the L4 protocol's Receive, and
//                   ICMP port unreachable when no endpoint takes it); and
//                   its UDP sockets' unicasts may be sent by
//                   Ipv4FastSend::SendUdp.
//   Ipv4FastSend::SendUdp  UdpSocketImpl::DoSendTo and UdpL4Protocol::Send
//                   for a socket bound to the source address (the UDP
//                   header), Ipv4L3Protocol::Send's broadcast checks and
//                   route lookup, then Ipv4L3Protocol::Send with the route:
//                   the call that numbers, traces and sends the packet as
//                   ns-3's second call does (the same identification).
//
// Anything else (multicast, broadcasts, fragments, packets to forward, bad
// checksums, a down interface, no route) goes on to ns-3's stack as before,
// unchanged. What the fast path skips is only what nothing in a scenario
// world observes: Ipv4L3Protocol's Rx and LocalDeliver traces, raw sockets,
// and a UDP socket's data-sent and send callbacks (MachineHost sets
// neither). So only an owner that connects none of those enables it (the
// scenario runner). A NAT box's translated packets have their own fast path
// (NatMiddlebox::EnableFastPath), built on TakeIpv4.
#pragma once

#include <cstdint>

#include "ns3/ipv4-header.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/net-device.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"

namespace ns3 {

struct Ipv4Arrival {
  Ptr<Packet> packet;  // after the IPv4 header
  Ipv4Header header;
  uint32_t interface = 0;
};

// False: the packet is not taken here (ns-3's stack will see it as before).
bool TakeIpv4(const Ipv4L3Protocol& l3, Ptr<NetDevice> device, Ptr<const Packet> p,
              Ipv4Arrival* out);

// Every ShapedNetDevice of `node` offers its packets to the local fast path,
// and an Ipv4FastSend is aggregated to the node. Does nothing unless the
// node's routing protocol is an Ipv4StaticRouting.
void EnableLocalFastPath(Ptr<Node> node);

// Aggregated to a node by EnableLocalFastPath: its UDP sockets' datagrams
// may skip ns-3's detours (MachineHost looks for it).
class Ipv4FastSend : public Object {
 public:
  static TypeId GetTypeId();
  Ipv4FastSend() = default;
  Ipv4FastSend(Ptr<Ipv4L3Protocol> l3, Ptr<Ipv4StaticRouting> routing);

  // Sends `payload` from a UDP socket bound to (source, sourcePort) to
  // (destination, destinationPort) as ns-3 would. False: not taken, nothing
  // done (send it through the socket).
  bool SendUdp(Ptr<const Packet> payload, Ipv4Address source, uint16_t sourcePort,
               Ipv4Address destination, uint16_t destinationPort);

 protected:
  void DoDispose() override;

 private:
  Ptr<Ipv4L3Protocol> m_l3;
  Ptr<Ipv4StaticRouting> m_routing;
};

// Packets the fast paths took in this process, so a test that holds them
// against ns-3's own path can tell they ran (a fast path never taken would
// compare ns-3 with itself).
struct Ipv4FastPathCounts {
  uint64_t delivered = 0;  // to a host's own L4 protocol (EnableLocalFastPath)
  uint64_t forwarded = 0;  // by a NAT box (NatMiddlebox::EnableFastPath)
  uint64_t sent = 0;       // UDP datagrams by Ipv4FastSend::SendUdp
};
Ipv4FastPathCounts& Ipv4FastPathCountsSoFar();

}  // namespace ns3
