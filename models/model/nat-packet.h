// Taking a forwarded IPv4 UDP/TCP packet apart into the tuple the NAT core
// decides on, and putting it back together with new addresses and ports.
//
// Anything a NAT cannot translate safely is refused before ns-3's header
// classes read it: truncated headers, a UDP length that is not the datagram's,
// TCP data offsets or options that run past the header, fragments (the port
// numbers are only in the first one), and, with checksums enabled
// (Node::ChecksumEnabled), bad UDP/TCP checksums. Rebuilt packets carry a
// freshly computed checksum over the new pseudo-header when checksums are on.
//
// Two ways through, one result: with checksums off (every scenario world),
// a UDP header, and a TCP header whose options are all kinds ns-3's
// TcpHeader knows (END, NOP, MSS, window scale, SACK-permitted, SACK,
// timestamp) with nothing after an END but zeros up to the next 32-bit word,
// are read and rewritten in their bytes: the ports, the checksum field
// (zero, as ns-3 writes it with checksums off) and, for TCP, the reserved
// bits (cleared: TcpHeader keeps only the flags byte), so NOPs and reserved
// bits stay on this path. The rest goes through ns-3's UdpHeader / TcpHeader
// as before: checksums on, an option kind ns-3 does not know, or padding
// after END that is not zero or runs past the next word. Deserialising a
// TcpHeader builds an object per option (~5 k instructions a look), which was
// most of a NAT hop's cost for the DERP relay's TCP.
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
  // `payload` is what follows `ip` (as RouteInput hands them over);
  // `checksums` is Node::ChecksumEnabled (read by the caller once per packet).
  static NatParseStatus Parse(Ptr<const Packet> payload, const Ipv4Header& ip, bool checksums,
                              NatPacket* out);

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
  Ptr<const Packet> body() const;
  // Whether Parse took the in-place way (for tests: both ways give the same bytes).
  bool inPlace() const { return m_inPlace; }

  // A UDP datagram the box itself sends (its port-mapping server's answers):
  // the payload after the IP header, and that header (TTL 64).
  static Ptr<Packet> MakeUdp(const punchlab::Endpoint& source,
                             const punchlab::Endpoint& destination, const uint8_t* data,
                             size_t size, Ipv4Header* ip);

  // The largest UDP/TCP header (TCP with 40 bytes of options).
  static constexpr uint32_t kMaxHeaderSize = 60;

 private:
  void SetInPlace(Ptr<const Packet> segment, const uint8_t* header, uint32_t size);

  Ipv4Header m_ip;
  // In place: the segment as it arrived (after the IP header), its UDP/TCP
  // header's length and bytes.
  bool m_inPlace = false;
  Ptr<const Packet> m_segment;
  uint32_t m_headerSize = 0;
  uint8_t m_header[kMaxHeaderSize];
  // Through ns-3's headers: what follows the header, and the header.
  Ptr<Packet> m_body;
  UdpHeader m_udp;
  TcpHeader m_tcp;
  punchlab::nat::Protocol m_protocol = punchlab::nat::Protocol::kUdp;
  punchlab::Endpoint m_source;
  punchlab::Endpoint m_destination;
  punchlab::nat::TcpFlags m_flags;
  // Node::ChecksumEnabled as Parse was given it, for Rewrite: the same packet
  // in the same event.
  bool m_checksums = false;
};

}  // namespace ns3
