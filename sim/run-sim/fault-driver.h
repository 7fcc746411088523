// Schedules the scenario's timed events against the world:
//
//   node      restart       NodeApplication::Restart (same node key, new disco key)
//             link-down/up  its LAN link stops/starts carrying packets
//             settings      its link's latency, jitter, loss, bandwidth
//   nat       reboot        every mapping lost (NatMiddlebox::Reboot)
//             change-address every mapping lost, the uplink's next addresses
//             mapping       new flows mapped this way; live mappings stay
//             link-*, settings  its uplink
//   firewall  block_udp     start/stop dropping all UDP
//             link-*, settings  its uplink
//   derp_region down/up     the server process stops / starts again
//             latency       its link to the internet
//
// `for` undoes an event after that long: settings go back to what they were
// just before it, a link or server comes back up. Events at the same instant
// apply in file order.
#pragma once

#include <cstddef>
#include <string>

#include "results/results.h"
#include "run-sim/path-recorder.h"
#include "run-sim/scenario-world.h"

namespace punchlab {
namespace runsim {

class FaultDriver {
 public:
  FaultDriver(ScenarioWorld& world, PathRecorder& paths, results::Results& results);

 private:
  void Apply(const scenario::Event& event);
  void ApplyToNode(const scenario::Event& event, WorldNode& node);
  void ApplyToNat(const scenario::Event& event, WorldBox& box);
  void ApplyToFirewall(const scenario::Event& event, WorldBox& box);
  void ApplyToRegion(const scenario::Event& event, WorldRegion& region);
  // Link settings, link-down/up; true if the event was one of those.
  bool ApplyToLink(const scenario::Event& event, size_t link);
  void Note(const scenario::Event& event, const std::string& what);
  // Runs `undo` after the event's `for`, if it has one.
  template <typename F>
  void UndoLater(const scenario::Event& event, F undo);

  ScenarioWorld& world_;
  PathRecorder& paths_;
  results::Results& results_;
};

}  // namespace runsim
}  // namespace punchlab
