// The device side of UPnP IGD control, for the simulated router
// (nat/upnp-igd.h) and tests: what an IGD reads (an SSDP M-SEARCH, an HTTP
// request with its body, a SOAP call) and what it writes (the SSDP answer,
// the root device description, SOAP responses and faults, the HTTP response
// around them). The XML is built and read with libxml2's tree API, as the
// client side's (upnp-soap.h); the HTTP heads are upnp-http.h's forms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/portmap/upnp-errors.h"

namespace punchlab {
namespace portmap {
namespace upnp {

// ---- SSDP ----

struct MSearch {
  std::string search_target;  // ST
  int mx = 0;                 // MX (0 when absent or not a number)
};
// "M-SEARCH * HTTP/1.1" with MAN "ssdp:discover" and ST; nullopt, with the
// reason in `error`, for anything else (answers, NOTIFY, a missing ST).
std::optional<MSearch> ParseMSearch(ByteView datagram, ParseError* error = nullptr);

// Whether a root device of `device_type` (e.g. "...:device:InternetGatewayDevice:2")
// answers a search for `search_target`, and with which ST: upnp:rootdevice,
// its own type at that or a lower version, and ssdp:all, answered with its
// own type (UPnP Device Architecture 1.1 section 1.3.2: a device answers
// ssdp:all once per device and service it has, each with that type as ST;
// this is the root device's answer, the one an IGD client reads). The ST it
// answers with, or nullopt.
std::optional<std::string> SearchTargetAnswered(const std::string& search_target,
                                                const std::string& device_type);

// "HTTP/1.1 200 OK" with CACHE-CONTROL, EXT, LOCATION, SERVER, ST and USN.
Bytes BuildSsdpAnswer(const std::string& location, const std::string& search_target,
                      const std::string& usn, const std::string& server);

// ---- HTTP ----

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // the request line's path
  derp::HttpHead head;
  std::string body;    // framed by Content-Length (none: empty)
};

// One request from a connection (a client sends one and closes its side or
// waits: "Connection: close"). Heads over derp's 8 KiB, bodies over 64 KiB,
// a chunked body, a bad request line or Content-Length are errors.
class HttpRequestReader {
 public:
  static constexpr size_t kMaxBody = 64 * 1024;
  enum class State { kNeedMore, kDone, kError };

  State Feed(ByteView bytes);
  State state() const { return state_; }
  const HttpRequest& request() const { return request_; }  // after kDone
  const std::string& error() const { return error_; }      // after kError

 private:
  State Fail(std::string why);

  State state_ = State::kNeedMore;
  derp::HttpHeadReader head_reader_;
  bool head_done_ = false;
  size_t length_ = 0;
  HttpRequest request_;
  std::string error_;
};

// "HTTP/1.1 <status> <reason>" with Content-Type text/xml (when there is a
// body), Content-Length, "Connection: close", EXT and SERVER, then `body`.
Bytes BuildHttpResponse(int status, const std::string& reason, const std::string& body,
                        const std::string& server);

// ---- The description ----

struct DeviceDescription {
  std::string udn;            // "uuid:..."
  std::string friendly_name;
  std::string manufacturer;
  // InternetGatewayDevice:N > WANDevice:N > WANConnectionDevice:N > this service.
  std::string service_type;   // e.g. "urn:schemas-upnp-org:service:WANIPConnection:2"
  std::string control_path;   // e.g. "/ctl/IPConn", relative to the description's URL
  int igd_version = 2;
};
// The root description (UPnP Device Architecture 1.1 section 2.3) with no
// URLBase: the control URL resolves against the URL it was fetched from, as
// miniupnpd writes it.
std::string BuildDescription(const DeviceDescription& d);

// ---- SOAP ----

struct SoapCall {
  std::string service_type;  // the call element's namespace
  std::string action;
  std::vector<std::pair<std::string, std::string>> arguments;
  std::optional<std::string> Argument(const std::string& name) const;
};
// A SOAP request body: Envelope/Body with one call element. nullopt with the
// reason in `error` (kXml, kNotSoap).
std::optional<SoapCall> ParseSoapCall(const std::string& xml, ParseError* error = nullptr);

// "<u:ACTIONResponse xmlns:u=SERVICE>" with the arguments in order.
std::string BuildSoapResponse(const std::string& service_type, const std::string& action,
                              const std::vector<std::pair<std::string, std::string>>& arguments);
// A SOAP fault (faultcode s:Client, faultstring UPnPError) carrying the UPnP
// error code and description (Device Architecture 1.1 section 3.2.2).
std::string BuildSoapFault(uint16_t code, const std::string& description);
// The specification's name of a UPnP error code ("OnlyPermanentLeasesSupported").
const char* ErrorDescription(uint16_t code);

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
