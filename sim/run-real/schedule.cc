#include "run-real/schedule.h"

#include <algorithm>
#include <set>

namespace punchlab::runreal {
namespace {

// The order at one instant: undos, node starts (launches and releases alike,
// in file order), events.
int Rank(Step::Kind kind) {
  switch (kind) {
    case Step::Kind::kUndo:
      return 0;
    case Step::Kind::kStartNode:
    case Step::Kind::kReleaseNode:
      return 1;
    case Step::Kind::kEvent:
      return 2;
  }
  return 2;
}

}  // namespace

std::vector<Step> BuildSchedule(const scenario::Scenario& s, Duration node_lead) {
  std::vector<Step> steps;
  for (size_t i = 0; i < s.events.size(); ++i) {
    const scenario::Event& e = s.events[i];
    if (e.at >= s.stop_time) continue;
    steps.push_back({e.at, Step::Kind::kEvent, i, e.at});
    if (e.duration && e.at + *e.duration < s.stop_time) {
      const Duration undo = e.at + *e.duration;
      steps.push_back({undo, Step::Kind::kUndo, i, undo});
    }
  }
  // The instants at which the runner itself acts (before any node is added).
  std::set<Duration> runner_acts;
  for (const Step& step : steps) runner_acts.insert(step.at);
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Duration start = s.nodes[i].start;
    if (start >= s.stop_time) continue;
    if (s.nodes[i].run || node_lead <= Duration::Zero()) {
      steps.push_back({start, Step::Kind::kStartNode, i, start});
      continue;
    }
    const bool gated = runner_acts.count(start) > 0;
    steps.push_back({start, Step::Kind::kStartNode, i, start - node_lead, gated});
    if (gated) steps.push_back({start, Step::Kind::kReleaseNode, i, start});
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    if (a.due != b.due) return a.due < b.due;
    if (Rank(a.kind) != Rank(b.kind)) return Rank(a.kind) < Rank(b.kind);
    return a.index < b.index;
  });
  return steps;
}

}  // namespace punchlab::runreal
