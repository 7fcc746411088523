// nftables rulesets that make a Linux router behave as a NAT described by
// nat/'s knobs (nat/include/punchlab/nat/nat-config.h, RFC 4787 vocabulary;
// see PROTOCOL.md). The presets are nothing but named knob sets there; the
// ruleset is built from the knobs, knob by knob, and a knob value the lab
// cannot build is refused with a sentence naming it (UnbuildableKnobs),
// never built as something near it.
//
// Mapping (knob `mapping`). Linux conntrack keeps a flow's source port
// while the translated flow (external address:port -> destination) is
// unique, i.e. it maps per destination and merely happens to reuse the
// port. That is address-and-port-dependent mapping with ports=preserve
// (the preset symmetric-port-preserving) exactly, and all of it: snat to
// the external address. ports=random adds fully-random: a fresh random port
// for every new destination endpoint.
//
// Endpoint-independent mapping is built on top: a dynamic map "eim"
// (inside address . port -> external address . port), written by every
// outbound datagram after source NAT, sends every later flow of that inside
// endpoint out through the same external endpoint. A new mapping keeps the
// inside port (ports=preserve) unless another inside endpoint's mapping
// holds it (set "taken"), or takes a random one (ports=random).
//
// Filtering (knob `filtering`). Conntrack lets in replies to a flow only
// (address-and-port-dependent). Looser filters need inbound DNAT, from the
// map "mappings" (external address . port -> inside address . port, written
// by the same outbound datagrams), whatever the mapping:
//
//   endpoint-independent  inbound UDP to a mapped external endpoint is
//                         DNATed to its inside endpoint from any remote.
//   address-dependent     only when the set "peers" (external address . port
//                         . remote address), written by outbound datagrams,
//                         holds the pair.
//
// Ports (knob `ports`): preserve or random as above. Address pools
// (external_ips > 1) are paired (knob `pooling`): the jhash of the inside
// address picks the external address.
//
// Hairpinning (knob `hairpin`; RFC 4787 REQ-9). A LAN datagram to one
// of the router's external addresses is DNATed to the inside endpoint that
// holds that external endpoint (map "mappings") and source-NATed through the
// sender's own mapping, exactly as if it had left by the WAN, so the receiver
// sees the sender's external endpoint and its replies come back through the
// router. The looped-back datagram is then judged by the receiving mapping's
// filter: it passes when that mapping has sent to the sender's external
// address (ADF) or address and port (APDF) (set "peers", which records
// hairpinned datagrams too), always under EIF. So a NAT whose mapping
// depends on the destination drops its own hairpin probe unless it filters
// endpoint-independently, as nat/'s nat-observability.h predicts;
// the named counter "hairpin_filtered" counts what that filter dropped.
// Without hairpinning such a datagram is delivered to the router itself,
// which has nothing listening. Hairpinning covers UDP only.
//
// Every NAT drops unsolicited inbound datagrams addressed to the router
// itself (input hook, ct state new). Besides being what a home router does,
// it keeps such a datagram from leaving a confirmed conntrack entry that
// would later claim the port a fresh outbound mapping wants.
//
// Timeouts (knobs udp_timeout, tcp_*_timeout). Map and set entries live as
// long as the UDP mapping timeout and are refreshed by outbound traffic only
// (RFC 4787 REQ-6: outbound refresh); the conntrack entries behind the NAT
// itself get the same timeouts through the namespace's conntrack sysctls
// (see nat-lab.h), which count whole seconds.
//
// What the lab does not build (UnbuildableKnobs says it per knob):
// address-dependent mapping, sequential ports, a port range, arbitrary
// pooling of two or more addresses, refresh=both where an nftables map keeps
// state (it is refreshed by outbound datagrams only), timeouts that are not
// whole seconds.
//
// Where Linux differs from the model with any knobs (LinuxDifferences() says
// it in sentences): conntrack refreshes a flow on inbound packets too; a
// preserved port that is taken falls back to a random port (the model: the
// next free one upward); a port-preserving per-destination mapping lets two
// inside endpoints share an external port towards different destinations
// (port overloading, which the model refuses, RFC 4787 REQ-3).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "punchlab/nat/nat-config.h"

namespace punchlab::lab {

struct NatRulesetConfig {
  // The NAT: mapping, filtering, ports, hairpin, pooling, refresh, timeouts.
  nat::NatConfig nat;
  std::string wan_if = "wan";
  // The router's external addresses ("203.0.113.254"), the first being its
  // main one. Empty: source NAT takes wan_if's own address (masquerade),
  // which is all a single-address NAT without hairpinning needs. Two or more
  // form a pool with paired pooling. Hairpinning needs them: its datagrams
  // leave by the LAN interface, whose address masquerade would pick.
  std::vector<std::string> wan_addresses;
  // The LAN interface, for hairpinning.
  std::string lan_if = "lan";
};

// One sentence per knob of `config` the lab cannot build as configured, each
// starting with "KNOB=VALUE: " and saying why; empty when NatRuleset builds
// it. `external_addresses`: how many the NAT has (pooling only matters with
// two or more).
std::vector<std::string> UnbuildableKnobs(const nat::NatConfig& config, size_t external_addresses);

// The input for `nft -f -` in the router's namespace: one table, "punchlab_nat".
// Throws LabError for a configuration it cannot build: a knob UnbuildableKnobs
// names, hairpinning without wan_addresses, an address that is not
// dotted-quad IPv4, a bad interface name.
std::string NatRuleset(const NatRulesetConfig& config);

// Sentences on how the built NAT differs from nat/'s model of the same
// knobs (see above), each starting with the knob it concerns ("refresh: ").
std::vector<std::string> LinuxDifferences(const nat::NatConfig& config);

}  // namespace punchlab::lab
