// HomeRegionSelector on its own: the history window and both margins.
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <stdexcept>

#include "punchlab/netcheck/home-region.h"

namespace punchlab {
namespace netcheck {
namespace {

Duration Ms(int64_t n) { return Duration::Millis(n); }
Timestamp AtS(int64_t s) { return Timestamp::Zero() + Duration::Seconds(s); }
const std::set<RegionId> kKnown = {1, 2, 3};

TEST(HomeRegion, FirstReportPicksLowestAndTiesGoToLowerId) {
  HomeRegionSelector s;
  auto c = s.Update(AtS(0), {{3, Ms(20)}, {2, Ms(20)}, {1, Ms(30)}}, kKnown);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->from, kNoRegion);
  EXPECT_EQ(c->to, 2);
  EXPECT_EQ(c->reason, HomeChangeReason::kInitial);
  EXPECT_EQ(s.home(), 2);
}

TEST(HomeRegion, EmptyReportChangesNothing) {
  HomeRegionSelector s;
  EXPECT_FALSE(s.Update(AtS(0), {}, kKnown));
  EXPECT_EQ(s.home(), kNoRegion);
  s.Update(AtS(1), {{1, Ms(20)}}, kKnown);
  EXPECT_FALSE(s.Update(AtS(2), {}, kKnown));
  EXPECT_EQ(s.home(), 1);
}

TEST(HomeRegion, BothMarginsMustHold) {
  // Old home now 30 ms. 25 ms: not 10 ms better. 21 ms: 9 ms better.
  // 20 ms: exactly 10 ms better and exactly 2/3: moves.
  for (auto [candidate, moves] : std::map<int64_t, bool>{{25, false}, {21, false}, {20, true}}) {
    HomeRegionSelector s;
    s.Update(AtS(0), {{1, Ms(30)}, {2, Ms(100)}}, kKnown);
    auto c = s.Update(AtS(1), {{1, Ms(30)}, {2, Ms(candidate)}}, kKnown);
    EXPECT_EQ(c.has_value(), moves) << candidate;
    EXPECT_EQ(s.home(), moves ? 2 : 1) << candidate;
  }
  // Old home now 300 ms: 250 ms is 50 ms better but above 2/3 (200 ms).
  HomeRegionSelector s;
  s.Update(AtS(0), {{1, Ms(300)}, {2, Ms(400)}}, kKnown);
  EXPECT_FALSE(s.Update(AtS(1), {{1, Ms(300)}, {2, Ms(250)}}, kKnown));
  auto c = s.Update(AtS(2), {{1, Ms(300)}, {2, Ms(200)}}, kKnown);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, HomeChangeReason::kBetterLatency);
}

TEST(HomeRegion, BestRecentLatencyOverFiveMinutes) {
  HomeRegionSelector s;
  s.Update(AtS(0), {{1, Ms(20)}, {2, Ms(50)}}, kKnown);
  ASSERT_EQ(s.home(), 1);
  // Home degrades for good. Its 20 ms sample keeps it home while that
  // sample is in the window (age <= 300 s)...
  for (int64_t t = 30; t <= 300; t += 30) {
    EXPECT_FALSE(s.Update(AtS(t), {{1, Ms(100)}, {2, Ms(50)}}, kKnown)) << t;
    EXPECT_EQ(s.BestRecent(1), Ms(20));
  }
  // ...and once it ages out, region 2 (50 ms vs 100 ms now) takes over.
  auto c = s.Update(AtS(330), {{1, Ms(100)}, {2, Ms(50)}}, kKnown);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->to, 2);
  EXPECT_EQ(s.BestRecent(1), Ms(100));
  EXPECT_EQ(s.history_size(), 11u);  // 30 s .. 330 s (age 300 s still counts)
}

TEST(HomeRegion, GoodSampleElsewhereIsRememberedButHomeMustBeBeatenNow) {
  HomeRegionSelector s;
  s.Update(AtS(0), {{1, Ms(20)}, {2, Ms(60)}}, kKnown);
  // Region 2 once showed 5 ms; home still answers at 20 ms: 2 wins (15 ms
  // better, under 2/3) even though its current sample is slow.
  auto c = s.Update(AtS(10), {{1, Ms(20)}, {2, Ms(5)}}, kKnown);
  ASSERT_TRUE(c);
  EXPECT_EQ(s.home(), 2);
  // Region 2 spikes once: its 5 ms best keeps it home.
  EXPECT_FALSE(s.Update(AtS(20), {{1, Ms(20)}, {2, Ms(500)}}, kKnown));
}

TEST(HomeRegion, UnreachableOrRemovedHomeMoves) {
  HomeRegionSelector s;
  s.Update(AtS(0), {{1, Ms(20)}, {2, Ms(60)}}, kKnown);
  auto c = s.Update(AtS(1), {{2, Ms(60)}}, kKnown);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, HomeChangeReason::kHomeUnreachable);
  EXPECT_EQ(c->to, 2);

  c = s.Update(AtS(2), {{1, Ms(20)}}, {1});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, HomeChangeReason::kHomeRemoved);
  EXPECT_EQ(c->to, 1);

  c = s.Update(AtS(3), {}, {3});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->reason, HomeChangeReason::kHomeRemoved);
  EXPECT_EQ(c->to, kNoRegion);
}

TEST(HomeRegion, BadConfigIsRejected) {
  HomeRegionConfig c;
  c.ratio_den = 0;
  EXPECT_THROW(HomeRegionSelector{c}, std::invalid_argument);
}

}  // namespace
}  // namespace netcheck
}  // namespace punchlab
