// Taking a forwarded IPv4 UDP/TCP packet apart into the tuple the NAT core
// decides on, and putting it back together with new addresses and ports.
//
// Anything a NAT cannot translate safely is refused before ns-3's header
// classes read it: truncated headers, a UDP length that is not the datagram's,
// TCP data offsets or options that run past the header, fragments (the port
// numbers are only in the first one), and, with checksums enabled
// (Node::ChecksumEnabled), bad UDP/TCP checksums. Rebuilt packets carry a
// freshly computed checksum over the new pseudo-header when checksums are on.
#pragma once

#include <cstdint>

#include "ns3/ipv4-header.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"
#include "ns3/tcp-header.h"
#include "ns3/udp-header.h"
#include "punchlab/endpoint.h"
#include "punchlab/nat/flow-types.h"

namespace ns3 {

enum class NatParseStatus : uint8_t {
  kOk,
  kOtherProtocol,  // neither UDP nor TCP: not translatable
  kFragment,       // an IPv4 fragment
  kMalformed,      // truncated or inconsistent UDP/TCP header
  kBadChecksum,    // checksums enabled and the UDP/TCP checksum is wrong
};
const char* ToString(NatParseStatus s);

class NatPacket {
 public:
  // `payload` is what follows `ip` (as RouteInput hands them over).
  static NatParseStatus Parse(Ptr<const Packet> payload, const Ipv4Header& ip, NatPacket* out);

  punchlab::nat::Protocol protocol() const { return m_protocol; }
  const punchlab::Endpoint& source() const { return m_source; }
  const punchlab::Endpoint& destination() const { return m_destination; }
  punchlab::nat::TcpFlags tcpFlags() const { return m_flags; }

  // The packet with source and destination replaced (IP header and UDP/TCP
  // ports, checksums recomputed): the payload after the IP header, and the
  // IP header to send it with.
  Ptr<Packet> Rewrite(const punchlab::Endpoint& source, const punchlab::Endpoint& destination,
                      Ipv4Header* ip) const;
  // What follows the UDP/TCP header.
  Ptr<const Packet> body() const { return m_body; }

  // A UDP datagram the box itself sends (its port-mapping server's answers):
  // the payload after the IP header, and that header (TTL 64).
  static Ptr<Packet> MakeUdp(const punchlab::Endpoint& source,
                             const punchlab::Endpoint& destination, const uint8_t* data,
                             size_t size, Ipv4Header* ip);

 private:
  Ipv4Header m_ip;
  Ptr<Packet> m_body;  // after the UDP/TCP header
  UdpHeader m_udp;
  TcpHeader m_tcp;
  punchlab::nat::Protocol m_protocol = punchlab::nat::Protocol::kUdp;
  punchlab::Endpoint m_source;
  punchlab::Endpoint m_destination;
  punchlab::nat::TcpFlags m_flags;
  // Node::ChecksumEnabled as Parse read it, for Rewrite: the same packet in the
  // same event (reading ns-3's global value costs ~350 instructions).
  bool m_checksums = false;
};

}  // namespace ns3
