// SOAP control of an IGD's WANIPConnection / WANPPPConnection (UPnP IGD
// WANIPConnection:2 section 2.5; Device Architecture 1.1 section 3.2): the
// request bodies are built through libxml2's tree API (text escaped by it,
// never pasted into markup), and response bodies and faults are read with
// libxml2. The HTTP around them is upnp-http.h's.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/portmap/upnp-errors.h"

namespace punchlab {
namespace portmap {
namespace upnp {

constexpr const char* kGetExternalIpAddress = "GetExternalIPAddress";
constexpr const char* kAddPortMapping = "AddPortMapping";
constexpr const char* kAddAnyPortMapping = "AddAnyPortMapping";  // WANIPConnection:2 only
constexpr const char* kDeletePortMapping = "DeletePortMapping";

struct PortMappingRequest {
  std::string remote_host;         // empty: any remote (the wildcard)
  uint16_t external_port = 0;      // AddAnyPortMapping: the port wished for
  std::string protocol = "UDP";    // "UDP" or "TCP"
  uint16_t internal_port = 0;
  std::string internal_client;     // the client's own LAN address
  std::string description = "punchlab";
  uint32_t lease_seconds = 0;      // 0: permanent (some IGDs allow only that: 725)
};

// The SOAP envelopes (UTF-8 XML text) for each action of `service_type`.
std::string BuildGetExternalIpAddress(const std::string& service_type);
std::string BuildAddPortMapping(const std::string& service_type, const PortMappingRequest& m);
std::string BuildAddAnyPortMapping(const std::string& service_type, const PortMappingRequest& m);
std::string BuildDeletePortMapping(const std::string& service_type, const std::string& remote_host,
                                   uint16_t external_port, const std::string& protocol);
// Any action's envelope with `arguments` in order (what other clients
// call: upnpc's GetSpecific/GetGenericPortMappingEntry, in tests and fuzzing).
std::string BuildSoapCall(const std::string& service_type, const std::string& action,
                          const std::vector<std::pair<std::string, std::string>>& arguments);

// An action's response: "<u:ACTIONResponse>" and its arguments in order.
struct SoapResponse {
  std::string action;  // without "Response"
  std::vector<std::pair<std::string, std::string>> arguments;
  std::optional<std::string> Argument(const std::string& name) const;
};

// A SOAP fault with its UPnPError detail.
struct SoapFault {
  uint16_t code = 0;  // UPnP error code (ErrorCode), 0 when the fault has none
  std::string description;
};

using SoapResult = std::variant<SoapResponse, SoapFault>;

// Either a response or a fault; nullopt with the reason in `error` when the
// text is neither (not XML: kXml; no Envelope/Body/one call element:
// kNotSoap; a UPnPError whose errorCode is not a number: kBadValue). A fault
// without UPnPError detail is a SoapFault with code 0 and the faultstring.
std::optional<SoapResult> ParseSoapBody(const std::string& xml, ParseError* error = nullptr);

// The facts each action returns, checked: the response must be to `action`
// and carry the argument in the form the specification gives it.
std::optional<IpAddress> ExternalIpAddressOf(const SoapResponse& r, ParseError* error = nullptr);
// AddAnyPortMapping's NewReservedPort.
std::optional<uint16_t> ReservedPortOf(const SoapResponse& r, ParseError* error = nullptr);

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
