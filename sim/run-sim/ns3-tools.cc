#include "run-sim/ns3-tools.h"

#include "helper/classify-topology.h"
#include "helper/stun-demo.h"
#include "ns3/simulator.h"

namespace punchlab {
namespace runsim {

stun::NatReport ClassifyInSimulation(const nat::NatConfig& nat, uint64_t seed,
                                     Duration internet_latency) {
  ns3::ClassifyTopologyConfig config;
  config.nat = nat;
  config.seed = seed;
  config.internetDelay = ns3::NanoSeconds(internet_latency.nanos());
  return ns3::ClassifyNat(config);
}

void RunStunDemo(const StunDemoOptions& options, std::ostream& out) {
  ns3::StunDemoConfig config;
  config.seed = options.seed;
  config.topology.internetDelay = ns3::NanoSeconds(options.internet_latency.nanos());
  config.topology.lanDelay = ns3::NanoSeconds(options.lan_latency.nanos());
  config.interval = ns3::NanoSeconds(options.interval.nanos());
  config.probes = options.probes;
  {
    ns3::StunDemo demo(config);
    demo.Run();
    demo.Report(out);
  }
  ns3::Simulator::Destroy();
}

}  // namespace runsim
}  // namespace punchlab
