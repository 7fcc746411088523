// scenario/meaning/: what a scenario means to both runners: when a flow's
// probes are due, what kind of path a node uses, what the control plane calls
// a domain and a node. (tests/meaning/ checks that both runners use these.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "punchlab/control/identity.h"
#include "scenario-test-util.h"
#include "scenario/meaning/control-names.h"
#include "scenario/meaning/path-classifier.h"
#include "scenario/meaning/probe-schedule.h"

namespace punchlab::scenario {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Errors;
using testing::LoadOk;

using Slots = std::vector<std::pair<uint64_t, int64_t>>;  // (seq, ms)

ProbeSchedule Schedule(Duration start, Duration stop, Duration every,
                       std::vector<Interval> idle = {}) {
  return ProbeSchedule{start, stop, every, std::move(idle)};
}

// Every (seq, ms) the schedule holds, walked slot after slot as a sender does.
Slots Walk(const ProbeSchedule& s) {
  Slots out;
  for (auto slot = s.SlotAtOrAfter(Duration::Zero()); slot; slot = s.After(*slot)) {
    out.emplace_back(slot->seq, slot->at.nanos() / 1000000);
    if (out.size() > 1000) break;
  }
  return out;
}

Duration Ms(int64_t ms) { return Duration::Millis(ms); }

TEST(ProbeSchedule, EveryFromStartUntilStop) {
  EXPECT_EQ(Walk(Schedule(Ms(1000), Ms(1300), Ms(100))),
            (Slots{{0, 1000}, {1, 1100}, {2, 1200}}));
}

TEST(ProbeSchedule, IdleGapsMoveTheNextProbeToTheGapsEnd) {
  // Probes at 0, 300, 600; 900 falls in [800, 1050) so it goes at 1050, and
  // the schedule continues from there: 1350.
  EXPECT_EQ(Walk(Schedule(Ms(0), Ms(1400), Ms(300), {{Ms(800), Ms(1050)}})),
            (Slots{{0, 0}, {1, 300}, {2, 600}, {3, 1050}, {4, 1350}}));
}

TEST(ProbeSchedule, AGapShorterThanEveryBetweenTwoProbesChangesNothing) {
  EXPECT_EQ(Walk(Schedule(Ms(0), Ms(1000), Ms(500), {{Ms(100), Ms(300)}})),
            (Slots{{0, 0}, {1, 500}}));
}

TEST(ProbeSchedule, AStartInsideAGapBeginsAtItsEnd) {
  EXPECT_EQ(Walk(Schedule(Ms(1000), Ms(3000), Ms(1000), {{Ms(1000), Ms(1500)}})),
            (Slots{{0, 1500}, {1, 2500}}));
}

TEST(ProbeSchedule, AProbeDueAtAGapsStartGoesAtItsEnd) {
  // 200 is the gap's first instant: it moves to 250; the gap [450, 460) is
  // passed over between two probes; nothing at or after stop.
  EXPECT_EQ(Walk(Schedule(Ms(0), Ms(650), Ms(100), {{Ms(200), Ms(250)}, {Ms(460), Ms(470)}})),
            (Slots{{0, 0}, {1, 100}, {2, 250}, {3, 350}, {4, 450}, {5, 550}}));
}

TEST(ProbeSchedule, ALateSenderResumesAtTheNextSlotWithItsNumber) {
  const ProbeSchedule s = Schedule(Ms(0), Ms(10000), Ms(100), {{Ms(2000), Ms(3000)}});
  const auto slot = s.SlotAtOrAfter(Ms(3456));
  ASSERT_TRUE(slot);
  // 20 probes before the gap (0..1900ms), then 3000, 3100, ...: 3500 is seq 25.
  EXPECT_EQ(*slot, (ProbeSlot{25, Ms(3500)}));
  EXPECT_EQ(s.SlotAtOrAfter(Ms(3500)), slot);  // a slot is due at its own instant
  EXPECT_EQ(s.After(*slot), (ProbeSlot{26, Ms(3600)}));
  EXPECT_FALSE(s.SlotAtOrAfter(Ms(10000)));
  EXPECT_FALSE(s.After(ProbeSlot{124, Ms(9900)}));
}

TEST(ProbeSchedule, IsTheScenarioFlowsTimes) {
  const Scenario sc = LoadOk(R"(
stop_time: 10s
nodes: {a: {}, b: {}}
traffic:
  - {from: a, to: b, start: 1s, stop: 3s, every: 500ms, idle: [{at: 2s, for: 700ms}]}
)");
  ASSERT_EQ(sc.traffic.size(), 1u);
  EXPECT_EQ(Walk(ProbeSchedule::Of(sc, sc.traffic[0], sc.seed)),
            (Slots{{0, 1000}, {1, 1500}, {2, 2700}}));
}

// A node's start_skew shifts all its flows, start and idle gaps alike, by
// its turn k of n in a seeded order of the scenario's nodes: k/n of it. Turns
// differ, so no two nodes with the same start_skew start together.
TEST(ProbeSchedule, StartSkewShiftsEveryFlowOfTheNodeByItsTurn) {
  const char* kText = R"(
stop_time: 10s
seed: %d
nodes: {a: {start_skew: 400ms}, b: {start_skew: 400ms}, c: {start_skew: 400ms}, d: {start_skew: 0s}}
traffic:
  - {from: a, to: b, start: 1s, stop: 3s, every: 500ms, idle: [{at: 2s, for: 700ms}]}
  - {from: a, to: c, start: 1s, stop: 3s, every: 500ms}
  - {from: b, to: a, start: 1s, stop: 3s, every: 500ms}
  - {from: c, to: a, start: 1s, stop: 3s, every: 500ms}
  - {from: d, to: a, start: 1s, stop: 3s, every: 500ms}
)";
  auto load = [&](int seed) {
    char text[640];
    std::snprintf(text, sizeof text, kText, seed);
    return LoadOk(text);
  };
  const Scenario one = load(1);
  auto skew = [](const Scenario& sc, size_t flow, uint64_t seed) {
    return ProbeSchedule::Of(sc, sc.traffic[flow], seed).start - Ms(1000);
  };
  const ProbeSchedule a_b = ProbeSchedule::Of(one, one.traffic[0], one.seed);
  const Duration skew_a = skew(one, 0, one.seed);
  EXPECT_EQ(skew(one, 1, one.seed), skew_a);  // one turn per node
  ASSERT_EQ(a_b.idle.size(), 1u);
  EXPECT_EQ(a_b.idle[0].from, Ms(2000) + skew_a);
  EXPECT_EQ(a_b.idle[0].until, Ms(2700) + skew_a);
  EXPECT_EQ(a_b.stop, Ms(3000));
  std::vector<Duration> turns = {skew_a, skew(one, 2, one.seed), skew(one, 3, one.seed)};
  for (const Duration t : turns) {
    EXPECT_GE(t, Duration::Zero());
    EXPECT_LT(t, Ms(400));
    EXPECT_EQ(t.nanos() % Ms(100).nanos(), 0);  // k/4 of 400 ms
  }
  std::sort(turns.begin(), turns.end());
  EXPECT_EQ(std::adjacent_find(turns.begin(), turns.end()), turns.end()) << "two share a turn";
  EXPECT_EQ(skew(one, 4, one.seed), Duration::Zero());  // d: start_skew 0s
  // The same seed gives the same turns, another seed (the file's or --seed's) others.
  const Scenario again = load(1);
  EXPECT_EQ(skew(again, 0, again.seed), skew_a);
  bool differs = false;
  for (int seed = 2; seed < 20 && !differs; ++seed) {
    const Scenario other = load(seed);
    differs = skew(other, 0, other.seed) != skew_a;
    EXPECT_EQ(skew(one, 0, static_cast<uint64_t>(seed)), skew(other, 0, other.seed));
  }
  EXPECT_TRUE(differs);
  // OfAll (the simulation's, linear in the scenario) gives every flow what Of gives it.
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const std::vector<ProbeSchedule> all = ProbeSchedule::OfAll(one, seed);
    ASSERT_EQ(all.size(), one.traffic.size());
    for (size_t f = 0; f < all.size(); ++f) {
      const ProbeSchedule single = ProbeSchedule::Of(one, one.traffic[f], seed);
      EXPECT_EQ(Walk(all[f]), Walk(single)) << "seed " << seed << " flow " << f;
      EXPECT_EQ(all[f].start, single.start) << "seed " << seed << " flow " << f;
    }
  }
}

// By default (1 s) two nodes start their flows 500 ms apart, one of them first.
TEST(ProbeSchedule, ByDefaultTwoNodesStartHalfASecondApart) {
  const Scenario sc = LoadOk(R"(
stop_time: 10s
nodes: {a: {}, b: {}}
traffic:
  - {from: a, to: b, start: 1s, every: 100ms}
  - {from: b, to: a, start: 1s, every: 100ms}
)");
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    const Duration a = ProbeSchedule::Of(sc, sc.traffic[0], seed).start;
    const Duration b = ProbeSchedule::Of(sc, sc.traffic[1], seed).start;
    EXPECT_EQ(std::min(a, b), Ms(1000)) << "seed " << seed;
    EXPECT_EQ(std::max(a, b), Ms(1500)) << "seed " << seed;
  }
}

// A node's flows start when it is up (or at its deadline): nothing before
// up + turn; a flow that starts later, and the idle gaps, do not move; the
// numbering starts at the first probe sent.
TEST(ProbeSchedule, FlowsStartFromTheUpPlusTheTurn) {
  const Scenario sc = LoadOk(R"(
stop_time: 10s
nodes: {a: {}, b: {}}
traffic:
  - {from: a, to: b, start: 0s, every: 100ms, idle: [{at: 2s, for: 1s}]}
  - {from: a, to: b, start: 4s, every: 100ms}
)");
  for (uint64_t seed = 1; seed <= 4; ++seed) {
    const ProbeSchedule s = ProbeSchedule::Of(sc, sc.traffic[0], seed);
    EXPECT_EQ(s.start, s.turn) << "seed " << seed;  // flow start 0 s + the turn
    const ProbeSchedule up = s.AfterUp(Ms(543));
    EXPECT_EQ(up.start, Ms(543) + s.turn);
    EXPECT_EQ(up.SlotAtOrAfter(Duration::Zero()), (ProbeSlot{0, Ms(543) + s.turn}));
    EXPECT_EQ(up.idle[0].from, Ms(2000) + s.turn);  // gaps keep their times
    EXPECT_EQ(up.SlotAtOrAfter(Ms(2000) + s.turn)->at, Ms(3000) + s.turn);
    const ProbeSchedule late = ProbeSchedule::Of(sc, sc.traffic[1], seed).AfterUp(Ms(543));
    EXPECT_EQ(late.start, Ms(4000) + s.turn);  // up long before it: unchanged
  }
}

TEST(ProbeSchedule, ANegativeStartSkewIsRefused) {
  EXPECT_THAT(Errors("stop_time: 10s\nnodes: {a: {start_skew: -1ms}, b: {}}\n"),
              ElementsAre(HasSubstr("t.yaml:2:25: start_skew in nodes.a: '-1ms' is not a duration")));
}

// a and b behind one NAT, c behind a firewall, d public.
const char* kLan = R"(
stop_time: 10s
nats: {home: {}}
firewalls: {corp: {}}
nodes:
  a: {behind: home}
  b: {behind: home}
  c: {behind: corp}
  d: {}
  e: {behind: corp}
)";

const Endpoint kA = *Endpoint::Parse("10.1.0.2:41641");
const Endpoint kB = *Endpoint::Parse("10.1.0.3:41641");
const Endpoint kC = *Endpoint::Parse("198.51.100.2:41641");
const Endpoint kD = *Endpoint::Parse("203.0.113.9:41641");
const Endpoint kE = *Endpoint::Parse("198.51.100.3:41641");

TEST(PathClassifier, LocalIsOwnEndpointToOwnEndpointOnOneLan) {
  const Scenario s = LoadOk(kLan);
  const PathClassifier paths(s, {kA, kB, kC, kD, kE});
  EXPECT_EQ(paths.Classify(0, 1, node::Path::Direct(kB)), PathKind::kLocal);
  EXPECT_EQ(paths.Classify(1, 0, node::Path::Direct(kA)), PathKind::kLocal);
  // Behind one firewall: nothing translates, still one LAN.
  EXPECT_EQ(paths.Classify(2, 4, node::Path::Direct(kE)), PathKind::kLocal);
  // Through the NAT's mapping: direct.
  EXPECT_EQ(paths.Classify(0, 1, node::Path::Direct(*Endpoint::Parse("203.0.113.2:50000"))),
            PathKind::kDirect);
  // The peer's own address on another LAN (a firewall's public LAN) is not local.
  EXPECT_EQ(paths.Classify(0, 2, node::Path::Direct(kC)), PathKind::kDirect);
  EXPECT_EQ(paths.Classify(3, 2, node::Path::Direct(kC)), PathKind::kDirect);
  // Public nodes share no LAN.
  EXPECT_EQ(paths.Classify(2, 3, node::Path::Direct(kD)), PathKind::kDirect);
  EXPECT_EQ(paths.Classify(0, 1, node::Path::Derp(1)), PathKind::kDerp);
  EXPECT_EQ(paths.Classify(0, 1, node::Path::None()), PathKind::kNone);
}

TEST(PathClassifier, LocalNeedsThePeersOwnPortNotJustItsAddress) {
  // The real lab's node log matched the address alone: a datagram to b's
  // address on another port (a NAT hairpin or port forward on b's own box,
  // another socket) was called local. Address and port must both be b's.
  const Scenario s = LoadOk(kLan);
  const PathClassifier paths(s, {kA, kB, kC, kD, kE});
  EXPECT_EQ(paths.Classify(0, 1, node::Path::Direct(Endpoint(kB.ip, 41642))),
            PathKind::kDirect);
  EXPECT_EQ(paths.Direct(0, 1, kA, Endpoint(kB.ip, 1)), PathKind::kDirect);
}

TEST(PathClassifier, ADatagramSeenOnTheWireIsLocalOnlyWhenNeitherEndWasTranslated) {
  const Scenario s = LoadOk(kLan);
  const PathClassifier paths(s, {kA, kB, kC, kD, kE});
  EXPECT_EQ(paths.Direct(0, 1, kA, kB), PathKind::kLocal);
  // At b, from a's NAT mapping (hairpinned): not local.
  EXPECT_EQ(paths.Direct(0, 1, *Endpoint::Parse("203.0.113.2:50000"), kB), PathKind::kDirect);
  // From a's address but another port: some other socket or a translation.
  EXPECT_EQ(paths.Direct(0, 1, Endpoint(kA.ip, 50000), kB), PathKind::kDirect);
}

// A probe counts on the path its Send took at the time: queued (for the DERP
// connection or a WireGuard handshake) is relayed, whatever direct path the
// node already has, since it leaves only when the wait ends. Both runners
// count their probes by this one rule; the real lab's used to take the
// node's path for a queued probe, so a probe held 5 s behind a handshake
// counted as having gone direct when it was sent.
TEST(PathClassifier, AProbeCountsOnThePathItsSendTook) {
  const Scenario s = LoadOk(kLan);
  const PathClassifier paths(s, {kA, kB, kC, kD, kE});
  const node::Path local = node::Path::Direct(kB);
  EXPECT_EQ(paths.ClassifyProbe(0, 1, node::SendResult::kDirect, local), PathKind::kLocal);
  EXPECT_EQ(paths.ClassifyProbe(0, 2, node::SendResult::kDirect, node::Path::Direct(kC)),
            PathKind::kDirect);
  EXPECT_EQ(paths.ClassifyProbe(0, 1, node::SendResult::kQueued, local), PathKind::kDerp);
  EXPECT_EQ(paths.ClassifyProbe(0, 1, node::SendResult::kDerp, node::Path::Derp(1)),
            PathKind::kDerp);
  EXPECT_EQ(paths.ClassifyProbe(0, 1, node::SendResult::kNoRoute, local), PathKind::kNone);
  EXPECT_EQ(paths.ClassifyProbe(0, 1, node::SendResult::kUnknownPeer, node::Path::None()),
            PathKind::kNone);
}

TEST(PathClassifier, NamesAndCounts) {
  const Scenario s = LoadOk(kLan);
  const PathClassifier paths(s, {kA, kB, kC, kD, kE});
  EXPECT_EQ(paths.size(), 5u);
  EXPECT_EQ(paths.NodeIndex("c"), 2u);
  EXPECT_EQ(paths.NodeIndex("zz"), 5u);
  EXPECT_EQ(paths.Own(3), kD);
  EXPECT_THROW(PathClassifier(s, {kA, kB}), std::invalid_argument);
}

TEST(ControlNames, DomainsAreLowerCaseDnsNames) {
  EXPECT_EQ(ControlDomain("corp"), "corp");
  EXPECT_EQ(ControlDomain("Home_Net"), "home-net");
  EXPECT_EQ(ControlDomain("tailnet.Example-1"), "tailnet.example-1");
}

TEST(ControlNames, EveryScenarioNameIsAValidDomainAndUser) {
  // Scenario names: a letter or digit, then letters, digits, '-', '_', '.'.
  const Scenario s = LoadOk(R"(
stop_time: 10s
control: {domains: [Z9_a.b-C, x]}
nodes:
  Alice_1.x-Y: {domain: Z9_a.b-C}
)");
  ASSERT_EQ(s.nodes.size(), 1u);
  EXPECT_EQ(ControlDomain(s.nodes[0].domain), "z9-a.b-c");
  EXPECT_TRUE(control::IsValidDomain(ControlDomain(s.nodes[0].domain)));
  EXPECT_EQ(ControlUser(s.nodes[0]), "Alice_1.x-Y");
  EXPECT_TRUE(control::IsValidUser(ControlUser(s.nodes[0])));
}

// control.acls as both runners hand them to the control server: by control
// domain, nodes by their control user; domains without rules absent.
TEST(ControlNames, AccessRulesGoToTheServerByControlDomainAndUser) {
  const Scenario s = LoadOk(R"(
stop_time: 10s
control:
  domains: [Home_Net, corp, open]
  acls:
    - {domain: Home_Net, src: [Alice_1], dst: ['*']}
    - {src: [c], dst: [d]}
    - {domain: corp, src: ['*'], dst: [d, c]}
nodes:
  Alice_1: {domain: Home_Net}
  c: {domain: corp}
  d: {domain: corp}
  e: {domain: open}
)");
  const control::AccessRules rules = ControlAccessRules(s);
  const control::AccessRules expected = {
      {"home-net", {{{"Alice_1"}, {"*"}}}},
      {"corp", {{{"c"}, {"d"}}, {{"*"}, {"d", "c"}}}}};
  EXPECT_EQ(rules, expected);
  EXPECT_EQ(control::CheckAccessRules(rules), "");
  std::string error;
  EXPECT_EQ(control::ParseAccessRules(control::EncodeAccessRules(rules), error), rules) << error;
  // No rules: an empty map, the server's allow-all.
  EXPECT_TRUE(ControlAccessRules(LoadOk("nodes: {a: {}}\n")).empty());
}

TEST(ControlNames, TheLoaderRefusesTwoDomainsWithOneControlName) {
  EXPECT_THAT(Errors(R"(
stop_time: 10s
control: {domains: [home_net, Home-Net]}
nodes: {a: {domain: home_net}}
)"),
              ElementsAre(HasSubstr("t.yaml:3:31: domains 'home_net' and 'Home-Net' are the same "
                                    "domain to the control server ('home-net'); rename one")));
}

}  // namespace
}  // namespace punchlab::scenario
