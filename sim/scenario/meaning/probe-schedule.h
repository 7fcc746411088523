// When a flow's probes are due. The one definition of the probe schedule:
// the ns-3 runner (run-sim/traffic-driver) and punchlab-node's probe traffic
// (node/probe-traffic, fed by the real runner's --flow) both ask it.
//
// The first probe goes at `start`, each next one `every` after the previous;
// one that would fall in an idle gap [from, until) goes at the gap's end
// instead, and the schedule continues from there; nothing at or after
// `stop`. Probes are numbered 0, 1, 2, ... in that order (their seq).
//
// A node's flows start when the node is up (node::Up: registered with control
// and connected to its home DERP region), as a user's program starts sending
// after `tailscale up`: no probe of a flow goes before its node's first up,
// or before kUpDeadline after the node's start when it is not up by then (a
// node that cannot reach control or DERP still sends, and its probes show
// what happens to them). A restarted node keeps its schedule (the program
// sending was not restarted): the first up of any of its runs counts, or
// the deadline if that came first.
// Flows that start later than the up are not moved.
//
// Real senders never start at the same instant (the real lab's own launch
// jitter is now below a millisecond, sim/run-real/README.md): a node's flows
// are shifted, start and idle gaps alike, by its turn k of n in a seeded
// order of the scenario's nodes times start_skew / n (the run's seed picks
// the order, so both worlds and every rerun agree); the turn counts from the
// up too. It matters to WireGuard: two peers whose first sends are closer
// together than the one-way delay both initiate, and wireguard-go has no
// tie-break; turns keep them start_skew / n apart. Counted from the up, a
// first initiation finds the home DERP connection up and leaves at once:
// counted from the run's start, both nodes' first initiations waited in the
// DERP queue until its connection came up and left together, crossed, and
// retried on the same tick (bench/README.md, sessions 11 and 12).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

struct ProbeSlot {
  uint64_t seq = 0;
  Duration at;  // from the run's start

  bool operator==(const ProbeSlot& o) const { return seq == o.seq && at == o.at; }
};

struct ProbeSchedule {
  Duration start;
  Duration stop;
  Duration every = Duration::Seconds(1);  // above 0
  std::vector<Interval> idle;             // sorted by `from`, not overlapping
  // The sender's turn, already added to `start` and `idle`; AfterUp adds it
  // to the up.
  Duration turn = Duration::Zero();

  // The longest a node's flows wait for it to be up, from its start.
  // Registering and connecting DERP take about half a second in the lab
  // (TLS) and a few round trips to control and DERP in general; 5 s is ten
  // of those at the library's largest latencies and still early in a run.
  static constexpr Duration kUpDeadline = Duration::Seconds(5);

  // The schedule of a scenario's traffic entry, shifted by its sender's start
  // skew. `seed` is the run's: the scenario's, or the one `--seed` gives.
  static ProbeSchedule Of(const Scenario& scenario, const Flow& flow, uint64_t seed);
  // Of() of every traffic entry, in order, in time linear in the scenario
  // (Of alone finds the sender by a scan of the nodes).
  static std::vector<ProbeSchedule> OfAll(const Scenario& scenario, uint64_t seed);

  // The schedule once the sender is up at `up` (its first up, or its
  // start + kUpDeadline): nothing before up + turn.
  ProbeSchedule AfterUp(Duration up) const;

  // The first probe due at or after `t`; nullopt when the flow has none left.
  // A sender that missed slots (a late timer, a restarted process) resumes
  // with the next one due and keeps its number.
  std::optional<ProbeSlot> SlotAtOrAfter(Duration t) const;
  // The probe after `slot`.
  std::optional<ProbeSlot> After(const ProbeSlot& slot) const {
    return SlotAtOrAfter(slot.at + Duration::Nanos(1));
  }
};

}  // namespace scenario
}  // namespace punchlab
