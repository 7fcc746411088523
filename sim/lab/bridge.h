// Bridges for the scenario lab: one namespace holds a Linux bridge (a LAN, or
// the internet core) and every host or box below it is a veth whose far end is
// a port of that bridge. Bridged frames never pass the namespace's IP
// firewall (bridge-nf-call-* off), so a NAT's or firewall's rules only see
// traffic that crosses the box, as on a real router.
#pragma once

#include <string>

#include "lab/netns-lab.h"

namespace punchlab::lab {

// A bridge `name` in ns, up, holding `cidr` ("address/prefix", checked by
// CheckLabAddress) as the router's address on it.
void AddBridge(const Namespace& ns, const std::string& name, const std::string& cidr);
// Makes `port` (an interface in ns) a port of ns's bridge `bridge`.
void AttachToBridge(const Namespace& ns, const std::string& port, const std::string& bridge);
// Turns off bridge-nf-call-iptables/ip6tables/arptables in ns (if the kernel has them).
void KeepBridgesOutOfNetfilter(Lab& lab, const Namespace& ns);

}  // namespace punchlab::lab
