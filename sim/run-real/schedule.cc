#include "run-real/schedule.h"

#include <algorithm>

namespace punchlab::runreal {

std::vector<Step> BuildSchedule(const scenario::Scenario& s, Duration node_lead) {
  std::vector<Step> steps;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    const Duration start = s.nodes[i].start;
    if (start >= s.stop_time) continue;
    const Duration lead = s.nodes[i].run ? Duration::Zero() : node_lead;
    steps.push_back({start, Step::Kind::kStartNode, i, start - lead});
  }
  for (size_t i = 0; i < s.events.size(); ++i) {
    const scenario::Event& e = s.events[i];
    if (e.at >= s.stop_time) continue;
    steps.push_back({e.at, Step::Kind::kEvent, i, e.at});
    if (e.duration && e.at + *e.duration < s.stop_time) {
      const Duration undo = e.at + *e.duration;
      steps.push_back({undo, Step::Kind::kUndo, i, undo});
    }
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    if (a.due != b.due) return a.due < b.due;
    if (a.kind != b.kind) return static_cast<int>(a.kind) < static_cast<int>(b.kind);
    return a.index < b.index;
  });
  return steps;
}

}  // namespace punchlab::runreal
