// Path scoring: latency with hysteresis, LAN and IPv6 preference.
#include <gtest/gtest.h>

#include <string>

#include "punchlab/disco/path-score.h"
#include "support/text-values.h"

namespace punchlab {
namespace disco {
namespace {

using testsupport::Ep;

Duration Ms(double ms) { return Duration::Nanos(static_cast<int64_t>(ms * 1e6)); }

const Endpoint kPublicA = Ep("198.51.100.1:41641");
const Endpoint kPublicB = Ep("203.0.113.1:41641");
const Endpoint kLan = Ep("192.168.1.20:41641");
const Endpoint kV6 = Ep("[2001:db8::1]:41641");
const Endpoint kLoopback = Ep("127.0.0.1:41641");

TEST(PathScore, LatencyPointsArePercentFaster) {
  EXPECT_EQ(PathPoints(kPublicA, Ms(80), Ms(100)), 20);
  EXPECT_EQ(PathPoints(kPublicA, Ms(100), Ms(80)), 0);
  EXPECT_EQ(PathPoints(kPublicA, Ms(50), Ms(50)), 0);
  EXPECT_EQ(PathPoints(kPublicA, Ms(99.5), Ms(100)), 1);  // truncated
  EXPECT_EQ(PathPoints(kPublicA, Duration::Zero(), Ms(10)), 100);
  EXPECT_EQ(PathPoints(kPublicA, Duration::Zero(), Duration::Zero()), 0);
  // Absurd latencies neither overflow nor crash.
  const int huge = PathPoints(kPublicA, Duration::Max() / 2, Duration::Max());
  EXPECT_GE(huge, 49);
  EXPECT_LE(huge, 51);
}

TEST(PathScore, HysteresisNeedsMoreThanTheMargin) {
  // Tailscale's margin: more than 1 point (1%).
  EXPECT_FALSE(IsBetterPath(kPublicB, Ms(99.5), kPublicA, Ms(100), 1));
  EXPECT_FALSE(IsBetterPath(kPublicB, Ms(99), kPublicA, Ms(100), 1));
  EXPECT_TRUE(IsBetterPath(kPublicB, Ms(98), kPublicA, Ms(100), 1));
  EXPECT_TRUE(IsBetterPath(kPublicB, Ms(80), kPublicA, Ms(100), 1));
  // A wider margin demands more.
  EXPECT_FALSE(IsBetterPath(kPublicB, Ms(95), kPublicA, Ms(100), 10));
  EXPECT_TRUE(IsBetterPath(kPublicB, Ms(85), kPublicA, Ms(100), 10));
  // Slower is never better; a path is never better than itself.
  EXPECT_FALSE(IsBetterPath(kPublicB, Ms(120), kPublicA, Ms(100), 1));
  EXPECT_FALSE(IsBetterPath(kPublicA, Ms(1), kPublicA, Ms(100), 1));
}

TEST(PathScore, LanPreferredWhenRoughlyEqual) {
  EXPECT_TRUE(IsBetterPath(kLan, Ms(10), kPublicA, Ms(10), 1));
  EXPECT_FALSE(IsBetterPath(kPublicA, Ms(10), kLan, Ms(10), 1));
  // Still preferred when somewhat slower (20 bonus vs 16 latency points)...
  EXPECT_TRUE(IsBetterPath(kLan, Ms(12), kPublicA, Ms(10), 1));
  // ...but not when much slower (public earns 33).
  EXPECT_FALSE(IsBetterPath(kLan, Ms(15), kPublicA, Ms(10), 1));
  EXPECT_TRUE(IsBetterPath(kPublicA, Ms(5), kLan, Ms(15), 1));
}

TEST(PathScore, LoopbackAndIpv6Bonuses) {
  EXPECT_EQ(PathPoints(kLoopback, Ms(10), Ms(10)), 50);
  EXPECT_EQ(PathPoints(kLan, Ms(10), Ms(10)), 20);
  EXPECT_EQ(PathPoints(kV6, Ms(10), Ms(10)), 10);
  EXPECT_EQ(PathPoints(Ep("[fd00::1]:1"), Ms(10), Ms(10)), 30);  // ULA: private and IPv6
  EXPECT_TRUE(IsBetterPath(kV6, Ms(10), kPublicA, Ms(10), 1));
  EXPECT_TRUE(IsBetterPath(kLoopback, Ms(10), kLan, Ms(10), 1));
}

// Tailscale's own cases for betterAddr (wgengine/magicsock/magicsock_test.go
// TestBetterAddr, tailscale.com v1.102.5), with Tailscale's margin of 1: each
// row is (a, a's latency, b, b's latency, whether a is better than b), and
// betterAddr(b, a) must then not be true as well. Rows punchlab cannot
// express are left out: a missing address (the zero addrQuality), path MTU
// and Geneve (peer relay) paths.
TEST(PathScore, TailscaleBetterAddrCases) {
  const std::string publicV4 = "1.2.3.4:555";
  const std::string publicV4_2 = "5.6.7.8:999";
  const std::string publicV6 = "[2001::5]:123";
  const std::string privateV4 = "10.0.0.2:123";
  struct Row {
    std::string a;
    double a_ms;
    std::string b;
    double b_ms;
    bool want;
  };
  const Row rows[] = {
      {publicV4, 5, publicV4_2, 10, true},
      {publicV4, 5, publicV4, 10, false},  // same address
      // Don't prefer b to a if it's not substantially better.
      {publicV4, 100, publicV4_2, 100, false},
      {publicV4, 100, publicV4_2, 101, false},
      {publicV4, 100, publicV4_2, 103, true},
      // Latencies of zero don't divide by zero.
      {publicV4, 0, publicV4_2, 0, false},
      // Prefer private IPs to public IPs if roughly equivalent...
      {privateV4, 100, publicV4, 91, true},
      {publicV4, 91, privateV4, 100, false},
      // ... but not if the private IP is slower.
      {privateV4, 100, publicV4, 30, false},
      {publicV4, 30, privateV4, 100, true},
      // Prefer IPv6 if roughly equivalent, but not if IPv4 is much faster.
      {publicV6, 100, publicV4, 91, true},
      {publicV4, 91, publicV6, 100, false},
      {publicV6, 100, publicV4, 30, false},
      {publicV4, 30, publicV6, 100, true},
      // Private IPs are preferred over public IPs even if the public IP is IPv6.
      {"192.168.0.1:555", 100, "[2001::5]:123", 101, true},
      {"[2001::5]:123", 101, "192.168.0.1:555", 100, false},
      // Link-local unicast beats other private IPs, but not loopback.
      {"[fe80::ce8:474a:a27e:113b]:555", 101, "[fd89:1a8a:8888:9999:aaaa:bbbb:cccc:dddd]:555", 100,
       true},
      {"[fe80::ce8:474a:a27e:113b]:555", 101, "[::1]:555", 100, false},
  };
  for (const Row& r : rows) {
    const bool got = IsBetterPath(Ep(r.a), Ms(r.a_ms), Ep(r.b), Ms(r.b_ms), 1);
    EXPECT_EQ(got, r.want) << r.a << " " << r.a_ms << "ms vs " << r.b << " " << r.b_ms << "ms";
    const bool back = IsBetterPath(Ep(r.b), Ms(r.b_ms), Ep(r.a), Ms(r.a_ms), 1);
    EXPECT_FALSE(got && back) << r.a << " and " << r.b << " both better than the other";
  }
}

// Where punchlab's rule used to differ from Tailscale's, pinned: CGNAT space
// earns no private bonus, link-local earns 30, and a candidate that has any
// point over the current path wins (a > b), the margin guarding only a
// latency-only edge.
TEST(PathScore, TailscaleRuleWhereOursDiffered) {
  EXPECT_EQ(PathPoints(Ep("100.64.1.2:41641"), Ms(10), Ms(10)), 0);
  EXPECT_EQ(PathPoints(Ep("169.254.3.4:41641"), Ms(10), Ms(10)), 30);
  EXPECT_EQ(PathPoints(Ep("[fe80::1]:41641"), Ms(10), Ms(10)), 40);
  // CGNAT vs public, equal latency: neither is better.
  EXPECT_FALSE(IsBetterPath(Ep("100.64.1.2:41641"), Ms(10), kPublicA, Ms(10), 1));
  // IPv6 (10) slightly slower than IPv4 earning 9: 10 > 9 wins, though by 1.
  EXPECT_TRUE(IsBetterPath(kV6, Ms(100), kPublicA, Ms(91), 1));
  EXPECT_FALSE(IsBetterPath(kV6, Ms(100), kPublicA, Ms(90.5), 1));  // 10 vs 10 (truncated)
}

}  // namespace
}  // namespace disco
}  // namespace punchlab
