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
//
// A node that waits by itself would race the runner at an instant where the
// runner also acts (an undo that must come first, an event that must come
// after): such a node is launched `gated` and starts only on its
// kReleaseNode step at its instant, which the runner takes in the order
// above (it opens the gate, then waits for the node's first line before the
// events). Nodes alone at their instant stay ungated: their own wake-up is
// the more precise (a few hundred microseconds against the runner's
// milliseconds).
#pragma once

#include <cstddef>
#include <vector>

#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct Step {
  // kStartNode launches a node's process; kReleaseNode lets a gated one start.
  enum class Kind { kUndo, kStartNode, kReleaseNode, kEvent };
  Duration at;  // the scenario's instant
  Kind kind = Kind::kEvent;
  size_t index = 0;  // into scenario.nodes (kStartNode, kReleaseNode) or scenario.events
  Duration due;      // when the runner acts: `at`, or a node's start minus node_lead (may be < 0)
  bool gated = false;  // kStartNode: the node waits for its kReleaseNode step
};

// Every step before stop_time, in the order above by `due`. An undo due at or
// after stop_time is left out (the run ends first).
std::vector<Step> BuildSchedule(const scenario::Scenario& scenario,
                                Duration node_lead = Duration::Zero());

}  // namespace punchlab::runreal
