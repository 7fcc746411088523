// The counters of everything in the world at the end of a run, as named
// groups for Results::counters:
//   "nat/<name>"       NAT table decisions and the middlebox's own drops
//   "firewall/<name>"  stateful firewall decisions
//   "node/<name>"      the punchlab node (demultiplexer, disco, data, DERP)
//   "derp/<region>"    the DERP server and its STUN server
//   "control"          the coordination server
//   "link/<name>"      packets a link lost at random or while down (only links that lost any)
#pragma once

#include "results/results.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

results::CounterGroups CollectCounters(const ScenarioWorld& world);

}  // namespace runsim
}  // namespace punchlab
