#include "scenario/meaning/probe-schedule.h"

#include <algorithm>
#include <string>

#include "punchlab/random.h"

namespace punchlab {
namespace scenario {
namespace {

// The node's skew: uniform in [0, start_skew], from the scenario seed and the
// node's name alone.
Duration StartSkew(const Scenario& scenario, const std::string& node) {
  for (const NodeDef& n : scenario.nodes) {
    if (n.name != node || n.start_skew <= Duration::Zero()) continue;
    DeterministicRandom rng = DeterministicRandom(scenario.seed).Fork("start_skew/" + node);
    return rng.UniformDuration(Duration::Zero(), n.start_skew);
  }
  return Duration::Zero();
}

}  // namespace

ProbeSchedule ProbeSchedule::Of(const Scenario& scenario, const Flow& flow) {
  const Duration skew = StartSkew(scenario, flow.from);
  ProbeSchedule s{flow.start + skew, flow.stop, flow.every, flow.idle};
  for (Interval& gap : s.idle) {
    gap.from = gap.from + skew;
    gap.until = gap.until + skew;
  }
  return s;
}

std::optional<ProbeSlot> ProbeSchedule::SlotAtOrAfter(Duration t) const {
  // The schedule is a run of grids: from `start` every `every`; a send time
  // that falls in an idle gap moves to the gap's end and the grid restarts
  // there. Walk the grids segment by segment: at most idle.size() + 1.
  const int64_t step = every.nanos();
  if (step <= 0) return std::nullopt;  // not a schedule (the loader and --flow refuse it)
  Duration segment = start;
  uint64_t first_seq = 0;
  size_t gap = 0;
  while (true) {
    for (; gap < idle.size() && segment >= idle[gap].from; ++gap) {
      if (segment < idle[gap].until) segment = idle[gap].until;
    }
    if (segment >= stop) return std::nullopt;
    const Duration end = gap < idle.size() ? std::min(stop, idle[gap].from) : stop;
    const int64_t slots = ((end - segment).nanos() + step - 1) / step;  // >= 1
    const Duration last = segment + every * (slots - 1);
    if (t <= last) {
      const int64_t j = t <= segment ? 0 : ((t - segment).nanos() + step - 1) / step;
      return ProbeSlot{first_seq + static_cast<uint64_t>(j), segment + every * j};
    }
    first_seq += static_cast<uint64_t>(slots);
    segment = last + every;
  }
}

}  // namespace scenario
}  // namespace punchlab
