// The primitives against published vectors: BLAKE2s from RFC 7693, the KDF
// chain from wireguard-go's device/kdf_test.go, TAI64N as wireguard-go writes it.
#include "punchlab/wireguard/primitives.h"

#include <gtest/gtest.h>

#include <string>

#include "punchlab/wireguard/messages.h"
#include "support/text-values.h"

namespace punchlab::wireguard {
namespace {

using testsupport::Hex;

template <size_t N>
std::string ToHex(const std::array<uint8_t, N>& a) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (uint8_t b : a) {
    s += d[b >> 4];
    s += d[b & 15];
  }
  return s;
}
ByteView Text(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

TEST(WireGuardPrimitives, Blake2sMatchesRfc7693) {
  EXPECT_EQ(ToHex(Hash({Text("abc")})), "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
  // Parts are concatenated.
  EXPECT_EQ(Hash({Text("a"), Text("bc")}), Hash({Text("abc")}));
}

struct KdfVector {
  const char* key;
  const char* input;
  const char* t0;
  const char* t1;
  const char* t2;
};

TEST(WireGuardPrimitives, KdfMatchesWireguardGoVectors) {
  const KdfVector vectors[] = {
      {"746573742d6b6579", "746573742d696e707574",
       "6f0e5ad38daba1bea8a0d213688736f19763239305e0f58aba697f9ffc41c633",
       "df1194df20802a4fe594cde27e92991c8cae66c366e8106aaa937a55fa371e8a",
       "fac6e2745a325f5dc5d11a5b165aad08b0ada28e7b4e666b7c077934a4d76c24"},
      {"776972656775617264", "776972656775617264",
       "491d43bbfdaa8750aaf535e334ecbfe5129967cd64635101c566d4caefda96e8",
       "1e71a379baefd8a79aa4662212fcafe19a23e2b609a3db7d6bcba8f560e3d25f",
       "31e1ae48bddfbe5de38f295e5452b1909a1b4e38e183926af3780b0c1e1f0160"},
      {"", "", "8387b46bf43eccfcf349552a095d8315c4055beb90208fb1be23b894bc2ed5d0",
       "58a0e5f6faefccf4807bff1f05fa8a9217945762040bcec2f4b4a62bdfe0e86e",
       "0ce6ea98ec548f8e281e93e32db65621c45eb18dc6f0a7ad94178610a2f7338e"},
  };
  for (const auto& v : vectors) {
    const Bytes key = Hex(v.key), input = Hex(v.input);
    Key32 t0{}, t1{}, t2{};
    Kdf3(key, input, t0, t1, t2);
    EXPECT_EQ(ToHex(t0), v.t0);
    EXPECT_EQ(ToHex(t1), v.t1);
    EXPECT_EQ(ToHex(t2), v.t2);
    Key32 u0{}, u1{};
    Kdf2(key, input, u0, u1);
    EXPECT_EQ(u0, t0);
    EXPECT_EQ(u1, t1);
    Kdf1(key, input, u0);
    EXPECT_EQ(u0, t0);
  }
}

TEST(WireGuardPrimitives, MacIsKeyedBlake2s128) {
  const Mac16 a = Mac(Text("key"), Text("data"));
  EXPECT_NE(a, Mac(Text("kez"), Text("data")));
  EXPECT_NE(a, Mac(Text("key"), Text("datb")));
  EXPECT_EQ(a, Mac(Text("key"), Text("data")));
}

TEST(WireGuardPrimitives, AeadRoundTripsAndRefusesTampering) {
  Key32 key{};
  key[0] = 7;
  Bytes sealed;
  AeadSeal(key, 42, Text("hello"), Text("ad"), sealed);
  ASSERT_EQ(sealed.size(), 5 + kAeadTag);
  Bytes plain;
  ASSERT_TRUE(AeadOpen(key, 42, sealed, Text("ad"), plain));
  EXPECT_EQ(std::string(plain.begin(), plain.end()), "hello");
  plain.clear();
  EXPECT_FALSE(AeadOpen(key, 43, sealed, Text("ad"), plain));  // counter is the nonce
  EXPECT_FALSE(AeadOpen(key, 42, sealed, Text("ae"), plain));
  sealed[0] ^= 1;
  EXPECT_FALSE(AeadOpen(key, 42, sealed, Text("ad"), plain));
  EXPECT_TRUE(plain.empty());
}

TEST(WireGuardPrimitives, DhRefusesLowOrderPoints) {
  Key32 priv{};
  priv[0] = 1;
  EXPECT_FALSE(Dh(View(priv), View(Key32{})).has_value());  // the zero point
  const Key32 pub = PublicFromPrivate(View(priv));
  Key32 other{};
  other[0] = 2;
  const Key32 other_pub = PublicFromPrivate(View(other));
  EXPECT_EQ(Dh(View(priv), View(other_pub)), Dh(View(other), View(pub)));
}

TEST(WireGuardPrimitives, Tai64nAsWireguardGo) {
  // 2^62 + 10 + seconds, then nanoseconds rounded down to 2^24 ns.
  const Tai64n t = Tai64nFromUnixNanos(int64_t{1700000000} * 1000000000 + 123456789);
  EXPECT_EQ(ToHex(t), "40000000" "6553f10a" "07000000");
  // Later instants compare greater bytewise; ones within 16.7 ms compare equal.
  EXPECT_LT(t, Tai64nFromUnixNanos(int64_t{1700000001} * 1000000000));
  EXPECT_EQ(Tai64nFromUnixNanos(int64_t{1700000000} * 1000000000 + 117440512),
            Tai64nFromUnixNanos(int64_t{1700000000} * 1000000000 + 117440512 + 16000000));
}

TEST(WireGuardMessages, ClassifiesByTypeReservedBytesAndSize) {
  Initiation init;
  init.sender = 0x01020304;
  const Bytes b = Encode(init);
  ASSERT_EQ(b.size(), kInitiationSize);
  EXPECT_EQ(b[0], 1);
  EXPECT_EQ(b[4], 0x04);  // little-endian
  EXPECT_EQ(ClassifyMessage(b), MessageType::kInitiation);
  Bytes bad = b;
  bad[2] = 1;
  EXPECT_FALSE(ClassifyMessage(bad));
  bad = b;
  bad.pop_back();
  EXPECT_FALSE(ClassifyMessage(bad));
  EXPECT_EQ(DecodeInitiation(b)->sender, 0x01020304u);

  Response r;
  r.sender = 9;
  r.receiver = 0xaabbccdd;
  const Bytes rb = Encode(r);
  EXPECT_EQ(rb.size(), kResponseSize);
  EXPECT_EQ(ReceiverIndex(rb), 0xaabbccddu);
  CookieReply c;
  c.receiver = 5;
  EXPECT_EQ(Encode(c).size(), kCookieReplySize);
  EXPECT_EQ(ReceiverIndex(Encode(c)), 5u);

  const Bytes t = EncodeTransport(TransportHeader{7, 0x0102030405060708}, Bytes(16, 0));
  EXPECT_EQ(t.size(), kKeepaliveSize);
  EXPECT_EQ(t[8], 0x08);
  ByteView ct;
  auto h = DecodeTransport(t, ct);
  ASSERT_TRUE(h);
  EXPECT_EQ(h->counter, 0x0102030405060708u);
  EXPECT_EQ(ct.size(), 16u);
  EXPECT_FALSE(ClassifyMessage(Bytes(kKeepaliveSize - 1, 0)));
  // STUN (first byte 0x00/0x01 with a non-zero second byte) and disco never classify.
  EXPECT_FALSE(ClassifyMessage(Bytes{0x00, 0x01, 0x00, 0x00}));
  EXPECT_FALSE(ClassifyMessage(Text("TS\xf0\x9f\x92\xac")));
}

}  // namespace
}  // namespace punchlab::wireguard
