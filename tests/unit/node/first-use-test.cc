// Per-peer state is made on first use: a node whose netmap lists peers it
// never talks to derives no keys and keeps no PeerPaths for them, and the
// pairs that do talk find their paths as before.
#include <gtest/gtest.h>

#include "node-world.h"

namespace punchlab {
namespace node_test {
namespace {

const disco::PathConfig kPaths;

TEST(FirstUse, KeysAndPathsAreMadeOnlyForPeersInUse) {
  NodeWorld w(3);
  std::vector<NodeHost*> n;
  const char* nat_ips[] = {"192.0.2.10", "192.0.2.20", "192.0.2.30", "192.0.2.40"};
  const char* node_ips[] = {"10.1.0.2", "10.2.0.2", "10.3.0.2", "10.4.0.2"};
  for (int i = 0; i < 4; ++i) {
    const NatId nat = w.AddNat("nat-" + std::to_string(i), nat_ips[i],
                               NatConfig::PortRestrictedCone());
    n.push_back(&w.AddNode("n" + std::to_string(i), w.world.InsideOf(nat), node_ips[i]));
  }
  w.StartAndSettle();
  // Every node lists the three others, and has made nothing for them yet.
  for (NodeHost* a : n) {
    EXPECT_EQ(a->node->Peers().size(), 3u);
    EXPECT_EQ(a->node->sealer_stats().keys_derived, 0u) << a->name;
    EXPECT_EQ(a->node->stats().data_keys_derived, 0u) << a->name;
    for (NodeHost* b : n) {
      if (a != b) {
        EXPECT_EQ(a->node->FindPeerPaths(b->pub()), nullptr);
      }
    }
  }

  // n0 talks to n1 only.
  const Timestamp t0 = w.world.now();
  w.Traffic(*n[0], *n[1], "hello", Ms(100), t0 + Sec(10));
  w.world.RunUntil(t0 + Sec(10));
  EXPECT_TRUE(n[0]->PathTo(*n[1]).direct());
  EXPECT_GT(n[1]->Received(*n[0], Path::Kind::kDirect, "hello"), 0u);

  // One disco and one data key each side, PeerPaths for that peer only.
  for (auto [a, b] : {std::pair{n[0], n[1]}, std::pair{n[1], n[0]}}) {
    EXPECT_EQ(a->node->sealer_stats().keys_derived, 1u) << a->name;
    EXPECT_EQ(a->node->stats().data_keys_derived, 1u) << a->name;
    EXPECT_NE(a->node->FindPeerPaths(b->pub()), nullptr) << a->name;
  }
  for (NodeHost* idle : {n[2], n[3]}) {
    EXPECT_EQ(n[0]->node->FindPeerPaths(idle->pub()), nullptr);
    EXPECT_EQ(idle->node->sealer_stats().keys_derived, 0u) << idle->name;
    EXPECT_EQ(idle->node->stats().data_keys_derived, 0u) << idle->name;
    for (NodeHost* b : n) {
      if (b != idle) {
        EXPECT_EQ(idle->node->FindPeerPaths(b->pub()), nullptr);
      }
    }
  }
  // The peer made its PeerPaths from the first ping (where it came from is
  // a candidate), and knew n0's netmap endpoints there too.
  const disco::PeerPaths* back = n[1]->node->FindPeerPaths(n[0]->pub());
  ASSERT_NE(back, nullptr);
  for (const Endpoint& ep : n[0]->node->endpoints()) {
    EXPECT_NE(back->FindCandidate(ep), nullptr) << ep.ToString();
  }
}

// A peer never used is left out of the "all peers busy" passes while it is
// where the regions say (Node::DrainIsNoop), yet still follows them. The
// DERP map drops region 1, both nodes' home; a moves (a new local address:
// a netcheck), both end homed in region 2, and each one's path to the other
// (never used) moves there, whichever of the two homes moved first.
TEST(FirstUse, PeerNeverUsedFollowsTheRegionsItIsReachedThrough) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone(), 1,
             {Ip("10.1.0.3")});
  p.w.StartAndSettle();
  for (NodeHost* h : {p.a, p.b}) {
    ASSERT_EQ(h->node->home_region(), 1) << h->name;  // "near"
    ASSERT_EQ(h->PathTo(h == p.a ? *p.b : *p.a), Path::Derp(1)) << h->name;
  }
  control::DerpMap map;
  const RegionSpec& far = p.w.Region(2);
  map.regions.push_back(control::DerpRegion{far.id, far.name, {NodeWorld::PlainDerpNode(far)}});
  p.w.control_server().SetDerpMap(p.w.world.now(), map);
  p.w.world.RunFor(Sec(2));
  // Region 1 left the map, yet no region moved for either peer: no change.
  EXPECT_EQ(p.a->PathTo(*p.b), Path::Derp(1));
  EXPECT_EQ(p.b->PathTo(*p.a), Path::Derp(1));

  const Endpoint moved(Ip("10.1.0.3"), kNodePort);
  p.w.world.Bind(p.a->machine, moved);
  p.w.world.Unbind(p.a->local());
  p.w.world.Do(p.a->machine, [&](Timestamp now) { p.a->node->SetLocalEndpoints(now, {moved}); });
  p.w.world.RunFor(Sec(10));
  for (auto [h, peer] : {std::pair{p.a, p.b}, std::pair{p.b, p.a}}) {
    EXPECT_EQ(h->node->home_region(), 2) << h->name;
    EXPECT_EQ(h->node->FindPeerPaths(peer->pub()), nullptr) << h->name;  // still never used
    EXPECT_EQ(h->PathTo(*peer), Path::Derp(2)) << h->name;
    const auto changes = h->EventsOf<node::PathChanged>();
    ASSERT_EQ(changes.size(), 2u) << h->name;  // none -> 1 at the start, then 1 -> 2
    const node::PathChanged& c = changes[1].second;
    EXPECT_EQ(c.peer, peer->pub());
    EXPECT_EQ(c.from, Path::Derp(1));
    EXPECT_EQ(c.to, Path::Derp(2));
    EXPECT_EQ(c.reason, node::PathChangeReason::kDerpRegion);
  }
  // The first to move home moves its path to the other at once (that peer's
  // home is out of the map): the home change marks it, not the peer's update.
  auto moved_home = [](const NodeHost& h) {
    const auto homes = h.EventsOf<node::HomeRegionChanged>();
    return homes.empty() ? Timestamp::Zero() : homes.back().first;
  };
  NodeHost* first = moved_home(*p.a) <= moved_home(*p.b) ? p.a : p.b;
  const auto [at, c] = first->EventsOf<node::PathChanged>().back();
  EXPECT_EQ(at, moved_home(*first)) << first->name;
  EXPECT_EQ(c.detail, "our home region") << first->name;
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
