#include <gtest/gtest.h>

#include <sodium.h>

#include <algorithm>
#include <new>
#include <string>
#include <type_traits>
#include <utility>

#include "punchlab/crypto/box.h"
#include "punchlab/random.h"

namespace punchlab {
namespace {

// SharedKey::Compute only accepts a private and a public key of the same role.
template <typename Priv, typename Pub, typename = void>
struct CanCompute : std::false_type {};
template <typename Priv, typename Pub>
struct CanCompute<Priv, Pub,
                  std::void_t<decltype(SharedKey::Compute(std::declval<const Priv&>(),
                                                          std::declval<const Pub&>()))>>
    : std::true_type {};
static_assert(CanCompute<NodePrivateKey, NodePublicKey>::value, "same role works");
static_assert(CanCompute<DiscoPrivateKey, DiscoPublicKey>::value, "same role works");
static_assert(!CanCompute<DiscoPrivateKey, NodePublicKey>::value, "roles must not mix");
static_assert(!CanCompute<NodePrivateKey, DiscoPublicKey>::value, "roles must not mix");
static_assert(!std::is_copy_constructible<SharedKey>::value, "secrets are not copied");

Bytes FromHexOrDie(const std::string& hex) {
  Bytes b;
  EXPECT_TRUE(FromHex(hex, b)) << hex;
  return b;
}

// The classic NaCl crypto_box vectors (libsodium test/default/box.c, box2.c).
const char* kAliceSecret = "privkey:77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const char* kBobSecret = "privkey:5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
const char* kNonce = "69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37";
const char* kMessage =
    "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129"
    "6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde"
    "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705";
const char* kBox =
    "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a"
    "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae"
    "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74"
    "e355a5";
// crypto_box_beforenm(Bob's public, Alice's secret): NaCl's "firstkey".
const char* kShared = "1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389";

BoxNonce NonceFromHex(const std::string& hex) {
  Bytes b = FromHexOrDie(hex);
  BoxNonce n{};
  std::copy(b.begin(), b.end(), n.begin());
  return n;
}

TEST(Box, KnownAnswerFromNaCl) {
  auto alice = NodePrivateKey::Parse(kAliceSecret);
  auto bob = NodePrivateKey::Parse(kBobSecret);
  ASSERT_TRUE(alice && bob);
  auto a2b = SharedKey::Compute(*alice, bob->Public());
  auto b2a = SharedKey::Compute(*bob, alice->Public());
  ASSERT_TRUE(a2b && b2a);
  EXPECT_EQ(ToHex(a2b->SecretBytes()), kShared);
  EXPECT_EQ(ToHex(b2a->SecretBytes()), kShared);

  const BoxNonce nonce = NonceFromHex(kNonce);
  const Bytes message = FromHexOrDie(kMessage);
  ASSERT_EQ(message.size(), 131u);
  const Bytes sealed = a2b->Seal(nonce, message);
  ASSERT_EQ(sealed.size(), kBoxNonceSize + kBoxOverhead + 131u);
  EXPECT_EQ(ToHex(ByteView(sealed).sub(0, kBoxNonceSize)), kNonce);
  EXPECT_EQ(ToHex(ByteView(sealed).sub(kBoxNonceSize)), kBox);

  auto opened = b2a->Open(sealed);
  ASSERT_TRUE(opened);
  EXPECT_EQ(*opened, message);
}

TEST(Box, MatchesCryptoBoxEasy) {
  DeterministicRandom rng(11);
  auto a = DiscoPrivateKey::Generate(rng);
  auto b = DiscoPrivateKey::Generate(rng);
  auto shared = SharedKey::Compute(a, b.Public());
  ASSERT_TRUE(shared);
  const Bytes msg = {1, 2, 3, 4, 5, 6, 7};
  const BoxNonce nonce = NonceFromHex(std::string(48, '7'));
  const Bytes sealed = shared->Seal(nonce, msg);
  Bytes direct(msg.size() + crypto_box_MACBYTES);
  ASSERT_EQ(crypto_box_easy(direct.data(), msg.data(), msg.size(), nonce.data(),
                            b.Public().raw().data(), a.SecretBytes().data()),
            0);
  EXPECT_EQ(ByteView(sealed).sub(kBoxNonceSize), ByteView(direct));
}

TEST(Box, RoundTripBothDirectionsWithDrawnNonces) {
  DeterministicRandom rng(5);
  auto a = NodePrivateKey::Generate(rng);
  auto b = NodePrivateKey::Generate(rng);
  auto a2b = SharedKey::Compute(a, b.Public());
  auto b2a = SharedKey::Compute(b, a.Public());
  ASSERT_TRUE(a2b && b2a);
  EXPECT_EQ(a2b->SecretBytes(), b2a->SecretBytes());

  const Bytes ping = {0x01, 0x00, 0xaa, 0xbb};
  const Bytes s1 = a2b->Seal(rng, ping);
  const Bytes s2 = a2b->Seal(rng, ping);
  EXPECT_NE(ByteView(s1).sub(0, kBoxNonceSize), ByteView(s2).sub(0, kBoxNonceSize));
  EXPECT_EQ(b2a->Open(s1), ping);
  EXPECT_EQ(b2a->Open(s2), ping);
  // A sealer can open its own box: the precomputed key is symmetric.
  EXPECT_EQ(a2b->Open(s1), ping);

  const Bytes pong = {0x02, 0x00};
  EXPECT_EQ(a2b->Open(b2a->Seal(rng, pong)), pong);

  const Bytes empty;
  const Bytes sealed_empty = a2b->Seal(rng, empty);
  EXPECT_EQ(sealed_empty.size(), kBoxNonceSize + kBoxOverhead);
  auto opened_empty = b2a->Open(sealed_empty);
  ASSERT_TRUE(opened_empty);
  EXPECT_TRUE(opened_empty->empty());
}

TEST(Box, SealIsDeterministicGivenTheSeed) {
  auto run = [] {
    DeterministicRandom rng(77);
    auto a = DiscoPrivateKey::Generate(rng);
    auto b = DiscoPrivateKey::Generate(rng);
    return SharedKey::Compute(a, b.Public())->Seal(rng, Bytes{9, 9, 9});
  };
  EXPECT_EQ(run(), run());
}

TEST(Box, RejectsTamperTruncationAndWrongKey) {
  DeterministicRandom rng(6);
  auto a = NodePrivateKey::Generate(rng);
  auto b = NodePrivateKey::Generate(rng);
  auto c = NodePrivateKey::Generate(rng);
  auto a2b = SharedKey::Compute(a, b.Public());
  auto b2a = SharedKey::Compute(b, a.Public());
  auto c2a = SharedKey::Compute(c, a.Public());
  ASSERT_TRUE(a2b && b2a && c2a);
  const Bytes msg(40, 0x42);
  const Bytes sealed = a2b->Seal(rng, msg);
  ASSERT_TRUE(b2a->Open(sealed));

  for (size_t i = 0; i < sealed.size(); ++i) {  // every byte: nonce, tag and body
    Bytes t = sealed;
    t[i] ^= 0x01;
    EXPECT_FALSE(b2a->Open(t)) << "flipped byte " << i;
  }
  for (size_t n = 0; n < sealed.size(); ++n) {
    EXPECT_FALSE(b2a->Open(ByteView(sealed).sub(0, n))) << "truncated to " << n;
  }
  Bytes longer = sealed;
  longer.push_back(0);
  EXPECT_FALSE(b2a->Open(longer));
  EXPECT_FALSE(c2a->Open(sealed));
  EXPECT_FALSE(b2a->Open(ByteView()));
}

TEST(Box, RefusesLowOrderPeerKeys) {
  // Points whose shared secret is all zeros (libsodium test/default/box.c's
  // small_order_p, and zero itself): a hostile peer could send these.
  auto small_order = NodePublicKey::Parse(
      "nodekey:e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800");
  ASSERT_TRUE(small_order);
  auto alice = NodePrivateKey::Parse(kAliceSecret);
  ASSERT_TRUE(alice);
  EXPECT_FALSE(SharedKey::Compute(*alice, *small_order));
  EXPECT_FALSE(SharedKey::Compute(*alice, NodePublicKey()));
}

TEST(Box, MoveAndDestructionWipeTheKey) {
  auto alice = NodePrivateKey::Parse(kAliceSecret);
  auto bob = NodePrivateKey::Parse(kBobSecret);
  ASSERT_TRUE(alice && bob);
  auto maybe = SharedKey::Compute(*alice, bob->Public());
  ASSERT_TRUE(maybe);
  SharedKey moved = std::move(*maybe);
  EXPECT_EQ(ToHex(moved.SecretBytes()), kShared);
  EXPECT_TRUE(std::all_of(maybe->SecretBytes().begin(), maybe->SecretBytes().end(),
                          [](uint8_t x) { return x == 0; }));

  const Bytes shared = FromHexOrDie(kShared);
  alignas(SharedKey) unsigned char storage[sizeof(SharedKey)];
  auto* key = new (storage) SharedKey(std::move(moved));
  ASSERT_NE(std::search(storage, storage + sizeof storage, shared.begin(), shared.end()),
            storage + sizeof storage);
  key->~SharedKey();
  EXPECT_EQ(std::search(storage, storage + sizeof storage, shared.begin(), shared.end()),
            storage + sizeof storage);
}

}  // namespace
}  // namespace punchlab
