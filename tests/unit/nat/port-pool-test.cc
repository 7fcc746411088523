#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "nat/nat-test-util.h"
#include "punchlab/nat/port-pool.h"
#include "punchlab/random.h"

namespace punchlab {
namespace nat {
namespace {

using testing::Ep;

TEST(PortPool, PreserveKeepsTheInsidePortAndFallsBackUpwardOnCollision) {
  DeterministicRandom rng(1);
  PortPool pool(PortRange{5000, 5003});
  const Endpoint a = Ep("10.0.0.1:5001"), b = Ep("10.0.0.2:5001"), c = Ep("10.0.0.3:5003");

  EXPECT_EQ(pool.Pick(a, PortAssignment::kPreserve, rng), 5001);
  pool.Hold(5001, a);
  // The same inside endpoint may share its port (another mapping of it).
  EXPECT_EQ(pool.Pick(a, PortAssignment::kPreserve, rng), 5001);
  EXPECT_TRUE(pool.CanTake(5001, a));
  EXPECT_FALSE(pool.CanTake(5001, b));
  // Another inside endpoint with the same port gets the next free one up.
  EXPECT_EQ(pool.Pick(b, PortAssignment::kPreserve, rng), 5002);
  pool.Hold(5002, b);
  pool.Hold(5003, c);
  // ...wrapping past the top of the range.
  const Endpoint d = Ep("10.0.0.4:5003");
  EXPECT_EQ(pool.Pick(d, PortAssignment::kPreserve, rng), 5000);
  // An inside port outside the range starts the search at the bottom.
  PortPool other(PortRange{6000, 6010});
  EXPECT_EQ(other.Pick(Ep("10.0.0.1:80"), PortAssignment::kPreserve, rng), 6000);
  EXPECT_FALSE(other.CanTake(80, Ep("10.0.0.1:80")));
}

TEST(PortPool, SequentialHandsOutPortsInOrderAndSkipsHeldOnes) {
  DeterministicRandom rng(1);
  PortPool pool(PortRange{100, 104});
  const Endpoint in = Ep("10.0.0.1:4000");
  pool.Hold(102, Ep("10.0.0.9:102"));
  std::vector<uint16_t> got;
  for (int i = 0; i < 4; ++i) {
    auto p = pool.Pick(in, PortAssignment::kSequential, rng);
    ASSERT_TRUE(p);
    pool.Hold(*p, in);
    got.push_back(*p);
  }
  EXPECT_EQ(got, (std::vector<uint16_t>{100, 101, 103, 104}));
  EXPECT_FALSE(pool.Pick(in, PortAssignment::kSequential, rng));
  // A released port is found again after wrapping.
  pool.Release(101);
  EXPECT_EQ(pool.Pick(in, PortAssignment::kSequential, rng), 101);
}

TEST(PortPool, RandomStaysInRangeIsDeterministicBySeedAndFillsThePool) {
  auto draw = [](uint64_t seed) {
    DeterministicRandom rng(seed);
    PortPool pool(PortRange{20000, 20099});
    std::vector<uint16_t> got;
    for (int i = 0; i < 100; ++i) {
      const Endpoint in(testing::Ip("10.0.0.1"), static_cast<uint16_t>(1000 + i));
      auto p = pool.Pick(in, PortAssignment::kRandom, rng);
      EXPECT_TRUE(p);
      if (!p) break;
      pool.Hold(*p, in);
      got.push_back(*p);
    }
    EXPECT_FALSE(pool.Pick(Ep("10.0.0.1:1"), PortAssignment::kRandom, rng));
    return got;
  };
  const std::vector<uint16_t> a = draw(7), b = draw(7), c = draw(8);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  const std::set<uint16_t> distinct(a.begin(), a.end());
  EXPECT_EQ(distinct.size(), 100u);  // every port of the range, none twice
  EXPECT_EQ(*distinct.begin(), 20000);
  EXPECT_EQ(*distinct.rbegin(), 20099);
  // Not simply sequential.
  EXPECT_NE(std::vector<uint16_t>(a.begin(), a.begin() + 3),
            (std::vector<uint16_t>{20000, 20001, 20002}));
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
