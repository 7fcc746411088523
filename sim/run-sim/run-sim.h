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

// Does, once, the work ns-3 does once per process on first use (MRG32k3a's
// jump matrices, the first random stream: some 41 M instructions, 9 % of a
// matrix cell), so runs forked from this process after it (the matrix's
// cells) do not each pay it. Changes no simulated result: it draws no
// stream index.
void WarmUpForForkedRuns();

// Whether worlds built let packets skip ns-3.37's per-packet detours
// (ipv4-fast-path.h, NatMiddlebox::EnableFastPath): on by default. Off,
// every packet takes ns-3's own IPv4 path; the results are the same byte for
// byte (runsim.RunSimFastPaths holds the two against each other). The
// setting lasts as long as the object, so a test that fails or throws half
// way leaves the next one the default.
class ScopedIpv4FastPaths {
 public:
  explicit ScopedIpv4FastPaths(bool on);
  ~ScopedIpv4FastPaths();
  ScopedIpv4FastPaths(const ScopedIpv4FastPaths&) = delete;
  ScopedIpv4FastPaths& operator=(const ScopedIpv4FastPaths&) = delete;

 private:
  bool before_;
};
bool Ipv4FastPaths();

}  // namespace runsim
}  // namespace punchlab
