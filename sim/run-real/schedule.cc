#include "run-real/schedule.h"

#include <algorithm>

namespace punchlab::runreal {

std::vector<Step> BuildSchedule(const scenario::Scenario& s) {
  std::vector<Step> steps;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    if (s.nodes[i].start < s.stop_time) steps.push_back({s.nodes[i].start, Step::Kind::kStartNode, i});
  }
  for (size_t i = 0; i < s.events.size(); ++i) {
    const scenario::Event& e = s.events[i];
    if (e.at >= s.stop_time) continue;
    steps.push_back({e.at, Step::Kind::kEvent, i});
    if (e.duration && e.at + *e.duration < s.stop_time) {
      steps.push_back({e.at + *e.duration, Step::Kind::kUndo, i});
    }
  }
  std::stable_sort(steps.begin(), steps.end(), [](const Step& a, const Step& b) {
    if (a.at != b.at) return a.at < b.at;
    if (a.kind != b.kind) return static_cast<int>(a.kind) < static_cast<int>(b.kind);
    return a.index < b.index;
  });
  return steps;
}

}  // namespace punchlab::runreal
