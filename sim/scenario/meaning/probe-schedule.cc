#include "scenario/meaning/probe-schedule.h"

#include <algorithm>
#include <numeric>
#include <string>
#include <string_view>
#include <unordered_map>

#include "punchlab/random.h"

namespace punchlab {
namespace scenario {
namespace {

// A node's skew: its turn k of n (a seeded order of the scenario's nodes)
// times start_skew / n. An order, not n independent draws: two draws can
// fall within a WireGuard handshake's one-way delay of each other (4 of 20
// seeds of the matrix did at 1 s), turns are start_skew / n apart. The order
// is an affine permutation of the file's order, k = (a*i + b) mod n with a
// coprime to n, so each node's turn costs O(1) (a crowd has 10,000 nodes),
// and neighbours in the file, which generated crowds put in one tailnet,
// land far apart. The map (a, b) is drawn once per run.
struct StartOrder {
  uint64_t n = 0, a = 1, b = 0;

  StartOrder(uint64_t nodes, uint64_t seed) : n(nodes) {
    if (n < 2) return;
    DeterministicRandom rng = DeterministicRandom(seed).Fork("start_order");
    a = 1 + rng.NextU64() % (n - 1);
    while (std::gcd(a, n) != 1) a = a % (n - 1) + 1;
    b = rng.NextU64() % n;
  }

  // The skew of the node at index i of the file.
  Duration SkewOf(const NodeDef& def, uint64_t i) const {
    if (def.start_skew <= Duration::Zero() || n < 2) return Duration::Zero();
    const uint64_t turn = (a * i + b) % n;  // a, i, b < n: no overflow
    const uint64_t skew = static_cast<uint64_t>(def.start_skew.nanos());
    return Duration::Nanos(static_cast<int64_t>(skew / n * turn + skew % n * turn / n));
  }
};

ProbeSchedule Shifted(const Flow& flow, Duration skew) {
  ProbeSchedule s{flow.start + skew, flow.stop, flow.every, flow.idle, skew};
  for (Interval& gap : s.idle) {
    gap.from = gap.from + skew;
    gap.until = gap.until + skew;
  }
  return s;
}

}  // namespace

ProbeSchedule ProbeSchedule::Of(const Scenario& scenario, const Flow& flow, uint64_t seed) {
  for (size_t i = 0; i < scenario.nodes.size(); ++i) {
    if (scenario.nodes[i].name != flow.from) continue;
    return Shifted(flow, StartOrder(scenario.nodes.size(), seed).SkewOf(scenario.nodes[i], i));
  }
  return Shifted(flow, Duration::Zero());
}

std::vector<ProbeSchedule> ProbeSchedule::OfAll(const Scenario& scenario, uint64_t seed) {
  // One pass over the nodes, not one per flow: a crowd of 10,000 nodes has
  // 30,000 flows.
  const StartOrder order(scenario.nodes.size(), seed);
  std::unordered_map<std::string_view, Duration> skews;
  skews.reserve(scenario.nodes.size());
  for (size_t i = 0; i < scenario.nodes.size(); ++i) {
    skews.emplace(scenario.nodes[i].name, order.SkewOf(scenario.nodes[i], i));
  }
  std::vector<ProbeSchedule> out;
  out.reserve(scenario.traffic.size());
  for (const Flow& flow : scenario.traffic) {
    const auto it = skews.find(flow.from);
    out.push_back(Shifted(flow, it == skews.end() ? Duration::Zero() : it->second));
  }
  return out;
}

ProbeSchedule ProbeSchedule::AfterUp(Duration up) const {
  ProbeSchedule s = *this;
  s.start = std::max(start, up + turn);
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
