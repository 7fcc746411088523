// How to run a scenario, for either world. The runners:
//   sim/run-sim/run-sim.h    results::Results RunInSimulation(const scenario::Scenario&, const RunOptions&);
//   sim/run-real/run-real.h  results::Results RunInLab(const scenario::Scenario&, const RunOptions&);
// Both throw RunError when the run cannot happen at all (the lab cannot be
// built, a process will not start); anything the run *observed* — including
// failures of the protocol — goes into the Results instead.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

namespace punchlab {
namespace results {

struct RunOptions {
  std::optional<uint64_t> seed;  // overrides the scenario's seed
  std::string out_dir;           // the results directory; pcaps are written here
  bool pcap = false;             // one pcap file per link, <out_dir>/pcap/<link>.pcap
  // The process ends soon after this run (the last scenario `punchlab run`
  // runs, a bench workload's child): the simulation leaves its world to the
  // operating system instead of freeing it object by object, as compilers
  // leave their syntax trees (clang's -disable-free). A fully visible tailnet
  // of 1,000 took ~0.7 s of CPU to free its million peer entries. Results
  // are the same either way. Never for a process that goes on (the Python
  // bindings, compare, tests).
  bool process_ends_after = false;
};

class RunError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace results
}  // namespace punchlab
