#include "scenario/meaning/probe-schedule.h"

#include <algorithm>

namespace punchlab {
namespace scenario {

ProbeSchedule ProbeSchedule::Of(const Flow& flow) {
  return ProbeSchedule{flow.start, flow.stop, flow.every, flow.idle};
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
