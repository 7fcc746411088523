// Disco packets: header layout against an independent libsodium crypto_box,
// round trips, and every way a packet off the network can be wrong.
#include <gtest/gtest.h>

#include <sodium.h>

#include <string>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/disco/sealer.h"
#include "punchlab/random.h"
#include "support/text-values.h"

namespace punchlab {
namespace disco {
namespace {

using testsupport::Hex;
using testsupport::Ep;

// The NaCl crypto_box test keys (libsodium test/default/box.c), as disco keys.
const char* kAliceSecret = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const char* kAlicePublic = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
const char* kBobSecret = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const char* kBobPublic = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
const char* kNonce = "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37";

DiscoPrivateKey Priv(const char* hex) {
  return *DiscoPrivateKey::Parse(std::string("discoprivkey:") + hex);
}

BoxNonce Nonce() {
  Bytes b = Hex(kNonce);
  BoxNonce n{};
  std::copy(b.begin(), b.end(), n.begin());
  return n;
}

Ping TestPing() {
  Ping p;
  for (size_t i = 0; i < p.txid.size(); ++i) p.txid[i] = static_cast<uint8_t>(0xa0 + i);
  p.node_key = *NodePublicKey::FromBytes(Hex(kAlicePublic));
  return p;
}

// Alice and Bob, each knowing the other.
struct Pair {
  DiscoSealer alice{Priv(kAliceSecret)};
  DiscoSealer bob{Priv(kBobSecret)};
  Pair() {
    EXPECT_EQ(alice.AddPeer(bob.public_key()), DiscoSealer::AddPeerResult::kAdded);
    EXPECT_EQ(bob.AddPeer(alice.public_key()), DiscoSealer::AddPeerResult::kAdded);
  }
};

TEST(DiscoSealer, PacketLayoutMatchesIndependentCryptoBox) {
  Pair p;
  ASSERT_EQ(ToHex(p.alice.public_key().view()), kAlicePublic);
  const Bytes plaintext = EncodeMessage(TestPing());
  std::optional<Bytes> packet = p.alice.Seal(Nonce(), p.bob.public_key(), TestPing());
  ASSERT_TRUE(packet);

  // Built by hand: magic, Alice's disco key, the nonce, then crypto_box_easy
  // (not the precomputed path the sealer uses) from Alice to Bob.
  Bytes box(plaintext.size() + crypto_box_MACBYTES);
  const Bytes bob_pk = Hex(kBobPublic);
  const Bytes alice_sk = Hex(kAliceSecret);
  const Bytes nonce = Hex(kNonce);
  ASSERT_EQ(crypto_box_easy(box.data(), plaintext.data(), plaintext.size(), nonce.data(),
                            bob_pk.data(), alice_sk.data()),
            0);
  const Bytes expected = Hex(std::string("5453f09f92ac") + kAlicePublic + kNonce + ToHex(box));
  EXPECT_EQ(*packet, expected);
  EXPECT_EQ(packet->size(), kHeaderSize + kBoxOverhead + 2 + kPingPayloadSize);
  EXPECT_TRUE(LooksLikeDisco(*packet));
  EXPECT_EQ(DiscoSealer::PeekSender(*packet), p.alice.public_key());
}

TEST(DiscoSealer, RoundTripEveryMessage) {
  Pair p;
  DeterministicRandom rng(7);
  const std::vector<Message> messages = {
      TestPing(),
      Pong{TestPing().txid, Ep("203.0.113.7:41641")},
      Pong{TestPing().txid, Ep("[2001:db8::7]:41641")},
      CallMeMaybe{},
      CallMeMaybe{{Ep("198.51.100.1:1"), Ep("[2001:db8::1]:2"), Ep("10.1.2.3:41641")}},
  };
  for (const Message& m : messages) {
    std::optional<Bytes> packet = p.alice.Seal(rng, p.bob.public_key(), m);
    ASSERT_TRUE(packet);
    OpenResult r = p.bob.Open(*packet);
    ASSERT_TRUE(r.ok()) << DropReasonName(r.drop);
    EXPECT_EQ(r.opened->sender, p.alice.public_key());
    EXPECT_TRUE(r.opened->message == m) << MessageTypeName(TypeOf(m));
  }
  EXPECT_EQ(p.alice.stats().sealed, messages.size());
  EXPECT_EQ(p.bob.stats().opened, messages.size());
  EXPECT_EQ(p.bob.stats().DroppedTotal(), 0u);
}

TEST(DiscoSealer, FreshNoncePerSeal) {
  Pair p;
  DeterministicRandom rng(1);
  Bytes a = *p.alice.Seal(rng, p.bob.public_key(), TestPing());
  Bytes b = *p.alice.Seal(rng, p.bob.public_key(), TestPing());
  EXPECT_NE(a, b);
  EXPECT_NE(ByteView(a).sub(kMagicSize + 32, kBoxNonceSize),
            ByteView(b).sub(kMagicSize + 32, kBoxNonceSize));
}

TEST(DiscoSealer, ReplayedPacketStillOpens) {
  // Replay protection is the path layer's job (txid matching), not the box's.
  Pair p;
  DeterministicRandom rng(2);
  Bytes packet = *p.alice.Seal(rng, p.bob.public_key(), TestPing());
  EXPECT_TRUE(p.bob.Open(packet).ok());
  EXPECT_TRUE(p.bob.Open(packet).ok());
  EXPECT_EQ(p.bob.stats().opened, 2u);
}

TEST(DiscoSealer, SealedToSomeoneElseFailsToOpen) {
  DeterministicRandom rng(3);
  DiscoSealer alice(Priv(kAliceSecret));
  DiscoSealer bob(Priv(kBobSecret));
  DiscoSealer carol(DiscoPrivateKey::Generate(rng));
  alice.AddPeer(carol.public_key());
  bob.AddPeer(alice.public_key());
  // Alice seals to Carol; Bob knows Alice, but the box is not his.
  Bytes packet = *alice.Seal(rng, carol.public_key(), TestPing());
  OpenResult r = bob.Open(packet);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.drop, DropReason::kBoxFailed);
  EXPECT_EQ(bob.stats().Dropped(DropReason::kBoxFailed), 1u);
}

TEST(DiscoSealer, UnknownSenderDroppedWithoutOpening) {
  DeterministicRandom rng(4);
  DiscoSealer alice(Priv(kAliceSecret));
  DiscoSealer bob(Priv(kBobSecret));
  alice.AddPeer(bob.public_key());
  Bytes packet = *alice.Seal(rng, bob.public_key(), TestPing());
  OpenResult r = bob.Open(packet);
  EXPECT_EQ(r.drop, DropReason::kUnknownSender);
  EXPECT_EQ(bob.stats().Dropped(DropReason::kUnknownSender), 1u);

  // Once Alice is registered it opens; once removed it is dropped again.
  bob.AddPeer(alice.public_key());
  EXPECT_TRUE(bob.Open(packet).ok());
  EXPECT_TRUE(bob.RemovePeer(alice.public_key()));
  EXPECT_FALSE(bob.RemovePeer(alice.public_key()));
  EXPECT_EQ(bob.Open(packet).drop, DropReason::kUnknownSender);
  // Sealing to an unregistered peer is refused, not silently done.
  EXPECT_FALSE(bob.Seal(rng, alice.public_key(), TestPing()));
}

TEST(DiscoSealer, LowOrderPeerKeysAreRefusedAtFirstUse) {
  DeterministicRandom rng(4);
  DiscoSealer bob(Priv(kBobSecret));
  // The all-zero point and a published small-order point of Curve25519.
  const DiscoPublicKey zero;
  const DiscoPublicKey small_order = *DiscoPublicKey::FromBytes(
      Hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"));
  // Registering derives nothing, so it cannot tell yet.
  EXPECT_EQ(bob.AddPeer(zero), DiscoSealer::AddPeerResult::kAdded);
  EXPECT_EQ(bob.AddPeer(small_order), DiscoSealer::AddPeerResult::kAdded);
  EXPECT_EQ(bob.stats().peers_rejected_low_order, 0u);
  EXPECT_EQ(bob.stats().keys_derived, 0u);

  // First use finds them out: nothing is sealed to them, counted once each.
  EXPECT_FALSE(bob.Seal(rng, zero, TestPing()));
  EXPECT_FALSE(bob.Prepare(zero));
  EXPECT_FALSE(bob.Seal(rng, zero, TestPing()));
  EXPECT_EQ(bob.stats().peers_rejected_low_order, 1u);
  EXPECT_EQ(bob.stats().sealed, 0u);

  // A packet claiming to come from such a key is dropped as unknown.
  Bytes packet(kMagic.begin(), kMagic.end());
  packet.insert(packet.end(), small_order.raw().begin(), small_order.raw().end());
  packet.resize(kMinPacketSize + 44, 0);
  EXPECT_EQ(bob.Open(packet).drop, DropReason::kUnknownSender);
  EXPECT_EQ(bob.Open(packet).drop, DropReason::kUnknownSender);
  EXPECT_EQ(bob.stats().peers_rejected_low_order, 2u);
  EXPECT_EQ(bob.stats().keys_derived, 0u);
  EXPECT_EQ(bob.DerivedCount(), 0u);
}

TEST(DiscoSealer, SharedKeysAreDerivedOnceAtFirstUse) {
  DeterministicRandom rng(7);
  DiscoSealer alice(Priv(kAliceSecret));
  DiscoSealer bob(Priv(kBobSecret));
  std::vector<DiscoPublicKey> strangers;
  for (int i = 0; i < 50; ++i) {
    strangers.push_back(DiscoPrivateKey::Generate(rng).Public());
    alice.AddPeer(strangers.back());
  }
  alice.AddPeer(bob.public_key());
  bob.AddPeer(alice.public_key());
  EXPECT_EQ(alice.stats().keys_derived, 0u);  // 51 registered, none used

  Bytes packet = *alice.Seal(rng, bob.public_key(), TestPing());
  EXPECT_TRUE(bob.Open(packet).ok());
  EXPECT_TRUE(bob.Open(packet).ok());
  EXPECT_TRUE(alice.Seal(rng, bob.public_key(), TestPing()));
  EXPECT_TRUE(alice.Prepare(bob.public_key()));
  EXPECT_EQ(alice.stats().keys_derived, 1u);
  EXPECT_EQ(bob.stats().keys_derived, 1u);
  EXPECT_EQ(alice.DerivedCount(), 1u);
  EXPECT_FALSE(alice.Prepare(DiscoPrivateKey::Generate(rng).Public()));  // not registered
}

TEST(DiscoSealer, PeerRegistryIsBounded) {
  DeterministicRandom rng(5);
  DiscoSealer bob(Priv(kBobSecret), 2);
  EXPECT_EQ(bob.AddPeer(DiscoPrivateKey::Generate(rng).Public()),
            DiscoSealer::AddPeerResult::kAdded);
  const DiscoPublicKey second = DiscoPrivateKey::Generate(rng).Public();
  EXPECT_EQ(bob.AddPeer(second), DiscoSealer::AddPeerResult::kAdded);
  EXPECT_EQ(bob.AddPeer(second), DiscoSealer::AddPeerResult::kAlreadyKnown);
  EXPECT_EQ(bob.AddPeer(DiscoPrivateKey::Generate(rng).Public()),
            DiscoSealer::AddPeerResult::kFull);
  EXPECT_EQ(bob.PeerCount(), 2u);
  EXPECT_EQ(bob.stats().peers_rejected_full, 1u);
}

TEST(DiscoSealer, TruncatedAtEveryLengthIsDroppedAndCounted) {
  Pair p;
  DeterministicRandom rng(6);
  Ping padded = TestPing();
  padded.padding = 8;
  Bytes packet = *p.alice.Seal(rng, p.bob.public_key(), padded);
  for (size_t n = 0; n < packet.size(); ++n) {
    OpenResult r = p.bob.Open(ByteView(packet.data(), n));
    ASSERT_FALSE(r.ok()) << n;
    if (n < kMagicSize) {
      EXPECT_EQ(r.drop, DropReason::kNotDisco) << n;
    } else if (n < kMinPacketSize) {
      EXPECT_EQ(r.drop, DropReason::kTooShort) << n;
    } else {
      EXPECT_EQ(r.drop, DropReason::kBoxFailed) << n;  // the MAC covers the length
    }
  }
  const SealerStats& s = p.bob.stats();
  EXPECT_EQ(s.Dropped(DropReason::kNotDisco), kMagicSize);
  EXPECT_EQ(s.Dropped(DropReason::kTooShort), kMinPacketSize - kMagicSize);
  EXPECT_EQ(s.Dropped(DropReason::kBoxFailed), packet.size() - kMinPacketSize);
  EXPECT_EQ(s.DroppedTotal(), packet.size());
  EXPECT_EQ(s.opened, 0u);
  EXPECT_TRUE(p.bob.Open(packet).ok());
}

TEST(DiscoSealer, EveryFlippedByteIsDroppedAndCounted) {
  Pair p;
  DeterministicRandom rng(8);
  const Bytes packet = *p.alice.Seal(rng, p.bob.public_key(), Pong{TestPing().txid, Ep("192.0.2.1:5")});
  for (size_t i = 0; i < packet.size(); ++i) {
    for (uint8_t mask : std::vector<uint8_t>{0x01, 0x80, 0xff}) {
      Bytes bad = packet;
      bad[i] = static_cast<uint8_t>(bad[i] ^ mask);
      OpenResult r = p.bob.Open(bad);
      ASSERT_FALSE(r.ok()) << "byte " << i << " mask " << int{mask};
      if (i < kMagicSize) {
        EXPECT_EQ(r.drop, DropReason::kNotDisco) << i;
      } else if (i < kMagicSize + kCurve25519KeySize) {
        EXPECT_EQ(r.drop, DropReason::kUnknownSender) << i;
      } else {
        EXPECT_EQ(r.drop, DropReason::kBoxFailed) << i;
      }
    }
  }
  EXPECT_EQ(p.bob.stats().DroppedTotal(), packet.size() * 3);
  EXPECT_EQ(p.bob.stats().opened, 0u);
}

TEST(DiscoSealer, GarbageNeverOpens) {
  Pair p;
  DeterministicRandom rng(9);
  for (int i = 0; i < 500; ++i) {
    Bytes junk(rng.Uniform(200));
    rng.Fill(junk.data(), junk.size());
    if (i % 2 == 0 && junk.size() >= kHeaderSize) {
      // Right magic and a known sender, random rest.
      std::copy(kMagic.begin(), kMagic.end(), junk.begin());
      std::copy(p.alice.public_key().raw().begin(), p.alice.public_key().raw().end(),
                junk.begin() + kMagicSize);
    }
    EXPECT_FALSE(p.bob.Open(junk).ok());
  }
  EXPECT_EQ(p.bob.stats().DroppedTotal(), 500u);
}

TEST(DiscoSealer, UnknownTypeAndBadPayloadInsideAValidBox) {
  Pair p;
  OpenResult unknown = p.bob.Open(*p.alice.SealPlaintext(Nonce(), p.bob.public_key(), Hex("7f00")));
  EXPECT_EQ(unknown.drop, DropReason::kUnknownType);

  // A Ping with a 5-byte txid, a Pong without its address.
  Bytes short_ping = Hex("01000102030405");
  EXPECT_EQ(p.bob.Open(*p.alice.SealPlaintext(Nonce(), p.bob.public_key(), short_ping)).drop,
            DropReason::kBadPayload);
  Bytes short_pong = Hex("0200" "0102030405060708090a0b0c");
  EXPECT_EQ(p.bob.Open(*p.alice.SealPlaintext(Nonce(), p.bob.public_key(), short_pong)).drop,
            DropReason::kBadPayload);
  // An empty plaintext: the packet is too short to hold a message at all.
  EXPECT_EQ(p.bob.Open(*p.alice.SealPlaintext(Nonce(), p.bob.public_key(), Bytes{})).drop,
            DropReason::kTooShort);

  const SealerStats& s = p.bob.stats();
  EXPECT_EQ(s.Dropped(DropReason::kUnknownType), 1u);
  EXPECT_EQ(s.Dropped(DropReason::kBadPayload), 2u);
  EXPECT_EQ(s.Dropped(DropReason::kTooShort), 1u);
}

TEST(DiscoSealer, PongV4MappedRoundTripThroughTheBox) {
  Pair p;
  DeterministicRandom rng(10);
  Pong pong{TestPing().txid, Ep("198.51.100.200:65535")};
  Bytes packet = *p.alice.Seal(rng, p.bob.public_key(), pong);
  OpenResult r = p.bob.Open(packet);
  ASSERT_TRUE(r.ok());
  const Pong& got = std::get<Pong>(r.opened->message);
  EXPECT_TRUE(got.source.ip.is_v4());
  EXPECT_EQ(got.source, pong.source);
  EXPECT_EQ(got.source.ToString(), "198.51.100.200:65535");
}

TEST(DiscoSealer, DropReasonNames) {
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    EXPECT_STRNE(DropReasonName(static_cast<DropReason>(i)), "unknown");
  }
}

}  // namespace
}  // namespace disco
}  // namespace punchlab
