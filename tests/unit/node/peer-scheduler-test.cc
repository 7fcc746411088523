// PeerScheduler's contract: busy peers are taken lowest key first, each once
// however often it was marked, a forgotten peer is neither busy nor woken,
// and due wake-ups make peers busy. Every result depends on the drain order
// (a drain draws txids and nonces), so whatever holds the busy peers must
// behave as an ordered set: the last test holds it against one under random
// operations.
#include <gtest/gtest.h>

#include <optional>
#include <set>
#include <vector>

#include "punchlab/crypto/keys.h"
#include "punchlab/node/peer-scheduler.h"
#include "punchlab/random.h"

namespace punchlab::node {
namespace {

NodePublicKey Key(uint8_t first) {
  KeyBytes raw{};
  raw.fill(0x33);
  raw[0] = first;
  return NodePublicKey(raw);
}

std::vector<NodePublicKey> TakeAll(PeerScheduler& s) {
  std::vector<NodePublicKey> out;
  while (std::optional<NodePublicKey> k = s.TakeBusy()) out.push_back(*k);
  return out;
}

TEST(PeerScheduler, TakesLowestKeyFirstEachOnce) {
  PeerScheduler s;
  EXPECT_FALSE(s.AnyBusy());
  EXPECT_EQ(s.TakeBusy(), std::nullopt);
  for (int k : {7, 3, 9, 3, 1, 7, 7}) s.MarkBusy(Key(static_cast<uint8_t>(k)));
  EXPECT_TRUE(s.AnyBusy());
  EXPECT_EQ(TakeAll(s), (std::vector<NodePublicKey>{Key(1), Key(3), Key(7), Key(9)}));
  EXPECT_FALSE(s.AnyBusy());
}

TEST(PeerScheduler, APeerMarkedDuringAPassIsTakenInItsPlace) {
  PeerScheduler s;
  for (int k : {2, 5, 8}) s.MarkBusy(Key(static_cast<uint8_t>(k)));
  EXPECT_EQ(s.TakeBusy(), Key(2));
  s.MarkBusy(Key(2));  // marked again by its own drain: taken again, first
  s.MarkBusy(Key(6));
  EXPECT_EQ(TakeAll(s), (std::vector<NodePublicKey>{Key(2), Key(5), Key(6), Key(8)}));
}

TEST(PeerScheduler, AForgottenPeerIsNeitherBusyNorWoken) {
  PeerScheduler s;
  const Timestamp t = Timestamp::Zero() + Duration::Seconds(1);
  s.MarkBusy(Key(4));
  s.MarkBusy(Key(4));
  s.MarkBusy(Key(1));
  s.SetWake(Key(4), t);
  s.Forget(Key(4));
  EXPECT_EQ(s.NextWake(), std::nullopt);
  EXPECT_EQ(TakeAll(s), std::vector<NodePublicKey>{Key(1)});
  s.Forget(Key(1));  // not busy, no wake: nothing to do
  EXPECT_FALSE(s.AnyBusy());
}

TEST(PeerScheduler, DueWakeUpsMakePeersBusy) {
  PeerScheduler s;
  const Timestamp t0 = Timestamp::Zero();
  s.SetWake(Key(5), t0 + Duration::Seconds(2));
  s.SetWake(Key(6), t0 + Duration::Seconds(1));
  s.SetWake(Key(7), t0 + Duration::Seconds(3));
  s.SetWake(Key(7), std::nullopt);               // cancelled
  s.SetWake(Key(6), t0 + Duration::Seconds(2));  // moved
  EXPECT_EQ(s.NextWake(), t0 + Duration::Seconds(2));
  s.WakeDue(t0 + Duration::Seconds(1));
  EXPECT_FALSE(s.AnyBusy());
  s.WakeDue(t0 + Duration::Seconds(2));
  EXPECT_EQ(s.NextWake(), std::nullopt);
  EXPECT_EQ(TakeAll(s), (std::vector<NodePublicKey>{Key(5), Key(6)}));
}

// Random marks, takes and forgets over 40 keys, against std::set.
TEST(PeerScheduler, BusyPeersAsAnOrderedSet) {
  DeterministicRandom rng(16);
  auto draw = [&rng](uint32_t n) {
    uint32_t v = 0;
    rng.Fill(reinterpret_cast<uint8_t*>(&v), sizeof v);
    return v % n;
  };
  PeerScheduler s;
  std::set<NodePublicKey> model;
  for (int step = 0; step < 20000; ++step) {
    const NodePublicKey k = Key(static_cast<uint8_t>(draw(40)));
    switch (draw(6)) {
      case 0:
      case 1:
      case 2:
        s.MarkBusy(k);
        model.insert(k);
        break;
      case 3:
      case 4: {
        std::optional<NodePublicKey> want;
        if (!model.empty()) {
          want = *model.begin();
          model.erase(model.begin());
        }
        ASSERT_EQ(s.TakeBusy(), want) << "step " << step;
        break;
      }
      default:
        s.Forget(k);
        model.erase(k);
    }
    ASSERT_EQ(s.AnyBusy(), !model.empty()) << "step " << step;
  }
}

}  // namespace
}  // namespace punchlab::node
