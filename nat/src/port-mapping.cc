#include "punchlab/nat/port-mapping.h"

namespace punchlab {
namespace nat {

const char* ToString(PortMappingError e) {
  switch (e) {
    case PortMappingError::kNone: return "none";
    case PortMappingError::kNotAuthorized: return "not-authorized";
    case PortMappingError::kNetworkFailure: return "network-failure";
    case PortMappingError::kOutOfResources: return "out-of-resources";
  }
  return "?";
}

std::optional<PortMappingError> ParsePortMappingError(std::string_view text) {
  for (PortMappingError e : {PortMappingError::kNone, PortMappingError::kNotAuthorized,
                             PortMappingError::kNetworkFailure, PortMappingError::kOutOfResources}) {
    if (text == ToString(e)) return e;
  }
  return std::nullopt;
}

const char* ToString(AnswerFrom a) {
  return a == AnswerFrom::kGateway ? "gateway" : "lan-address";
}

std::optional<AnswerFrom> ParseAnswerFrom(std::string_view text) {
  if (text == "gateway") return AnswerFrom::kGateway;
  if (text == "lan-address") return AnswerFrom::kLanAddress;
  return std::nullopt;
}

const char* ToString(UpnpLeaseError e) {
  switch (e) {
    case UpnpLeaseError::kNone: return "none";
    case UpnpLeaseError::kInvalidArgs: return "invalid-args";
    case UpnpLeaseError::kOnlyPermanentLeases: return "only-permanent-leases";
  }
  return "?";
}

std::optional<UpnpLeaseError> ParseUpnpLeaseError(std::string_view text) {
  for (UpnpLeaseError e : {UpnpLeaseError::kNone, UpnpLeaseError::kInvalidArgs,
                           UpnpLeaseError::kOnlyPermanentLeases}) {
    if (text == ToString(e)) return e;
  }
  return std::nullopt;
}

bool PortMappingConfig::offers(portmap::MappingProtocol p) const {
  switch (p) {
    case portmap::MappingProtocol::kPmp: return pmp;
    case portmap::MappingProtocol::kPcp: return pcp;
    case portmap::MappingProtocol::kUpnp: return upnp;
  }
  return false;
}

bool PortMappingConfig::operator==(const PortMappingConfig& o) const {
  return pmp == o.pmp && pcp == o.pcp && upnp == o.upnp && lease_limit == o.lease_limit &&
         error == o.error && answer_from == o.answer_from && keep_on_reboot == o.keep_on_reboot &&
         upnp_lease_error == o.upnp_lease_error && multicast_only == o.multicast_only;
}

}  // namespace nat
}  // namespace punchlab
