// Packets from a ShapedNetDevice into a node's IPv4 stack without ns-3's
// per-packet detours, with the same effect.
//
// ns-3.37's Ipv4L3Protocol::Receive builds (and frees) four callbacks per
// packet for its routing protocol, and reaches it through the node's
// protocol handlers and the traffic control layer: some 10 k instructions
// per packet before anything is decided, a quarter of a scenario world's
// packet path. These functions do the steps that decide what happens to a
// packet, in ns-3's order, and call ns-3's own L4 protocols:
//
//   TakeIpv4        Ipv4L3Protocol::Receive up to routing: the interface
//                   must be up, the IPv4 header is removed (its checksum
//                   checked when checksums are on), frame padding trimmed.
//   EnableLocalFastPath  a host whose routing is Ipv4StaticRouting: a
//                   unicast to one of its addresses is delivered as
//                   Ipv4StaticRouting::RouteInput and Ipv4L3Protocol::
//                   LocalDeliver deliver it (the L4 protocol's Receive, and
//                   ICMP port unreachable when no endpoint takes it).
//
// Anything else (multicast, fragments, packets to forward, bad checksums, a
// down interface) goes on to ns-3's stack as before, unchanged. What the
// fast path skips is only what nothing in a scenario world observes:
// Ipv4L3Protocol's Rx and LocalDeliver traces and raw sockets. So only an
// owner that connects none of those enables it (the scenario runner). A NAT
// box's translated packets have their own fast path (NatMiddlebox::
// EnableFastPath), built on TakeIpv4.
#pragma once

#include <cstdint>

#include "ns3/ipv4-header.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/net-device.h"
#include "ns3/node.h"
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

// Every ShapedNetDevice of `node` offers its packets to the local fast path.
// Does nothing unless the node's routing protocol is an Ipv4StaticRouting.
void EnableLocalFastPath(Ptr<Node> node);

// Packets the fast paths took in this process, so a test that holds them
// against ns-3's own path can tell they ran (a fast path never taken would
// compare ns-3 with itself).
struct Ipv4FastPathCounts {
  uint64_t delivered = 0;  // to a host's own L4 protocol (EnableLocalFastPath)
  uint64_t forwarded = 0;  // by a NAT box (NatMiddlebox::EnableFastPath)
};
Ipv4FastPathCounts& Ipv4FastPathCountsSoFar();

}  // namespace ns3
