// EvaluateExpectations on hand-made observations: what `ok` and `observed`
// mean for every check kind (evaluate.h), and the pair summaries.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "results-test-util.h"
#include "results/evaluate.h"

namespace punchlab::results {
namespace {

using testing::BothSwitch;
using testing::Change;
using testing::Echoed;
using testing::EmptyRun;
using testing::Evaluate;
using testing::EvaluateOne;
using testing::Lost;
using testing::Ms;
using testing::PathBy;
using testing::PathThroughout;
using testing::Sec;

constexpr PathKind kDirect = PathKind::kDirect;
constexpr PathKind kDerp = PathKind::kDerp;
constexpr PathKind kLocal = PathKind::kLocal;
constexpr PathKind kNone = PathKind::kNone;
constexpr PathKind kAsymmetric = PathKind::kAsymmetric;
constexpr RoundTripPath kTripDirect = RoundTripPath::kDirect;
constexpr RoundTripPath kTripDerp = RoundTripPath::kDerp;
constexpr RoundTripPath kTripLocal = RoundTripPath::kLocal;
constexpr RoundTripPath kTripMixed = RoundTripPath::kMixed;

// alice sends bob a probe every 100 ms in [from, until); each goes out on
// `sent` and its echo comes back on `echo` after 50 ms (lost when echo is none).
void Stream(Results& run, Duration from, Duration until, PathKind sent, PathKind echo) {
  for (Duration t = from; t < until; t = t + Ms(100)) {
    run.probes.push_back(echo == kNone ? Lost("alice", "bob", t, sent)
                                       : Echoed("alice", "bob", t, sent, Ms(50), echo));
  }
}

// ---------------------------------------------------------------------------
// path, by

TEST(PathBy, HoldsFromTheExactInstantOfTheChange) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(10), "alice", "bob", kDirect);

  const ExpectationResult at = EvaluateOne(run, PathBy(kDirect, Sec(10)));
  EXPECT_TRUE(at.ok);
  EXPECT_EQ(at.text, "alice-bob path direct by 10s");
  EXPECT_EQ(at.observed, "direct at 10s");
  EXPECT_FALSE(at.observed_value);

  // A millisecond earlier the pair had no path yet; observed says when it came.
  const ExpectationResult before = EvaluateOne(run, PathBy(kDirect, Ms(9999)));
  EXPECT_FALSE(before.ok);
  EXPECT_EQ(before.observed, "none at 9.999s (direct from 10s)");
}

TEST(PathBy, BeforeAnyTimelineEntryThePathIsNone) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(5), "alice", "bob", kDerp);

  EXPECT_TRUE(EvaluateOne(run, PathBy(kNone, Sec(1))).ok);
  EXPECT_EQ(EvaluateOne(run, PathBy(kNone, Sec(1))).observed, "none at 1s");
  // Also at 0s, the very start of the run.
  EXPECT_TRUE(EvaluateOne(run, PathBy(kNone, Duration::Zero())).ok);

  const ExpectationResult derp = EvaluateOne(run, PathBy(kDerp, Sec(1)));
  EXPECT_FALSE(derp.ok);
  EXPECT_EQ(derp.observed, "none at 1s (derp from 5s)");
}

TEST(PathBy, WithoutAnyTimelineTheExpectedPathNeverCame) {
  const ExpectationResult r = EvaluateOne(EmptyRun(), PathBy(kDirect, Sec(10)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "none at 10s (never direct after)");
}

TEST(PathBy, PairPathIsAsymmetricWhileBothHavePathsThatDiffer) {
  Results run = EmptyRun();
  run.timeline.push_back(Change(Sec(5), "alice", "bob", kDirect));
  run.timeline.push_back(Change(Sec(5), "bob", "alice", kDerp));
  run.timeline.push_back(Change(Sec(8), "bob", "alice", kDirect));

  // One side direct, the other on DERP: neither direct nor derp for the pair,
  // and not none either: they do reach each other.
  const ExpectationResult direct = EvaluateOne(run, PathBy(kDirect, Sec(6)));
  EXPECT_FALSE(direct.ok);
  EXPECT_EQ(direct.observed, "asymmetric at 6s (direct from 8s)");
  const ExpectationResult derp = EvaluateOne(run, PathBy(kDerp, Sec(6)));
  EXPECT_FALSE(derp.ok);
  EXPECT_EQ(derp.observed, "asymmetric at 6s (never derp after)");
  const ExpectationResult none = EvaluateOne(run, PathBy(kNone, Sec(6)));
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.observed, "asymmetric at 6s (never none after)");
  const ExpectationResult asym = EvaluateOne(run, PathBy(kAsymmetric, Sec(6)));
  EXPECT_TRUE(asym.ok);
  EXPECT_EQ(asym.text, "alice-bob path asymmetric by 6s");
  // Once bob follows, the pair is direct.
  EXPECT_TRUE(EvaluateOne(run, PathBy(kDirect, Sec(8))).ok);
  EXPECT_FALSE(EvaluateOne(run, PathBy(kAsymmetric, Sec(8))).ok);
}

TEST(PathBy, PairPathIsNoneWhileOneSideHasNoPath) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(2), "alice", "bob", kDerp);
  run.timeline.push_back(Change(Sec(10), "bob", "alice", kNone, "restart"));
  EXPECT_TRUE(EvaluateOne(run, PathBy(kNone, Sec(10))).ok);
  EXPECT_EQ(EvaluateOne(run, PathBy(kAsymmetric, Sec(10))).observed,
            "none at 10s (never asymmetric after)");
}

TEST(PathBy, OneSideAloneIsNotEnough) {
  Results run = EmptyRun();
  run.timeline.push_back(Change(Sec(2), "alice", "bob", kDirect));
  const ExpectationResult r = EvaluateOne(run, PathBy(kDirect, Sec(30)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "none at 30s (never direct after)");
}

TEST(PathBy, NamesMayBeGivenEitherWayRound) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(3), "alice", "bob", kDerp);
  scenario::Expectation e = PathBy(kDerp, Sec(4));
  e.a = "bob";
  e.b = "alice";
  const ExpectationResult r = EvaluateOne(run, e);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "bob-alice path derp by 4s");
}

TEST(PathBy, EntriesOfOtherPairsDoNotCount) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "carol", kDirect);
  BothSwitch(run, Sec(1), "bob", "carol", kDirect);
  run.timeline.push_back(Change(Sec(1), "alice", "bob", kDirect));
  // bob's entry toward carol must not be taken for bob's path toward alice.
  EXPECT_EQ(EvaluateOne(run, PathBy(kDirect, Sec(2))).observed, "none at 2s (never direct after)");
}

TEST(PathBy, SimultaneousEntriesOfBothSidesApplyTogether) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(2), "alice", "bob", kDerp);
  // Both move to direct at 10s. Applied one after the other there would be an
  // instant of disagreement (none) at 10s; applied together there is none.
  BothSwitch(run, Sec(10), "alice", "bob", kDirect);

  const ExpectationResult derp_throughout =
      EvaluateOne(run, PathThroughout(kDerp, Sec(2), Sec(20)));
  EXPECT_FALSE(derp_throughout.ok);
  EXPECT_EQ(derp_throughout.observed, "direct from 10s to the end of the window");
  EXPECT_TRUE(EvaluateOne(run, PathThroughout(kDerp, Sec(2), Sec(10))).ok);
  EXPECT_TRUE(EvaluateOne(run, PathThroughout(kDirect, Sec(10), Sec(60))).ok);
  EXPECT_TRUE(EvaluateOne(run, PathBy(kDirect, Sec(10))).ok);
}

TEST(PathBy, SidesSwappingPathsAtOneInstantAreNeverOnACommonPath) {
  Results run = EmptyRun();
  run.timeline.push_back(Change(Sec(1), "alice", "bob", kDerp));
  run.timeline.push_back(Change(Sec(1), "bob", "alice", kDirect));
  // At 10s they swap. Taken one at a time, alice's entry alone would make both
  // direct for an instant; taken together they disagree throughout.
  run.timeline.push_back(Change(Sec(10), "alice", "bob", kDirect));
  run.timeline.push_back(Change(Sec(10), "bob", "alice", kDerp));

  const ExpectationResult asym = EvaluateOne(run, PathThroughout(kAsymmetric, Sec(1), Sec(60)));
  EXPECT_TRUE(asym.ok);
  EXPECT_EQ(asym.observed, "asymmetric throughout");
  const ExpectationResult none = EvaluateOne(run, PathThroughout(kNone, Duration::Zero(), Sec(60)));
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.observed, "asymmetric from 1s to the end of the window");
  EXPECT_EQ(Evaluate(run, {}).pairs[0].final_path, kAsymmetric);
}

// "none" says they cannot reach each other: round trips that completed say
// otherwise, whatever the nodes' timelines claim (the issue: `path: none`
// passed while every probe arrived over DERP).
TEST(PathThroughout, NoneFailsWhileRoundTripsComplete) {
  Results run = EmptyRun();
  run.probes.push_back(Lost("alice", "bob", Sec(1), kNone));
  run.probes.push_back(Echoed("alice", "bob", Sec(2), kDerp, Ms(92)));
  run.probes.push_back(Echoed("bob", "alice", Sec(3), kDerp, Ms(92)));
  const ExpectationResult r = EvaluateOne(run, PathThroughout(kNone, Duration::Zero(), Sec(60)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed,
            "none throughout by the nodes, but 2 round trips completed (first sent at 2s, derp)");
  // Outside the window they do not count; lost probes never do.
  EXPECT_TRUE(EvaluateOne(run, PathThroughout(kNone, Duration::Zero(), Sec(2))).ok);
}

TEST(PathBy, TimelineOutOfTimeOrderIsSortedAndTheLaterEntryOfOneInstantWins) {
  Results run = EmptyRun();
  // Listed out of order: bob's 4s entry before alice's 3s one.
  run.timeline.push_back(Change(Sec(4), "bob", "alice", kDerp));
  run.timeline.push_back(Change(Sec(3), "alice", "bob", kDerp));
  // Two entries of alice at one instant: the one recorded last holds.
  run.timeline.push_back(Change(Sec(7), "alice", "bob", kDirect));
  run.timeline.push_back(Change(Sec(7), "alice", "bob", kDerp));

  EXPECT_EQ(EvaluateOne(run, PathBy(kDerp, Ms(3500))).observed, "none at 3.5s (derp from 4s)");
  EXPECT_TRUE(EvaluateOne(run, PathBy(kDerp, Sec(4))).ok);
  EXPECT_TRUE(EvaluateOne(run, PathThroughout(kDerp, Sec(4), Sec(60))).ok);
}

// ---------------------------------------------------------------------------
// path throughout [from, until)

TEST(PathThroughout, HoldsWhenThePathNeverDeviatesInTheWindow) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  const ExpectationResult r = EvaluateOne(run, PathThroughout(kDirect, Sec(1), Sec(60)));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "alice-bob path direct from 1s until 60s");
  EXPECT_EQ(r.observed, "direct throughout");
}

TEST(PathThroughout, ReportsTheFirstDeviationAndWhenItEnded) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  // alice falls back to DERP for a second (asymmetric: bob stays direct),
  // then later both go to DERP for good.
  run.timeline.push_back(Change(Sec(5), "alice", "bob", kDerp));
  run.timeline.push_back(Change(Sec(6), "alice", "bob", kDirect));
  BothSwitch(run, Sec(12), "alice", "bob", kDerp);

  const ExpectationResult r = EvaluateOne(run, PathThroughout(kDirect, Sec(2), Sec(20)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "asymmetric from 5s until 6s");

  // From 6s on, the first deviation is the switch to DERP that never came back.
  const ExpectationResult later = EvaluateOne(run, PathThroughout(kDirect, Sec(6), Sec(20)));
  EXPECT_FALSE(later.ok);
  EXPECT_EQ(later.observed, "derp from 12s to the end of the window");
}

TEST(PathThroughout, ADeviationAtFromCounts) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(3), "alice", "bob", kDirect);
  const ExpectationResult r = EvaluateOne(run, PathThroughout(kDirect, Duration::Zero(), Sec(60)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "none from 0s until 3s");
}

TEST(PathThroughout, WindowIsHalfOpen) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  BothSwitch(run, Sec(20), "alice", "bob", kDerp);
  // The change at exactly `until` lies outside [from, until).
  EXPECT_TRUE(EvaluateOne(run, PathThroughout(kDirect, Sec(1), Sec(20))).ok);
  const ExpectationResult r =
      EvaluateOne(run, PathThroughout(kDirect, Sec(1), Sec(20) + Duration::Nanos(1)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "derp from 20s to the end of the window");
}

TEST(PathThroughout, ADeviationBeforeFromDoesNotCount) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  run.timeline.push_back(Change(Sec(3), "bob", "alice", kNone));
  run.timeline.push_back(Change(Sec(4), "bob", "alice", kDirect));
  EXPECT_TRUE(EvaluateOne(run, PathThroughout(kDirect, Sec(4), Sec(60))).ok);
  EXPECT_FALSE(EvaluateOne(run, PathThroughout(kDirect, Sec(2), Sec(60))).ok);
}

// ---------------------------------------------------------------------------
// time_to_direct_max

TEST(TimeToDirect, AlreadyDirectAtFromTakesZero) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(2), "alice", "bob", kDirect);
  Stream(run, Sec(2), Sec(30), kDirect, kDirect);
  const ExpectationResult r = EvaluateOne(run, testing::TimeToDirect(Sec(1), Sec(20)));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "alice-bob time to direct <= 1s from 20s");
  ASSERT_TRUE(r.observed_value);
  EXPECT_EQ(*r.observed_value, 0.0);
  EXPECT_EQ(r.observed,
            "0s (first round trip direct both ways: probe sent at 20s; the nodes were on direct "
            "from 20s)");
}

// The false pass: after a NAT reboot at 30 s both nodes still believe
// in their direct path, but nothing crosses it until 42.5 s. The verdict
// follows the wire.
TEST(TimeToDirect, MeasuresTheWireNotWhatTheNodesBelieve) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(2), "alice", "bob", kDirect);
  Stream(run, Sec(2), Sec(30), kDirect, kDirect);
  Stream(run, Sec(30), Ms(42500), kDirect, kNone);  // the reboot lost the mappings
  Stream(run, Ms(42500), Sec(60), kDirect, kDirect);
  const ExpectationResult r = EvaluateOne(run, testing::TimeToDirect(Sec(1), Sec(30)));
  EXPECT_FALSE(r.ok);
  ASSERT_TRUE(r.observed_value);
  EXPECT_DOUBLE_EQ(*r.observed_value, 12.5);
  EXPECT_EQ(r.observed,
            "12.5s (first round trip direct both ways: probe sent at 42.5s; the nodes were on "
            "direct from 30s)");
}

TEST(TimeToDirect, MeasuresFromFromAndTheBoundIsInclusive) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDerp);
  BothSwitch(run, Ms(13500), "alice", "bob", kDirect);
  Stream(run, Sec(1), Ms(13500), kDerp, kDerp);
  Stream(run, Ms(13500), Sec(60), kDirect, kDirect);

  const ExpectationResult at_bound = EvaluateOne(run, testing::TimeToDirect(Ms(3500), Sec(10)));
  EXPECT_TRUE(at_bound.ok);
  ASSERT_TRUE(at_bound.observed_value);
  EXPECT_DOUBLE_EQ(*at_bound.observed_value, 3.5);

  const ExpectationResult too_slow = EvaluateOne(run, testing::TimeToDirect(Sec(3), Sec(10)));
  EXPECT_FALSE(too_slow.ok);
  ASSERT_TRUE(too_slow.observed_value);
  EXPECT_DOUBLE_EQ(*too_slow.observed_value, 3.5);
}

// One leg direct and the other relayed is not a direct path, whatever each
// node believes.
TEST(TimeToDirect, AMixedRoundTripIsNotDirect) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDerp);
  run.timeline.push_back(Change(Sec(4), "alice", "bob", kDirect));
  Stream(run, Sec(1), Sec(4), kDerp, kDerp);
  Stream(run, Sec(4), Sec(20), kDirect, kDerp);
  Stream(run, Sec(20), Sec(21), kDirect, kDirect);
  const ExpectationResult r = EvaluateOne(run, testing::TimeToDirect(Sec(50)));
  EXPECT_TRUE(r.ok);
  ASSERT_TRUE(r.observed_value);
  EXPECT_DOUBLE_EQ(*r.observed_value, 20.0);
}

TEST(TimeToDirect, NeverDirectFailsWithoutAValue) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDerp);
  run.timeline.push_back(Change(Sec(4), "alice", "bob", kDirect));
  Stream(run, Sec(1), Sec(4), kDerp, kDerp);
  Stream(run, Sec(4), Sec(5), kDirect, kDerp);
  const ExpectationResult r = EvaluateOne(run, testing::TimeToDirect(Sec(50)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed,
            "never direct (none of 40 probes sent from 0s crossed the direct path both ways)");
  EXPECT_FALSE(r.observed_value);
}

TEST(TimeToDirect, NodesDirectWithoutTrafficIsNeverDirect) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  EXPECT_EQ(EvaluateOne(run, testing::TimeToDirect(Sec(50))).observed,
            "never direct (none of 0 probes sent from 0s crossed the direct path both ways; "
            "the nodes were on direct from 1s)");
}

TEST(TimeToDirect, DirectOnlyBeforeFromOrAtStopTimeIsNever) {
  Results run = EmptyRun();
  Stream(run, Sec(1), Sec(3), kDirect, kDirect);
  Stream(run, Sec(3), Sec(60), kDerp, kDerp);
  // A probe sent at stop_time belongs to no time the run had.
  run.probes.push_back(Echoed("alice", "bob", Sec(60), kDirect, Ms(1)));
  const ExpectationResult r = EvaluateOne(run, testing::TimeToDirect(Sec(50), Sec(5)));
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.observed_value);
}

TEST(TimeToDirect, LocalCountsAsDirect) {
  Results run = EmptyRun();
  Stream(run, Sec(1), Sec(4), kDerp, kDerp);
  Stream(run, Sec(4), Sec(5), kLocal, kLocal);
  const ExpectationResult r = EvaluateOne(run, testing::TimeToDirect(Sec(5)));
  EXPECT_TRUE(r.ok);
  ASSERT_TRUE(r.observed_value);
  EXPECT_DOUBLE_EQ(*r.observed_value, 4.0);
}

// ---------------------------------------------------------------------------
// rtt_min / rtt_max

TEST(RttCheck, TheWorstSampleDecidesNotAPercentile) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDirect, Ms(40)));
  run.probes.push_back(Echoed("bob", "alice", Sec(2), kDirect, Ms(41)));
  run.probes.push_back(Echoed("alice", "bob", Sec(3), kDirect, Ms(150)));
  run.probes.push_back(Echoed("alice", "bob", Sec(4), kDirect, Ms(42)));

  const ExpectationResult r = EvaluateOne(run, testing::Rtt(std::nullopt, Ms(100)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text, "alice-bob every rtt <= 100ms from 0s until 60s");
  EXPECT_EQ(r.observed,
            "4 samples, min 40ms, p50 41ms, max 150ms; 1 outside, first 150ms sent at 3s");
  ASSERT_TRUE(r.observed_value);
  EXPECT_DOUBLE_EQ(*r.observed_value, 0.150);

  const ExpectationResult loose = EvaluateOne(run, testing::Rtt(std::nullopt, Ms(150)));
  EXPECT_TRUE(loose.ok);  // the bound is inclusive
  EXPECT_EQ(loose.observed, "4 samples, min 40ms, p50 41ms, max 150ms");
}

TEST(RttCheck, MinimumBoundFailsOnTheFastestSampleAndReportsTheMin) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDirect, Ms(45)));
  run.probes.push_back(Echoed("alice", "bob", Sec(2), kDirect, Ms(12)));
  run.probes.push_back(Echoed("alice", "bob", Sec(3), kDirect, Ms(10)));

  const ExpectationResult r = EvaluateOne(run, testing::Rtt(Ms(40), std::nullopt));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.text, "alice-bob every rtt >= 40ms from 0s until 60s");
  // Two below; the first in the order they were sent is named.
  EXPECT_EQ(r.observed,
            "3 samples, min 10ms, p50 12ms, max 45ms; 2 outside, first 12ms sent at 2s");
  ASSERT_TRUE(r.observed_value);
  EXPECT_DOUBLE_EQ(*r.observed_value, 0.010);  // only rtt_min given: the min
}

TEST(RttCheck, BothBoundsReportTheMaxAndFailEitherWay) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDirect, Ms(30)));
  run.probes.push_back(Echoed("alice", "bob", Sec(2), kDirect, Ms(50)));
  const ExpectationResult inside = EvaluateOne(run, testing::Rtt(Ms(30), Ms(50)));
  EXPECT_TRUE(inside.ok);
  EXPECT_EQ(inside.text, "alice-bob every rtt in [30ms, 50ms] from 0s until 60s");
  ASSERT_TRUE(inside.observed_value);
  EXPECT_DOUBLE_EQ(*inside.observed_value, 0.050);

  EXPECT_FALSE(EvaluateOne(run, testing::Rtt(Ms(31), Ms(50))).ok);
  EXPECT_FALSE(EvaluateOne(run, testing::Rtt(Ms(30), Ms(49))).ok);
}

TEST(RttCheck, OverRestrictsToRoundTripsWithBothLegsOnThatPath) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDerp, Ms(90)));
  run.probes.push_back(Echoed("alice", "bob", Sec(2), kDirect, Ms(40)));
  run.probes.push_back(Echoed("bob", "alice", Sec(3), kDirect, Ms(44)));
  // Sent direct, echoed over DERP: neither a direct nor a relayed round trip.
  run.probes.push_back(Echoed("alice", "bob", Sec(4), kDirect, Ms(70), kDerp));
  run.probes.push_back(Echoed("bob", "alice", Sec(5), kDerp, Ms(66), kDirect));

  scenario::Expectation over_direct = testing::Rtt(std::nullopt, Ms(50));
  over_direct.over = kDirect;
  const ExpectationResult r = EvaluateOne(run, over_direct);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "alice-bob every rtt <= 50ms over direct from 0s until 60s");
  EXPECT_EQ(r.observed, "2 samples, min 40ms, p50 40ms, max 44ms");

  scenario::Expectation over_derp = testing::Rtt(Ms(80), std::nullopt);
  over_derp.over = kDerp;
  const ExpectationResult derp = EvaluateOne(run, over_derp);
  EXPECT_TRUE(derp.ok);
  EXPECT_EQ(derp.observed, "1 samples, min 90ms, p50 90ms, max 90ms");

  // Without `over` the DERP sample counts and breaks the bound.
  EXPECT_FALSE(EvaluateOne(run, testing::Rtt(std::nullopt, Ms(50))).ok);

  scenario::Expectation over_local = testing::Rtt(std::nullopt, Ms(50));
  over_local.over = kLocal;
  EXPECT_EQ(EvaluateOne(run, over_local).observed, "no samples");
}

TEST(RttCheck, OnlyEchoedProbesOfThePairSentInTheWindowCount) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Ms(9999), kDirect, Ms(500)));  // before from
  run.probes.push_back(Echoed("alice", "bob", Sec(10), kDirect, Ms(40)));    // at from: in
  run.probes.push_back(Lost("alice", "bob", Sec(11), kDirect));              // no rtt
  run.probes.push_back(Echoed("alice", "carol", Sec(12), kDirect, Ms(500)));  // other pair
  run.probes.push_back(Echoed("carol", "bob", Sec(12), kDirect, Ms(500)));    // other pair
  run.probes.push_back(Echoed("bob", "alice", Sec(19), kDirect, Ms(45)));    // in, other way
  run.probes.push_back(Echoed("alice", "bob", Sec(20), kDirect, Ms(500)));   // at until: out

  scenario::Expectation e = testing::Rtt(std::nullopt, Ms(50));
  e.from = Sec(10);
  e.until = Sec(20);
  const ExpectationResult r = EvaluateOne(run, e);
  EXPECT_TRUE(r.ok) << r.observed;
  EXPECT_EQ(r.observed, "2 samples, min 40ms, p50 40ms, max 45ms");
}

TEST(RttCheck, NoSamplesFails) {
  Results run = EmptyRun();
  run.probes.push_back(Lost("alice", "bob", Sec(1), kDirect));
  run.probes.push_back(Lost("bob", "alice", Sec(2), kDirect));
  const ExpectationResult r = EvaluateOne(run, testing::Rtt(std::nullopt, Ms(100)));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "no samples");
  EXPECT_FALSE(r.observed_value);

  EXPECT_EQ(EvaluateOne(EmptyRun(), testing::Rtt(Ms(1), std::nullopt)).observed, "no samples");
}

// ---------------------------------------------------------------------------
// loss_max

TEST(LossCheck, FractionOfUnechoedProbesBothWaysAgainstAnInclusiveBound) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDirect, Ms(40)));
  run.probes.push_back(Lost("bob", "alice", Sec(2), kDirect));
  run.probes.push_back(Echoed("bob", "alice", Sec(3), kDirect, Ms(40)));
  run.probes.push_back(Echoed("alice", "bob", Sec(4), kDirect, Ms(40)));

  const ExpectationResult r = EvaluateOne(run, testing::Loss(0.25));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "alice-bob loss <= 25% from 0s until 60s");
  EXPECT_EQ(r.observed, "25% lost (1 of 4 probes)");
  ASSERT_TRUE(r.observed_value);
  EXPECT_DOUBLE_EQ(*r.observed_value, 0.25);

  const ExpectationResult strict = EvaluateOne(run, testing::Loss(0.2));
  EXPECT_FALSE(strict.ok);
  EXPECT_EQ(strict.text, "alice-bob loss <= 20% from 0s until 60s");
}

TEST(LossCheck, ProbesSentInTheLastTwoSecondsAreInFlightNotLost) {
  Results run = EmptyRun(Sec(60));
  run.probes.push_back(Echoed("alice", "bob", Sec(50), kDirect, Ms(40)));
  run.probes.push_back(Lost("alice", "bob", Sec(58) - Duration::Nanos(1), kDirect));  // counts
  run.probes.push_back(Lost("alice", "bob", Sec(58), kDirect));     // in flight: left out
  run.probes.push_back(Lost("bob", "alice", Ms(59500), kDirect));   // in flight: left out
  run.probes.push_back(Echoed("alice", "bob", Ms(58100), kDirect, Ms(40)));  // left out too

  const ExpectationResult r = EvaluateOne(run, testing::Loss(0.5));
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.observed, "50% lost (1 of 2 probes)");

  // Nothing but in-flight probes: nothing to judge.
  Results tail = EmptyRun(Sec(60));
  tail.probes.push_back(Lost("alice", "bob", Sec(59), kDirect));
  const ExpectationResult none = EvaluateOne(tail, testing::Loss(1.0));
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.observed, "no samples");
  EXPECT_FALSE(none.observed_value);
}

TEST(LossCheck, OverAndWindowRestrictWhichProbesCount) {
  Results run = EmptyRun();
  run.probes.push_back(Lost("alice", "bob", Sec(1), kDerp));
  run.probes.push_back(Lost("alice", "bob", Sec(2), kDerp));
  run.probes.push_back(Echoed("alice", "bob", Sec(3), kDirect, Ms(40)));
  run.probes.push_back(Echoed("alice", "bob", Sec(4), kDirect, Ms(40)));
  run.probes.push_back(Lost("alice", "bob", Sec(30), kDirect));  // outside the window below
  run.probes.push_back(Lost("alice", "carol", Sec(3), kDirect));  // another pair

  scenario::Expectation over_direct = testing::Loss(0.0);
  over_direct.over = kDirect;
  over_direct.until = Sec(30);
  const ExpectationResult direct = EvaluateOne(run, over_direct);
  EXPECT_TRUE(direct.ok);
  EXPECT_EQ(direct.text, "alice-bob loss <= 0% over direct from 0s until 30s");
  EXPECT_EQ(direct.observed, "0% lost (0 of 2 probes)");
  ASSERT_TRUE(direct.observed_value);
  EXPECT_EQ(*direct.observed_value, 0.0);

  scenario::Expectation over_derp = testing::Loss(0.5);
  over_derp.over = kDerp;
  const ExpectationResult derp = EvaluateOne(run, over_derp);
  EXPECT_FALSE(derp.ok);
  EXPECT_EQ(derp.observed, "100% lost (2 of 2 probes)");

  scenario::Expectation any = testing::Loss(0.6);
  const ExpectationResult all = EvaluateOne(run, any);
  EXPECT_TRUE(all.ok);
  EXPECT_EQ(all.observed, "60% lost (3 of 5 probes)");
}

TEST(LossCheck, LowerBoundIsInclusiveAndFailsWhenTooLittleIsLost) {
  Results run = EmptyRun();
  run.probes.push_back(Lost("alice", "bob", Sec(1), kDirect));
  for (int64_t s : {2, 3, 4}) run.probes.push_back(Echoed("bob", "alice", Sec(s), kDirect, Ms(40)));

  const ExpectationResult at_bound = EvaluateOne(run, testing::LossAtLeast(0.25));
  EXPECT_TRUE(at_bound.ok);
  EXPECT_EQ(at_bound.text, "alice-bob loss >= 25% from 0s until 60s");
  EXPECT_EQ(at_bound.observed, "25% lost (1 of 4 probes)");
  ASSERT_TRUE(at_bound.observed_value);
  EXPECT_DOUBLE_EQ(*at_bound.observed_value, 0.25);

  const ExpectationResult too_little = EvaluateOne(run, testing::LossAtLeast(0.3));
  EXPECT_FALSE(too_little.ok);
  EXPECT_EQ(too_little.text, "alice-bob loss >= 30% from 0s until 60s");
  EXPECT_EQ(too_little.observed, "25% lost (1 of 4 probes)");
}

TEST(LossCheck, BothBoundsMakeARange) {
  Results run = EmptyRun();
  run.probes.push_back(Lost("alice", "bob", Sec(1), kDirect));
  for (int64_t s : {2, 3, 4}) run.probes.push_back(Echoed("alice", "bob", Sec(s), kDirect, Ms(40)));

  scenario::Expectation inside = testing::Loss(0.3);
  inside.loss_min = 0.1;
  const ExpectationResult r = EvaluateOne(run, inside);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.text, "alice-bob loss in [10%, 30%] from 0s until 60s");

  scenario::Expectation above = testing::Loss(0.5);
  above.loss_min = 0.3;
  EXPECT_FALSE(EvaluateOne(run, above).ok);
  scenario::Expectation below = testing::Loss(0.2);
  below.loss_min = 0.1;
  EXPECT_FALSE(EvaluateOne(run, below).ok);
}

TEST(LossCheck, LowerBoundIsNotMetByProbesStillInFlightOrByNoTraffic) {
  // A reproduction must show real loss: probes that may still be in flight
  // at the stop are no symptom, and no traffic at all is no evidence.
  Results run = EmptyRun(Sec(60));
  for (int64_t s : {10, 20, 30, 40}) {
    run.probes.push_back(Echoed("alice", "bob", Sec(s), kDirect, Ms(40)));
  }
  run.probes.push_back(Lost("alice", "bob", Sec(58), kDirect));
  run.probes.push_back(Lost("bob", "alice", Sec(59), kDirect));
  const ExpectationResult r = EvaluateOne(run, testing::LossAtLeast(0.1));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "0% lost (0 of 4 probes)");

  const ExpectationResult none = EvaluateOne(EmptyRun(), testing::LossAtLeast(0.1));
  EXPECT_FALSE(none.ok);
  EXPECT_EQ(none.observed, "no samples");
}

TEST(LossCheck, NoProbesFails) {
  const ExpectationResult r = EvaluateOne(EmptyRun(), testing::Loss(1.0));
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.observed, "no samples");
}

// ---------------------------------------------------------------------------
// EvaluateExpectations as a whole

TEST(Evaluate, OneVerdictPerExpectationInFileOrderWithPositions) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  scenario::Expectation first = PathBy(kDirect, Sec(5));
  first.where = {12, 5};
  scenario::Expectation second = PathBy(kDerp, Sec(5));
  second.where = {13, 5};
  const Results out = Evaluate(run, {first, second});
  ASSERT_EQ(out.expectations.size(), 2u);
  EXPECT_EQ(out.expectations[0].where.line, 12);
  EXPECT_EQ(out.expectations[0].where.column, 5);
  EXPECT_TRUE(out.expectations[0].ok);
  EXPECT_EQ(out.expectations[1].where.line, 13);
  EXPECT_FALSE(out.expectations[1].ok);
  EXPECT_FALSE(out.AllExpectationsOk());
}

TEST(Evaluate, ReplacesEarlierVerdictsAndSummaries) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(1), "alice", "bob", kDirect);
  run = Evaluate(run, {PathBy(kDirect, Sec(5)), PathBy(kDirect, Sec(6))});
  ASSERT_EQ(run.expectations.size(), 2u);
  ASSERT_EQ(run.pairs.size(), 1u);
  run = Evaluate(run, {PathBy(kDerp, Sec(5))});
  ASSERT_EQ(run.expectations.size(), 1u);
  EXPECT_FALSE(run.expectations[0].ok);
  EXPECT_EQ(run.pairs.size(), 1u);
}

// The scenario's timed events come along in words, for the report's timelines.
TEST(Evaluate, CopiesTheScenariosEventsInWords) {
  scenario::Scenario s;
  s.stop_time = Sec(60);
  scenario::Event reboot;
  reboot.at = Sec(30);
  reboot.target_kind = scenario::TargetKind::kNat;
  reboot.target = "home";
  reboot.action = scenario::Action::kReboot;
  scenario::Event open;
  open.at = Sec(10);
  open.target_kind = scenario::TargetKind::kFirewall;
  open.target = "fw";
  open.settings.block_udp = false;
  open.settings.latency = Ms(20);
  open.duration = Sec(5);
  s.events = {reboot, open};
  Results run = EmptyRun();
  EvaluateExpectations(s, run);
  ASSERT_EQ(run.events.size(), 2u);
  EXPECT_EQ(run.events[0].at, Sec(30));
  EXPECT_FALSE(run.events[0].until);
  EXPECT_EQ(run.events[0].what, "nat home reboot");
  EXPECT_EQ(run.events[1].until, Sec(15));
  EXPECT_EQ(run.events[1].what, "firewall fw set latency=20ms block_udp=false");
}

TEST(Evaluate, NoExpectationsIsAllOk) {
  EXPECT_TRUE(Evaluate(EmptyRun(), {}).AllExpectationsOk());
}

// ---------------------------------------------------------------------------
// Pair summaries

TEST(PairSummaries, OnePerUnorderedPairSortedWithASmallerThanB) {
  Results run = EmptyRun();
  run.timeline.push_back(Change(Sec(1), "carol", "bob", kDerp));
  run.probes.push_back(Echoed("carol", "alice", Sec(2), kDerp, Ms(80)));
  run.probes.push_back(Echoed("bob", "alice", Sec(2), kDerp, Ms(80)));
  run.probes.push_back(Echoed("alice", "bob", Sec(3), kDerp, Ms(80)));
  run.probes.push_back(Echoed("alice", "alice", Sec(3), kLocal, Ms(1)));  // not a pair

  const Results out = Evaluate(run, {});
  ASSERT_EQ(out.pairs.size(), 3u);
  EXPECT_EQ(out.pairs[0].a, "alice");
  EXPECT_EQ(out.pairs[0].b, "bob");
  EXPECT_EQ(out.pairs[0].probes_sent, 2u);
  EXPECT_EQ(out.pairs[1].a, "alice");
  EXPECT_EQ(out.pairs[1].b, "carol");
  EXPECT_EQ(out.pairs[1].probes_sent, 1u);
  EXPECT_EQ(out.pairs[2].a, "bob");
  EXPECT_EQ(out.pairs[2].b, "carol");
  EXPECT_EQ(out.pairs[2].probes_sent, 0u);  // timeline entries alone make a pair
}

// Time to direct counts from the first send that needed a path (traffic
// starts at 1 s here) to the first probe that crossed the direct path both
// ways, not from the start of the run nor from the nodes' belief.
TEST(PairSummaries, TimeToDirectCountsFromTheFirstSendToTheFirstDirectRoundTrip) {
  Results run = EmptyRun();
  BothSwitch(run, Ms(400), "alice", "bob", kDerp);
  run.timeline.push_back(Change(Ms(1020), "alice", "bob", kDirect));
  run.timeline.push_back(Change(Ms(1040), "bob", "alice", kDirect));
  run.probes.push_back(Echoed("bob", "alice", Sec(1), kDerp, Ms(90)));
  run.probes.push_back(Echoed("alice", "bob", Ms(1050), kDirect, Ms(40), kDerp));
  run.probes.push_back(Echoed("alice", "bob", Ms(1100), kDirect, Ms(40)));
  const Results out = Evaluate(run, {});
  ASSERT_EQ(out.pairs.size(), 1u);
  const PairSummary& p = out.pairs[0];
  ASSERT_TRUE(p.first_send && p.direct_at && p.time_to_direct);
  EXPECT_EQ(*p.first_send, Sec(1));
  EXPECT_EQ(*p.direct_at, Ms(1100));
  EXPECT_EQ(*p.time_to_direct, Ms(100));
  EXPECT_EQ(p.final_path, kDirect);
}

TEST(PairSummaries, LocalCountsAsDirectAndNeverDirectIsUnset) {
  Results local = EmptyRun();
  BothSwitch(local, Sec(3), "alice", "bob", kLocal);
  Stream(local, Sec(3), Sec(4), kLocal, kLocal);
  const Results l = Evaluate(local, {});
  ASSERT_TRUE(l.pairs[0].time_to_direct);
  EXPECT_EQ(*l.pairs[0].time_to_direct, Duration::Zero());
  EXPECT_EQ(l.pairs[0].final_path, kLocal);

  Results derp = EmptyRun();
  BothSwitch(derp, Sec(1), "alice", "bob", kDerp);
  Stream(derp, Sec(1), Sec(4), kDerp, kDerp);
  const Results d = Evaluate(derp, {});
  EXPECT_FALSE(d.pairs[0].time_to_direct);
  EXPECT_FALSE(d.pairs[0].direct_at);
  ASSERT_TRUE(d.pairs[0].first_send);
  EXPECT_EQ(*d.pairs[0].first_send, Sec(1));
  EXPECT_EQ(d.pairs[0].final_path, kDerp);

  // Without traffic there is nothing to time.
  Results quiet = EmptyRun();
  BothSwitch(quiet, Sec(1), "alice", "bob", kDirect);
  EXPECT_FALSE(Evaluate(quiet, {}).pairs[0].first_send);
  EXPECT_FALSE(Evaluate(quiet, {}).pairs[0].time_to_direct);
}

TEST(PairSummaries, FinalPathIgnoresEntriesAtOrAfterStopTime) {
  Results run = EmptyRun(Sec(60));
  BothSwitch(run, Sec(5), "alice", "bob", kDirect);
  // The runner's "stopped" entries at stop_time describe no time the run had.
  run.timeline.push_back(Change(Sec(60), "alice", "bob", kNone, "stopped"));
  run.timeline.push_back(Change(Sec(60), "bob", "alice", kNone, "stopped"));
  EXPECT_EQ(Evaluate(run, {}).pairs[0].final_path, kDirect);

  // A change just before the stop does count.
  BothSwitch(run, Sec(60) - Duration::Nanos(1), "alice", "bob", kDerp);
  EXPECT_EQ(Evaluate(run, {}).pairs[0].final_path, kDerp);
}

TEST(PairSummaries, FinalPathIsAsymmetricWhenTheSidesDisagreeAtTheEnd) {
  Results run = EmptyRun();
  BothSwitch(run, Sec(5), "alice", "bob", kDirect);
  run.timeline.push_back(Change(Sec(50), "bob", "alice", kDerp));
  EXPECT_EQ(Evaluate(run, {}).pairs[0].final_path, kAsymmetric);
}

// Ten samples 1..10 ms, in shuffled order: nearest rank gives the 5th, 9th and
// 10th smallest.
TEST(PairSummaries, NearestRankPercentilesOfTenSamples) {
  std::vector<int64_t> rtts = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  std::shuffle(rtts.begin(), rtts.end(), std::mt19937(7));
  Results run = EmptyRun();
  for (size_t i = 0; i < rtts.size(); ++i) {
    run.probes.push_back(
        Echoed("alice", "bob", Sec(static_cast<int64_t>(i) + 1), kDirect, Ms(rtts[i])));
  }
  const Results out = Evaluate(run, {});
  ASSERT_EQ(out.pairs.size(), 1u);
  ASSERT_EQ(out.pairs[0].rtt.count(kTripDirect), 1u);
  const RttPercentiles& p = out.pairs[0].rtt.at(kTripDirect);
  EXPECT_EQ(p.samples, 10u);
  EXPECT_EQ(p.min, Ms(1));
  EXPECT_EQ(p.p50, Ms(5));
  EXPECT_EQ(p.p90, Ms(9));
  EXPECT_EQ(p.p99, Ms(10));
  EXPECT_EQ(p.max, Ms(10));
}

TEST(PairSummaries, NearestRankPercentilesOfAHundredAndOfFewSamples) {
  Results hundred = EmptyRun(Sec(200));
  for (int64_t i = 100; i >= 1; --i) {
    hundred.probes.push_back(Echoed("bob", "alice", Sec(101 - i), kDerp, Ms(i)));
  }
  const RttPercentiles h = Evaluate(hundred, {}).pairs[0].rtt.at(kTripDerp);
  EXPECT_EQ(h.samples, 100u);
  EXPECT_EQ(h.p50, Ms(50));
  EXPECT_EQ(h.p90, Ms(90));
  EXPECT_EQ(h.p99, Ms(99));
  EXPECT_EQ(h.max, Ms(100));

  Results three = EmptyRun();
  for (int64_t ms : {30, 10, 20}) {
    three.probes.push_back(Echoed("alice", "bob", Sec(ms), kDirect, Ms(ms)));
  }
  const RttPercentiles t = Evaluate(three, {}).pairs[0].rtt.at(kTripDirect);
  EXPECT_EQ(t.min, Ms(10));
  EXPECT_EQ(t.p50, Ms(20));  // rank ceil(1.5) = 2
  EXPECT_EQ(t.p90, Ms(30));  // rank ceil(2.7) = 3
  EXPECT_EQ(t.p99, Ms(30));

  Results one = EmptyRun();
  one.probes.push_back(Echoed("alice", "bob", Sec(1), kDirect, Ms(42)));
  const RttPercentiles o = Evaluate(one, {}).pairs[0].rtt.at(kTripDirect);
  EXPECT_EQ(o.samples, 1u);
  EXPECT_EQ(o.min, Ms(42));
  EXPECT_EQ(o.p50, Ms(42));
  EXPECT_EQ(o.p99, Ms(42));
  EXPECT_EQ(o.max, Ms(42));
}

// The skewed relayed RTT: a probe sent over DERP whose echo came back
// direct is neither a relayed nor a direct round trip; the derp figure holds
// only round trips relayed both ways.
TEST(PairSummaries, RttIsKeptPerRoundTripPathAndMixedTripsApart) {
  Results run = EmptyRun();
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDerp, Ms(128)));
  run.probes.push_back(Echoed("bob", "alice", Sec(2), kDerp, Ms(132)));
  run.probes.push_back(Echoed("alice", "bob", Sec(3), kDirect, Ms(40)));
  run.probes.push_back(Echoed("alice", "bob", Ms(3100), kDerp, Ms(88), kDirect));
  run.probes.push_back(Echoed("bob", "alice", Ms(3200), kDirect, Ms(86), kDerp));
  run.probes.push_back(Lost("alice", "bob", Sec(4), kLocal));  // no sample, no entry
  const Results out = Evaluate(run, {});
  const PairSummary& s = out.pairs[0];
  ASSERT_EQ(s.rtt.size(), 3u);
  EXPECT_EQ(s.rtt.at(kTripDerp).samples, 2u);
  EXPECT_EQ(s.rtt.at(kTripDerp).min, Ms(128));
  EXPECT_EQ(s.rtt.at(kTripDerp).max, Ms(132));
  EXPECT_EQ(s.rtt.at(kTripDirect).samples, 1u);
  EXPECT_EQ(s.rtt.at(kTripDirect).p50, Ms(40));
  EXPECT_EQ(s.rtt.at(kTripMixed).samples, 2u);
  EXPECT_EQ(s.rtt.at(kTripMixed).min, Ms(86));
  EXPECT_EQ(s.rtt.count(kTripLocal), 0u);
}

TEST(RoundTrips, EachIsJudgedByBothLegs) {
  EXPECT_EQ(Echoed("a", "b", Sec(1), kDirect, Ms(1)).RoundTrip(), kTripDirect);
  EXPECT_EQ(Echoed("a", "b", Sec(1), kLocal, Ms(1)).RoundTrip(), kTripLocal);
  EXPECT_EQ(Echoed("a", "b", Sec(1), kDerp, Ms(1)).RoundTrip(), kTripDerp);
  EXPECT_EQ(Echoed("a", "b", Sec(1), kLocal, Ms(1), kDirect).RoundTrip(), kTripDirect);
  EXPECT_EQ(Echoed("a", "b", Sec(1), kDerp, Ms(1), kDirect).RoundTrip(), kTripMixed);
  EXPECT_EQ(Echoed("a", "b", Sec(1), kDirect, Ms(1), kDerp).RoundTrip(), kTripMixed);
  EXPECT_FALSE(Lost("a", "b", Sec(1), kDirect).RoundTrip());
  EXPECT_TRUE(Echoed("a", "b", Sec(1), kLocal, Ms(1), kDirect).CrossedDirectBothWays());
  EXPECT_FALSE(Echoed("a", "b", Sec(1), kDirect, Ms(1), kDerp).CrossedDirectBothWays());
  EXPECT_FALSE(Lost("a", "b", Sec(1), kDirect).CrossedDirectBothWays());
}

TEST(PairSummaries, ProbesLostLeavesOutTheInFlightGraceWindow) {
  Results run = EmptyRun(Sec(60));
  run.probes.push_back(Echoed("alice", "bob", Sec(1), kDirect, Ms(40)));
  run.probes.push_back(Lost("alice", "bob", Sec(10), kDirect));
  run.probes.push_back(Lost("bob", "alice", Sec(58) - Duration::Nanos(1), kDirect));
  run.probes.push_back(Lost("alice", "bob", Sec(58), kDirect));  // in flight at stop
  run.probes.push_back(Lost("bob", "alice", Sec(59), kDirect));  // in flight at stop
  const PairSummary s = Evaluate(run, {}).pairs[0];
  EXPECT_EQ(s.probes_sent, 5u);
  EXPECT_EQ(s.probes_lost, 2u);
  EXPECT_EQ(kInFlightGrace, Sec(2));
}

}  // namespace
}  // namespace punchlab::results
