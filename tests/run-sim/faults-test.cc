// Timed events change the world mid-run, and what the nodes observe shows it:
// probes die while a link is down, a rebooted NAT loses its mappings, a new
// public address shows in the peer's path, a restarted node starts over, a
// DERP outage silences the relayed pair, and `for` undoes each of them.
#include <gtest/gtest.h>

#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

using results::PathKind;
using testing::Counter;
using testing::P50Ms;
using testing::Pair;
using testing::PairYaml;
using testing::Probes;
using testing::RunYaml;
using testing::Timeline;

TEST(RunSimFaults, LinkDownLosesEveryProbeUntilItComesBack) {
  const results::Results r = RunYaml(PairYaml(
      "full-cone", "full-cone", "events: [{at: 10s, node: alice, action: link-down, for: 3s}]\n"));
  const testing::ProbeCount during = Probes(r, "alice", 10.0, 13.0);
  EXPECT_EQ(during.sent, 15u);
  EXPECT_EQ(during.echoed, 0u);
  const testing::ProbeCount before = Probes(r, "alice", 5.0, 10.0);
  EXPECT_EQ(before.echoed, before.sent);
  // Every probe after the link is back returns (the last 2 s may be in flight).
  const testing::ProbeCount after = Probes(r, "alice", 20.0, 28.0);
  EXPECT_EQ(after.sent, 40u);
  EXPECT_EQ(after.echoed, after.sent);
  EXPECT_GT(Counter(r, "link/node-alice", "dropped_down"), 0u);
  EXPECT_EQ(Pair(r, "alice", "bob").final_path, PathKind::kDirect);
}

TEST(RunSimFaults, NatRebootLosesMappingsAndThePairRecovers) {
  const results::Results r = RunYaml(PairYaml(
      "port-restricted-cone", "port-restricted-cone", "events: [{at: 10s, nat: home, action: reboot}]\n"));
  EXPECT_EQ(Counter(r, "nat/home", "reboots"), 1u);
  EXPECT_GT(Counter(r, "nat/home", "mappings_lost"), 0u);
  EXPECT_EQ(Counter(r, "nat/office", "reboots"), 0u);
  EXPECT_EQ(Pair(r, "alice", "bob").final_path, PathKind::kDirect);
  const testing::ProbeCount late = Probes(r, "alice", 20.0, 28.0);
  EXPECT_EQ(late.echoed, late.sent);
}

// The peer's direct path names alice's public endpoint: after the change it
// names a new address, found by STUN and disco, not told by the runner.
TEST(RunSimFaults, ChangeAddressMovesThePeersPathToTheNewAddress) {
  const results::Results r = RunYaml(PairYaml(
      "full-cone", "port-restricted-cone", "events: [{at: 10s, nat: home, action: change-address}]\n"));
  std::string before, after;
  for (const results::PathChange& c : Timeline(r, "bob", "alice")) {
    if (c.path != PathKind::kDirect) continue;
    (c.at.seconds() < 10 ? before : after) = c.detail;
  }
  ASSERT_FALSE(before.empty());
  ASSERT_FALSE(after.empty()) << "bob never went direct to alice after the change";
  const std::string ipBefore = before.substr(0, before.rfind(':'));
  const std::string ipAfter = after.substr(0, after.rfind(':'));
  EXPECT_NE(ipBefore, ipAfter) << before << " -> " << after;
  EXPECT_EQ(Pair(r, "alice", "bob").final_path, PathKind::kDirect);
}

TEST(RunSimFaults, RestartedNodeStartsOverAndThePeerPunchesToTheNewProcess) {
  const results::Results r = RunYaml(PairYaml(
      "full-cone", "full-cone", "events: [{at: 10s, node: bob, action: restart}]\n"));
  bool restarted = false;
  for (const results::PathChange& c : Timeline(r, "bob", "alice")) {
    if (c.reason == "restart") {
      restarted = true;
      EXPECT_DOUBLE_EQ(c.at.seconds(), 10.0);
      EXPECT_EQ(c.path, PathKind::kNone);
    }
  }
  EXPECT_TRUE(restarted);
  // alice drops the old process's path and punches a new one to the new
  // process (new disco key: old pongs prove nothing).
  bool left = false, back = false;
  for (const results::PathChange& c : Timeline(r, "alice", "bob")) {
    if (c.at.seconds() < 10) continue;
    if (c.path != PathKind::kDirect) left = true;
    if (left && c.path == PathKind::kDirect) back = true;
  }
  EXPECT_TRUE(left);
  EXPECT_TRUE(back);
  EXPECT_EQ(Pair(r, "alice", "bob").final_path, PathKind::kDirect);
  EXPECT_EQ(Counter(r, "control", "registrations"), 3u);
}

TEST(RunSimFaults, DerpOutageSilencesARelayedPairUntilTheServerIsBack) {
  const results::Results r = RunYaml(PairYaml(
      "symmetric", "symmetric", "events: [{at: 10s, derp_region: fra, action: down, for: 5s}]\n"));
  const testing::ProbeCount during = Probes(r, "alice", 10.5, 15.0);
  EXPECT_GT(during.sent, 0u);
  EXPECT_EQ(during.echoed, 0u);
  const testing::ProbeCount after = Probes(r, "alice", 22.0, 28.0);
  EXPECT_EQ(after.echoed, after.sent) << "the pair did not come back over DERP";
  EXPECT_EQ(Pair(r, "alice", "bob").final_path, PathKind::kDerp);
}

TEST(RunSimFaults, BlockingUdpSendsThePairToDerpAndUnblockingBringsItBack) {
  const results::Results r = RunYaml(
      "stop_time: 60s\n"
      "firewalls: {corp: {}}\n"
      "nodes: {alice: {behind: corp}, bob: {}}\n"
      "traffic: [{from: alice, to: bob, every: 200ms}]\n"
      "events: [{at: 10s, firewall: corp, block_udp: true, for: 20s}]\n"
      "expect:\n"
      "  - {between: [alice, bob], path: direct, by: 9s}\n"
      "  - {between: [alice, bob], path: derp, by: 25s}\n"
      "  - {between: [alice, bob], path: direct, by: 50s}\n");
  for (const results::ExpectationResult& e : r.expectations) {
    EXPECT_TRUE(e.ok) << e.text << ": " << e.observed;
  }
  EXPECT_GT(Counter(r, "firewall/corp", "dropped_udp_blocked"), 0u);
}

TEST(RunSimFaults, LinkSettingsChangeTheRttForTheirDuration) {
  const results::Results r = RunYaml(PairYaml(
      "full-cone", "full-cone",
      "events: [{at: 10s, node: alice, latency: 51ms, for: 10s}]\n"));
  // 48 ms before; +2 x 50 ms while alice's link is 51 ms instead of 1 ms.
  auto rttOf = [&](double from, double until) {
    double sum = 0;
    int n = 0;
    for (const results::Probe& p : r.probes) {
      const double t = p.sent_at.seconds();
      if (p.src != "alice" || !p.echoed_at || t < from || t >= until) continue;
      sum += p.Rtt().millis();
      ++n;
    }
    return n == 0 ? -1.0 : sum / n;
  };
  EXPECT_NEAR(rttOf(5, 10), 48.0, 0.1);
  EXPECT_NEAR(rttOf(11, 19), 148.0, 0.1);
  EXPECT_NEAR(rttOf(22, 28), 48.0, 0.1);
}

}  // namespace
}  // namespace punchlab::runsim
