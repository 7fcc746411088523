// The small ns-3 programs the CLI runs besides scenarios, behind plain
// punchlab types so the CLI includes nothing of ns-3 or models/ (the layering
// check, cmake/layering.py): `punchlab classify` in simulation and
// `punchlab stun-demo`.
#pragma once

#include <cstdint>
#include <ostream>

#include "punchlab/nat/nat-config.h"
#include "punchlab/stun/nat-discovery.h"
#include "punchlab/time.h"

namespace punchlab {
namespace runsim {

// NAT discovery in ns-3 from one client behind a NAT built from `nat`, across
// `internet_latency` (one way) to an RFC 5780 server
// (models/helper/classify-topology.h); the simulation is destroyed after.
stun::NatReport ClassifyInSimulation(const nat::NatConfig& nat, uint64_t seed,
                                     Duration internet_latency);

struct StunDemoOptions {
  uint64_t seed = 1;
  Duration internet_latency = Duration::Millis(20);  // router - server, one way
  Duration lan_latency = Duration::Millis(1);        // client - router, one way
  uint32_t probes = 1;                               // plain binding probes
  Duration interval = Duration::Seconds(1);          // between the plain probes
};

// The STUN demo (models/helper/stun-demo.h): runs it and writes its report to `out`.
void RunStunDemo(const StunDemoOptions& options, std::ostream& out);

}  // namespace runsim
}  // namespace punchlab
