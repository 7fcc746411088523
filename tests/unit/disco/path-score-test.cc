// Path scoring: latency with hysteresis, LAN and IPv6 preference.
#include <gtest/gtest.h>

#include <string>

#include "punchlab/disco/path-score.h"

namespace punchlab {
namespace disco {
namespace {

Endpoint Ep(const std::string& text) {
  auto e = Endpoint::Parse(text);
  EXPECT_TRUE(e) << text;
  return e.value_or(Endpoint());
}

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

}  // namespace
}  // namespace disco
}  // namespace punchlab
