// What the real runner does when, in run time: start each node's process at
// its start time, apply each event at its `at`, and undo events that have a
// `for` when it runs out. Pure, unit-tested.
//
// Order at one instant: undos first (what ran out ends before anything new
// starts), then node starts in file order, then events in file order.
//
// A punchlab-node node's process is launched `node_lead` before its start
// (`due`) and waits for its instant itself (punchlab-node node --start-at):
// launching a process takes 15-60 ms on a loaded machine, and the simulation
// starts every node at its instant exactly. A program node (`run:`) cannot
// wait, so it is launched at its start.
#pragma once

#include <cstddef>
#include <vector>

#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct Step {
  enum class Kind { kUndo, kStartNode, kEvent };
  Duration at;  // the scenario's instant
  Kind kind = Kind::kEvent;
  size_t index = 0;  // into scenario.nodes (kStartNode) or scenario.events
  Duration due;      // when the runner acts: `at`, or a node's start minus node_lead (may be < 0)
};

// Every step before stop_time, in the order above by `due`. An undo due at or
// after stop_time is left out (the run ends first).
std::vector<Step> BuildSchedule(const scenario::Scenario& scenario,
                                Duration node_lead = Duration::Zero());

}  // namespace punchlab::runreal
