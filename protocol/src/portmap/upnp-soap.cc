#include "punchlab/portmap/upnp-soap.h"

#include "portmap/upnp-xml.h"

namespace punchlab {
namespace portmap {
namespace upnp {
namespace {

using Arguments = std::vector<std::pair<std::string, std::string>>;

Arguments MappingArguments(const PortMappingRequest& m) {
  return {{"NewRemoteHost", m.remote_host},
          {"NewExternalPort", std::to_string(m.external_port)},
          {"NewProtocol", m.protocol},
          {"NewInternalPort", std::to_string(m.internal_port)},
          {"NewInternalClient", m.internal_client},
          {"NewEnabled", "1"},
          {"NewPortMappingDescription", m.description},
          {"NewLeaseDuration", std::to_string(m.lease_seconds)}};
}

bool ParseUnsigned(const std::string& s, uint32_t max, uint32_t& out) {
  if (s.empty() || s.size() > 10) return false;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return false;
  out = static_cast<uint32_t>(v);
  return true;
}

template <typename T>
std::optional<T> Fail(ParseError* error, ParseError e) {
  if (error) *error = e;
  return std::nullopt;
}

// The argument `name` of a response to `action`, or the reason it is not there.
std::optional<std::string> ArgumentOf(const SoapResponse& r, const char* action, const char* name,
                                      ParseError* error) {
  if (r.action != action) return Fail<std::string>(error, ParseError::kWrongAction);
  std::optional<std::string> value = r.Argument(name);
  if (!value) return Fail<std::string>(error, ParseError::kMissingArgument);
  return value;
}

}  // namespace

std::string BuildSoapCall(const std::string& service_type, const std::string& action,
                          const Arguments& arguments) {
  return SoapEnvelope(service_type, action, arguments);
}

std::string BuildGetExternalIpAddress(const std::string& service_type) {
  return SoapEnvelope(service_type, kGetExternalIpAddress, {});
}

std::string BuildAddPortMapping(const std::string& service_type, const PortMappingRequest& m) {
  return SoapEnvelope(service_type, kAddPortMapping, MappingArguments(m));
}

std::string BuildAddAnyPortMapping(const std::string& service_type, const PortMappingRequest& m) {
  return SoapEnvelope(service_type, kAddAnyPortMapping, MappingArguments(m));
}

std::string BuildDeletePortMapping(const std::string& service_type, const std::string& remote_host,
                                   uint16_t external_port, const std::string& protocol) {
  return SoapEnvelope(service_type, kDeletePortMapping,
                  {{"NewRemoteHost", remote_host},
                   {"NewExternalPort", std::to_string(external_port)},
                   {"NewProtocol", protocol}});
}

std::optional<std::string> SoapResponse::Argument(const std::string& name) const {
  for (const auto& [k, v] : arguments) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<SoapResult> ParseSoapBody(const std::string& xml, ParseError* error) {
  const XmlDoc doc = ParseXml(xml);
  if (!doc) return Fail<SoapResult>(error, ParseError::kXml);
  xmlNode* envelope = xmlDocGetRootElement(doc.get());
  if (!envelope || LocalName(envelope) != "Envelope") return Fail<SoapResult>(error, ParseError::kNotSoap);
  const std::vector<xmlNode*> calls = ChildElements(Child(envelope, "Body"));
  if (calls.size() != 1) return Fail<SoapResult>(error, ParseError::kNotSoap);
  xmlNode* call = calls[0];
  const std::string name = LocalName(call);
  if (name == "Fault") {
    SoapFault fault;
    fault.description = Text(Child(call, "faultstring"));
    const std::vector<xmlNode*> upnp = Descendants(call, "UPnPError");
    if (!upnp.empty()) {
      uint32_t code = 0;
      if (!ParseUnsigned(Text(Child(upnp[0], "errorCode")), 65535, code)) {
        return Fail<SoapResult>(error, ParseError::kBadValue);
      }
      fault.code = static_cast<uint16_t>(code);
      fault.description = Text(Child(upnp[0], "errorDescription"));
    }
    if (error) *error = ParseError::kNone;
    return SoapResult(fault);
  }
  const std::string suffix = "Response";
  if (name.size() <= suffix.size() ||
      name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return Fail<SoapResult>(error, ParseError::kNotSoap);
  }
  SoapResponse response;
  response.action = name.substr(0, name.size() - suffix.size());
  for (xmlNode* argument : ChildElements(call)) {
    response.arguments.emplace_back(LocalName(argument), Text(argument));
  }
  if (error) *error = ParseError::kNone;
  return SoapResult(response);
}

std::optional<IpAddress> ExternalIpAddressOf(const SoapResponse& r, ParseError* error) {
  const std::optional<std::string> text =
      ArgumentOf(r, kGetExternalIpAddress, "NewExternalIPAddress", error);
  if (!text) return std::nullopt;
  const std::optional<IpAddress> ip = IpAddress::Parse(*text);
  if (!ip || !ip->is_v4()) return Fail<IpAddress>(error, ParseError::kBadValue);
  if (error) *error = ParseError::kNone;
  return ip;
}

std::optional<uint16_t> ReservedPortOf(const SoapResponse& r, ParseError* error) {
  const std::optional<std::string> text = ArgumentOf(r, kAddAnyPortMapping, "NewReservedPort", error);
  if (!text) return std::nullopt;
  uint32_t port = 0;
  if (!ParseUnsigned(*text, 65535, port) || port == 0) return Fail<uint16_t>(error, ParseError::kBadValue);
  if (error) *error = ParseError::kNone;
  return static_cast<uint16_t>(port);
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
