// Plays the scenario's traffic: every flow sends a numbered probe
// (results/probe.h) from `from` to `to` in each slot of its schedule
// (scenario/meaning/probe-schedule.h, shared with punchlab-node), which
// starts when `from` is first up (the application's Up trace) or at its
// start + ProbeSchedule::kUpDeadline, whichever comes first; `to` echoes each
// probe back over whatever path it uses; the round trip completes when the
// echo arrives. Each probe becomes a results::Probe with both legs: the path
// the sender used (from what the node did with it: sent direct, or handed to
// DERP) and the path the echo arrived on.
//
// Counters ("traffic"): probes_sent, echoes_sent, echoes_received,
// duplicate_echoes, not_probes (data that did not parse as a probe),
// misdirected (a probe or echo that arrived at a node, or from a peer, its
// flow does not name).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ns3/packet.h"
#include "punchlab/node/events.h"
#include "results/results.h"
#include "run-sim/scenario-world.h"
#include "scenario/meaning/probe-schedule.h"

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
    scenario::ProbeSchedule schedule;
    std::vector<size_t> probes;  // index into results.probes, by seq
  };

  // The node is up (or its deadline passed): its flows start. Once per node.
  void NodeUp(size_t node);
  // Sends the flow's probe due now (`slot`) and schedules the next one.
  void SendProbe(size_t flow, scenario::ProbeSlot slot);
  void ScheduleSlot(size_t flow, const std::optional<scenario::ProbeSlot>& slot);
  void OnData(size_t node, const NodePublicKey& peer, ns3::Ptr<const ns3::Packet> packet,
              const node::Path& path);

  ScenarioWorld& world_;
  results::Results& results_;
  std::vector<Flow> flows_;
  std::vector<std::vector<size_t>> flows_from_;  // per node: the flows it sends
  std::vector<bool> up_;                         // per node: NodeUp ran
  uint64_t probes_sent_ = 0;
  uint64_t echoes_sent_ = 0;
  uint64_t echoes_received_ = 0;
  uint64_t duplicate_echoes_ = 0;
  uint64_t not_probes_ = 0;
  uint64_t misdirected_ = 0;
};

}  // namespace runsim
}  // namespace punchlab
