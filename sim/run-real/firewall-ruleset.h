// A scenario firewall as nftables: a router that does not translate and
// filters what crosses its uplink "wan", statefully (conntrack, whose UDP
// flows are refreshed by traffic either way, as the model's firewall says).
//
//   block_udp       every UDP packet crossing wan is dropped, flows or not
//   outbound_allow  when not empty, new outbound flows only to these ports
//   inbound_allow   new inbound flows only to these local ports
//   otherwise       inbound passes only on a flow the inside opened
//
// Traffic between hosts on the firewall's own LAN never crosses it. The
// router itself drops unsolicited packets from wan, as the NATs do. Pure,
// unit-tested; timeouts are conntrack sysctls set by the lab.
#pragma once

#include <string>

#include "punchlab/nat/firewall.h"

namespace punchlab::runreal {

// The input for `nft -f -` in the firewall's namespace: one table,
// "punchlab_fw", replacing any earlier version of it (so a block_udp event
// reloads the same text with the flag flipped).
std::string FirewallRuleset(const nat::FirewallConfig& config, const std::string& wan_if = "wan");

}  // namespace punchlab::runreal
