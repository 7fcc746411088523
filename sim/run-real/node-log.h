// Turns what `punchlab-node node --json` printed (one JSON object per line,
// at_ms on the run's shared time base) into the observations of a
// results::Results: path timeline, probes with their echoes, counters. Pure:
// the runner hands in the text of each process run of each node.
//
// Timeline entries per (node, peer), peers named by the scenario:
//   peer_added     the path data takes from the netmap on; reason "peer-added"
//   path_changed   reason as the node gave it (PathChangeReasonName)
//   peer_removed   path none, reason "peer-removed"
//   a run the runner ended for a restart: every path none at that instant,
//                  reason "restart"
// A direct path is "local" when it goes to the peer's own address and both
// nodes sit on the same LAN (behind the same box); otherwise "direct". The
// reasons and the "local" rule are the ns-3 runner's (run-sim/path-recorder.h),
// so the two worlds' timelines compare line by line.
//
// Probes: each probe_sent line of node X's flow F is one Probe from X to F's
// receiver; X's echo_received line with the same flow and seq completes it.
// Probes sent at or after stop_time are left out. Lines that are not JSON
// objects are counted and reported in one note per node.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "results/results.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct ProcessRun {
  std::string out;  // everything it printed on stdout
  // When the runner ended it to start another (a restart); unset for the
  // last run, which the runner stopped at stop_time.
  std::optional<Duration> stopped_at;
};

struct NodeDirectory {
  std::map<std::string, std::string> name_by_key;      // "nodekey:..." -> node name
  std::map<std::string, std::string> address_by_node;  // node name -> its own address
};

// Adds `node`'s observations to `results` (timeline, probes, "node/<name>"
// counters summed over its runs, notes). Call FinishObservations once after
// every node.
void CollectNodeLog(const scenario::Scenario& scenario, const NodeDirectory& directory,
                    const std::string& node, const std::vector<ProcessRun>& runs,
                    results::Results& results);

// Sorts the timeline (by time, then node and peer in scenario order) and the
// probes (by send time, then sender, receiver, seq): a deterministic order
// for the same observations.
void FinishObservations(const scenario::Scenario& scenario, results::Results& results);

// "direct 10.1.0.3:41641" / "derp 1" / "none" as seen by `node` toward `peer`.
scenario::PathKind ClassifyPath(const scenario::Scenario& scenario,
                                const NodeDirectory& directory, const std::string& node,
                                const std::string& peer, const std::string& path_text);

}  // namespace punchlab::runreal
