// Byte vectors for every DERP v2 frame type (PROTOCOL.md "DERP").
#include <gtest/gtest.h>

#include <string>

#include "punchlab/bytes.h"
#include "punchlab/crypto/box.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/derp/frames.h"
#include "punchlab/random.h"

namespace punchlab {
namespace derp {
namespace {

NodePublicKey KeyOf(uint8_t fill) {
  KeyBytes raw;
  raw.fill(fill);
  return NodePublicKey(raw);
}

std::string Rep(const std::string& hex_byte, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += hex_byte;
  return out;
}

Frame RawOf(const Bytes& wire) {
  // Header checked by the vectors; the payload is what follows it.
  return Frame{static_cast<FrameType>(wire.at(0)),
               Bytes(wire.begin() + kFrameHeaderSize, wire.end())};
}

template <typename T>
T RoundTrip(const T& frame, const std::string& expected_hex) {
  const Bytes wire = Encode(frame);
  EXPECT_EQ(ToHex(wire), expected_hex);
  auto back = Decode<T>(RawOf(wire));
  EXPECT_TRUE(back.has_value());
  return back.value_or(T{});
}

TEST(DerpFrames, MagicIsDerpAndKeyEmoji) {
  EXPECT_EQ(ToHex(ByteView(kMagic.data(), kMagic.size())), "44455250f09f9491");
  EXPECT_EQ(std::string(kMagic.begin(), kMagic.begin() + 4), "DERP");
  EXPECT_EQ(kMaxPacketSize, 65536u);
}

TEST(DerpFrames, ServerKey) {
  auto back = RoundTrip(ServerKeyFrame{KeyOf(0xaa)},
                        "0100000028"
                        "44455250f09f9491" +
                            Rep("aa", 32));
  EXPECT_EQ(back.key, KeyOf(0xaa));
  // Wrong magic, or a short key, is refused; bytes after the key are reserved.
  Bytes payload = RawOf(Encode(ServerKeyFrame{KeyOf(0xaa)})).payload;
  Bytes bad = payload;
  bad[0] = 'X';
  EXPECT_FALSE(ServerKeyFrame::DecodePayload(bad));
  EXPECT_FALSE(ServerKeyFrame::DecodePayload(ByteView(payload).sub(0, 39)));
  payload.push_back(0x99);
  EXPECT_TRUE(ServerKeyFrame::DecodePayload(payload));
}

TEST(DerpFrames, ClientInfoAndServerInfoCarryNonceAndBox) {
  DeterministicRandom rng(7);
  auto client = NodePrivateKey::Generate(rng);
  auto server = NodePrivateKey::Generate(rng);
  auto client_side = SharedKey::Compute(client, server.Public());
  auto server_side = SharedKey::Compute(server, client.Public());
  ASSERT_TRUE(client_side && server_side);
  BoxNonce nonce;
  nonce.fill(0x22);
  const std::string json = "{\"version\":2}";
  const Bytes sealed = client_side->Seal(
      nonce, ByteView(reinterpret_cast<const uint8_t*>(json.data()), json.size()));

  // 32 key + 24 nonce + 13 JSON + 16 tag = 85 = 0x55.
  const Bytes wire = Encode(ClientInfoFrame{client.Public(), sealed});
  ASSERT_EQ(wire.size(), 5u + 85u);
  EXPECT_EQ(ToHex(ByteView(wire).sub(0, 5 + 32 + 24)),
            "0200000055" + ToHex(client.Public().view()) + Rep("22", 24));
  auto info = Decode<ClientInfoFrame>(RawOf(wire));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->key, client.Public());
  auto opened = server_side->Open(info->sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(std::string(opened->begin(), opened->end()), json);

  const Bytes server_wire = Encode(ServerInfoFrame{sealed});
  EXPECT_EQ(ToHex(ByteView(server_wire).sub(0, 5 + 24)), "0300000035" + Rep("22", 24));
  auto server_info = Decode<ServerInfoFrame>(RawOf(server_wire));
  ASSERT_TRUE(server_info);
  EXPECT_EQ(server_info->sealed, sealed);

  // Too short to even hold the nonce.
  EXPECT_FALSE(ClientInfoFrame::DecodePayload(Bytes(32 + 23, 0)));
  EXPECT_FALSE(ServerInfoFrame::DecodePayload(Bytes(23, 0)));
}

TEST(DerpFrames, SendAndRecvPacket) {
  const Bytes hi = {'h', 'i'};
  auto send = RoundTrip(SendPacketFrame{KeyOf(0x33), hi}, "0400000022" + Rep("33", 32) + "6869");
  EXPECT_EQ(send.destination, KeyOf(0x33));
  EXPECT_EQ(send.packet, hi);
  auto recv = RoundTrip(RecvPacketFrame{KeyOf(0x34), hi}, "0500000022" + Rep("34", 32) + "6869");
  EXPECT_EQ(recv.source, KeyOf(0x34));
  EXPECT_EQ(recv.packet, hi);
  // An empty packet is legal; a missing key or an oversized packet is not.
  EXPECT_TRUE(SendPacketFrame::DecodePayload(Bytes(32, 1)));
  EXPECT_FALSE(SendPacketFrame::DecodePayload(Bytes(31, 1)));
  EXPECT_TRUE(SendPacketFrame::DecodePayload(Bytes(32 + kMaxPacketSize, 1)));
  EXPECT_FALSE(SendPacketFrame::DecodePayload(Bytes(32 + kMaxPacketSize + 1, 1)));
  EXPECT_FALSE(RecvPacketFrame::DecodePayload(Bytes(32 + kMaxPacketSize + 1, 1)));
}

TEST(DerpFrames, KeepAlive) {
  RoundTrip(KeepAliveFrame{}, "0600000000");
  EXPECT_FALSE(KeepAliveFrame::DecodePayload(Bytes{0}));
}

TEST(DerpFrames, NotePreferred) {
  EXPECT_TRUE(RoundTrip(NotePreferredFrame{true}, "070000000101").preferred);
  EXPECT_FALSE(RoundTrip(NotePreferredFrame{false}, "070000000100").preferred);
  EXPECT_FALSE(NotePreferredFrame::DecodePayload(Bytes{}));
  EXPECT_FALSE(NotePreferredFrame::DecodePayload(Bytes{1, 1}));
}

TEST(DerpFrames, PeerGone) {
  auto gone = RoundTrip(PeerGoneFrame{KeyOf(0x44), PeerGoneReason::kNotHere},
                        "0800000021" + Rep("44", 32) + "01");
  EXPECT_EQ(gone.key, KeyOf(0x44));
  EXPECT_EQ(gone.reason, PeerGoneReason::kNotHere);
  RoundTrip(PeerGoneFrame{KeyOf(0x44), PeerGoneReason::kDisconnected},
            "0800000021" + Rep("44", 32) + "00");
  // Older servers send the key alone: disconnected.
  auto old = PeerGoneFrame::DecodePayload(Bytes(32, 0x44));
  ASSERT_TRUE(old);
  EXPECT_EQ(old->reason, PeerGoneReason::kDisconnected);
  EXPECT_FALSE(PeerGoneFrame::DecodePayload(Bytes(31, 0x44)));
  EXPECT_STREQ(PeerGoneReasonName(PeerGoneReason::kNotHere), "not here");
}

TEST(DerpFrames, PeerPresent) {
  auto bare = RoundTrip(PeerPresentFrame{KeyOf(0x55), std::nullopt, std::nullopt}, "0900000020" + Rep("55", 32));
  EXPECT_FALSE(bare.endpoint);
  auto with = RoundTrip(PeerPresentFrame{KeyOf(0x55), *Endpoint::Parse("192.0.2.7:41641"), std::nullopt},
                        "0900000032" + Rep("55", 32) + "00000000000000000000ffffc0000207a2a9");
  ASSERT_TRUE(with.endpoint);
  EXPECT_EQ(with.endpoint->ToString(), "192.0.2.7:41641");
  EXPECT_FALSE(with.flags);
  // derpserver's form: key, address, then the flags byte (1: regular client).
  auto flagged = RoundTrip(PeerPresentFrame{KeyOf(0x55), *Endpoint::Parse("192.0.2.7:41641"), 1},
                           "0900000033" + Rep("55", 32) + "00000000000000000000ffffc0000207a2a901");
  EXPECT_EQ(flagged.flags, std::optional<uint8_t>(1));
  EXPECT_EQ(flagged.endpoint, with.endpoint);
  // Bytes after the flags (a future server's) are ignored.
  Bytes payload = RawOf(Encode(flagged)).payload;
  payload.push_back(0x77);
  EXPECT_EQ(PeerPresentFrame::DecodePayload(payload)->flags, std::optional<uint8_t>(1));
}

TEST(DerpFrames, ForwardPacket) {
  auto f = RoundTrip(ForwardPacketFrame{KeyOf(0x61), KeyOf(0x62), Bytes{'x'}},
                     "0a00000041" + Rep("61", 32) + Rep("62", 32) + "78");
  EXPECT_EQ(f.source, KeyOf(0x61));
  EXPECT_EQ(f.destination, KeyOf(0x62));
  EXPECT_EQ(f.packet, Bytes{'x'});
  EXPECT_FALSE(ForwardPacketFrame::DecodePayload(Bytes(63, 0)));
}

TEST(DerpFrames, PingAndPong) {
  const PingData data = {1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(RoundTrip(PingFrame{data}, "12000000080102030405060708").data, data);
  EXPECT_EQ(RoundTrip(PongFrame{data}, "13000000080102030405060708").data, data);
  EXPECT_FALSE(PingFrame::DecodePayload(Bytes(7, 0)));
  EXPECT_FALSE(PongFrame::DecodePayload(Bytes(7, 0)));
}

TEST(DerpFrames, Health) {
  EXPECT_EQ(RoundTrip(HealthFrame{"bad"}, "1400000003626164").text, "bad");
  EXPECT_EQ(RoundTrip(HealthFrame{""}, "1400000000").text, "");
}

TEST(DerpFrames, Restarting) {
  auto r = RoundTrip(RestartingFrame{Duration::Millis(1500), Duration::Seconds(60)},
                     "1500000008000005dc0000ea60");
  EXPECT_EQ(r.reconnect_in, Duration::Millis(1500));
  EXPECT_EQ(r.try_for, Duration::Seconds(60));
  EXPECT_FALSE(RestartingFrame::DecodePayload(Bytes(7, 0)));
}

TEST(DerpFrames, DecodeChecksTheType) {
  const Bytes wire = Encode(PingFrame{});
  EXPECT_FALSE(Decode<PongFrame>(RawOf(wire)));
  EXPECT_EQ(FrameTypeName(FrameType::kSendPacket), "SendPacket");
  EXPECT_EQ(FrameTypeName(static_cast<FrameType>(0x42)), "0x42");
}

}  // namespace
}  // namespace derp
}  // namespace punchlab
