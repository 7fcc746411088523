#include <gtest/gtest.h>

#include <set>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/random.h"
#include "punchlab/time.h"

namespace punchlab {
namespace {

TEST(Duration, ArithmeticAndText) {
  EXPECT_EQ((Duration::Millis(100) * 2).nanos(), 200000000);
  EXPECT_EQ((Timestamp::Zero() + Duration::Seconds(3)) - Timestamp::Zero(), Duration::Seconds(3));
  EXPECT_EQ(Duration::Millis(1500).ToString(), "1500ms");
  EXPECT_EQ(Duration::Seconds(2).ToString(), "2s");
  EXPECT_EQ(Duration::Micros(20).ToString(), "20us");
  EXPECT_LT(Timestamp::FromNanos(5), Timestamp::Max());
}

TEST(Duration, ParsesWhatPeopleWrite) {
  EXPECT_EQ(Duration::Parse("30s"), Duration::Seconds(30));
  EXPECT_EQ(Duration::Parse("250ms"), Duration::Millis(250));
  EXPECT_EQ(Duration::Parse("20us"), Duration::Micros(20));
  EXPECT_EQ(Duration::Parse("7ns"), Duration::Nanos(7));
  EXPECT_EQ(Duration::Parse("4m"), Duration::Seconds(240));
  EXPECT_EQ(Duration::Parse("2h"), Duration::Seconds(7200));
  EXPECT_EQ(Duration::Parse("0s"), Duration::Zero());
  EXPECT_EQ(Duration::Parse("1.5s"), Duration::Millis(1500));
  EXPECT_EQ(Duration::Parse("0.25ms"), Duration::Micros(250));
  EXPECT_EQ(Duration::Parse("1.000000001s"), Duration::Nanos(1000000001));
  EXPECT_EQ(Duration::Parse("2.50us"), Duration::Nanos(2500));
  for (const char* bad : {"", "s", "30", "30 s", "-1s", "30sec", "1d", " 30s", "1.s", ".5s",
                          "1..5s", "1.5ns", "0.0001us", "99999999999999999999s",
                          "9223372036854775807h", "1e3ms"}) {
    EXPECT_FALSE(Duration::Parse(bad)) << bad;
  }
  // ToString's output reads back.
  for (Duration d : {Duration::Seconds(7440), Duration::Millis(1500), Duration::Nanos(3)}) {
    EXPECT_EQ(Duration::Parse(d.ToString()), d);
  }
}

TEST(IpAddress, ParsesAndFormatsV4) {
  auto a = IpAddress::Parse("192.0.2.1");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->is_v4());
  EXPECT_EQ(a->v4(), 0xC0000201u);
  EXPECT_EQ(a->ToString(), "192.0.2.1");
  EXPECT_EQ(IpAddress::Parse("0.10.255.100"), IpAddress::V4(0, 10, 255, 100));
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.4 ", "a.b.c.d",
                          "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4.", "...", "1.2.3.1000",
                          "1.2.3.-1", "1.2.3.+1"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddress, ParsesAndFormatsV6) {
  struct Case {
    const char* in;
    const char* canonical;
  };
  for (const Case& c : {Case{"2001:db8::1", "2001:db8::1"}, Case{"::", "::"}, Case{"::1", "::1"},
                        Case{"2001:DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
                        Case{"::ffff:192.0.2.1", "::ffff:c000:201"},
                        Case{"fe80::1:2:3:4", "fe80::1:2:3:4"}}) {
    auto a = IpAddress::Parse(c.in);
    ASSERT_TRUE(a) << c.in;
    EXPECT_TRUE(a->is_v6());
    EXPECT_EQ(a->ToString(), c.canonical) << c.in;
  }
  for (const char* bad : {":::", "1::2::3", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1"}) {
    EXPECT_FALSE(IpAddress::Parse(bad)) << bad;
  }
}

TEST(IpAddress, V6MappedRoundTripAndClasses) {
  auto v4 = IpAddress::V4(203, 0, 113, 7);
  EXPECT_EQ(IpAddress::FromV6Mapped(v4.ToV6Mapped()), v4);
  EXPECT_TRUE(IpAddress::V4(10, 1, 2, 3).IsPrivate());
  // As netip.Addr.IsPrivate: CGNAT space and link-local are not private.
  EXPECT_FALSE(IpAddress::V4(100, 64, 0, 1).IsPrivate());
  EXPECT_FALSE(IpAddress::V4(169, 254, 1, 1).IsPrivate());
  EXPECT_TRUE(IpAddress::V4(169, 254, 1, 1).IsLinkLocalUnicast());
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->IsLinkLocalUnicast());
  EXPECT_FALSE(IpAddress::Parse("fe80::1")->IsPrivate());
  EXPECT_TRUE(IpAddress::Parse("fd00::1")->IsPrivate());
  EXPECT_FALSE(IpAddress::V4(203, 0, 113, 1).IsPrivate());
  EXPECT_TRUE(IpAddress::V4(127, 0, 0, 1).IsLoopback());
  EXPECT_TRUE(IpAddress::Parse("::1")->IsLoopback());
}

TEST(Endpoint, ParsesBothFamilies) {
  auto e = Endpoint::Parse("198.51.100.2:3478");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->port, 3478);
  EXPECT_EQ(e->ToString(), "198.51.100.2:3478");
  auto e6 = Endpoint::Parse("[2001:db8::2]:65535");
  ASSERT_TRUE(e6);
  EXPECT_EQ(e6->ToString(), "[2001:db8::2]:65535");
  for (const char* bad : {"1.2.3.4", "1.2.3.4:", "1.2.3.4:65536", "2001:db8::1:80", "[1.2.3.4]:5",
                          "[::1]5", "1.2.3.4:-1", "host:80"}) {
    EXPECT_FALSE(Endpoint::Parse(bad)) << bad;
  }
}

TEST(ByteReader, NeverReadsPastTheEnd) {
  Bytes data = {1, 2, 3};
  ByteReader r(data);
  uint16_t v16;
  uint32_t v32;
  EXPECT_TRUE(r.ReadU16(v16));
  EXPECT_EQ(v16, 0x0102);
  EXPECT_FALSE(r.ReadU32(v32));
  EXPECT_EQ(r.remaining(), 1u);
  ByteView tail;
  EXPECT_FALSE(r.ReadBytes(2, tail));
  EXPECT_TRUE(r.ReadBytes(1, tail));
  EXPECT_EQ(tail[0], 3);
}

TEST(Hex, StrictRoundTrip) {
  Bytes b;
  EXPECT_TRUE(FromHex("00ff10Ab", b));
  EXPECT_EQ(ToHex(b), "00ff10ab");
  EXPECT_FALSE(FromHex("abc", b));
  EXPECT_FALSE(FromHex("zz", b));
  EXPECT_EQ(ToHex(b), "00ff10ab");  // a failure leaves the output alone
  // Into a fixed buffer: exactly twice its size in digits.
  std::array<uint8_t, 3> fixed{};
  EXPECT_TRUE(FromHex(std::string_view("0aFF7f"), fixed.data(), fixed.size()));
  EXPECT_EQ(ToHex(ByteView(fixed.data(), fixed.size())), "0aff7f");
  EXPECT_FALSE(FromHex(std::string_view("0aff"), fixed.data(), fixed.size()));
  EXPECT_FALSE(FromHex(std::string_view("0aff7f00"), fixed.data(), fixed.size()));
  EXPECT_FALSE(FromHex(std::string_view("0aff7g"), fixed.data(), fixed.size()));
}

// Every byte value in either place of a pair: only [0-9a-fA-F] is a digit
// (the decoder is a table, so each of its 256 entries is checked here),
// with the value it has in hex.
TEST(Hex, EveryCharacterInEitherPlace) {
  auto digit = [](int c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  int digits = 0;
  for (int c = 0; c < 256; ++c) {
    const int v = digit(c);
    digits += v >= 0 ? 1 : 0;
    for (int place = 0; place < 2; ++place) {
      std::string text = "5a7";
      // "5a" then the pair (c, 7) or (7, c).
      text.insert(text.begin() + 2 + place, static_cast<char>(c));
      uint8_t out[2] = {};
      const bool ok = FromHex(std::string_view(text), out, 2);
      EXPECT_EQ(ok, v >= 0) << "character " << c << " place " << place;
      if (!ok) continue;
      EXPECT_EQ(out[0], 0x5a);
      EXPECT_EQ(out[1], place == 0 ? (v << 4 | 7) : (7 << 4 | v)) << "character " << c;
    }
  }
  EXPECT_EQ(digits, 22);
}

TEST(DeterministicRandom, SameSeedSameStreamDifferentSeedDifferentStream) {
  DeterministicRandom a(42), b(42), c(43);
  std::array<uint8_t, 100> x{}, y{}, z{};
  a.Fill(x.data(), x.size());
  b.Fill(y.data(), 37);
  b.Fill(y.data() + 37, 63);  // chunking must not change the stream
  c.Fill(z.data(), z.size());
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
}

TEST(DeterministicRandom, ForksAreIndependentAndStable) {
  DeterministicRandom root(7);
  auto f1 = root.Fork("node/a");
  auto f2 = root.Fork("node/a");
  auto g = root.Fork("node/b");
  EXPECT_EQ(f1.NextU64(), f2.NextU64());
  EXPECT_NE(root.Fork("node/a").NextU64(), g.NextU64());
}

TEST(RandomSource, UniformStaysInRangeAndCoversIt) {
  DeterministicRandom r(1);
  std::set<uint32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    uint32_t v = r.Uniform(10);
    ASSERT_LT(v, 10u);
    seen.insert(v);
  }
  EXPECT_EQ(seen.size(), 10u);
  for (int i = 0; i < 100; ++i) {
    Duration d = r.UniformDuration(Duration::Seconds(20), Duration::Seconds(26));
    ASSERT_GE(d, Duration::Seconds(20));
    ASSERT_LE(d, Duration::Seconds(26));
  }
}

}  // namespace
}  // namespace punchlab
