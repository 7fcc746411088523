// Records the disco log (results::Results::disco_log) from the
// NodeApplications' DiscoLog traces: every disco message, candidate, trust
// change and path decision of every node, with node and peer by their
// scenario names, translated by results::DiscoStepOf (the real runner reads
// the same steps back from punchlab-node's output).
#pragma once

#include <string>

#include "results/results.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

class DiscoRecorder {
 public:
  // Connects to every node of `world`; the world must have been built with
  // the scenario's disco_log on (the nodes emit the log's events then).
  DiscoRecorder(ScenarioWorld& world, results::Results& results);

  // Every sealed disco message sent, as key-log lines (results::DiscoKeyLogLine).
  const std::string& KeyLog() const { return key_log_; }

 private:
  ScenarioWorld& world_;
  results::Results& results_;
  std::string key_log_;
};

}  // namespace runsim
}  // namespace punchlab
