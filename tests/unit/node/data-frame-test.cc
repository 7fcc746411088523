// The data frame: layout, end-to-end sealing, and how the node's socket tells
// it apart from STUN and disco.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "punchlab/disco/message.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/node/events.h"
#include "punchlab/random.h"
#include "punchlab/stun/message.h"

namespace punchlab {
namespace node {
namespace {

struct Keys {
  DeterministicRandom rng{11};
  NodePrivateKey alice = NodePrivateKey::Generate(rng);
  NodePrivateKey bob = NodePrivateKey::Generate(rng);
  NodePrivateKey eve = NodePrivateKey::Generate(rng);
  SharedKey alice_bob = *SharedKey::Compute(alice, bob.Public());
  SharedKey bob_alice = *SharedKey::Compute(bob, alice.Public());
  SharedKey eve_bob = *SharedKey::Compute(eve, bob.Public());
};

Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

TEST(DataFrame, LayoutIsTypeSenderNonceBox) {
  Keys k;
  const Bytes payload = Text("hello bob");
  const Bytes frame = SealData(k.rng, k.alice.Public(), k.alice_bob, payload);
  ASSERT_EQ(frame.size(), kDataOverhead + payload.size());
  EXPECT_EQ(frame[0], kDataFrameType);
  EXPECT_EQ(ByteView(frame).sub(1, 32), k.alice.Public().view());
  EXPECT_EQ(PeekDataSender(frame), k.alice.Public());
  EXPECT_EQ(OpenData(k.bob_alice, frame), payload);
  // The payload is nowhere in the clear.
  EXPECT_EQ(std::search(frame.begin(), frame.end(), payload.begin(), payload.end()), frame.end());
}

TEST(DataFrame, ForgedTamperedAndTruncatedFramesDoNotOpen) {
  Keys k;
  // Eve claims to be Alice but can only seal with her own key.
  const Bytes forged = SealData(k.rng, k.alice.Public(), k.eve_bob, Text("pay eve"));
  EXPECT_EQ(PeekDataSender(forged), k.alice.Public());
  EXPECT_FALSE(OpenData(k.bob_alice, forged));
  Bytes frame = SealData(k.rng, k.alice.Public(), k.alice_bob, Text("hello"));
  for (size_t i = kDataHeaderSize; i < frame.size(); ++i) {
    Bytes flipped = frame;
    flipped[i] ^= 0x80;
    EXPECT_FALSE(OpenData(k.bob_alice, flipped)) << "byte " << i;
  }
  for (size_t n = 0; n < frame.size(); ++n) {
    EXPECT_FALSE(OpenData(k.bob_alice, ByteView(frame.data(), n))) << n << " bytes";
  }
  EXPECT_FALSE(PeekDataSender(ByteView(frame.data(), kDataOverhead - 1)));
}

TEST(DataFrame, DemultiplexesAgainstStunAndDisco) {
  Keys k;
  const Bytes frame = SealData(k.rng, k.alice.Public(), k.alice_bob, Bytes(64, 0));
  EXPECT_TRUE(LooksLikeData(frame));
  EXPECT_FALSE(stun::LooksLikeStun(frame));
  EXPECT_FALSE(disco::LooksLikeDisco(frame));
  Bytes disco_packet(disco::kMagic.begin(), disco::kMagic.end());
  disco_packet.resize(disco::kMinPacketSize, 0);
  EXPECT_FALSE(LooksLikeData(disco_packet));
  stun::Message binding;  // a binding request
  binding.transaction_id = stun::TransactionId::Random(k.rng);
  const Bytes request = stun::EncodeMessage(binding);
  ASSERT_TRUE(stun::LooksLikeStun(request));
  EXPECT_FALSE(LooksLikeData(request));
}

TEST(Path, NamesAndOrder) {
  const Path direct = Path::Direct(*Endpoint::Parse("192.0.2.1:41641"));
  EXPECT_EQ(direct.ToString(), "direct 192.0.2.1:41641");
  EXPECT_EQ(Path::Derp(3).ToString(), "derp 3");
  EXPECT_EQ(Path::None().ToString(), "none");
  EXPECT_NE(direct, Path::Derp(3));
  EXPECT_EQ(Path::Derp(3), Path::Derp(3));
  EXPECT_TRUE(Path::None() < direct && direct < Path::Derp(1) && Path::Derp(1) < Path::Derp(2));
}

}  // namespace
}  // namespace node
}  // namespace punchlab
