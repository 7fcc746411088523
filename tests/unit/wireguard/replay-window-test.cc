#include "punchlab/wireguard/replay-window.h"

#include <gtest/gtest.h>

namespace punchlab::wireguard {
namespace {

using V = ReplayWindow::Verdict;
constexpr uint64_t kLimit = ~uint64_t{0} - (uint64_t{1} << 13);

TEST(WireGuardReplayWindow, AcceptsEachCounterOnceInAnyOrderWithinTheWindow) {
  ReplayWindow w;
  EXPECT_EQ(w.Check(0, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(0, kLimit), V::kReplayed);
  EXPECT_EQ(w.Check(5, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(3, kLimit), V::kFresh);  // late but within the window
  EXPECT_EQ(w.Check(3, kLimit), V::kReplayed);
  EXPECT_EQ(w.Check(4, kLimit), V::kFresh);
  EXPECT_EQ(w.newest(), 5u);
}

TEST(WireGuardReplayWindow, RefusesCountersOlderThanTheWindow) {
  ReplayWindow w;
  const uint64_t top = 100000;
  EXPECT_EQ(w.Check(top, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(top - ReplayWindow::kWindowSize, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(top - ReplayWindow::kWindowSize - 1, kLimit), V::kTooOld);
  EXPECT_EQ(w.Check(1, kLimit), V::kTooOld);
}

TEST(WireGuardReplayWindow, ForgetsBitsTheWindowSlidesOver) {
  ReplayWindow w;
  for (uint64_t c = 0; c < 64; ++c) ASSERT_EQ(w.Check(c, kLimit), V::kFresh);
  // Jump past the whole ring: a counter whose block reuses a slot of an old
  // block is fresh, not mistaken for a replay of the old one.
  const uint64_t far = 64 * ReplayWindow::kBlocks + 3;
  EXPECT_EQ(w.Check(far, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(far - 1, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(far - 2, kLimit), V::kFresh);
  EXPECT_EQ(w.Check(far, kLimit), V::kReplayed);
}

TEST(WireGuardReplayWindow, RefusesCountersAtTheLimit) {
  ReplayWindow w;
  EXPECT_EQ(w.Check(kLimit, kLimit), V::kOverLimit);
  EXPECT_EQ(w.Check(kLimit - 1, kLimit), V::kFresh);
}

TEST(WireGuardReplayWindow, EveryCounterOfAShuffledStreamExactlyOnce) {
  ReplayWindow w;
  // Pairs swapped: 1,0,3,2,... each accepted once, a second pass all replays.
  for (uint64_t c = 0; c < 20000; c += 2) {
    ASSERT_EQ(w.Check(c + 1, kLimit), V::kFresh);
    ASSERT_EQ(w.Check(c, kLimit), V::kFresh);
  }
  for (uint64_t c = 20000 - 100; c < 20000; ++c) ASSERT_EQ(w.Check(c, kLimit), V::kReplayed);
}

}  // namespace
}  // namespace punchlab::wireguard
