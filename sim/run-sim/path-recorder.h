// Records every node's path to every peer into Results::timeline, from the
// NodeApplications' traces (PeerAdded, PathChanged, PeerRemoved) and the
// restarts the fault driver announces. Each path's kind (direct, derp,
// local, none) is the world's scenario::PathClassifier's (ScenarioWorld::paths).
//
// Every node learns of every peer of its domain (and gets a path to it: its
// home DERP region's), so a domain of N nodes makes N(N-1) entries whatever
// talks, and the results list every pair. Beyond kListEveryPairUpTo possible
// pairs in a world, only the pairs that carry a flow or are named by an
// expectation are recorded (so every expectation is judged as before); the
// other pairs' entries are counted, not listed (counter group "timeline":
// "unlisted_entries", and "unlisted_direct_entries" for those whose path was
// direct or local, which silent pairs should never have). Up to that size,
// every entry is listed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>

#include "punchlab/node/events.h"
#include "results/results.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

class PathRecorder {
 public:
  PathRecorder(ScenarioWorld& world, results::Results& results);

  // Possible pairs (within domains) up to which every pair is listed.
  static constexpr uint64_t kListEveryPairUpTo = 10000;

  // Node `node` is about to restart: its paths end now (reason "restart").
  void NodeRestarting(size_t node);

  // The "timeline" counter group when this run summarised, else empty.
  std::map<std::string, uint64_t> Counters() const;

 private:
  void Record(size_t node, const NodePublicKey& peer, const node::Path& path,
              const std::string& reason);

  ScenarioWorld& world_;
  results::Results& results_;
  bool summarise_ = false;
  std::set<std::pair<size_t, size_t>> listed_;  // (smaller, larger) node index
  uint64_t unlisted_ = 0;
  uint64_t unlisted_direct_ = 0;
};

}  // namespace runsim
}  // namespace punchlab
