// NAT-PMP (RFC 6886) and PCP (RFC 6887) messages, byte for byte against the
// RFCs' layouts and against captured answers.
#include <gtest/gtest.h>

#include "punchlab/portmap/pcp.h"
#include "punchlab/portmap/pmp.h"
#include "support/text-values.h"

namespace punchlab {
namespace portmap {
namespace {

using testsupport::Hex;

// ---- NAT-PMP ----

TEST(Pmp, ExternalAddressRequestIsTwoZeroBytes) {  // RFC 6886 3.2
  EXPECT_EQ(ToHex(pmp::EncodeExternalAddressRequest()), "0000");
}

TEST(Pmp, MapRequestLayout) {  // RFC 6886 3.3: the UDP map request Tailscale sends
  pmp::MapRequest m;
  m.opcode = pmp::kOpMapUdp;
  m.internal_port = 60736;
  m.suggested_external_port = 0;
  m.lifetime_seconds = 7200;
  EXPECT_EQ(ToHex(pmp::EncodeMapRequest(m)), "00010000ed4000000000" "1c20");
  auto back = pmp::DecodeRequest(pmp::EncodeMapRequest(m));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->opcode, pmp::kOpMapUdp);
  EXPECT_EQ(back->map.internal_port, 60736);
  EXPECT_EQ(back->map.lifetime_seconds, 7200u);
}

TEST(Pmp, ExternalAddressResponseLayout) {
  pmp::Response r;
  r.opcode = pmp::kOpExternalAddress;
  r.epoch_seconds = 0x01020304;
  r.external_ip = IpAddress::V4(203, 0, 113, 7);
  EXPECT_EQ(ToHex(pmp::EncodeResponse(r)), "00800000" "01020304" "cb007107");
  auto back = pmp::DecodeResponse(Hex("00800000" "01020304" "cb007107"));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->opcode, pmp::kOpExternalAddress);
  EXPECT_EQ(back->result, pmp::ResultCode::kSuccess);
  EXPECT_EQ(back->epoch_seconds, 0x01020304u);
  EXPECT_EQ(back->external_ip, IpAddress::V4(203, 0, 113, 7));
}

TEST(Pmp, MapResponseLayout) {
  const Bytes wire = Hex("0081" "0000" "00000010" "ed40" "c350" "00000e10");
  auto r = pmp::DecodeResponse(wire);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->opcode, pmp::kOpMapUdp);
  EXPECT_EQ(r->epoch_seconds, 16u);
  EXPECT_EQ(r->internal_port, 60736);
  EXPECT_EQ(r->external_port, 50000);
  EXPECT_EQ(r->lifetime_seconds, 3600u);
  EXPECT_EQ(pmp::EncodeResponse(*r), wire);
}

TEST(Pmp, ErrorHeaderAndFullLengthErrorsDecode) {
  // RFC 6886 3.5: "unsupported version" is the 8-byte header.
  auto header = pmp::DecodeResponse(Hex("0081" "0001" "00000005"));
  ASSERT_TRUE(header);
  EXPECT_EQ(header->result, pmp::ResultCode::kUnsupportedVersion);
  EXPECT_FALSE(header->has_body);
  pmp::Response refused;
  refused.opcode = pmp::kOpMapUdp;
  refused.result = pmp::ResultCode::kOutOfResources;
  refused.internal_port = 41641;
  auto full = pmp::DecodeResponse(pmp::EncodeResponse(refused));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->result, pmp::ResultCode::kOutOfResources);
  EXPECT_EQ(full->internal_port, 41641);
  EXPECT_EQ(ToHex(pmp::EncodeResponse(refused, /*header_only=*/true)), "0081000400000000");
}

TEST(Pmp, MalformedResponsesAreRefusedWithAReason) {
  pmp::DecodeError e{};
  EXPECT_FALSE(pmp::DecodeResponse(Hex("00"), &e));
  EXPECT_EQ(e, pmp::DecodeError::kTooShort);
  EXPECT_FALSE(pmp::DecodeResponse(Hex("0200000000000000"), &e));
  EXPECT_EQ(e, pmp::DecodeError::kWrongVersion);
  EXPECT_FALSE(pmp::DecodeResponse(Hex("0001000000000000"), &e));
  EXPECT_EQ(e, pmp::DecodeError::kNotResponse);
  // A success must have its opcode's exact length (Tailscale's parsePMPResponse).
  EXPECT_FALSE(pmp::DecodeResponse(Hex("00800000000000010a000001ff"), &e));
  EXPECT_EQ(e, pmp::DecodeError::kBadLength);
  EXPECT_FALSE(pmp::DecodeResponse(Hex("0081000000000001"), &e));
  EXPECT_EQ(e, pmp::DecodeError::kBadLength);
  EXPECT_FALSE(pmp::DecodeResponse(Hex("00c0000000000001"), &e));
  EXPECT_EQ(e, pmp::DecodeError::kUnknownOpcode);
}

TEST(Pmp, RequestsTheServerMustRefuse) {
  pmp::DecodeError e{};
  EXPECT_FALSE(pmp::DecodeRequest(Hex("0000ff"), &e));  // op 0 is two bytes
  EXPECT_EQ(e, pmp::DecodeError::kBadLength);
  EXPECT_FALSE(pmp::DecodeRequest(Hex("0080"), &e));  // a response
  EXPECT_EQ(e, pmp::DecodeError::kNotResponse);
  EXPECT_FALSE(pmp::DecodeRequest(Hex("0200"), &e));  // PCP
  EXPECT_EQ(e, pmp::DecodeError::kWrongVersion);
  auto unknown = pmp::DecodeRequest(Hex("0007"));  // answered "unsupported opcode"
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->opcode, 7);
}

// ---- PCP ----

TEST(Pcp, AnnounceRequestLayout) {  // RFC 6887 7.1, 14.1
  pcp::Request a;
  a.opcode = pcp::kOpAnnounce;
  a.client_ip = IpAddress::V4(192, 168, 1, 10);
  EXPECT_EQ(ToHex(pcp::EncodeRequest(a)),
            "02000000" "00000000" "00000000000000000000ffffc0a8010a");
}

TEST(Pcp, MapRequestLayout) {  // RFC 6887 11.1: 24-byte header + 36 bytes of MAP data
  pcp::Request m;
  m.opcode = pcp::kOpMap;
  m.lifetime_seconds = 7200;
  m.client_ip = IpAddress::V4(192, 168, 1, 10);
  pcp::MapData d;
  for (size_t i = 0; i < d.nonce.size(); ++i) d.nonce[i] = static_cast<uint8_t>(i + 1);
  d.protocol = pcp::kProtocolUdp;
  d.internal_port = 41641;
  d.external_port = 0;
  d.external_ip = IpAddress();  // wildcard 0.0.0.0, v4-mapped
  m.map = d;
  const Bytes wire = pcp::EncodeRequest(m);
  ASSERT_EQ(wire.size(), 60u);
  EXPECT_EQ(ToHex(wire),
            "02010000" "00001c20" "00000000000000000000ffffc0a8010a"
            "0102030405060708090a0b0c" "11000000" "a2a9" "0000"
            "00000000000000000000ffff00000000");
  auto back = pcp::DecodeRequest(wire);
  ASSERT_TRUE(back);
  ASSERT_TRUE(back->map);
  EXPECT_EQ(back->client_ip, IpAddress::V4(192, 168, 1, 10));
  EXPECT_EQ(back->map->nonce, d.nonce);
  EXPECT_EQ(back->map->internal_port, 41641);
}

// A MAP answer as captured in Tailscale's net/portmapper/pcp_test.go.
TEST(Pcp, CapturedMapResponse) {
  const Bytes wire = {2,   129, 0,   0,  0,   0,   28,  32,  0,   2,   155, 237, 0,   0,   0,
                      0,   0,   0,   0,  0,   0,   0,   0,   0,   129, 112, 9,   24,  241, 208,
                      251, 45,  157, 76, 10,  188, 17,  0,   0,   0,   4,   210, 4,   210, 0,
                      0,   0,   0,   0,  0,   0,   0,   0,   0,   255, 255, 135, 180, 175, 246};
  auto r = pcp::DecodeResponse(wire);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->opcode, pcp::kOpMap);
  EXPECT_EQ(r->result, pcp::ResultCode::kSuccess);
  EXPECT_EQ(r->lifetime_seconds, 7200u);
  EXPECT_EQ(r->epoch_seconds, 170989u);
  ASSERT_TRUE(r->map);
  EXPECT_EQ(r->map->protocol, pcp::kProtocolUdp);
  EXPECT_EQ(r->map->internal_port, 1234);
  EXPECT_EQ(r->map->external_port, 1234);
  EXPECT_EQ(r->map->external_ip, IpAddress::V4(135, 180, 175, 246));
  EXPECT_EQ(pcp::EncodeResponse(*r), wire);
}

TEST(Pcp, ResponseHeaderLayout) {  // RFC 6887 7.2
  pcp::Response r;
  r.opcode = pcp::kOpAnnounce;
  r.result = pcp::ResultCode::kNotAuthorized;
  r.lifetime_seconds = 30;
  r.epoch_seconds = 99;
  EXPECT_EQ(ToHex(pcp::EncodeResponse(r)),
            "02800002" "0000001e" "00000063" "000000000000000000000000");
}

TEST(Pcp, OptionsAreFramedAndSkipped) {
  pcp::Request a;
  a.client_ip = IpAddress::V4(10, 0, 0, 2);
  Bytes wire = pcp::EncodeRequest(a);
  // THIRD_PARTY (code 1) with a 16-byte address: well framed.
  Bytes option = Hex("01000010" "00000000000000000000ffff0a000009");
  wire.insert(wire.end(), option.begin(), option.end());
  EXPECT_TRUE(pcp::DecodeRequest(wire));
  // The option claims 32 bytes: it runs past the message.
  wire[26] = 0;
  wire[27] = 32;
  pcp::DecodeError e{};
  EXPECT_FALSE(pcp::DecodeRequest(wire, &e));
  EXPECT_EQ(e, pcp::DecodeError::kBadOption);
}

TEST(Pcp, MalformedMessagesAreRefusedWithAReason) {
  pcp::DecodeError e{};
  EXPECT_FALSE(pcp::DecodeResponse(Hex("0280"), &e));
  EXPECT_EQ(e, pcp::DecodeError::kTooShort);
  Bytes header(24, 0);
  header[0] = 2;
  header[1] = 0x80;
  EXPECT_TRUE(pcp::DecodeResponse(header));
  header[0] = 1;
  EXPECT_FALSE(pcp::DecodeResponse(header, &e));
  EXPECT_EQ(e, pcp::DecodeError::kWrongVersion);
  header[0] = 2;
  header[1] = 0x00;
  EXPECT_FALSE(pcp::DecodeResponse(header, &e));
  EXPECT_EQ(e, pcp::DecodeError::kWrongDirection);
  header[1] = 0x80;
  header.push_back(0);
  EXPECT_FALSE(pcp::DecodeResponse(header, &e));  // not a multiple of 4
  EXPECT_EQ(e, pcp::DecodeError::kBadLength);
  Bytes huge(1104, 0);
  huge[0] = 2;
  huge[1] = 0x80;
  EXPECT_FALSE(pcp::DecodeResponse(huge, &e));
  EXPECT_EQ(e, pcp::DecodeError::kBadLength);
  // A successful MAP answer without its 36 bytes of data.
  header.resize(28);
  header[1] = 0x81;
  EXPECT_FALSE(pcp::DecodeResponse(header, &e));
  EXPECT_EQ(e, pcp::DecodeError::kTooShort);
}

}  // namespace
}  // namespace portmap
}  // namespace punchlab
