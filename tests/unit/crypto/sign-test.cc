#include <gtest/gtest.h>

#include <algorithm>
#include <new>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "punchlab/crypto/sign.h"
#include "punchlab/random.h"

namespace punchlab {
namespace {

static_assert(!std::is_copy_constructible<SigningKey>::value, "secrets are not copied");

// RFC 8032 section 7.1, TEST 1 (empty message).
const char* kSeed = "idpprivkey:9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const char* kPublic = "idpkey:d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const char* kSignature =
    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46b"
    "d25bf5f0595bbe24655141438e7a100b";

TEST(Sign, Rfc8032TestVector1) {
  auto key = SigningKey::Parse(kSeed);
  ASSERT_TRUE(key);
  EXPECT_EQ(key->Public().ToString(), kPublic);
  const Signature sig = key->Sign(ByteView());
  EXPECT_EQ(ToHex(ByteView(sig.data(), sig.size())), kSignature);

  auto verify = VerifyKey::Parse(kPublic);
  ASSERT_TRUE(verify);
  Bytes expected;
  ASSERT_TRUE(FromHex(kSignature, expected));
  EXPECT_TRUE(verify->Verify(ByteView(), expected));
  EXPECT_EQ(key->ToSecretString(), kSeed);
}

TEST(Sign, SignVerifyAndRejections) {
  DeterministicRandom rng(21);
  auto key = SigningKey::Generate(rng);
  auto other = SigningKey::Generate(rng);
  const std::string text = R"({"user":"alice@example.com","domain":"example.com"})";
  const Bytes msg(text.begin(), text.end());
  const Signature sig = key.Sign(msg);
  const ByteView sv(sig.data(), sig.size());
  EXPECT_TRUE(key.Public().Verify(msg, sv));
  EXPECT_FALSE(other.Public().Verify(msg, sv));

  Bytes tampered_msg = msg;
  tampered_msg[5] ^= 0x20;
  EXPECT_FALSE(key.Public().Verify(tampered_msg, sv));
  for (size_t i = 0; i < sig.size(); ++i) {
    Signature t = sig;
    t[i] ^= 0x01;
    EXPECT_FALSE(key.Public().Verify(msg, ByteView(t.data(), t.size()))) << "byte " << i;
  }
  EXPECT_FALSE(key.Public().Verify(msg, sv.sub(0, 63)));
  Bytes longer(sig.begin(), sig.end());
  longer.push_back(0);
  EXPECT_FALSE(key.Public().Verify(msg, longer));
  EXPECT_FALSE(key.Public().Verify(msg, ByteView()));
  EXPECT_FALSE(VerifyKey().Verify(msg, sv));
}

TEST(Sign, DeterministicFromSeedAndCloneable) {
  DeterministicRandom a(8), b(8);
  auto ka = SigningKey::Generate(a);
  auto kb = SigningKey::Generate(b);
  EXPECT_EQ(ka.Public(), kb.Public());
  EXPECT_EQ(ka.Sign(Bytes{1, 2}), kb.Sign(Bytes{1, 2}));  // Ed25519 is deterministic
  auto clone = ka.Clone();
  EXPECT_EQ(clone.Public(), ka.Public());
  EXPECT_EQ(clone.SeedBytes(), ka.SeedBytes());
}

TEST(Sign, TextParsingIsStrict) {
  const std::string hex(64, 'b');
  EXPECT_TRUE(VerifyKey::Parse("idpkey:" + hex));
  for (const std::string& bad :
       {std::string("idpkey:") + hex.substr(1), "idpkey:" + hex + "b", "idpkey:" + hex + " ",
        "nodekey:" + hex, "IDPKEY:" + hex, "idpprivkey:" + hex}) {
    EXPECT_FALSE(VerifyKey::Parse(bad)) << bad;
  }
  // Hex digits in either case, as for every key text (Tailscale's rule).
  EXPECT_EQ(VerifyKey::Parse("idpkey:" + std::string(64, 'B')), VerifyKey::Parse("idpkey:" + hex));
  EXPECT_FALSE(SigningKey::Parse("idpkey:" + hex));
  EXPECT_FALSE(SigningKey::Parse("idpprivkey:" + hex.substr(1) + "z"));
  EXPECT_TRUE(SigningKey::Parse("idpprivkey:" + hex));

  auto vk = VerifyKey::Parse(kPublic);
  ASSERT_TRUE(vk);
  EXPECT_EQ(vk->ShortString(), "[d75a9801]");
  EXPECT_EQ(VerifyKey::FromBytes(vk->view()), vk);
  EXPECT_FALSE(VerifyKey::FromBytes(vk->view().sub(0, 31)));
  EXPECT_TRUE(VerifyKey().IsZero());
  std::unordered_set<VerifyKey> set{*vk, VerifyKey()};
  EXPECT_EQ(set.size(), 2u);
}

TEST(Sign, MoveAndDestructionWipeTheSeed) {
  auto key = SigningKey::Parse(kSeed);
  ASSERT_TRUE(key);
  SigningKey moved = std::move(*key);
  EXPECT_TRUE(std::all_of(key->SeedBytes().begin(), key->SeedBytes().end(),
                          [](uint8_t x) { return x == 0; }));
  EXPECT_TRUE(key->Public().IsZero());

  Bytes seed(moved.SeedBytes().begin(), moved.SeedBytes().end());
  alignas(SigningKey) unsigned char storage[sizeof(SigningKey)];
  auto* k = new (storage) SigningKey(std::move(moved));
  ASSERT_NE(std::search(storage, storage + sizeof storage, seed.begin(), seed.end()),
            storage + sizeof storage);
  k->~SigningKey();
  EXPECT_EQ(std::search(storage, storage + sizeof storage, seed.begin(), seed.end()),
            storage + sizeof storage);
}

}  // namespace
}  // namespace punchlab
