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

// How a UPnP IGD answers a mapping request that asks for a lease with a
// duration (a permanent one, NewLeaseDuration 0, is granted): 402 Invalid
// Args (an ARRIS NVG578LX, tailscale#15223) or 725
// OnlyPermanentLeasesSupported (MikroTik RouterOS, tailscale#9343).
enum class UpnpLeaseError : uint8_t { kNone, kInvalidArgs, kOnlyPermanentLeases };
const char* ToString(UpnpLeaseError e);  // none, invalid-args, only-permanent-leases
std::optional<UpnpLeaseError> ParseUpnpLeaseError(std::string_view text);

struct PortMappingConfig {
  bool pmp = false;
  bool pcp = false;
  bool upnp = false;  // UPnP IGD (upnp-igd.h)
  // Longest lease granted; unset: what the client asks for.
  std::optional<Duration> lease_limit;
  PortMappingError error = PortMappingError::kNone;
  AnswerFrom answer_from = AnswerFrom::kGateway;
  // A reboot loses every mapping (most home routers), or the router stores
  // its leases and puts them back (miniupnpd's lease file).
  bool keep_on_reboot = false;
  // UPnP only: refuse leases with a duration (see UpnpLeaseError), and
  // answer only SSDP searches sent to 239.255.255.250 (a strict IGD that
  // ignores unicast M-SEARCH, tailscale#3197's eero).
  UpnpLeaseError upnp_lease_error = UpnpLeaseError::kNone;
  bool multicast_only = false;

  bool offers(portmap::MappingProtocol p) const;
  bool any() const { return pmp || pcp || upnp; }
  bool operator==(const PortMappingConfig& o) const;
  bool operator!=(const PortMappingConfig& o) const { return !(*this == o); }
};

}  // namespace nat
}  // namespace punchlab
