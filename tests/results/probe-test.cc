// The probe payload (probe.h): the bytes both worlds send, what the receiver
// accepts as a probe, and the echo it sends back.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>

#include "results/probe.h"

namespace punchlab::results {
namespace {

// flow 0x01020304, seq 0x05060708090a0b0c: every header byte distinct, so a
// swapped or misplaced field shows.
constexpr ProbeHeader kKnown{ProbeKind::kProbe, 0x01020304u, 0x05060708090a0b0cull};
const Bytes kKnownBytes = {'P', 'L', 1, 0, 0x01, 0x02, 0x03, 0x04,
                           0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c};

TEST(Probe, EncodesTheDocumentedBigEndianHeader) {
  EXPECT_EQ(EncodeProbe(kKnown, kProbeHeaderSize), kKnownBytes);
  EXPECT_EQ(kProbeHeaderSize, 16u);

  ProbeHeader echo = kKnown;
  echo.kind = ProbeKind::kEcho;
  Bytes echo_bytes = kKnownBytes;
  echo_bytes[2] = 2;
  EXPECT_EQ(EncodeProbe(echo, kProbeHeaderSize), echo_bytes);
}

TEST(Probe, PadsWithZerosUpToTheFlowSize) {
  const Bytes packet = EncodeProbe(kKnown, 200);
  ASSERT_EQ(packet.size(), 200u);
  EXPECT_EQ(Bytes(packet.begin(), packet.begin() + 16), kKnownBytes);
  for (size_t i = 16; i < packet.size(); ++i) EXPECT_EQ(packet[i], 0) << "byte " << i;
  EXPECT_EQ(EncodeProbe(kKnown, 17).size(), 17u);
}

TEST(Probe, SizesBelowTheHeaderSendTheHeaderAlone) {
  for (size_t size : {0u, 1u, 8u, 15u}) {
    EXPECT_EQ(EncodeProbe(kKnown, size), kKnownBytes) << "size " << size;
  }
}

TEST(Probe, DecodesWhatItEncodesWithOrWithoutPadding) {
  for (size_t size : {16u, 64u, 1400u}) {
    const std::optional<ProbeHeader> h = DecodeProbe(EncodeProbe(kKnown, size));
    ASSERT_TRUE(h) << "size " << size;
    EXPECT_EQ(h->kind, ProbeKind::kProbe);
    EXPECT_EQ(h->flow, 0x01020304u);
    EXPECT_EQ(h->seq, 0x05060708090a0b0cull);
  }
  const ProbeHeader extremes{ProbeKind::kEcho, UINT32_MAX, UINT64_MAX};
  const std::optional<ProbeHeader> h = DecodeProbe(EncodeProbe(extremes, 16));
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, ProbeKind::kEcho);
  EXPECT_EQ(h->flow, UINT32_MAX);
  EXPECT_EQ(h->seq, UINT64_MAX);
}

TEST(Probe, RejectsWhatIsNotAProbe) {
  const auto with = [](size_t index, uint8_t value) {
    Bytes b = kKnownBytes;
    b[index] = value;
    return b;
  };
  EXPECT_FALSE(DecodeProbe(with(0, 'p'))) << "magic";
  EXPECT_FALSE(DecodeProbe(with(1, 'M'))) << "magic";
  EXPECT_FALSE(DecodeProbe(with(2, 0))) << "kind 0";
  EXPECT_FALSE(DecodeProbe(with(2, 3))) << "kind 3";
  EXPECT_FALSE(DecodeProbe(with(2, 0xff))) << "kind 255";
  EXPECT_FALSE(DecodeProbe(with(3, 1))) << "reserved";
  for (size_t len = 0; len < kProbeHeaderSize; ++len) {
    EXPECT_FALSE(DecodeProbe(ByteView(kKnownBytes.data(), len))) << "truncated to " << len;
  }
  EXPECT_TRUE(DecodeProbe(kKnownBytes));  // and the untouched bytes do decode
}

TEST(Probe, EchoIsTheSameBytesWithTheKindFlipped) {
  const Bytes probe = EncodeProbe(kKnown, 48);
  const std::optional<Bytes> echo = EchoOf(probe);
  ASSERT_TRUE(echo);
  ASSERT_EQ(echo->size(), 48u);
  Bytes expected = probe;
  expected[2] = static_cast<uint8_t>(ProbeKind::kEcho);
  EXPECT_EQ(*echo, expected);
  const std::optional<ProbeHeader> h = DecodeProbe(*echo);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->kind, ProbeKind::kEcho);
  EXPECT_EQ(h->flow, kKnown.flow);
  EXPECT_EQ(h->seq, kKnown.seq);
}

TEST(Probe, EchoKeepsWhateverPaddingArrived) {
  // The echo reflects the received bytes, so the sender sees the same size back.
  Bytes probe = EncodeProbe(kKnown, 20);
  probe[19] = 0x5a;
  const std::optional<Bytes> echo = EchoOf(probe);
  ASSERT_TRUE(echo);
  EXPECT_EQ((*echo)[19], 0x5a);
  EXPECT_EQ(echo->size(), 20u);
}

TEST(Probe, AnEchoIsNeverEchoedAndGarbageIsNot) {
  // Two receivers must not bounce an echo between them forever.
  const std::optional<Bytes> echo = EchoOf(EncodeProbe(kKnown, 32));
  ASSERT_TRUE(echo);
  EXPECT_FALSE(EchoOf(*echo));
  EXPECT_FALSE(EchoOf(Bytes{'P', 'L', 1, 0}));
  EXPECT_FALSE(EchoOf(Bytes{}));
  Bytes bad_magic = kKnownBytes;
  bad_magic[0] = 'X';
  EXPECT_FALSE(EchoOf(bad_magic));
}

}  // namespace
}  // namespace punchlab::results
