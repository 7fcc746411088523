// link::LinkModel: the arithmetic both the simulation's links and the real
// lab's wire apply (delay, jitter that never reorders, loss, a rate with a
// queue, down), on hand-picked times and sizes.
#include "link/link-model.h"

#include <gtest/gtest.h>

#include <vector>

namespace punchlab::link {
namespace {

Duration Ms(int64_t n) { return Duration::Millis(n); }

TEST(TxTime, IsBitsOverRateRoundedToTheNanosecond) {
  EXPECT_EQ(TxTime(1250, 10'000'000), Ms(1));           // 10 kbit at 10 Mbit/s
  EXPECT_EQ(TxTime(1, 3), Duration::Nanos(2666666667));  // 8/3 s
  EXPECT_EQ(TxTime(1500, 0), Duration::Zero());          // unlimited
}

TEST(LinkModel, DelaysByTheConfiguredDelayWithoutJitter) {
  LinkModel m;  // no randomness needed without loss or jitter
  m.SetShape({Ms(20), Duration::Zero(), 0, 0, false});
  EXPECT_EQ(m.Transmit(Ms(5), Duration::Zero()), Ms(25));
  EXPECT_EQ(m.InOrder(Ms(25)), Ms(25));
}

TEST(LinkModel, JitterStaysWithinItsBoundsAndNeverReorders) {
  LinkModel m{DeterministicRandom(7)};
  m.SetShape({Ms(20), Ms(5), 0, 0, false});
  Duration last;
  Duration lowest = Duration::Max();
  Duration highest;
  for (int i = 0; i < 2000; ++i) {
    const Duration now = Duration::Micros(100 * i);  // 10,000 packets/s
    const std::optional<Duration> arrives = m.Transmit(now, Duration::Zero());
    ASSERT_TRUE(arrives);
    const Duration delay = *arrives - now;
    EXPECT_GE(delay, Ms(15));
    EXPECT_LE(delay, Ms(25));
    lowest = std::min(lowest, delay);
    highest = std::max(highest, delay);
    const Duration delivered = m.InOrder(*arrives);
    EXPECT_GE(delivered, last);  // FIFO
    EXPECT_GE(delivered, *arrives);
    last = delivered;
  }
  // The draws cover the range (uniform), not one value.
  EXPECT_LT(lowest, Ms(16));
  EXPECT_GT(highest, Ms(24));
}

TEST(LinkModel, JitterLargerThanTheDelayClampsAtZero) {
  LinkModel m{DeterministicRandom(1)};
  m.SetShape({Ms(1), Ms(10), 0, 0, false});
  for (int i = 0; i < 200; ++i) EXPECT_GE(m.DrawDelay(), Duration::Zero());
}

TEST(LinkModel, LossDropsTheConfiguredFractionReproduciblyPerSeed) {
  auto pattern = [](uint64_t seed) {
    LinkModel m{DeterministicRandom(seed)};
    m.SetShape({Duration::Zero(), Duration::Zero(), 0.1, 0, false});
    std::vector<bool> kept;
    for (int i = 0; i < 10000; ++i) kept.push_back(m.Transmit(Ms(i), Duration::Zero()).has_value());
    EXPECT_EQ(m.counters().sent, 10000u);
    EXPECT_NEAR(static_cast<double>(m.counters().lost), 1000.0, 120.0);
    return kept;
  };
  EXPECT_EQ(pattern(3), pattern(3));
  EXPECT_NE(pattern(3), pattern(4));
}

TEST(LinkModel, RateSerialisesBackToBackPacketsAndTailDropsPastOneSecond) {
  LinkModel m;
  m.SetShape({Ms(10), Duration::Zero(), 0, 1'000'000, false});  // 1 Mbit/s
  const Duration tx = TxTime(1250, 1'000'000);                   // 10 ms
  ASSERT_EQ(tx, Ms(10));
  // 100 packets at once: the k-th leaves after k+1 transmit times.
  for (int k = 0; k < 100; ++k) EXPECT_EQ(m.Transmit(Duration::Zero(), tx), tx * (k + 1) + Ms(10));
  // The backlog now reaches 1 s: one more waits exactly 1 s (kept), the next over it (dropped).
  EXPECT_EQ(m.Transmit(Duration::Zero(), tx), tx * 101 + Ms(10));
  EXPECT_FALSE(m.Transmit(Duration::Zero(), tx));
  EXPECT_EQ(m.counters().dropped_queue, 1u);
  // Once the queue drained, a packet goes straight out again.
  EXPECT_EQ(m.Transmit(Duration::Seconds(5), tx), Duration::Seconds(5) + tx + Ms(10));
}

TEST(LinkModel, DownDropsEverythingAndUpRestores) {
  LinkModel m;
  m.SetShape({Ms(1), Duration::Zero(), 0, 0, true});
  EXPECT_FALSE(m.Transmit(Ms(0), Duration::Zero()));
  EXPECT_FALSE(m.Transmit(Ms(1), Duration::Zero()));
  EXPECT_EQ(m.counters().dropped_down, 2u);
  m.mutable_shape().down = false;
  EXPECT_EQ(m.Transmit(Ms(2), Duration::Zero()), Ms(3));
}

TEST(LinkModel, ReceiveAddsItsOwnDelayAfterThePacketAheadAndSerialisesAgain) {
  LinkModel m;
  m.SetShape({Ms(5), Duration::Zero(), 0, 0, false});
  EXPECT_EQ(m.Receive(Ms(0), Ms(10), Ms(1)), Ms(16));
  // Arrives before the previous one is done: waits for it, then serialises.
  EXPECT_EQ(m.Receive(Ms(0), Ms(10), Ms(1)), Ms(17));
}

TEST(LinkModel, ReceiveKeepsTheOrderPacketsReachTheLinkInNotTheOrderTheyWereSent) {
  LinkModel m;
  m.SetShape({Ms(20), Duration::Zero(), 0, 0, false});
  // Sent at 0 by a sender 150 ms away, then at 30 ms by one 20 ms away: the
  // second reaches the link first and is not held up behind the first.
  EXPECT_EQ(m.Receive(Ms(0), Ms(150), Duration::Zero()), Ms(170));
  EXPECT_EQ(m.Receive(Ms(30), Ms(50), Duration::Zero()), Ms(70));
  // One reaching the link after the slow one still follows it.
  EXPECT_EQ(m.Receive(Ms(40), Ms(160), Ms(15)), Ms(195));
  // An earlier arrival waits only for what reached the link before it; the
  // deliveries already answered for later arrivals (170, 195) stay.
  EXPECT_EQ(m.Receive(Ms(60), Ms(100), Ms(5)), Ms(125));
}

TEST(LinkModel, ReceiveForgetsArrivalsNoLaterPacketCanPrecede) {
  LinkModel m;
  m.SetShape({Ms(1), Duration::Zero(), 0, 0, false});
  for (int i = 0; i < 999; ++i) {
    EXPECT_EQ(m.Receive(Ms(i), Ms(i), Duration::Zero()), Ms(i + 1));
  }
  // The last one takes 5 ms to serialise: busy until 1,005 ms.
  EXPECT_EQ(m.Receive(Ms(999), Ms(999), Ms(5)), Ms(1005));
  EXPECT_LE(m.arrivals_kept(), 2u);  // not 1,000
  // Asked at 1,000 ms: the arrival at 999 ms is the one ahead, kept.
  EXPECT_EQ(m.Receive(Ms(1000), Ms(1000), Duration::Zero()), Ms(1005));
  EXPECT_EQ(m.arrivals_kept(), 2u);
}

TEST(LinkModel, LossOrJitterWithoutRandomnessIsAnError) {
  LinkModel m;
  m.SetShape({Ms(5), Ms(1), 0, 0, false});
  EXPECT_THROW(m.DrawDelay(), std::logic_error);
  m.SetShape({Ms(5), Duration::Zero(), 0.5, 0, false});
  EXPECT_THROW(m.DrawLoss(), std::logic_error);
}

}  // namespace
}  // namespace punchlab::link
