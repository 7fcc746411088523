// Two nodes behind the same NAT: the LAN path and the hairpinned public path
// both work and are equally fast, so the LAN preference decides.
#include <gtest/gtest.h>

#include "node-world.h"

namespace punchlab {
namespace node_test {
namespace {

const disco::PathConfig kPaths;
const Duration kPeriod = Ms(100);

TEST(Lan, NodesBehindOneNatPreferTheLanPathOverAnEquallyFastHairpin) {
  NodeWorld w;
  NatConfig home = NatConfig::FullCone();
  home.hairpin = true;
  const Duration access = Ms(1);
  const NatId nat = w.AddNat("home", "192.0.2.30", home, Ms(10));
  NodeHost& a = w.AddNode("a", w.world.InsideOf(nat), "192.168.1.10", access);
  NodeHost& b = w.AddNode("b", w.world.InsideOf(nat), "192.168.1.11", access);
  w.StartAndSettle();

  // LAN: a -> b directly. Hairpin: a -> NAT -> b. Both cost the two access
  // links and nothing else, so their RTTs are equal.
  const Duration rtt = access * 4;
  const Endpoint b_lan = b.local();
  const Endpoint b_public = b.node->endpoints().front();
  ASSERT_EQ(b_public.ip, Ip("192.0.2.30"));
  ASSERT_NE(a.node->endpoints().front(), b_public);  // the NAT gave them different ports

  const Timestamp t0 = w.world.now();
  w.Traffic(a, b, "a2b", kPeriod, t0 + Sec(20));
  w.Traffic(b, a, "b2a", kPeriod, t0 + Sec(20));
  w.world.RunUntil(t0 + Sec(21));

  EXPECT_EQ(a.PathTo(b), Path::Direct(b_lan));
  EXPECT_EQ(b.PathTo(a), Path::Direct(a.local()));
  // The public path was proven too, at the same latency: the choice was the
  // LAN preference, not a lost race.
  const disco::Candidate* hairpin = a.node->FindPeerPaths(b.pub())->FindCandidate(b_public);
  ASSERT_NE(hairpin, nullptr);
  ASSERT_TRUE(hairpin->last_pong.has_value());
  EXPECT_EQ(hairpin->latency(), rtt);
  EXPECT_EQ(a.node->FindPeerPaths(b.pub())->FindCandidate(b_lan)->latency(), rtt);
  // Settled within the first discovery round and never moved again.
  for (NodeHost* h : {&a, &b}) {
    const auto changes = h->EventsOf<node::PathChanged>();
    ASSERT_FALSE(changes.empty());
    EXPECT_LE(changes.back().first, t0 + kPaths.ping_interval + rtt) << h->name;
  }
  EXPECT_EQ(b.Received(a, Path::Kind::kDirect, "a2b") + b.Received(a, Path::Kind::kDerp, "a2b"),
            static_cast<size_t>(w.SentCount(a, "a2b")));
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
