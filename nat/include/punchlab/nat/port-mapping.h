// What a NAT offers for port mapping, and how its router behaves when asked:
// a scenario's `port_mapping:` under a NAT (sim/scenario), the simulated
// server (port-mapping-server.h) and the real lab's miniupnpd configuration
// read this one struct.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "punchlab/portmap/mapping-protocol.h"
#include "punchlab/time.h"

namespace punchlab {
namespace nat {

// A router that refuses every mapping request with one answer (the probe's
// address request still succeeds, as the field reports show: tailscale#11403
// "unable to allocate port for mapping", #13687 PCP code 8).
enum class PortMappingError : uint8_t {
  kNone,
  kNotAuthorized,   // NAT-PMP 2, PCP NOT_AUTHORIZED (2): "turned off by the user"
  kNetworkFailure,  // NAT-PMP 3, PCP NETWORK_FAILURE (7): e.g. no DHCP lease yet
  kOutOfResources,  // NAT-PMP 4, PCP NO_RESOURCES (8)
};
const char* ToString(PortMappingError e);  // none, not-authorized, network-failure, out-of-resources
std::optional<PortMappingError> ParsePortMappingError(std::string_view text);

// Where the router's answers come from. kLanAddress: from its own LAN
// interface address rather than the gateway address the clients use (a
// failover pair's virtual gateway IP, tailscale#5502); clients that accept
// answers only from the gateway never hear them.
enum class AnswerFrom : uint8_t { kGateway, kLanAddress };
const char* ToString(AnswerFrom a);  // gateway, lan-address
std::optional<AnswerFrom> ParseAnswerFrom(std::string_view text);

struct PortMappingConfig {
  bool pmp = false;
  bool pcp = false;
  bool upnp = false;  // the real lab's miniupnpd answers it; the simulated NAT does not yet
  // Longest lease granted; unset: what the client asks for.
  std::optional<Duration> lease_limit;
  PortMappingError error = PortMappingError::kNone;
  AnswerFrom answer_from = AnswerFrom::kGateway;
  // A reboot loses every mapping (most home routers), or the router stores
  // its leases and puts them back (miniupnpd's lease file).
  bool keep_on_reboot = false;

  bool offers(portmap::MappingProtocol p) const;
  bool any() const { return pmp || pcp || upnp; }
  bool operator==(const PortMappingConfig& o) const;
  bool operator!=(const PortMappingConfig& o) const { return !(*this == o); }
};

}  // namespace nat
}  // namespace punchlab
