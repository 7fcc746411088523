// Plays the scenario's traffic: every flow sends a numbered probe
// (results/probe.h) from `from` to `to` every `every` in [start, stop),
// skipping its idle gaps (sending resumes at a gap's end); `to` echoes each
// probe back over whatever path it uses; the round trip completes when the
// echo arrives. Each probe becomes a results::Probe with the path the sender
// used (from what the node did with it: sent direct, or handed to DERP).
//
// Counters ("traffic"): probes_sent, echoes_sent, echoes_received,
// duplicate_echoes, not_probes (data that did not parse as a probe),
// misdirected (a probe or echo that arrived at a node, or from a peer, its
// flow does not name).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ns3/packet.h"
#include "punchlab/node/events.h"
#include "results/results.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

class TrafficDriver {
 public:
  TrafficDriver(ScenarioWorld& world, results::Results& results);

  std::map<std::string, uint64_t> Counters() const;

 private:
  struct Flow {
    const scenario::Flow* def = nullptr;
    size_t from = 0;
    size_t to = 0;
    std::vector<size_t> probes;  // index into results.probes, by seq
    size_t next_idle = 0;        // the first idle gap not yet passed
  };

  void SendProbe(size_t flow);
  // When the probe after one sent at `sent` goes; stop_ when the flow is done.
  Duration NextSendTime(Flow& flow, Duration sent);
  void OnData(size_t node, const NodePublicKey& peer, ns3::Ptr<const ns3::Packet> packet);

  ScenarioWorld& world_;
  results::Results& results_;
  std::vector<Flow> flows_;
  uint64_t probes_sent_ = 0;
  uint64_t echoes_sent_ = 0;
  uint64_t echoes_received_ = 0;
  uint64_t duplicate_echoes_ = 0;
  uint64_t not_probes_ = 0;
  uint64_t misdirected_ = 0;
};

}  // namespace runsim
}  // namespace punchlab
