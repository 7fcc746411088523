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
//                   ICMP port unreachable when no endpoint takes it), a
//                   UDP datagram to a socket bound to its destination
//                   address and port straight to the socket's owner
//                   (Ipv4LocalFastPath::AddUdpReceiver: UdpL4Protocol::
//                   Receive's checksum and lookup, UdpSocketImpl::
//                   ForwardUp's queue and receive callback, when the queue
//                   is empty); and its UDP sockets' unicasts may be sent by
//                   Ipv4LocalFastPath::SendUdp.
//   Ipv4LocalFastPath::SendUdp  UdpSocketImpl::DoSendTo and UdpL4Protocol::
//                   Send for a socket bound to the source address (the UDP
//                   header), Ipv4L3Protocol::Send's broadcast checks and
//                   route lookup, then Ipv4L3Protocol::Send with the route:
//                   the call that numbers, traces and sends the packet as
//                   ns-3's second call does (the same identification).
//
// Anything else (multicast, broadcasts, fragments, packets to forward, bad
// checksums, a down interface, no route) goes on to ns-3's stack as before,
// unchanged. What the fast path skips is only what nothing in a scenario
// world observes: Ipv4L3Protocol's Rx and LocalDeliver traces, raw sockets,
// a UDP socket's data-sent and send callbacks and its receive queue's
// packet tags and drop trace (MachineHost uses none of them). So only an owner that connects none of those enables it (the
// scenario runner). A NAT box's translated packets have their own fast path
// (NatMiddlebox::EnableFastPath), built on TakeIpv4.
#pragma once

#include <cstdint>
#include <map>
#include <utility>

#include "ns3/ipv4-header.h"
#include "ns3/ipv4-l3-protocol.h"
#include "ns3/net-device.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/socket.h"

namespace ns3 {

struct Ipv4Arrival {
  Ptr<Packet> packet;  // after the IPv4 header
  Ipv4Header header;
  uint32_t interface = 0;
  // Node::ChecksumEnabled as TakeIpv4 read it, for the rest of this packet's
  // handling in the same event (each read of ns-3's global value costs ~350
  // instructions).
  bool checksums = false;
};

// False: the packet is not taken here (ns-3's stack will see it as before).
bool TakeIpv4(const Ipv4L3Protocol& l3, Ptr<NetDevice> device, Ptr<const Packet> p,
              Ipv4Arrival* out);

// Every ShapedNetDevice of `node` offers its packets to the local fast path,
// and an Ipv4LocalFastPath is aggregated to the node. Does nothing unless the
// node's routing protocol is an Ipv4StaticRouting.
void EnableLocalFastPath(Ptr<Node> node);

// Aggregated to a node by EnableLocalFastPath: its packets in, and its UDP
// sockets' datagrams out, may skip ns-3's detours (MachineHost looks for it).
class Ipv4LocalFastPath : public Object {
 public:
  static TypeId GetTypeId();
  Ipv4LocalFastPath() = default;
  Ipv4LocalFastPath(Ptr<Ipv4L3Protocol> l3, Ptr<Ipv4StaticRouting> routing);

  // Sends `payload` from a UDP socket bound to (source, sourcePort) to
  // (destination, destinationPort) as ns-3 would. False: not taken, nothing
  // done (send it through the socket).
  bool SendUdp(Ptr<const Packet> payload, Ipv4Address source, uint16_t sourcePort,
               Ipv4Address destination, uint16_t destinationPort);

  // A UDP socket of this node bound to an address and port (neither a
  // wildcard) and its owner's way to take a datagram for it as the socket's
  // receive callback would: (payload, IPv4 header, source port). The
  // receiver returns false, having done nothing, when the socket must get
  // it through ns-3 (e.g. datagrams are waiting in its queue).
  //
  // Only a socket that ns-3.37's endpoint lookup (Ipv4EndPointDemux::Lookup)
  // would pick alone for every datagram to its address and port is taken:
  // false (nothing added; its datagrams keep ns-3's path) when it is bound
  // to a device, or when another UDP socket of the node is bound to the same
  // address and port (ns-3 lets one bound to a device share them with one
  // that is not, and then delivers to both). Nothing can change that later
  // but this socket itself: ns-3 refuses to bind an address and port already
  // bound to no device (Ipv4EndPointDemux::Allocate looks for one with the
  // same device and one with none), and a UDP socket's Connect only sets its
  // default destination (no ns-3.37 UDP endpoint has a peer, so none is more
  // specific than this one). A device bound later is checked per datagram;
  // the owner removes the receiver before it shuts the socket's receiving
  // down (ns-3 would skip it; MachineHost never does).
  typedef Callback<bool, Ptr<Packet>, const Ipv4Header&, uint16_t> UdpReceiver;
  bool AddUdpReceiver(Ptr<Socket> socket, UdpReceiver receiver);
  void RemoveUdpReceiver(Ptr<Socket> socket);  // if added

  // Ipv4StaticRouting::RouteInput's local delivery, then Ipv4L3Protocol::
  // LocalDeliver for a packet that is not a fragment; UDP to an added
  // receiver as UdpL4Protocol::Receive would. False: not taken.
  bool Receive(Ptr<NetDevice> device, Ptr<const Packet> p);

 protected:
  void DoDispose() override;

 private:
  bool DeliverUdp(const Ipv4Arrival& a);

  Ptr<Ipv4L3Protocol> m_l3;
  Ptr<Ipv4StaticRouting> m_routing;
  struct UdpEntry {
    Ptr<Socket> socket;
    UdpReceiver receiver;
  };
  std::map<std::pair<uint32_t, uint16_t>, UdpEntry> m_udpReceivers;  // (address, port)
};

// Packets the fast paths took in this process, so a test that holds them
// against ns-3's own path can tell they ran (a fast path never taken would
// compare ns-3 with itself).
struct Ipv4FastPathCounts {
  uint64_t delivered = 0;  // to a host's own L4 protocol (EnableLocalFastPath)
  uint64_t forwarded = 0;  // by a NAT box (NatMiddlebox::EnableFastPath)
  uint64_t sent = 0;       // UDP datagrams by Ipv4LocalFastPath::SendUdp
  uint64_t received = 0;   // of `delivered`, UDP datagrams handed to a socket's owner
  // UDP datagrams to an added receiver's address and port left to ns-3's path
  // (its socket bound to a device since, or the receiver declined), and
  // sockets AddUdpReceiver refused (ns-3 might not pick them alone).
  uint64_t udp_to_ns3 = 0;
  uint64_t receivers_refused = 0;
};
Ipv4FastPathCounts& Ipv4FastPathCountsSoFar();

}  // namespace ns3
