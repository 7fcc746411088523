// Disco plaintext codec: byte vectors written by hand from PROTOCOL.md
// ("Disco"), round trips, and malformed input.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/disco/message.h"
#include "support/text-values.h"

namespace punchlab {
namespace disco {
namespace {

using testsupport::Hex;
using testsupport::Ep;

// txid 0x01..0x0c, node key 0x20..0x3f: easy to spot in a hex dump.
const char* kTxIdHex = "0102030405060708090a0b0c";
const char* kNodeKeyHex = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

TxId TestTxId() {
  TxId t{};
  for (size_t i = 0; i < t.size(); ++i) t[i] = static_cast<uint8_t>(i + 1);
  return t;
}

NodePublicKey TestNodeKey() { return *NodePublicKey::FromBytes(Hex(kNodeKeyHex)); }

TEST(DiscoMessage, MagicIsTsAndSpeechBalloon) {
  // "TS" followed by U+1F4AC in UTF-8.
  const std::string magic = "TS\xf0\x9f\x92\xac";
  EXPECT_EQ(Bytes(magic.begin(), magic.end()), Bytes(kMagic.begin(), kMagic.end()));
  EXPECT_EQ(kHeaderSize, 62u);
  EXPECT_EQ(kMinPacketSize, 80u);
}

TEST(DiscoMessage, PingByteVector) {
  Ping ping;
  ping.txid = TestTxId();
  ping.node_key = TestNodeKey();
  const Bytes expected = Hex(std::string("0100") + kTxIdHex + kNodeKeyHex);
  EXPECT_EQ(EncodeMessage(ping), expected);
  EXPECT_EQ(expected.size(), 2 + kPingPayloadSize);

  DecodeResult d = DecodeMessage(expected);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<Ping>(d.message), ping);
}

TEST(DiscoMessage, PingWithPaddingAppendsZeros) {
  Ping ping;
  ping.txid = TestTxId();
  ping.node_key = TestNodeKey();
  ping.padding = 5;
  const Bytes expected = Hex(std::string("0100") + kTxIdHex + kNodeKeyHex + "0000000000");
  EXPECT_EQ(EncodeMessage(ping), expected);

  DecodeResult d = DecodeMessage(expected);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<Ping>(d.message).padding, 5u);
  EXPECT_EQ(std::get<Ping>(d.message), ping);

  // A large pad (path MTU probe) round-trips too.
  ping.padding = 1200;
  Bytes big = EncodeMessage(ping);
  EXPECT_EQ(big.size(), 2 + kPingPayloadSize + 1200);
  EXPECT_EQ(std::get<Ping>(DecodeMessage(big).message), ping);
}

TEST(DiscoMessage, PingWithoutNodeKeyFromOldClients) {
  // Tailscale before 1.16 sent only the txid; a zero key is not written.
  Ping ping;
  ping.txid = TestTxId();
  const Bytes expected = Hex(std::string("0100") + kTxIdHex);
  EXPECT_EQ(EncodeMessage(ping), expected);
  DecodeResult d = DecodeMessage(expected);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(std::get<Ping>(d.message).node_key.IsZero());
  EXPECT_EQ(std::get<Ping>(d.message).padding, 0u);

  // Fewer than 32 bytes after the txid cannot be a key: they are padding.
  DecodeResult short_tail = DecodeMessage(Hex(std::string("0100") + kTxIdHex + "000000"));
  ASSERT_TRUE(short_tail.ok());
  EXPECT_TRUE(std::get<Ping>(short_tail.message).node_key.IsZero());
  EXPECT_EQ(std::get<Ping>(short_tail.message).padding, 3u);
}

TEST(DiscoMessage, PongV4ByteVectorUsesV4MappedAddress) {
  Pong pong;
  pong.txid = TestTxId();
  pong.source = Ep("203.0.113.7:41641");
  // ::ffff:203.0.113.7 = 00*10 ffff cb007107, port 41641 = 0xa2a9.
  const Bytes expected =
      Hex(std::string("0200") + kTxIdHex + "00000000000000000000ffff" + "cb007107" + "a2a9");
  EXPECT_EQ(EncodeMessage(pong), expected);
  EXPECT_EQ(expected.size(), 2 + kPongPayloadSize);

  DecodeResult d = DecodeMessage(expected);
  ASSERT_TRUE(d.ok());
  const Pong& got = std::get<Pong>(d.message);
  EXPECT_EQ(got, pong);
  EXPECT_TRUE(got.source.ip.is_v4()) << "v4-mapped must come back as IPv4";
}

TEST(DiscoMessage, PongV6ByteVector) {
  Pong pong;
  pong.txid = TestTxId();
  pong.source = Ep("[2001:db8::1]:3478");
  const Bytes expected =
      Hex(std::string("0200") + kTxIdHex + "20010db8000000000000000000000001" + "0d96");
  EXPECT_EQ(EncodeMessage(pong), expected);
  DecodeResult d = DecodeMessage(expected);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<Pong>(d.message), pong);
  EXPECT_TRUE(std::get<Pong>(d.message).source.ip.is_v6());
}

TEST(DiscoMessage, CallMeMaybeByteVectors) {
  CallMeMaybe none;
  EXPECT_EQ(EncodeMessage(none), Hex("0300"));
  DecodeResult d0 = DecodeMessage(Hex("0300"));
  ASSERT_TRUE(d0.ok());
  EXPECT_TRUE(std::get<CallMeMaybe>(d0.message).endpoints.empty());

  CallMeMaybe one;
  one.endpoints = {Ep("192.0.2.1:1")};
  const Bytes one_bytes = Hex("0300" "00000000000000000000ffffc0000201" "0001");
  EXPECT_EQ(EncodeMessage(one), one_bytes);
  EXPECT_EQ(std::get<CallMeMaybe>(DecodeMessage(one_bytes).message), one);

  CallMeMaybe mixed;
  mixed.endpoints = {Ep("198.51.100.2:65535"), Ep("[2001:db8:1::2]:41641"), Ep("10.0.0.5:41641")};
  const Bytes mixed_bytes = Hex(
      "0300"
      "00000000000000000000ffffc6336402" "ffff"
      "20010db8000100000000000000000002" "a2a9"
      "00000000000000000000ffff0a000005" "a2a9");
  EXPECT_EQ(EncodeMessage(mixed), mixed_bytes);
  DecodeResult dm = DecodeMessage(mixed_bytes);
  ASSERT_TRUE(dm.ok());
  const CallMeMaybe& got = std::get<CallMeMaybe>(dm.message);
  EXPECT_EQ(got, mixed);
  ASSERT_EQ(got.endpoints.size(), 3u);
  EXPECT_TRUE(got.endpoints[0].ip.is_v4());
  EXPECT_TRUE(got.endpoints[1].ip.is_v6());
}

TEST(DiscoMessage, CallMeMaybeManyEndpointsRoundTrip) {
  CallMeMaybe many;
  for (uint16_t i = 0; i < 200; ++i) {
    many.endpoints.emplace_back(IpAddress::V4(192, 0, 2, static_cast<uint8_t>(i)),
                                static_cast<uint16_t>(1000 + i));
    std::array<uint8_t, 16> v6{0x20, 0x01, 0x0d, 0xb8};
    v6[15] = static_cast<uint8_t>(i);
    many.endpoints.emplace_back(IpAddress::V6(v6), static_cast<uint16_t>(2000 + i));
  }
  Bytes wire = EncodeMessage(many);
  EXPECT_EQ(wire.size(), 2 + 400 * kEndpointWireSize);
  DecodeResult d = DecodeMessage(wire);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<CallMeMaybe>(d.message), many);
}

TEST(DiscoMessage, CallMeMaybeRaggedOrNewVersionDecodesEmpty) {
  // Not a whole number of endpoints: a layout we do not understand, so no
  // endpoints rather than a guess (Tailscale does the same).
  DecodeResult ragged = DecodeMessage(Hex("0300" "00000000000000000000ffffc0000201" "000100"));
  ASSERT_TRUE(ragged.ok());
  EXPECT_TRUE(std::get<CallMeMaybe>(ragged.message).endpoints.empty());

  DecodeResult v1 = DecodeMessage(Hex("0301" "00000000000000000000ffffc0000201" "0001"));
  ASSERT_TRUE(v1.ok());
  EXPECT_TRUE(std::get<CallMeMaybe>(v1.message).endpoints.empty());
}

TEST(DiscoMessage, TrailingBytesAndVersionIgnoredForPingAndPong) {
  // A newer peer may append fields or bump the version: still readable.
  Bytes pong = Hex(std::string("0207") + kTxIdHex + "00000000000000000000ffffcb007107" + "a2a9" +
                   "deadbeef");
  DecodeResult d = DecodeMessage(pong);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(std::get<Pong>(d.message).source, Ep("203.0.113.7:41641"));
  EXPECT_EQ(std::get<Pong>(d.message).txid, TestTxId());
}

TEST(DiscoMessage, MalformedIsReportedNotThrown) {
  EXPECT_EQ(DecodeMessage(Bytes{}).error, DecodeError::kTooShort);
  EXPECT_EQ(DecodeMessage(Hex("01")).error, DecodeError::kTooShort);
  EXPECT_EQ(DecodeMessage(Hex("0400")).error, DecodeError::kUnknownType);
  EXPECT_EQ(DecodeMessage(Hex("0000")).error, DecodeError::kUnknownType);
  EXPECT_EQ(DecodeMessage(Hex("ff00")).error, DecodeError::kUnknownType);

  // Ping needs its 12-byte txid; Pong needs all 30 bytes.
  const Bytes ping = Hex(std::string("0100") + kTxIdHex);
  for (size_t n = 2; n < ping.size(); ++n) {
    EXPECT_EQ(DecodeMessage(ByteView(ping.data(), n)).error, DecodeError::kBadPayload) << n;
  }
  const Bytes pong = Hex(std::string("0200") + kTxIdHex + "00000000000000000000ffffcb007107a2a9");
  for (size_t n = 2; n < pong.size(); ++n) {
    EXPECT_EQ(DecodeMessage(ByteView(pong.data(), n)).error, DecodeError::kBadPayload) << n;
  }
  EXPECT_TRUE(DecodeMessage(pong).ok());
}

TEST(DiscoMessage, DecodeSurvivesEveryPrefixOfEveryMessage) {
  Ping ping;
  ping.txid = TestTxId();
  ping.node_key = TestNodeKey();
  ping.padding = 3;
  Pong pong{TestTxId(), Ep("[2001:db8::9]:7")};
  CallMeMaybe cmm{{Ep("192.0.2.9:9"), Ep("[2001:db8::9]:9")}};
  for (const Message& m : std::vector<Message>{ping, pong, cmm}) {
    Bytes wire = EncodeMessage(m);
    for (size_t n = 0; n <= wire.size(); ++n) {
      // Must not crash or read out of bounds (ASan/valgrind would tell).
      DecodeResult d = DecodeMessage(ByteView(wire.data(), n));
      if (n == wire.size()) {
        EXPECT_TRUE(d.ok());
      }
    }
  }
}

TEST(DiscoMessage, LooksLikeDiscoNeedsMagicAndHeader) {
  Bytes packet(kMagic.begin(), kMagic.end());
  packet.resize(kHeaderSize, 0x42);
  EXPECT_TRUE(LooksLikeDisco(packet));
  EXPECT_FALSE(LooksLikeDisco(ByteView(packet.data(), kHeaderSize - 1)));
  EXPECT_FALSE(LooksLikeDisco(Bytes{}));

  Bytes wrong = packet;
  wrong[5] ^= 1;
  EXPECT_FALSE(LooksLikeDisco(wrong));

  // A STUN binding request (cookie at offset 4) is not disco.
  Bytes stun = Hex("000100002112a442b7e7a701bc34d686fa87dfae");
  stun.resize(kHeaderSize + 20, 0);
  EXPECT_FALSE(LooksLikeDisco(stun));
}

TEST(DiscoMessage, TypeNames) {
  EXPECT_EQ(TypeOf(Message{Ping{}}), MessageType::kPing);
  EXPECT_EQ(TypeOf(Message{Pong{}}), MessageType::kPong);
  EXPECT_EQ(TypeOf(Message{CallMeMaybe{}}), MessageType::kCallMeMaybe);
  EXPECT_STREQ(MessageTypeName(MessageType::kCallMeMaybe), "call-me-maybe");
  EXPECT_STREQ(DecodeErrorName(DecodeError::kBadPayload), "bad payload");
}

}  // namespace
}  // namespace disco
}  // namespace punchlab
