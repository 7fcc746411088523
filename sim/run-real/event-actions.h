// What each scenario event does in the real lab, and how its `for` is undone:
//
//   node        restart: a new punchlab-node process, same node key
//               link-down / link-up: its link drops everything / carries again
//               settings: its link's latency, jitter, loss, bandwidth
//   nat         reboot: conntrack flushed and the NAT's rules reloaded (every
//               mapping lost, same address)
//               change-address: the same, on the next spare uplink address
//               mapping: new flows mapped this way; live ones keep theirs
//               link-down / link-up, link settings: its uplink
//   firewall    block_udp: its ruleset reloaded with UDP dropped (or not)
//               link-down / link-up, link settings: its uplink
//   derp_region down / up: its server process stopped / started (same key)
//               latency: its link to the internet
//
// Undo (`for`): the settings the event changed go back to what they were
// just before it; link-down comes back up; down comes back up.
#pragma once

#include <map>

#include "run-real/lab-processes.h"
#include "run-real/lab-world.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

class EventActions {
 public:
  EventActions(const scenario::Scenario& scenario, LabWorld& world, LabProcesses& processes)
      : scenario_(scenario), world_(world), processes_(processes) {}

  // `at`: the run time it happens (a restart's stop instant).
  void Apply(size_t event_index, Duration at);
  void Undo(size_t event_index);

 private:
  struct Saved {
    scenario::Settings link;
    std::optional<nat::Dependence> mapping;
    std::optional<bool> block_udp;
  };

  void ApplySettings(const scenario::Event& e, Saved& saved);

  const scenario::Scenario& scenario_;
  LabWorld& world_;
  LabProcesses& processes_;
  std::map<size_t, Saved> saved_;
  std::map<std::string, nat::Dependence> nat_mapping_;  // current, per NAT
  std::map<std::string, bool> block_udp_;               // current, per firewall
};

}  // namespace punchlab::runreal
