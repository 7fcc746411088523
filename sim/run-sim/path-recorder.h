// Records every node's path to every peer into Results::timeline, from the
// NodeApplications' traces (PeerAdded, PathChanged, PeerRemoved) and the
// restarts the fault driver announces. Each path's kind (direct, derp,
// local, none) is the world's scenario::PathClassifier's (ScenarioWorld::paths).
#pragma once

#include <cstddef>
#include <string>

#include "punchlab/node/events.h"
#include "results/results.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

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
