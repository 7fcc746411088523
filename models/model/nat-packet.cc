#include "model/nat-packet.h"

#include <algorithm>

#include "model/punchlab-ns3-convert.h"
#include "ns3/header.h"
#include "ns3/node.h"

namespace ns3 {

namespace {

constexpr uint8_t kUdpNumber = 17;
constexpr uint8_t kTcpNumber = 6;
constexpr uint32_t kUdpHeaderSize = 8;
constexpr uint32_t kTcpMinHeaderSize = 20;
constexpr uint32_t kTcpMaxHeaderSize = NatPacket::kMaxHeaderSize;

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

// Whether ns-3's TcpHeader, reading this header (which TcpHeaderFits
// accepted) and writing it again, gives the same bytes apart from the
// reserved bits and the checksum (the in-place rewrite clears both, as ns-3
// writes them). TcpHeader::Deserialize keeps the options it knows (END, NOP,
// MSS, window scale, SACK-permitted, SACK, timestamp) in order and writes each
// back in its one form; an unknown kind, or padding after an END other than
// the zeros up to the next word that Serialize writes, goes ns-3's way.
bool Ns3WritesTcpBack(const uint8_t* b, uint32_t length) {
  uint32_t i = kTcpMinHeaderSize;
  while (i < length) {
    const uint8_t kind = b[i];
    if (kind == 0) {
      if (((i + 4) & ~3u) != length) return false;
      for (uint32_t j = i + 1; j < length; ++j) {
        if (b[j] != 0) return false;
      }
      return true;
    }
    if (kind == 1) {
      ++i;
      continue;
    }
    if (kind != 2 && kind != 3 && kind != 4 && kind != 5 && kind != 8) return false;
    i += b[i + 1];
  }
  return true;
}

// A UDP/TCP header as bytes: what the in-place rewrite puts before the body.
class RawTransportHeader : public Header {
 public:
  RawTransportHeader() = default;
  RawTransportHeader(const uint8_t* bytes, uint32_t size) : m_size(size) {
    std::copy(bytes, bytes + size, m_bytes);
  }
  static TypeId GetTypeId() {
    static TypeId tid = TypeId("ns3::PunchlabRawTransportHeader")
                            .SetParent<Header>()
                            .SetGroupName("Punchlab")
                            .AddConstructor<RawTransportHeader>();
    return tid;
  }
  TypeId GetInstanceTypeId() const override { return GetTypeId(); }
  void Print(std::ostream& os) const override { os << m_size << " header bytes"; }
  uint32_t GetSerializedSize() const override { return m_size; }
  void Serialize(Buffer::Iterator start) const override { start.Write(m_bytes, m_size); }
  uint32_t Deserialize(Buffer::Iterator start) override {
    start.Read(m_bytes, m_size);
    return m_size;
  }

 private:
  uint32_t m_size = 0;
  uint8_t m_bytes[kTcpMaxHeaderSize] = {};
};

void PutPort(uint8_t* b, uint16_t port) {
  b[0] = static_cast<uint8_t>(port >> 8);
  b[1] = static_cast<uint8_t>(port);
}

uint16_t GetPort(const uint8_t* b) { return static_cast<uint16_t>((b[0] << 8) | b[1]); }

}  // namespace

NS_OBJECT_ENSURE_REGISTERED(RawTransportHeader);

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

NatParseStatus NatPacket::Parse(Ptr<const Packet> payload, const Ipv4Header& ip, bool checksums,
                                NatPacket* out) {
  const uint8_t protocol = ip.GetProtocol();
  if (protocol != kUdpNumber && protocol != kTcpNumber) return NatParseStatus::kOtherProtocol;
  if (!ip.IsLastFragment() || ip.GetFragmentOffset() != 0) return NatParseStatus::kFragment;

  const uint32_t size = payload->GetSize();
  uint8_t head[kTcpMaxHeaderSize];
  const uint32_t n = payload->CopyData(head, std::min<uint32_t>(size, sizeof head));
  out->m_checksums = checksums;
  out->m_ip = ip;
  out->m_source.ip = ToPunchlab(ip.GetSource());
  out->m_destination.ip = ToPunchlab(ip.GetDestination());

  if (protocol == kUdpNumber) {
    // ns-3 checksums and rewrites the whole datagram: its length must be the packet's.
    if (n < kUdpHeaderSize || ((uint32_t{head[4]} << 8) | head[5]) != size) {
      return NatParseStatus::kMalformed;
    }
    out->m_protocol = punchlab::nat::Protocol::kUdp;
    out->m_flags = punchlab::nat::TcpFlags();
    if (!checksums) {
      // A fresh UdpHeader writes the ports, the datagram's length (checked
      // above) and a zero checksum: nothing else to keep.
      out->SetInPlace(payload, head, kUdpHeaderSize);
      return NatParseStatus::kOk;
    }
    out->m_inPlace = false;
    out->m_body = payload->Copy();
    out->m_udp = UdpHeader();
    out->m_udp.EnableChecksums();
    out->m_udp.InitializeChecksum(ip.GetSource(), ip.GetDestination(), kUdpNumber);
    out->m_body->RemoveHeader(out->m_udp);
    if (!out->m_udp.IsChecksumOk()) return NatParseStatus::kBadChecksum;
    out->m_source.port = out->m_udp.GetSourcePort();
    out->m_destination.port = out->m_udp.GetDestinationPort();
    return NatParseStatus::kOk;
  }

  if (!TcpHeaderFits(head, n, size)) return NatParseStatus::kMalformed;
  out->m_protocol = punchlab::nat::Protocol::kTcp;
  const uint32_t length = (head[12] >> 4) * 4u;
  if (!checksums && Ns3WritesTcpBack(head, length)) {
    out->m_flags = punchlab::nat::TcpFlags(head[13]);  // TcpHeader's flags: the whole byte
    out->SetInPlace(payload, head, length);
    return NatParseStatus::kOk;
  }
  out->m_inPlace = false;
  out->m_body = payload->Copy();
  out->m_tcp = TcpHeader();
  if (checksums) {
    out->m_tcp.EnableChecksums();
    out->m_tcp.InitializeChecksum(ip.GetSource(), ip.GetDestination(), kTcpNumber);
  }
  out->m_body->RemoveHeader(out->m_tcp);
  if (checksums && !out->m_tcp.IsChecksumOk()) return NatParseStatus::kBadChecksum;
  out->m_source.port = out->m_tcp.GetSourcePort();
  out->m_destination.port = out->m_tcp.GetDestinationPort();
  out->m_flags = punchlab::nat::TcpFlags(out->m_tcp.GetFlags());
  return NatParseStatus::kOk;
}

void NatPacket::SetInPlace(Ptr<const Packet> segment, const uint8_t* header, uint32_t size) {
  m_inPlace = true;
  m_segment = std::move(segment);
  m_headerSize = size;
  std::copy(header, header + size, m_header);
  m_source.port = GetPort(header);
  m_destination.port = GetPort(header + 2);
}

Ptr<const Packet> NatPacket::body() const {
  if (!m_inPlace) return m_body;
  return m_segment->CreateFragment(m_headerSize, m_segment->GetSize() - m_headerSize);
}

Ptr<Packet> NatPacket::Rewrite(const punchlab::Endpoint& source,
                               const punchlab::Endpoint& destination, Ipv4Header* ip) const {
  const Ipv4Address from = ToNs3Ipv4(source.ip);
  const Ipv4Address to = ToNs3Ipv4(destination.ip);
  const bool checksums = m_checksums;
  Ptr<Packet> packet;
  if (m_inPlace) {
    // What ns-3's header would write with checksums off: the new ports, a zero
    // checksum, and (TCP) no reserved bits.
    uint8_t header[kMaxHeaderSize];
    std::copy(m_header, m_header + m_headerSize, header);
    PutPort(header, source.port);
    PutPort(header + 2, destination.port);
    if (m_protocol == punchlab::nat::Protocol::kUdp) {
      header[6] = header[7] = 0;
    } else {
      header[12] &= 0xf0;
      header[16] = header[17] = 0;
    }
    packet = m_segment->Copy();
    packet->RemoveAtStart(m_headerSize);
    packet->AddHeader(RawTransportHeader(header, m_headerSize));
  } else if (m_protocol == punchlab::nat::Protocol::kUdp) {
    packet = m_body->Copy();
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
    packet = m_body->Copy();
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
