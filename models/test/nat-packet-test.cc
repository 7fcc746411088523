// NatPacket's two ways through (in place on the header's bytes, or through
// ns-3's UdpHeader / TcpHeader) give the bytes ns-3's headers give: a packet
// rewritten in place must be exactly what deserialising the header, changing
// the ports and serialising it again writes, for every header Parse takes in
// place; the others go ns-3's way.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "model/nat-packet.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "ns3/node.h"
#include "ns3/tcp-header.h"
#include "ns3/udp-header.h"

namespace ns3 {
namespace {

using Bytes = std::vector<uint8_t>;

// ns-3's ChecksumEnabled global value, set for the object's life.
class ScopedChecksums {
 public:
  explicit ScopedChecksums(bool on) {
    GlobalValue::GetValueByName("ChecksumEnabled", m_before);
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(on));
  }
  ~ScopedChecksums() { GlobalValue::Bind("ChecksumEnabled", m_before); }

 private:
  BooleanValue m_before;
};

const Ipv4Address kFrom("10.0.0.2");
const Ipv4Address kTo("203.0.113.9");
const punchlab::Endpoint kNewSource{ToPunchlab(Ipv4Address("198.51.100.1")), 40001};
const punchlab::Endpoint kNewDestination{ToPunchlab(Ipv4Address("203.0.113.9")), 443};

Ipv4Header IpFor(uint8_t protocol, uint32_t size) {
  Ipv4Header ip;
  ip.SetSource(kFrom);
  ip.SetDestination(kTo);
  ip.SetProtocol(protocol);
  ip.SetTtl(63);
  ip.SetPayloadSize(static_cast<uint16_t>(size));
  return ip;
}

Bytes BytesOf(Ptr<const Packet> p) {
  Bytes b(p->GetSize());
  p->CopyData(b.data(), static_cast<uint32_t>(b.size()));
  return b;
}

// What the rewrite was before the in-place way: ns-3's TcpHeader read,
// ports changed, written again (checksums off).
Bytes ThroughTcpHeader(const Bytes& segment) {
  Ptr<Packet> p = Create<Packet>(segment.data(), static_cast<uint32_t>(segment.size()));
  TcpHeader tcp;
  p->RemoveHeader(tcp);
  tcp.SetSourcePort(kNewSource.port);
  tcp.SetDestinationPort(kNewDestination.port);
  p->AddHeader(tcp);
  return BytesOf(p);
}

struct Rewritten {
  NatParseStatus status;
  bool in_place = false;
  Bytes bytes;
  punchlab::nat::TcpFlags flags;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
};

Rewritten ParseAndRewrite(uint8_t protocol, const Bytes& segment) {
  Ptr<Packet> p = Create<Packet>(segment.data(), static_cast<uint32_t>(segment.size()));
  NatPacket packet;
  Rewritten r;
  r.status = NatPacket::Parse(p, IpFor(protocol, p->GetSize()), Node::ChecksumEnabled(), &packet);
  if (r.status != NatParseStatus::kOk) return r;
  r.in_place = packet.inPlace();
  r.flags = packet.tcpFlags();
  r.source_port = packet.source().port;
  r.destination_port = packet.destination().port;
  Ipv4Header out;
  r.bytes = BytesOf(packet.Rewrite(kNewSource, kNewDestination, &out));
  EXPECT_EQ(out.GetSource(), ToNs3Ipv4(kNewSource.ip));
  EXPECT_EQ(out.GetDestination(), ToNs3Ipv4(kNewDestination.ip));
  EXPECT_EQ(out.GetPayloadSize(), r.bytes.size());
  EXPECT_EQ(out.GetTtl(), 63);
  return r;
}

// A TCP header with `options` (padded with zeros to a word when `pad`),
// the given flags byte, reserved nibble and checksum field, and a body.
Bytes Tcp(const Bytes& options, uint8_t flags, uint8_t reserved = 0, uint16_t checksum = 0,
          size_t body = 7) {
  Bytes b = {0x13, 0x88, 0x01, 0xbb, 0, 0, 0x10, 0x01, 0, 0, 0x20, 0x02, 0, flags,
             0xff, 0xf0, static_cast<uint8_t>(checksum >> 8), static_cast<uint8_t>(checksum),
             0, 5};
  b.insert(b.end(), options.begin(), options.end());
  while (b.size() % 4) b.push_back(0);
  b[12] = static_cast<uint8_t>(((b.size() / 4) << 4) | (reserved & 0x0f));
  for (size_t i = 0; i < body; ++i) b.push_back(static_cast<uint8_t>(0xa0 + i));
  return b;
}

const Bytes kTimestamp = {8, 10, 0, 0, 1, 0, 0, 0, 2, 0};

TEST(NatPacketTest, TcpAsNs3WritesItIsRewrittenInPlaceToNs3sBytes) {
  ScopedChecksums off(false);
  const std::vector<Bytes> cases = {
      Tcp({}, 0x02),                                         // a bare SYN
      Tcp(kTimestamp, 0x10),                                 // ns-3's data segment: TS, END, pad
      Tcp({2, 4, 0x05, 0xb4, 3, 3, 7, 4, 2}, 0x12),          // MSS, window scale, SACK-permitted
      Tcp({5, 10, 0, 0, 0, 1, 0, 0, 0, 9}, 0x10),            // one SACK block
      Tcp(kTimestamp, 0xd1, 0x0),                            // CWR, ECE, ACK, FIN: the whole byte
      Tcp({1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, 0x18),      // Linux's NOP, NOP, TS
      Tcp({}, 0x10, 0x0f),                                   // reserved bits (ns-3 clears them)
      Tcp(kTimestamp, 0x10, 0, 0xbeef),                      // a checksum (ns-3 writes zero)
      Tcp({0}, 0x10),                                        // END alone, then zeros to the word
      Tcp({}, 0x10, 0, 0, 0),                                // no body
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Rewritten r = ParseAndRewrite(6, cases[i]);
    ASSERT_EQ(r.status, NatParseStatus::kOk);
    EXPECT_TRUE(r.in_place);
    EXPECT_EQ(r.bytes, ThroughTcpHeader(cases[i]));
    EXPECT_EQ(r.flags.bits, cases[i][13]);
    EXPECT_EQ(r.source_port, 5000);
    EXPECT_EQ(r.destination_port, 443);
  }
}

TEST(NatPacketTest, TcpHeadersNs3WouldChangeGoNs3sWay) {
  ScopedChecksums off(false);
  Bytes garbage_after_end = Tcp({8, 10, 0, 0, 1, 0, 0, 0, 2, 0, 0, 7}, 0x10);  // END, then 7
  const std::vector<Bytes> cases = {
      Tcp({30, 4, 1, 2}, 0x10),                 // a kind ns-3 does not know (MPTCP)
      garbage_after_end,                        // padding ns-3 would write as zero
      Tcp({0, 0, 0, 0, 0, 0, 0, 0}, 0x10),      // END, then more than a word of padding
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(i);
    const Rewritten r = ParseAndRewrite(6, cases[i]);
    ASSERT_EQ(r.status, NatParseStatus::kOk);
    EXPECT_FALSE(r.in_place);
    EXPECT_EQ(r.bytes, ThroughTcpHeader(cases[i]));
  }
}

// Random headers from the options ns-3 knows, NOPs and ENDs, random flags,
// reserved bits and checksum fields: whichever way Parse takes, the bytes are
// ns-3's.
TEST(NatPacketTest, RandomTcpHeadersGiveNs3sBytesEitherWay) {
  ScopedChecksums off(false);
  std::mt19937 rng(19);
  auto byte = [&]() { return static_cast<uint8_t>(rng() & 0xff); };
  const std::vector<Bytes> pieces = {
      {1}, {0}, {2, 4, 0x05, 0xb4}, {3, 3, 7}, {4, 2}, kTimestamp,
      {5, 10, 1, 2, 3, 4, 5, 6, 7, 8}, {5, 18, 1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8},
      {30, 4, 9, 9}, {0, 0, 0, 0},
  };
  size_t in_place = 0;
  size_t ns3 = 0;
  for (int n = 0; n < 2000; ++n) {
    Bytes options;
    const size_t count = rng() % 5;
    for (size_t k = 0; k < count; ++k) {
      const Bytes& piece = pieces[rng() % pieces.size()];
      if (options.size() + piece.size() > 40) break;
      options.insert(options.end(), piece.begin(), piece.end());
    }
    Bytes segment = Tcp(options, byte(), byte(), static_cast<uint16_t>(rng()), rng() % 20);
    if (segment.size() > 20 + 40 + 20) continue;
    SCOPED_TRACE(n);
    const Rewritten r = ParseAndRewrite(6, segment);
    ASSERT_EQ(r.status, NatParseStatus::kOk);
    (r.in_place ? in_place : ns3)++;
    ASSERT_EQ(r.bytes, ThroughTcpHeader(segment));
  }
  EXPECT_GT(in_place, 500u);
  EXPECT_GT(ns3, 100u);
}

TEST(NatPacketTest, UdpIsRewrittenInPlaceAsAFreshUdpHeaderWritesIt) {
  ScopedChecksums off(false);
  const Bytes datagram = {0x13, 0x88, 0x0d, 0x96, 0x00, 0x0c, 0xde, 0xad, 1, 2, 3, 4};
  const Rewritten r = ParseAndRewrite(17, datagram);
  ASSERT_EQ(r.status, NatParseStatus::kOk);
  EXPECT_TRUE(r.in_place);
  Ptr<Packet> expected = Create<Packet>(datagram.data() + 8, 4);
  UdpHeader udp;
  udp.SetSourcePort(kNewSource.port);
  udp.SetDestinationPort(kNewDestination.port);
  expected->AddHeader(udp);
  EXPECT_EQ(r.bytes, BytesOf(expected));
  EXPECT_EQ(r.source_port, 5000);
  EXPECT_EQ(r.destination_port, 3478);
}

TEST(NatPacketTest, TheBodyIsWhatFollowsTheHeaderEitherWay) {
  for (bool checksums : {false, true}) {
    ScopedChecksums scoped(checksums);
    Bytes datagram = {0x13, 0x88, 0x0d, 0x96, 0x00, 0x0b, 0, 0, 7, 8, 9};
    if (checksums) {  // a correct checksum, so Parse takes it
      Ptr<Packet> p = Create<Packet>(datagram.data() + 8, 3);
      UdpHeader udp;
      udp.SetSourcePort(5000);
      udp.SetDestinationPort(3478);
      udp.EnableChecksums();
      udp.InitializeChecksum(kFrom, kTo, 17);
      p->AddHeader(udp);
      datagram = BytesOf(p);
    }
    Ptr<Packet> p = Create<Packet>(datagram.data(), static_cast<uint32_t>(datagram.size()));
    NatPacket packet;
    ASSERT_EQ(NatPacket::Parse(p, IpFor(17, p->GetSize()), checksums, &packet), NatParseStatus::kOk);
    EXPECT_EQ(packet.inPlace(), !checksums);
    EXPECT_EQ(BytesOf(packet.body()), (Bytes{7, 8, 9}));
  }
}

TEST(NatPacketTest, TruncatedAndInconsistentHeadersAreMalformedWithChecksumsOff) {
  ScopedChecksums off(false);
  Bytes short_tcp = Tcp({}, 0x10, 0, 0, 0);
  short_tcp.resize(19);
  Bytes offset_past_end = Tcp({}, 0x10, 0, 0, 0);
  offset_past_end[12] = 0xf0;
  Bytes option_past_header = Tcp({2, 9, 0, 0}, 0x10);
  EXPECT_EQ(ParseAndRewrite(6, short_tcp).status, NatParseStatus::kMalformed);
  EXPECT_EQ(ParseAndRewrite(6, offset_past_end).status, NatParseStatus::kMalformed);
  EXPECT_EQ(ParseAndRewrite(6, option_past_header).status, NatParseStatus::kMalformed);
  EXPECT_EQ(ParseAndRewrite(17, Bytes{0x13, 0x88, 0x0d}).status, NatParseStatus::kMalformed);
  EXPECT_EQ(ParseAndRewrite(17, Bytes{0x13, 0x88, 0x0d, 0x96, 0, 100, 0, 0}).status,
            NatParseStatus::kMalformed);
  EXPECT_EQ(ParseAndRewrite(47, Bytes{0, 0, 8, 0}).status, NatParseStatus::kOtherProtocol);

  Ptr<Packet> p = Create<Packet>(20);
  Ipv4Header fragment = IpFor(17, 20);
  fragment.SetMoreFragments();
  NatPacket packet;
  EXPECT_EQ(NatPacket::Parse(p, fragment, false, &packet), NatParseStatus::kFragment);
}

TEST(NatPacketTest, WithChecksumsOnBadOnesAreRefusedAndGoodOnesRecomputed) {
  ScopedChecksums on(true);
  // A correct segment as ns-3 writes it from kFrom to kTo.
  Ptr<Packet> p = Create<Packet>(5);
  TcpHeader tcp;
  tcp.SetSourcePort(5000);
  tcp.SetDestinationPort(443);
  tcp.SetFlags(TcpHeader::ACK);
  tcp.EnableChecksums();
  tcp.InitializeChecksum(kFrom, kTo, 6);
  p->AddHeader(tcp);
  const Bytes good = BytesOf(p);
  Rewritten r = ParseAndRewrite(6, good);
  ASSERT_EQ(r.status, NatParseStatus::kOk);
  EXPECT_FALSE(r.in_place);
  // The rewritten segment checks out against the new pseudo-header.
  Ptr<Packet> back = Create<Packet>(r.bytes.data(), static_cast<uint32_t>(r.bytes.size()));
  TcpHeader check;
  check.EnableChecksums();
  check.InitializeChecksum(ToNs3Ipv4(kNewSource.ip), ToNs3Ipv4(kNewDestination.ip), 6);
  back->RemoveHeader(check);
  EXPECT_TRUE(check.IsChecksumOk());

  Bytes bad = good;
  bad[16] ^= 0x01;
  EXPECT_EQ(ParseAndRewrite(6, bad).status, NatParseStatus::kBadChecksum);
}

}  // namespace
}  // namespace ns3
