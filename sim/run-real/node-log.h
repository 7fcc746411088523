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
// Every path's kind (direct, derp, local, none) is `paths`' (the scenario's
// rule, scenario/meaning/path-classifier.h, built by LabPathClassifier): a
// direct path is "local" only when it goes to the peer's own address AND
// port and both nodes sit on the same LAN. The reasons and the kinds are the
// ns-3 runner's, so the two worlds' timelines compare line by line.
//
// Probes: each probe_sent line of node X's flow F is one Probe from X to F's
// receiver; X's echo_received line with the same flow and seq completes it.
// Probes sent at or after stop_time are left out. Lines that are not JSON
// objects are counted and reported in one note per node.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/node/events.h"
#include "results/results.h"
#include "scenario/meaning/path-classifier.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct ProcessRun {
  ProcessRun(std::string out_text, std::optional<Duration> stopped, Duration due_at = Duration::Zero())
      : out(std::move(out_text)), stopped_at(stopped), due(due_at) {}

  std::string out;  // everything it printed on stdout
  // When the runner ended it to start another (a restart); unset for the
  // last run, which the runner stopped at stop_time.
  std::optional<Duration> stopped_at;
  // The instant it was to start at (the node's start, or its restart).
  Duration due;
};

// A node run whose "started" line says it started this much or more after
// its instant gets a note: a few one-way delays, enough to change which of
// two peers' first packets reaches the other's NAT first.
inline constexpr Duration kLateStartNote = Duration::Millis(100);

struct NodeDirectory {
  std::map<std::string, std::string> name_by_key;  // "nodekey:..." -> node name
};

// Adds `node`'s observations to `results` (timeline, probes, "node/<name>"
// counters summed over its runs, notes). Call FinishObservations once after
// every node.
void CollectNodeLog(const scenario::Scenario& scenario, const NodeDirectory& directory,
                    const scenario::PathClassifier& paths, const std::string& node,
                    const std::vector<ProcessRun>& runs, results::Results& results);

// Sorts the timeline (by time, then node and peer in scenario order) and the
// probes (by send time, then sender, receiver, seq): a deterministic order
// for the same observations.
void FinishObservations(const scenario::Scenario& scenario, results::Results& results);

// A Send's result as punchlab-node prints it (node::SendResultName); nullopt
// for any other text.
std::optional<node::SendResult> ParseSendResult(const std::string& text);

// A path as punchlab-node prints it (node::Path::ToString: "direct
// 10.1.0.3:41641", "derp 1", "none"); nullopt for any other text.
std::optional<node::Path> ParsePath(const std::string& text);

// "direct 10.1.0.3:41641" / "derp 1" / "none" as seen by `node` toward
// `peer`; text that is not a path is kNone.
scenario::PathKind ClassifyPath(const scenario::PathClassifier& paths, const std::string& node,
                                const std::string& peer, const std::string& path_text);

}  // namespace punchlab::runreal
