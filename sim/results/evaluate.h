// Verdicts from observations: the one place that decides what a scenario's
// `expect` entries mean, for runs in ns-3 and in the real lab alike.
//
// Two kinds of observation, and which verdict reads which:
//  * what the nodes decided (the timeline): a pair's path state at time t.
//    Each side's path toward the other is the path of its latest timeline
//    entry at or before t ("none" before its first entry). The pair's state
//    is that path when both sides agree; "asymmetric" while both have a path
//    but not the same one (data goes one way direct, the other relayed);
//    "none" while either side has none (no round trip can complete).
//  * what crossed the wire (the probes): each round trip has two legs, the
//    probe's (the path it was sent on) and the echo's (the path it arrived
//    on); its RoundTripPath is direct, local or derp when both legs took
//    that path, mixed otherwise (results.h).
//
// The checks (expect entries), in these terms:
//   path, by:        the pair's state at `by` is the expected one.
//   path, no by:     the pair's state is the expected one at every instant of
//                    [from, until). Observed names the first deviation. For
//                    `none`, also: no probe sent in the window completed a
//                    round trip (else they could reach each other after all).
//   time_to_direct_max: on the wire. The first probe sent at or after `from`
//                    (and before stop_time) whose probe AND echo crossed the
//                    direct (or local) path; its send time minus `from` is at
//                    most the bound. observed_value: those seconds; observed
//                    also says since when the nodes were on direct; "never direct"
//                    when no probe crossed both ways.
//   rtt_min/rtt_max: EVERY round trip of a probe sent in [from, until) either
//                    way between the two (with `over`: whose probe and echo
//                    both took that path) lies within [rtt_min, rtt_max] — a
//                    bound on the worst sample, not on a percentile, so one
//                    slow echo fails it. Observed reports samples, min, p50
//                    and max; observed_value is the max RTT in seconds (the
//                    min when only rtt_min is given). No echoed probe in the
//                    window fails: "no samples".
//   loss_min/loss_max: of the probes sent in [from, until) either way (with
//                    `over`: sent on that path), leaving out those sent in the
//                    last 2 s before stop_time (they may still be in flight),
//                    the fraction never echoed lies within [loss_min, loss_max].
//                    observed_value: the fraction. No probes: "no samples".
//
// Pair summaries: one per unordered pair with probes or timeline entries,
// sorted by (a, b) with a < b. first_send is the pair's first probe (either
// way): the first send that needed a path; direct_at the send time of the
// first probe that crossed the direct (or local) path both ways;
// time_to_direct = direct_at - first_send (Tailscale discovers paths lazily,
// on the first send, so punching starts there). final_path is the pair's
// state in the run's last instant (entries at or after stop_time do not
// count); rtt holds percentiles per RoundTripPath over echoed probes
// (nearest-rank: pN is the smallest sample with at least N% of samples at or
// below it), so a relayed figure holds only round trips relayed both ways;
// probes_lost counts unechoed probes except those sent in the last 2 s
// (kInFlightGrace).
#pragma once

#include "results/results.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace results {

// Probes sent this close to stop_time may still be in flight when the run
// stops: they count neither as lost nor toward loss checks.
constexpr Duration kInFlightGrace = Duration::Seconds(2);

// Fills `results.expectations` (one per scenario expectation, in file order)
// and `results.pairs` from the observations; replaces what was there.
void EvaluateExpectations(const scenario::Scenario& scenario, Results& results);

}  // namespace results
}  // namespace punchlab
