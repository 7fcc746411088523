#include "punchlab/control/overlay-allocator.h"

#include <gtest/gtest.h>

#include <set>

namespace punchlab::control {
namespace {

TEST(OverlayAllocator, UniqueInsideTheCgnatRangeAndStablePerKey) {
  DeterministicRandom rng(3);
  OverlayAllocator alloc;
  std::set<IpAddress> seen;
  std::vector<NodePublicKey> keys;
  for (int i = 0; i < 200; ++i) {
    keys.push_back(NodePrivateKey::Generate(rng).Public());
    auto a = alloc.Assign(keys.back());
    ASSERT_TRUE(a);
    EXPECT_EQ(a->v4() & 0xffc00000u, 0x64400000u) << a->ToString();  // 100.64.0.0/10
    EXPECT_NE(*a, IpAddress::V4(100, 64, 0, 0));
    EXPECT_NE(*a, IpAddress::V4(100, 127, 255, 255));
    EXPECT_TRUE(seen.insert(*a).second) << a->ToString();
  }
  for (const auto& k : keys) EXPECT_TRUE(seen.count(*alloc.Assign(k)));
  EXPECT_EQ(alloc.assigned(), 200u);

  // The first choice depends on the key alone, not on who came before.
  OverlayAllocator other;
  EXPECT_EQ(other.Assign(keys[57]), OverlayAllocator().Assign(keys[57]));
}

TEST(OverlayAllocator, CollisionsProbeAndAFullPrefixIsReported) {
  DeterministicRandom rng(4);
  OverlayAllocator tiny(IpAddress::V4(10, 9, 8, 4), 30);  // two usable: .5 and .6
  auto a = tiny.Assign(NodePrivateKey::Generate(rng).Public());
  auto b = tiny.Assign(NodePrivateKey::Generate(rng).Public());
  ASSERT_TRUE(a && b);
  EXPECT_NE(*a, *b);
  const std::set<IpAddress> got = {*a, *b};
  EXPECT_EQ(got, (std::set<IpAddress>{IpAddress::V4(10, 9, 8, 5), IpAddress::V4(10, 9, 8, 6)}));
  EXPECT_FALSE(tiny.Assign(NodePrivateKey::Generate(rng).Public()));
}

}  // namespace
}  // namespace punchlab::control
