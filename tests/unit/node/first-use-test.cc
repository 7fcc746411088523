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

}  // namespace
}  // namespace node_test
}  // namespace punchlab
