// Verdicts from observations: the one place that decides what a scenario's
// `expect` entries mean, for runs in ns-3 and in the real lab alike.
//
// A pair's path at time t: each side's path toward the other is the path of
// its latest timeline entry at or before t ("none" before its first entry).
// The pair's path is that path when both sides agree, "none" while they
// differ. So one side switching to direct is not enough: data would still go
// one way over DERP.
//
// The checks (expect entries), in these terms:
//   path, by:        the pair's path at `by` is the expected one.
//   path, no by:     the pair's path is the expected one at every instant of
//                    [from, until). Observed names the first deviation.
//   time_to_direct_max: the first instant at or after `from` (and before
//                    stop_time) at which the pair's path is direct or local,
//                    minus `from`, is at most the bound. observed_value: those
//                    seconds; "never direct" when it did not happen.
//   rtt_min/rtt_max: EVERY round trip of a probe sent in [from, until) either
//                    way between the two (with `over`: sent on that path) lies
//                    within [rtt_min, rtt_max] — a bound on the worst sample,
//                    not on a percentile, so one slow echo fails it. Observed
//                    reports samples, min, p50 and max; observed_value is the
//                    max RTT in seconds (the min when only rtt_min is given).
//                    No echoed probe in the window fails: "no samples".
//   loss_min/loss_max: of the probes sent in [from, until) either way (with
//                    `over`: sent on that path), leaving out those sent in the
//                    last 2 s before stop_time (they may still be in flight),
//                    the fraction never echoed lies within [loss_min, loss_max].
//                    observed_value: the fraction. No probes: "no samples".
//
// Pair summaries: one per unordered pair with probes or timeline entries,
// sorted by (a, b) with a < b. time_to_direct is the first instant the pair's
// path is direct or local; final_path its path in the run's last instant
// (entries at or after stop_time do not count); rtt holds percentiles per
// path the probes were sent on, over echoed probes (nearest-rank: pN is the
// smallest sample with at least N% of samples at or below it); probes_lost
// counts unechoed probes except those sent in the last 2 s (kInFlightGrace).
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
