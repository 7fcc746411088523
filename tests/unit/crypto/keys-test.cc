#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <new>
#include <string>
#include <type_traits>
#include <unordered_set>

#include "punchlab/crypto/keys.h"
#include "punchlab/random.h"

namespace punchlab {
namespace {

// Roles are distinct types: a disco key is not a node key, in any direction.
static_assert(!std::is_convertible<DiscoPublicKey, NodePublicKey>::value, "roles must differ");
static_assert(!std::is_convertible<NodePublicKey, DiscoPublicKey>::value, "roles must differ");
static_assert(!std::is_convertible<MachinePublicKey, NodePublicKey>::value, "roles must differ");
static_assert(!std::is_copy_constructible<NodePrivateKey>::value, "secrets are not copied");
static_assert(!std::is_copy_assignable<DiscoPrivateKey>::value, "secrets are not copied");
static_assert(std::is_nothrow_move_constructible<NodePrivateKey>::value, "movable");
static_assert(!std::is_default_constructible<NodePrivateKey>::value, "no zero private key");

KeyBytes Fill(uint8_t v) {
  KeyBytes k;
  k.fill(v);
  return k;
}

TEST(Keys, SameSeedSameKeys) {
  DeterministicRandom a(42), b(42), c(43);
  auto ka = NodePrivateKey::Generate(a);
  auto kb = NodePrivateKey::Generate(b);
  auto kc = NodePrivateKey::Generate(c);
  EXPECT_EQ(ka.Public(), kb.Public());
  EXPECT_EQ(ka.SecretBytes(), kb.SecretBytes());
  EXPECT_NE(ka.Public(), kc.Public());
  // A second draw from the same source is a different key.
  EXPECT_NE(NodePrivateKey::Generate(a).Public(), ka.Public());
  EXPECT_FALSE(ka.Public().IsZero());
}

TEST(Keys, PublicMatchesSecret) {
  DeterministicRandom rng(7);
  auto k = DiscoPrivateKey::Generate(rng);
  KeyBytes raw;
  std::copy(k.SecretBytes().begin(), k.SecretBytes().end(), raw.begin());
  EXPECT_EQ(DiscoPrivateKey(raw).Public(), k.Public());
  EXPECT_EQ(k.Clone().Public(), k.Public());
  EXPECT_EQ(k.Clone().SecretBytes(), k.SecretBytes());
}

// Classic NaCl vectors (libsodium test/default/box.c, box2.c): the public keys
// that belong to Alice's and Bob's secret keys.
TEST(Keys, DerivesKnownCurve25519PublicKeys) {
  auto alice = NodePrivateKey::Parse(
      "privkey:77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  auto bob = NodePrivateKey::Parse(
      "privkey:5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  ASSERT_TRUE(alice && bob);
  EXPECT_EQ(alice->Public().ToString(),
            "nodekey:8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(bob->Public().ToString(),
            "nodekey:de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
}

TEST(Keys, TextRoundTrip) {
  DeterministicRandom rng(1);
  auto node = NodePrivateKey::Generate(rng);
  auto disco = DiscoPrivateKey::Generate(rng);
  auto machine = MachinePrivateKey::Generate(rng);

  const std::string np = node.Public().ToString();
  EXPECT_EQ(np.rfind("nodekey:", 0), 0u);
  EXPECT_EQ(np.size(), 8u + 64u);
  EXPECT_EQ(NodePublicKey::Parse(np), node.Public());
  EXPECT_EQ(DiscoPublicKey::Parse(disco.Public().ToString()), disco.Public());
  EXPECT_EQ(MachinePublicKey::Parse(machine.Public().ToString()), machine.Public());
  EXPECT_EQ(disco.Public().ToString().rfind("discokey:", 0), 0u);
  EXPECT_EQ(machine.Public().ToString().rfind("mkey:", 0), 0u);

  const std::string ns = node.ToSecretString();
  EXPECT_EQ(ns.rfind("privkey:", 0), 0u);
  auto parsed = NodePrivateKey::Parse(ns);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->Public(), node.Public());
  EXPECT_EQ(disco.ToSecretString().rfind("discoprivkey:", 0), 0u);
  EXPECT_EQ(DiscoPrivateKey::Parse(disco.ToSecretString())->Public(), disco.Public());
  EXPECT_EQ(MachinePrivateKey::Parse(machine.ToSecretString())->Public(), machine.Public());
}

TEST(Keys, TextParsingIsStrict) {
  const std::string hex(64, 'a');
  ASSERT_TRUE(NodePublicKey::Parse("nodekey:" + hex));
  ASSERT_TRUE(NodePublicKey::Parse("nodekey:0123456789abcdef0123456789abcdef"
                                   "0123456789abcdef0123456789abcdef"));
  const std::string bad[] = {
      "",
      "nodekey:",
      "discokey:" + hex,              // another role's prefix
      "privkey:" + hex,               // a private key is not a public key
      "NODEKEY:" + hex,               // prefix is case-sensitive
      "nodekey" + hex,                // no colon
      "nodekey:" + hex.substr(1),     // 63 digits
      "nodekey:" + hex + "a",         // 65 digits
      "nodekey:" + hex + "aa",        // 66 digits (even, still wrong)
      "nodekey:" + hex.substr(1) + "g",   // non-hex
      "nodekey:" + hex + " ",             // trailing space
      " nodekey:" + hex,                  // leading space
      "nodekey: " + hex.substr(1),        // space inside
      "nodekey:" + hex.substr(2) + "0x",
  };
  for (const auto& s : bad) EXPECT_FALSE(NodePublicKey::Parse(s)) << "'" << s << "'";
  // Uppercase hex parses, as in Tailscale's types/key, to the same key, which
  // is written back in lowercase.
  const auto upper = NodePublicKey::Parse("nodekey:" + std::string(64, 'A'));
  ASSERT_TRUE(upper);
  EXPECT_EQ(upper->ToString(), "nodekey:" + std::string(64, 'a'));
  // Machine private keys share the node private form, as Tailscale's do.
  const auto machine = MachinePrivateKey::Parse("privkey:" + hex);
  ASSERT_TRUE(machine);
  EXPECT_EQ(machine->ToSecretString(), "privkey:" + hex);
  EXPECT_FALSE(MachinePrivateKey::Parse("mprivkey:" + hex));
  EXPECT_FALSE(NodePrivateKey::Parse("nodekey:" + hex));
  EXPECT_FALSE(NodePrivateKey::Parse("discoprivkey:" + hex));
  EXPECT_FALSE(NodePrivateKey::Parse("privkey:" + hex.substr(1)));
  EXPECT_FALSE(DiscoPrivateKey::Parse("privkey:" + hex));
  EXPECT_FALSE(DiscoPublicKey::Parse("nodekey:" + hex));
  EXPECT_FALSE(MachinePublicKey::Parse("nodekey:" + hex));
}

TEST(Keys, FromBytesNeedsExactly32) {
  Bytes b(32, 0x11);
  ASSERT_TRUE(NodePublicKey::FromBytes(b));
  EXPECT_EQ(NodePublicKey::FromBytes(b)->raw(), Fill(0x11));
  EXPECT_TRUE(NodePrivateKey::FromBytes(b));
  b.push_back(0);
  EXPECT_FALSE(NodePublicKey::FromBytes(b));
  EXPECT_FALSE(NodePrivateKey::FromBytes(b));
  b.resize(31);
  EXPECT_FALSE(DiscoPublicKey::FromBytes(b));
  EXPECT_FALSE(DiscoPrivateKey::FromBytes(b));
  EXPECT_FALSE(DiscoPublicKey::FromBytes(ByteView()));
}

TEST(Keys, ShortStringZeroCompareAndHash) {
  KeyBytes raw = Fill(0);
  raw[0] = 0xab;
  raw[1] = 0xcd;
  raw[2] = 0x12;
  raw[3] = 0x34;
  raw[4] = 0xff;
  NodePublicKey k(raw);
  EXPECT_EQ(k.ShortString(), "[abcd1234]");
  EXPECT_TRUE(NodePublicKey().IsZero());
  EXPECT_FALSE(k.IsZero());

  NodePublicKey lo(Fill(1)), hi(Fill(2));
  EXPECT_LT(lo, hi);
  EXPECT_FALSE(hi < lo);
  EXPECT_NE(lo, hi);
  std::map<NodePublicKey, int> ordered{{hi, 2}, {lo, 1}};
  EXPECT_EQ(ordered.begin()->first, lo);

  std::unordered_set<DiscoPublicKey> set;
  DeterministicRandom rng(3);
  for (int i = 0; i < 100; ++i) set.insert(DiscoPrivateKey::Generate(rng).Public());
  EXPECT_EQ(set.size(), 100u);
  EXPECT_EQ(std::hash<NodePublicKey>{}(lo), std::hash<NodePublicKey>{}(NodePublicKey(Fill(1))));
}

// The word-at-a-time comparisons are the bytes' own: == is byte equality,
// < is lexicographic byte order (ordered maps of keys, and everything done
// in key order, rely on it). Pairs that differ in one byte at every
// position, by one in either direction and with the high bit, and random
// pairs that share a prefix of every length.
TEST(Keys, ComparisonsAreTheBytesOrder) {
  auto check = [](const KeyBytes& a, const KeyBytes& b) {
    const NodePublicKey x(a), y(b);
    EXPECT_EQ(x == y, a == b);
    EXPECT_EQ(x != y, a != b);
    EXPECT_EQ(x < y, a < b);
    EXPECT_EQ(y < x, b < a);
  };
  DeterministicRandom rng(5);
  for (size_t at = 0; at < kCurve25519KeySize; ++at) {
    for (uint8_t base : {uint8_t{0x00}, uint8_t{0x7f}, uint8_t{0x80}, uint8_t{0xfe}}) {
      KeyBytes a = Fill(0x41), b = a;
      a[at] = base;
      b[at] = static_cast<uint8_t>(base + 1);
      check(a, b);
      b[at] = static_cast<uint8_t>(base ^ 0x80);
      check(a, b);
      check(a, a);
    }
    for (int i = 0; i < 20; ++i) {
      KeyBytes a{}, b{};
      rng.Fill(a.data(), a.size());
      rng.Fill(b.data(), b.size());
      std::copy(a.begin(), a.begin() + at, b.begin());  // equal up to `at`
      check(a, b);
    }
  }
}

TEST(Keys, MoveWipesTheSource) {
  DeterministicRandom rng(9);
  auto a = NodePrivateKey::Generate(rng);
  const NodePublicKey pub = a.Public();
  NodePrivateKey b = std::move(a);
  EXPECT_EQ(b.Public(), pub);
  // NOLINTNEXTLINE(bugprone-use-after-move): checking the wipe is the point.
  EXPECT_TRUE(std::all_of(a.SecretBytes().begin(), a.SecretBytes().end(),
                          [](uint8_t x) { return x == 0; }));
  EXPECT_TRUE(a.Public().IsZero());

  auto c = NodePrivateKey::Generate(rng);
  c = std::move(b);
  EXPECT_EQ(c.Public(), pub);
  EXPECT_TRUE(b.Public().IsZero());
}

TEST(Keys, DestructorWipesTheSecret) {
  const KeyBytes secret = Fill(0x5a);
  alignas(NodePrivateKey) unsigned char storage[sizeof(NodePrivateKey)];
  auto* key = new (storage) NodePrivateKey(secret);
  ASSERT_NE(std::search(storage, storage + sizeof storage, secret.begin(), secret.end()),
            storage + sizeof storage);
  key->~NodePrivateKey();
  EXPECT_EQ(std::search(storage, storage + sizeof storage, secret.begin(), secret.end()),
            storage + sizeof storage);
}

}  // namespace
}  // namespace punchlab
