// control.acls in the simulation: the control server tells each node only
// the peers visible to it (a rule lets it reach them or them reach it), so a
// pair the rules hide never learns each other's keys: no path forms, its
// probes are lost and counted as sends to an unknown peer (node/NAME
// sends_unknown_peer, the name the real lab's summary gives it too:
// tests/real/test_run_real.py), while a visible pair in the same domain goes
// direct.
#include <gtest/gtest.h>

#include <string>

#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

using testing::Counter;
using testing::Pair;
using testing::RunYaml;
using testing::Timeline;

// alice may reach bob; carol is named by no rule, so she sees nobody and
// nobody sees her. All three send to each other, behind cones that go
// direct whenever both sides know each other.
const char* const kHidden =
    "stop_time: 20s\n"
    "internet: {latency: 20ms}\n"
    "derp: {regions: [{id: 1, name: fra, latency: 10ms}]}\n"
    "control:\n"
    "  acls:\n"
    "    - {src: [alice], dst: [bob]}\n"
    "nats:\n"
    "  na: {preset: full-cone}\n"
    "  nb: {preset: full-cone}\n"
    "  nc: {preset: full-cone}\n"
    "nodes:\n"
    "  alice: {behind: na}\n"
    "  bob: {behind: nb}\n"
    "  carol: {behind: nc}\n"
    "traffic:\n"
    "  - {from: alice, to: bob, start: 1s, every: 200ms}\n"
    "  - {from: alice, to: carol, start: 1s, every: 200ms}\n"
    "  - {from: carol, to: bob, start: 1s, every: 200ms}\n"
    "expect:\n"
    "  - {between: [alice, bob], path: direct, by: 10s}\n"
    "  - {between: [alice, carol], path: none, from: 1s}\n"
    "  - {between: [bob, carol], path: none, from: 1s}\n";

TEST(RunSimAccessRules, AHiddenPairNeverLearnsEachOtherAndCannotSendAVisibleOneGoesDirect) {
  const results::Results r = RunYaml(kHidden);
  EXPECT_EQ(r.expectations.size(), 3u);
  for (const results::ExpectationResult& e : r.expectations) EXPECT_TRUE(e.ok) << e.text << ": " << e.observed;

  const results::PairSummary ab = Pair(r, "alice", "bob");
  EXPECT_EQ(ab.final_path, results::PathKind::kDirect);
  EXPECT_GT(ab.probes_sent, 80u);
  EXPECT_LT(ab.probes_lost, ab.probes_sent / 10);

  for (const auto& [x, y] : {std::pair<std::string, std::string>{"alice", "carol"},
                             {"carol", "bob"}}) {
    const results::PairSummary p = Pair(r, x, y);
    EXPECT_EQ(p.final_path, results::PathKind::kNone) << x << "-" << y;
    EXPECT_GT(p.probes_sent, 80u) << x << "-" << y;
    // Every one settled by the stop is lost (the last ones count as in flight).
    EXPECT_GT(p.probes_lost, 70u) << x << "-" << y;
    // Neither side ever had the other as a peer: no path, not even DERP.
    EXPECT_TRUE(Timeline(r, x, y).empty()) << x << "-" << y;
    EXPECT_TRUE(Timeline(r, y, x).empty()) << x << "-" << y;
  }
  // Every probe to a hidden peer is a send the node refused (path none,
  // never echoed), counted.
  for (const results::Probe& p : r.probes) {
    if (p.dst == "carol" || p.src == "carol") {
      EXPECT_EQ(p.path, results::PathKind::kNone);
      EXPECT_FALSE(p.echoed_at);
    }
  }
  EXPECT_GE(Counter(r, "node/alice", "sends_unknown_peer"), 80u);
  EXPECT_GE(Counter(r, "node/carol", "sends_unknown_peer"), 80u);
  EXPECT_EQ(Counter(r, "node/bob", "sends_unknown_peer"), 0u);
}

// The same scenario without rules: everyone sees everyone, every pair goes
// direct (what the rules took away above).
TEST(RunSimAccessRules, WithoutRulesTheSamePairsGoDirect) {
  std::string yaml = kHidden;
  const std::string rules = "  acls:\n    - {src: [alice], dst: [bob]}\n";
  yaml.replace(yaml.find(rules), rules.size(), "  domains: [default]\n");
  yaml.erase(yaml.find("expect:"));
  const results::Results r = RunYaml(yaml);
  for (const auto& [x, y] : {std::pair<std::string, std::string>{"alice", "bob"},
                             {"alice", "carol"}, {"carol", "bob"}}) {
    EXPECT_EQ(Pair(r, x, y).final_path, results::PathKind::kDirect) << x << "-" << y;
  }
  EXPECT_EQ(Counter(r, "node/alice", "sends_unknown_peer"), 0u);
  EXPECT_EQ(Counter(r, "node/carol", "sends_unknown_peer"), 0u);
}

}  // namespace
}  // namespace punchlab::runsim
