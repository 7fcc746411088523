// What the real runner does when, in run time: start each node's process at
// its start time, apply each event at its `at`, and undo events that have a
// `for` when it runs out. Pure, unit-tested.
//
// Order at one instant: undos first (what ran out ends before anything new
// starts), then node starts in file order, then events in file order.
#pragma once

#include <cstddef>
#include <vector>

#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct Step {
  enum class Kind { kUndo, kStartNode, kEvent };
  Duration at;
  Kind kind = Kind::kEvent;
  size_t index = 0;  // into scenario.nodes (kStartNode) or scenario.events
};

// Every step before stop_time, in the order above. An undo due at or after
// stop_time is left out (the run ends first).
std::vector<Step> BuildSchedule(const scenario::Scenario& scenario);

}  // namespace punchlab::runreal
