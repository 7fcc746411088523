// Records every node's path to every peer into Results::timeline, from the
// NodeApplications' traces (PeerAdded, PathChanged, PeerRemoved) and the
// restarts the fault driver announces. Also the one place that says what
// kind of path a node::Path is in a scenario's terms (ClassifyPath).
#pragma once

#include <cstddef>
#include <string>

#include "punchlab/node/events.h"
#include "results/results.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

// direct, derp or none; "local" when the direct path goes to the peer's own
// interface address and both sit on the same box's inside network (or the
// same firewall's), so no NAT is crossed.
results::PathKind ClassifyPath(const WorldNode& from, const WorldNode& to,
                               const node::Path& path);

class PathRecorder {
 public:
  PathRecorder(ScenarioWorld& world, results::Results& results);

  // Node `node` is about to restart: its paths end now (reason "restart").
  void NodeRestarting(size_t node);

 private:
  void Record(size_t node, const NodePublicKey& peer, const node::Path& path,
              const std::string& reason);

  ScenarioWorld& world_;
  results::Results& results_;
};

}  // namespace runsim
}  // namespace punchlab
