// Who asks for a port mapping, and whom. The one definition both runners use:
// the ns-3 runner's NodeConfig::gateway (run-sim/scenario-world) and the real
// lab's `punchlab-node node --gateway` (run-real/commands).
//
// A node whose box is a NAT asks that NAT's router, its default gateway, as
// Tailscale's portmapper asks the default gateway on any LAN; whether anyone
// answers is the NAT's `port_mapping`. A node on the internet or behind a
// firewall knows no gateway that maps (a firewall does not translate).
#pragma once

#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

// The NAT whose router `node` asks (nullptr: it asks nobody).
const NatDef* PortMappingGateway(const Scenario& scenario, const NodeDef& node);

}  // namespace scenario
}  // namespace punchlab
