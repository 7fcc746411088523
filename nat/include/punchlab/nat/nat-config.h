// NAT behaviour knobs (RFC 4787 vocabulary), named presets, and the SPEC text
// that names a configuration: `punchlab classify --nat SPEC`, scenario files.
//
// SPEC: comma-separated items, each a preset name or a knob `key=value`; at
// most one preset, each knob at most once, knobs override the preset whatever
// the order. Without a preset knobs apply to the defaults (= port-restricted-
// cone). Examples: "symmetric,hairpin=on,udp_timeout=30s",
// "mapping=address-dependent,filtering=endpoint-independent,ports=preserve".
//
// Knobs and values:
//   mapping, filtering   endpoint-independent | address-dependent |
//                        address-and-port-dependent
//   ports                preserve | sequential | random   (see port-pool.h)
//   port_range           FIRST-LAST, e.g. 1024-65535
//   hairpin              on | off
//   pooling              paired | arbitrary
//   refresh              outbound | both   (which packets reset idle timers)
//   udp_timeout, tcp_established_timeout, tcp_transitory_timeout
//                        durations: 30s, 500ms, 4m, 2h
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "punchlab/nat/port-pool.h"
#include "punchlab/nat/tcp-state.h"

namespace punchlab {
namespace nat {

// What a mapping (or a filter) depends on besides the inside endpoint.
enum class Dependence : uint8_t {
  kEndpointIndependent,
  kAddressDependent,
  kAddressAndPortDependent,
};

// Paired: every mapping of one inside IP uses the same external IP.
// Arbitrary: each new mapping may use any external IP.
enum class Pooling : uint8_t { kPaired, kArbitrary };

// Which packets reset a flow's idle timer: outbound only, or inbound too.
enum class Refresh : uint8_t { kOutbound, kBoth };

const char* ToString(Dependence d);
const char* ToString(PortAssignment p);
const char* ToString(Pooling p);
const char* ToString(Refresh r);

struct NatConfig {
  Dependence mapping = Dependence::kEndpointIndependent;
  Dependence filtering = Dependence::kAddressAndPortDependent;
  PortAssignment ports = PortAssignment::kPreserve;
  PortRange port_range;
  bool hairpin = false;
  Pooling pooling = Pooling::kPaired;
  Refresh refresh = Refresh::kOutbound;
  FlowTimeouts timeouts;

  bool operator==(const NatConfig& o) const;
  bool operator!=(const NatConfig& o) const { return !(*this == o); }

  // Canonical SPEC: the preset that needs the fewest overrides (earliest in
  // NatPresets() on a tie), then those overrides in the knob order above.
  // ParseNatSpec(c.ToString()) gives c back.
  std::string ToString() const;
};

struct NatPreset {
  const char* name;
  const char* description;
  NatConfig config;
};

// full-cone, restricted-cone, port-restricted-cone, symmetric,
// symmetric-port-preserving, cgnat (in this order).
const std::vector<NatPreset>& NatPresets();
const NatPreset* FindNatPreset(std::string_view name);

struct NatSpecResult {
  std::optional<NatConfig> config;
  std::string error;  // empty on success; a sentence naming the bad item and the valid ones
  explicit operator bool() const { return config.has_value(); }
};

NatSpecResult ParseNatSpec(std::string_view spec);

}  // namespace nat
}  // namespace punchlab
