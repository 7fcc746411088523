// A node's flows start when the node is up (registered with control and
// connected to its home DERP region) plus its turn (scenario/meaning/
// probe-schedule.h). Counted from the run's start, both nodes' first
// WireGuard initiations waited for the DERP connection, left together when
// it came up, crossed (wireguard-go has no tie-break) and retried on the same
// tick: the control server's latency alone decided whether a matrix cell
// went direct in 0.2 s or in 10-30 s (bench/README.md, sessions 11 and 12).
#include <gtest/gtest.h>

#include <string>

#include "run-sim-test-util.h"

namespace punchlab::runsim {
namespace {

using results::PathKind;
using testing::Pair;
using testing::RunYaml;

// scenarios/matrix/full--full.yaml, 20 s, with the control server `latency` away.
std::string FullFull(int control_latency_ms, const std::string& extra = "") {
  return "stop_time: 20s\n"
         "seed: 1\n"
         "control: {latency: " + std::to_string(control_latency_ms) + "ms}\n"
         "internet: {latency: 20ms}\n"
         "derp: {regions: [{id: 1, name: fra, latency: 10ms}]}\n"
         "nats: {nat-a: {preset: full-cone}, nat-b: {preset: full-cone}}\n"
         "nodes: {alice: {behind: nat-a}, bob: {behind: nat-b}}\n"
         "traffic:\n"
         "  - {from: alice, to: bob, every: 100ms, size: 200B}\n"
         "  - {from: bob, to: alice, every: 100ms, size: 200B}\n" + extra;
}

// Every one of these latencies crossed the first initiations on main before
// session 12 (time to direct 10.8-31.9 s); now the first round trip after the
// first send is direct at the second probe, as at every other latency.
TEST(RunSimTurns, FirstInitiationsDoNotCrossWhateverTheControlLatency) {
  for (int latency : {0, 30, 100, 170, 200}) {
    const results::Results r = RunYaml(FullFull(latency));
    const results::PairSummary p = Pair(r, "alice", "bob");
    ASSERT_TRUE(p.time_to_direct) << "control " << latency << " ms: never direct";
    EXPECT_LE(p.time_to_direct->seconds(), 1.0) << "control " << latency << " ms";
    EXPECT_EQ(p.final_path, PathKind::kDirect);
  }
}

// Nothing is sent before the node is up, so no probe finds no route at its
// sender, and none is lost: the first one waits for a handshake, not for a
// DERP connection.
TEST(RunSimTurns, NoProbeIsSentBeforeItsNodeIsUp) {
  const results::Results r = RunYaml(FullFull(100));
  Duration first_alice = Duration::Max(), first_bob = Duration::Max();
  for (const results::Probe& probe : r.probes) {
    EXPECT_NE(probe.path, PathKind::kNone) << probe.src << " seq " << probe.seq;
    EXPECT_TRUE(probe.echoed_at || probe.sent_at.seconds() > 19.5) << probe.src << " seq " << probe.seq;
    Duration& first = probe.src == "alice" ? first_alice : first_bob;
    first = std::min(first, probe.sent_at);
  }
  // Registering takes round trips to a control server 100 ms away; the
  // turns (seed 1: alice first) keep the two first sends 500 ms apart,
  // give or take how far apart the two came up.
  EXPECT_GT(first_alice.seconds(), 0.4);
  EXPECT_NEAR((first_bob - first_alice).seconds(), 0.5, 0.05);
}

// A node that cannot reach control (its link down for 8 s) is never up in
// time: its flows start at its start + ProbeSchedule::kUpDeadline (5 s), and
// its probes until the link is back are lost, as a program's would be.
TEST(RunSimTurns, ANodeNeverUpSendsFromItsDeadline) {
  const results::Results r =
      RunYaml(FullFull(0, "events: [{at: 0s, node: alice, action: link-down, for: 8s}]\n"));
  Duration first_alice = Duration::Max();
  for (const results::Probe& probe : r.probes) {
    if (probe.src == "alice") first_alice = std::min(first_alice, probe.sent_at);
  }
  EXPECT_EQ(first_alice, Duration::Seconds(5));  // seed 1: alice's turn is 0
}

}  // namespace
}  // namespace punchlab::runsim
