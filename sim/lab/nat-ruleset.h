// nftables rulesets that make a Linux router behave as one of the NAT presets
// of nat/include/punchlab/nat/nat-config.h (RFC 4787 vocabulary; see PROTOCOL.md).
//
// Mapping. Linux conntrack keeps a flow's source port while the translated
// flow (external address:port -> destination) is unique, i.e. it maps per
// destination and merely happens to reuse the port. That is the preset
// symmetric-port-preserving exactly, and all of it:
//
//   symmetric-port-preserving  snat to the external address: a mapping per
//                              destination endpoint that keeps the inside port
//                              (APDM, APDF, ports preserved).
//   symmetric                  the same with fully-random: a fresh random port
//                              for every new destination endpoint.
//
// Endpoint-independent mapping (the cones and cgnat) is built on top: a
// dynamic map "eim" (inside address . port -> external address . port),
// written by every outbound datagram after source NAT, sends every later flow
// of that inside endpoint out through the same external endpoint. A new
// mapping keeps the inside port (the cones) unless another inside endpoint's
// mapping holds it (set "taken"), or takes a random one (cgnat).
//
// Filtering. Conntrack lets in replies to a flow only (APDF). Looser filters
// need inbound DNAT, from the map "mappings" (external address . port ->
// inside address . port, written by the same outbound datagrams):
//
//   full-cone             inbound UDP to a mapped external endpoint is DNATed
//                         to its inside endpoint from any remote (EIM, EIF).
//   restricted-cone       only when the set "peers" (external address . port .
//                         remote address), written by outbound datagrams,
//                         holds the pair (EIM, ADF).
//   port-restricted-cone  conntrack's filter (EIM, APDF).
//   cgnat                 EIM, APDF, random ports, an address pool with paired
//                         pooling (the jhash of the inside address picks the
//                         external address), hairpinning on by default, and the
//                         preset's 30 s UDP timeout (nat-lab.h sets it).
//
// Hairpinning (a knob on every type; RFC 4787 REQ-9). A LAN datagram to one
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
// All types drop unsolicited inbound datagrams addressed to the router
// itself (input hook, ct state new). Besides being what a home router does,
// it keeps such a datagram from leaving a confirmed conntrack entry that
// would later claim the port a fresh outbound mapping wants.
//
// Map and set entries live as long as the UDP mapping timeout and are
// refreshed by outbound traffic only (RFC 4787 REQ-6: outbound refresh); the
// conntrack entries behind the NAT itself get the same timeout through the
// namespace's nf_conntrack_udp_timeout sysctls (see nat-lab.h).
//
// Where Linux differs from the model's preset (LinuxDifferences() says it in
// sentences): conntrack refreshes a flow on inbound packets too; a preserved
// port that is taken falls back to a random port (the model: the next free
// one upward); symmetric-port-preserving lets two inside endpoints share an
// external port towards different destinations (port overloading, which the
// model refuses, RFC 4787 REQ-3).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/time.h"

namespace punchlab::lab {

// The presets of nat-config.h, in their order.
enum class NatType : uint8_t {
  kFullCone,
  kRestrictedCone,
  kPortRestrictedCone,
  kSymmetric,
  kSymmetricPortPreserving,
  kCgnat,
};

// "full-cone", "restricted-cone", "port-restricted-cone", "symmetric",
// "symmetric-port-preserving", "cgnat".
const char* ToString(NatType type);
std::optional<NatType> ParseNatType(const std::string& text);
// Every type, in the order above.
const std::vector<NatType>& AllNatTypes();
// "full-cone, restricted-cone, ... or cgnat", for messages.
std::string NatTypeList();
// Whether the preset hairpins (cgnat does; RFC 6888 REQ-9 asks carrier NATs to).
bool PresetHairpins(NatType type);
// Whether the preset's mapping is endpoint-independent as built (the cones and cgnat).
bool MapsEndpointIndependently(NatType type);

struct NatRulesetConfig {
  NatType type = NatType::kPortRestrictedCone;
  std::string wan_if = "wan";
  Duration udp_timeout = Duration::Seconds(30);
  // The router's external addresses ("203.0.113.254"), the first being its
  // main one. Empty: source NAT takes wan_if's own address (masquerade),
  // which is all a single-address NAT without hairpinning needs. Two or more
  // form a pool with paired pooling. Hairpinning needs them: its datagrams
  // leave by the LAN interface, whose address masquerade would pick.
  std::vector<std::string> wan_addresses;
  // The LAN interface, for hairpinning.
  std::string lan_if = "lan";
  bool hairpin = false;
};

// The input for `nft -f -` in the router's namespace: one table, "punchlab_nat".
// Throws LabError for a configuration it cannot build (hairpinning without
// wan_addresses, an address that is not dotted-quad IPv4, a bad interface name).
std::string NatRuleset(const NatRulesetConfig& config);

// Sentences on how the built NAT differs from the preset's model (see above).
std::vector<std::string> LinuxDifferences(NatType type, bool hairpin);

}  // namespace punchlab::lab
