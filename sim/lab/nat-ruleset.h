// nftables rulesets that make a Linux router behave as one of the four
// classic NATs (RFC 4787 vocabulary; see PROTOCOL.md):
//
//   port-restricted-cone  masquerade: conntrack keeps the source port while it
//                         is free (EIM, port preservation) and lets in only
//                         replies from the exact remote endpoint (APDF).
//   symmetric             masquerade fully-random: a fresh random port for
//                         every new remote endpoint (APDM, APDF).
//   full-cone             masquerade outbound, plus a dynamic map "cone"
//                         (external port -> inside address . port) written by
//                         every outbound datagram after source NAT; inbound
//                         UDP to a mapped port is DNATed to the inside
//                         endpoint from any remote (EIM, EIF).
//   restricted-cone       full cone, but inbound is DNATed only when the set
//                         "peers" (external port . remote address), written by
//                         the same outbound datagrams, holds the pair (EIM, ADF).
//
// All four drop unsolicited inbound datagrams addressed to the router
// itself (input hook, ct state new). Besides being what a home router does,
// it keeps such a datagram from leaving a confirmed conntrack entry that
// would later claim the port a fresh outbound mapping wants.
//
// Map and set entries live as long as the UDP mapping timeout and are
// refreshed by outbound traffic only (RFC 4787 REQ-6: outbound refresh); the
// conntrack entries behind the NAT itself get the same timeout through the
// namespace's nf_conntrack_udp_timeout sysctls (see nat-lab.h).
// No type hairpins: a datagram from the LAN to the router's outside address
// is delivered to the router itself, which drops it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/time.h"

namespace punchlab::lab {

enum class NatType : uint8_t { kFullCone, kRestrictedCone, kPortRestrictedCone, kSymmetric };

// "full-cone", "restricted-cone", "port-restricted-cone", "symmetric".
const char* ToString(NatType type);
std::optional<NatType> ParseNatType(const std::string& text);

struct NatRulesetConfig {
  NatType type = NatType::kPortRestrictedCone;
  std::string wan_if = "wan";
  Duration udp_timeout = Duration::Seconds(30);
};

// The input for `nft -f -` in the router's namespace: one table, "punchlab_nat".
std::string NatRuleset(const NatRulesetConfig& config);

}  // namespace punchlab::lab
