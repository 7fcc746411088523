#include "model/nat-packet.h"

#include <algorithm>

#include "model/punchlab-ns3-convert.h"
#include "ns3/node.h"

namespace ns3 {

namespace {

constexpr uint8_t kUdpNumber = 17;
constexpr uint8_t kTcpNumber = 6;
constexpr uint32_t kUdpHeaderSize = 8;
constexpr uint32_t kTcpMinHeaderSize = 20;
constexpr uint32_t kTcpMaxHeaderSize = 60;

// Options with a fixed (or patterned) length; ns-3 rejects others' lengths
// half-way through a header, so refuse them up front.
bool OptionLengthOk(uint8_t kind, uint8_t length) {
  switch (kind) {
    case 2: return length == 4;   // MSS
    case 3: return length == 3;   // window scale
    case 4: return length == 2;   // SACK permitted
    case 5: return length >= 10 && (length - 2) % 8 == 0;  // SACK blocks
    case 8: return length == 10;  // timestamps
    default: return true;
  }
}

// The TCP header in `b` (first `n` bytes of a `size`-byte segment) fits the
// segment and its options each fit the header.
bool TcpHeaderFits(const uint8_t* b, uint32_t n, uint32_t size) {
  if (n < kTcpMinHeaderSize) return false;
  const uint32_t length = (b[12] >> 4) * 4u;
  if (length < kTcpMinHeaderSize || length > size) return false;
  uint32_t i = kTcpMinHeaderSize;
  while (i < length) {
    const uint8_t kind = b[i];
    if (kind == 0) break;  // end of options: the rest is padding
    if (kind == 1) {       // no-op
      ++i;
      continue;
    }
    if (i + 1 >= length) return false;
    const uint8_t option_length = b[i + 1];
    if (option_length < 2 || i + option_length > length) return false;
    if (!OptionLengthOk(kind, option_length)) return false;
    i += option_length;
  }
  return true;
}

}  // namespace

const char* ToString(NatParseStatus s) {
  switch (s) {
    case NatParseStatus::kOk: return "ok";
    case NatParseStatus::kOtherProtocol: return "other-protocol";
    case NatParseStatus::kFragment: return "fragment";
    case NatParseStatus::kMalformed: return "malformed";
    case NatParseStatus::kBadChecksum: return "bad-checksum";
  }
  return "?";
}

NatParseStatus NatPacket::Parse(Ptr<const Packet> payload, const Ipv4Header& ip, NatPacket* out) {
  const uint8_t protocol = ip.GetProtocol();
  if (protocol != kUdpNumber && protocol != kTcpNumber) return NatParseStatus::kOtherProtocol;
  if (!ip.IsLastFragment() || ip.GetFragmentOffset() != 0) return NatParseStatus::kFragment;

  const uint32_t size = payload->GetSize();
  uint8_t head[kTcpMaxHeaderSize];
  const uint32_t n = payload->CopyData(head, std::min<uint32_t>(size, sizeof head));
  const bool checksums = Node::ChecksumEnabled();
  out->m_checksums = checksums;
  out->m_ip = ip;
  out->m_body = payload->Copy();
  out->m_source.ip = ToPunchlab(ip.GetSource());
  out->m_destination.ip = ToPunchlab(ip.GetDestination());

  if (protocol == kUdpNumber) {
    // ns-3 checksums and rewrites the whole datagram: its length must be the packet's.
    if (n < kUdpHeaderSize || ((uint32_t{head[4]} << 8) | head[5]) != size) {
      return NatParseStatus::kMalformed;
    }
    out->m_udp = UdpHeader();
    if (checksums) {
      out->m_udp.EnableChecksums();
      out->m_udp.InitializeChecksum(ip.GetSource(), ip.GetDestination(), kUdpNumber);
    }
    out->m_body->RemoveHeader(out->m_udp);
    if (checksums && !out->m_udp.IsChecksumOk()) return NatParseStatus::kBadChecksum;
    out->m_protocol = punchlab::nat::Protocol::kUdp;
    out->m_source.port = out->m_udp.GetSourcePort();
    out->m_destination.port = out->m_udp.GetDestinationPort();
    out->m_flags = punchlab::nat::TcpFlags();
    return NatParseStatus::kOk;
  }

  if (!TcpHeaderFits(head, n, size)) return NatParseStatus::kMalformed;
  out->m_tcp = TcpHeader();
  if (checksums) {
    out->m_tcp.EnableChecksums();
    out->m_tcp.InitializeChecksum(ip.GetSource(), ip.GetDestination(), kTcpNumber);
  }
  out->m_body->RemoveHeader(out->m_tcp);
  if (checksums && !out->m_tcp.IsChecksumOk()) return NatParseStatus::kBadChecksum;
  out->m_protocol = punchlab::nat::Protocol::kTcp;
  out->m_source.port = out->m_tcp.GetSourcePort();
  out->m_destination.port = out->m_tcp.GetDestinationPort();
  out->m_flags = punchlab::nat::TcpFlags(out->m_tcp.GetFlags());
  return NatParseStatus::kOk;
}

Ptr<Packet> NatPacket::Rewrite(const punchlab::Endpoint& source,
                               const punchlab::Endpoint& destination, Ipv4Header* ip) const {
  const Ipv4Address from = ToNs3Ipv4(source.ip);
  const Ipv4Address to = ToNs3Ipv4(destination.ip);
  const bool checksums = m_checksums;
  Ptr<Packet> packet = m_body->Copy();
  if (m_protocol == punchlab::nat::Protocol::kUdp) {
    // A fresh header: ns-3 writes a stored checksum verbatim instead of recomputing it.
    UdpHeader udp;
    udp.SetSourcePort(source.port);
    udp.SetDestinationPort(destination.port);
    if (checksums) {
      udp.EnableChecksums();
      udp.InitializeChecksum(from, to, kUdpNumber);
    }
    packet->AddHeader(udp);
  } else {
    TcpHeader tcp = m_tcp;  // keeps sequence numbers, flags, window and options
    tcp.SetSourcePort(source.port);
    tcp.SetDestinationPort(destination.port);
    if (checksums) {
      tcp.EnableChecksums();
      tcp.InitializeChecksum(from, to, kTcpNumber);
    }
    packet->AddHeader(tcp);
  }
  *ip = m_ip;
  ip->SetSource(from);
  ip->SetDestination(to);
  ip->SetPayloadSize(static_cast<uint16_t>(packet->GetSize()));
  return packet;
}

Ptr<Packet> NatPacket::MakeUdp(const punchlab::Endpoint& source,
                               const punchlab::Endpoint& destination, const uint8_t* data,
                               size_t size, Ipv4Header* ip) {
  const Ipv4Address from = ToNs3Ipv4(source.ip);
  const Ipv4Address to = ToNs3Ipv4(destination.ip);
  Ptr<Packet> packet = Create<Packet>(data, static_cast<uint32_t>(size));
  UdpHeader udp;
  udp.SetSourcePort(source.port);
  udp.SetDestinationPort(destination.port);
  if (Node::ChecksumEnabled()) {
    udp.EnableChecksums();
    udp.InitializeChecksum(from, to, kUdpNumber);
  }
  packet->AddHeader(udp);
  *ip = Ipv4Header();
  ip->SetSource(from);
  ip->SetDestination(to);
  ip->SetProtocol(kUdpNumber);
  ip->SetTtl(64);
  ip->SetPayloadSize(static_cast<uint16_t>(packet->GetSize()));
  if (Node::ChecksumEnabled()) ip->EnableChecksum();
  return packet;
}

}  // namespace ns3
