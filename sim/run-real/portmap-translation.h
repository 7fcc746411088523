// A scenario NAT's `port_mapping` as the lab builds it: Debian's miniupnpd
// on the NAT's router (lab/miniupnpd.h), configured from the knobs. What
// miniupnpd cannot do is refused before anything is built
// (UnbuildablePortMapping, through CheckNatsBuildable), never approximated:
//
// * a router below another box: its WAN address would be private or
//   reserved, and miniupnpd 2.3.1 refuses to map behind one (only a NAT on
//   the internet gets 11.0.0.0/24, lab-plan.h);
// * `error`: miniupnpd has no switch that answers every request with one
//   result code;
// * `answer_from: lan-address`: the lab's gateway is the router's LAN
//   address, and miniupnpd answers from the address it was asked at;
// * `lease_limit` with pmp: miniupnpd 2.3.1 grants NAT-PMP lifetimes as
//   asked (its min_lifetime/max_lifetime bound PCP only);
// * a change-address event on that NAT (its leases would have to move).
//
// One knob is built differently, and says so in a note: a router offering
// only one of NAT-PMP and PCP drops the other's requests (miniupnpd serves
// both with one switch), where the model's router answers them with
// "unsupported version" (nat/port-mapping-server.h). Clients see neither as
// the service, but wait out their probe timeout in the lab. Pure.
#pragma once

#include <string>
#include <vector>

#include "lab/miniupnpd.h"
#include "punchlab/nat/port-mapping.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct LabPortMapping {
  lab::MiniupnpdConfig daemon;
  // Where the lab differs from the model, one sentence each.
  std::vector<std::string> differences;
};

// `lan_cidr`: the NAT's LAN ("10.1.0.0/24"), whose hosts may map. Throws
// results::RunError naming what cannot be built.
LabPortMapping TranslatePortMapping(const nat::PortMappingConfig& config,
                                    const std::string& lan_cidr);

// Why the lab cannot build `nat`'s port_mapping (empty: it can, or the
// router offers none), one "port_mapping.KNOB=VALUE: why" each.
std::vector<std::string> UnbuildablePortMapping(const scenario::Scenario& scenario,
                                                const scenario::NatDef& nat);

}  // namespace punchlab::runreal
