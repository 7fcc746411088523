// Runs a validated scenario in ns-3: builds the world the scenario describes
// (scenario-world.h), schedules its traffic and events, runs to stop_time and
// returns what was observed with the verdicts filled in (EvaluateExpectations).
// Deterministic: the same scenario and seed give the same Results, byte for
// byte once written.
#pragma once

#include "results/results.h"
#include "results/run-options.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace runsim {

// Throws results::RunError when the world cannot be built (e.g. more NATs
// than the address plan holds); everything observed goes into the Results.
// With options.pcap, writes <out_dir>/pcap/<link>.pcap.
results::Results RunInSimulation(const scenario::Scenario& scenario,
                                 const results::RunOptions& options);

}  // namespace runsim
}  // namespace punchlab
