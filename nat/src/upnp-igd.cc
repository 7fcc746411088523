#include "punchlab/nat/upnp-igd.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <vector>

#include "punchlab/portmap/upnp-errors.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/portmap/upnp-ssdp.h"

namespace punchlab {
namespace nat {

namespace upnp = portmap::upnp;
using upnp::ErrorCode;

namespace {

constexpr const char* kServer = "punchlab/1 UPnP/1.1 MiniUPnPd/2.3.1";
constexpr const char* kGetSpecificPortMappingEntry = "GetSpecificPortMappingEntry";
constexpr const char* kGetGenericPortMappingEntry = "GetGenericPortMappingEntry";
constexpr const char* kUdn = "uuid:70756e63-686c-6162-0000-000000000001";  // "punchlab"

uint16_t Code(ErrorCode c) { return static_cast<uint16_t>(c); }

std::optional<uint32_t> ParseNumber(const std::optional<std::string>& text, uint32_t max) {
  if (!text || text->empty() || text->size() > 10) return std::nullopt;
  uint64_t v = 0;
  for (char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return static_cast<uint32_t>(v);
}

// NewPortMappingIndex as miniupnpd reads it (strtol: leading blanks, a
// sign, digits, anything after ignored); nullopt where strtol finds no
// digits or overflows a long (402). Indexes beyond an int match no entry.
std::optional<int64_t> ParseIndex(const std::optional<std::string>& text) {
  if (!text) return std::nullopt;
  size_t i = 0;
  while (i < text->size() && std::isspace(static_cast<unsigned char>((*text)[i]))) ++i;
  bool negative = false;
  if (i < text->size() && ((*text)[i] == '+' || (*text)[i] == '-')) negative = (*text)[i++] == '-';
  const size_t first = i;
  int64_t v = 0;
  for (; i < text->size() && (*text)[i] >= '0' && (*text)[i] <= '9'; ++i) {
    if (v > (INT64_MAX - 9) / 10) return std::nullopt;  // strtol's ERANGE
    v = v * 10 + ((*text)[i] - '0');
  }
  if (i == first) return std::nullopt;
  return negative ? -v : v;
}

// Whole seconds from `now` to `until`, rounded up: a lease granted this
// instant reports what was asked, as miniupnpd's whole-second clock does.
uint32_t SecondsLeft(Timestamp now, Timestamp until) {
  if (until <= now) return 0;
  return static_cast<uint32_t>(
      std::min<int64_t>(((until - now).nanos() + 999999999) / 1000000000, UINT32_MAX));
}

const char* ProtocolName(Protocol p) { return p == Protocol::kUdp ? "UDP" : "TCP"; }

std::optional<uint16_t> MappingErrorCode(PortMappingError e) {
  switch (e) {
    case PortMappingError::kNone: return std::nullopt;
    case PortMappingError::kNotAuthorized: return Code(ErrorCode::kNotAuthorized);
    case PortMappingError::kNetworkFailure: return Code(ErrorCode::kActionFailed);
    case PortMappingError::kOutOfResources: return Code(ErrorCode::kNoPortMapsAvailable);
  }
  return std::nullopt;
}

}  // namespace

UpnpIgd::UpnpIgd(PortMappingConfig config, NatTable& table) : config_(config), table_(table) {}

std::optional<Transmit> UpnpIgd::HandleSsdp(Timestamp /*now*/, const Endpoint& from,
                                            const IpAddress& to, const IpAddress& gateway,
                                            const IpAddress& lan_address, ByteView datagram) {
  if (!config_.upnp) {
    ++counters_.not_offered;  // nothing listens on 1900
    return std::nullopt;
  }
  const std::optional<upnp::MSearch> search = upnp::ParseMSearch(datagram);
  if (!search) {
    ++counters_.ssdp_malformed;
    return std::nullopt;
  }
  ++counters_.searches;
  const bool multicast = to == upnp::SsdpMulticastAddress();
  const std::optional<std::string> st = upnp::SearchTargetAnswered(search->search_target, kDeviceType);
  if ((config_.multicast_only && !multicast) || !st) {
    ++counters_.searches_ignored;
    return std::nullopt;
  }
  ++counters_.searches_answered;
  const IpAddress source = config_.answer_from == AnswerFrom::kLanAddress ? lan_address : gateway;
  const std::string location =
      "http://" + source.ToString() + ":" + std::to_string(kHttpPort) + kDescriptionPath;
  const std::string usn = std::string(kUdn) + "::" + *st;
  return Transmit{Endpoint(source, upnp::kSsdpPort), from,
                  upnp::BuildSsdpAnswer(location, *st, usn, kServer)};
}

Bytes UpnpIgd::HandleHttp(Timestamp now, const Endpoint& from, const upnp::HttpRequest& request) {
  ++counters_.http_requests;
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (request.method == "GET" && path == kDescriptionPath) {
    ++counters_.descriptions;
    upnp::DeviceDescription d;
    d.udn = kUdn;
    d.friendly_name = "punchlab router";
    d.manufacturer = "punchlab";
    d.service_type = kServiceType;
    d.control_path = kControlPath;
    return upnp::BuildHttpResponse(200, "OK", upnp::BuildDescription(d), kServer);
  }
  if (path != kControlPath) {
    ++counters_.http_errors;
    return upnp::BuildHttpResponse(404, "Not Found", "", kServer);
  }
  if (request.method != "POST") {
    ++counters_.http_errors;
    return upnp::BuildHttpResponse(405, "Method Not Allowed", "", kServer);
  }
  const std::optional<upnp::SoapCall> call = upnp::ParseSoapCall(request.body);
  // SOAPAction: "<service type>#<action>", quoted, naming the body's call.
  const std::optional<std::string> action = request.head.Field("SOAPAction");
  if (!call || !action ||
      (*action != "\"" + call->service_type + "#" + call->action + "\"" &&
       *action != call->service_type + "#" + call->action)) {
    ++counters_.http_errors;
    return upnp::BuildHttpResponse(400, "Bad Request", "", kServer);
  }
  ++counters_.soap_calls;
  return Soap(now, from, *call);
}

Bytes UpnpIgd::Fault(uint16_t code) {
  ++counters_.faults;
  return upnp::BuildHttpResponse(500, "Internal Server Error",
                                 upnp::BuildSoapFault(code, upnp::ErrorDescription(code)), kServer);
}

Bytes UpnpIgd::Soap(Timestamp now, const Endpoint& from, const upnp::SoapCall& call) {
  auto ok = [&](std::vector<std::pair<std::string, std::string>> arguments) {
    return upnp::BuildHttpResponse(
        200, "OK", upnp::BuildSoapResponse(kServiceType, call.action, arguments), kServer);
  };
  if (call.service_type != kServiceType) return Fault(Code(ErrorCode::kInvalidAction));
  if (call.action == upnp::kGetExternalIpAddress) {
    const auto& external = table_.external_addresses();
    return ok({{"NewExternalIPAddress", external.empty() ? "" : external.front().ToString()}});
  }
  if (call.action == "GetConnectionTypeInfo") {  // upnpc -l asks it first
    return ok({{"NewConnectionType", "IP_Routed"}, {"NewPossibleConnectionTypes", "IP_Routed"}});
  }
  if (call.action == "GetStatusInfo") {
    return ok({{"NewConnectionStatus", "Connected"},
               {"NewLastConnectionError", "ERROR_NONE"},
               {"NewUptime", "0"}});
  }
  if (call.action == upnp::kAddPortMapping) return AddMapping(now, from, call, false);
  if (call.action == upnp::kAddAnyPortMapping) return AddMapping(now, from, call, true);
  if (call.action == upnp::kDeletePortMapping) {
    const std::optional<uint32_t> port = ParseNumber(call.Argument("NewExternalPort"), 65535);
    const std::optional<std::string> proto = call.Argument("NewProtocol");
    if (!port || !proto || (*proto != "UDP" && *proto != "TCP")) {
      return Fault(Code(ErrorCode::kInvalidArgs));
    }
    const Protocol protocol = *proto == "UDP" ? Protocol::kUdp : Protocol::kTcp;
    // The asker's lease on that port: its inside endpoint is its address
    // with some port; the table knows leases by inside endpoint, so find
    // the one of this host that the port belongs to.
    bool found = false;
    for (const auto& [inside, external] : table_.PortMappings(protocol)) {
      if (inside.ip == from.ip && external.port == *port) {
        table_.UnmapPort(now, protocol, inside);
        found = true;
        break;
      }
    }
    ++(found ? counters_.deleted : counters_.delete_absent);
    return ok({});
  }
  if (call.action == kGetSpecificPortMappingEntry) return SpecificEntry(now, call);
  if (call.action == kGetGenericPortMappingEntry) return GenericEntry(now, call);
  return Fault(Code(ErrorCode::kInvalidAction));
}

Bytes UpnpIgd::SpecificEntry(Timestamp now, const upnp::SoapCall& call) {
  // As miniupnpd (not UPNP_STRICT): NewRemoteHost is not required; a port
  // that is not a number or 0 is 402; any host's lease is reported.
  const std::optional<uint32_t> port = ParseNumber(call.Argument("NewExternalPort"), 65535);
  const std::optional<std::string> proto = call.Argument("NewProtocol");
  if (!port || *port == 0 || !proto) return Fault(Code(ErrorCode::kInvalidArgs));
  ++counters_.entries_asked;
  if (*proto == "UDP" || *proto == "TCP") {
    const Protocol protocol = *proto == "UDP" ? Protocol::kUdp : Protocol::kTcp;
    table_.Expire(now);
    for (const auto& [inside, external] : table_.PortMappings(protocol)) {
      if (external.port != *port) continue;
      const Timestamp until = table_.PortMappedUntil(protocol, inside).value_or(now);
      const uint32_t left = SecondsLeft(now, until);
      return upnp::BuildHttpResponse(
          200, "OK",
          upnp::BuildSoapResponse(kServiceType, call.action,
                                  {{"NewInternalPort", std::to_string(inside.port)},
                                   {"NewInternalClient", inside.ip.ToString()},
                                   {"NewEnabled", "1"},
                                   // The table keeps no description.
                                   {"NewPortMappingDescription", ""},
                                   {"NewLeaseDuration", std::to_string(left)}}),
          kServer);
    }
  }
  // miniupnpd's upnp_get_redirection_infos finds nothing (an unknown
  // protocol included).
  return Fault(Code(ErrorCode::kNoSuchEntryInArray));
}

Bytes UpnpIgd::GenericEntry(Timestamp now, const upnp::SoapCall& call) {
  // As miniupnpd's upnpsoap.c: NewPortMappingIndex is read by strtol (no
  // digits: 402) and names the index-th of the router's redirections, the
  // newest first (NatTable::PortLeases); past the end (or negative) is 713.
  const std::optional<int64_t> index = ParseIndex(call.Argument("NewPortMappingIndex"));
  if (!index) return Fault(Code(ErrorCode::kInvalidArgs));
  ++counters_.entries_listed;
  table_.Expire(now);
  const std::vector<PortLease> leases = table_.PortLeases();
  if (*index < 0 || *index >= static_cast<int64_t>(leases.size())) {
    return Fault(Code(ErrorCode::kSpecifiedArrayIndexInvalid));
  }
  const PortLease& lease = leases[static_cast<size_t>(*index)];
  return upnp::BuildHttpResponse(
      200, "OK",
      upnp::BuildSoapResponse(kServiceType, call.action,
                              {{"NewRemoteHost", ""},  // leases are for any remote host
                               {"NewExternalPort", std::to_string(lease.external.port)},
                               {"NewProtocol", ProtocolName(lease.protocol)},
                               {"NewInternalPort", std::to_string(lease.inside.port)},
                               {"NewInternalClient", lease.inside.ip.ToString()},
                               {"NewEnabled", "1"},
                               {"NewPortMappingDescription", ""},  // the table keeps none
                               {"NewLeaseDuration", std::to_string(SecondsLeft(now, lease.until))}}),
      kServer);
}

Bytes UpnpIgd::AddMapping(Timestamp now, const Endpoint& from, const upnp::SoapCall& call,
                          bool any) {
  const std::optional<uint32_t> external_port = ParseNumber(call.Argument("NewExternalPort"), 65535);
  const std::optional<uint32_t> internal_port = ParseNumber(call.Argument("NewInternalPort"), 65535);
  const std::optional<uint32_t> lease = ParseNumber(call.Argument("NewLeaseDuration"), 0xffffffffu);
  const std::optional<std::string> proto = call.Argument("NewProtocol");
  const std::optional<std::string> client = call.Argument("NewInternalClient");
  const std::optional<std::string> remote = call.Argument("NewRemoteHost");
  if (!external_port || !internal_port || *internal_port == 0 || !lease || !proto || !client ||
      !remote || (*proto != "UDP" && *proto != "TCP")) {
    return Fault(Code(ErrorCode::kInvalidArgs));
  }
  if (!remote->empty()) return Fault(Code(ErrorCode::kRemoteHostOnlySupportsWildcard));
  if (*external_port == 0) return Fault(Code(ErrorCode::kWildCardNotPermittedInExtPort));
  const std::optional<IpAddress> client_ip = IpAddress::Parse(*client);
  if (!client_ip || *client_ip != from.ip) return Fault(Code(ErrorCode::kNotAuthorized));
  if (const std::optional<uint16_t> refuse = MappingErrorCode(config_.error)) return Fault(*refuse);
  if (*lease != 0 && config_.upnp_lease_error != UpnpLeaseError::kNone) {
    ++counters_.lease_refused;
    return Fault(config_.upnp_lease_error == UpnpLeaseError::kInvalidArgs
                     ? Code(ErrorCode::kInvalidArgs)
                     : Code(ErrorCode::kOnlyPermanentLeasesSupported));
  }
  uint32_t seconds = *lease == 0 ? kMaxLeaseSeconds : std::min(*lease, kMaxLeaseSeconds);
  if (config_.lease_limit) {
    const int64_t limit = std::max<int64_t>(config_.lease_limit->nanos() / 1000000000, 1);
    seconds = static_cast<uint32_t>(std::min<int64_t>(seconds, limit));
  }
  const Protocol protocol = *proto == "UDP" ? Protocol::kUdp : Protocol::kTcp;
  const Endpoint inside(from.ip, static_cast<uint16_t>(*internal_port));
  const uint16_t wanted = static_cast<uint16_t>(*external_port);
  const std::optional<Endpoint> held = table_.PortMapped(protocol, inside);
  if (!any && held && held->port != wanted) return Fault(Code(ErrorCode::kConflictInMappingEntry));
  if (!any && !held && !table_.PortAvailable(protocol, inside, wanted)) {
    return Fault(Code(ErrorCode::kConflictInMappingEntry));
  }
  const std::optional<Endpoint> external =
      table_.MapPort(now, protocol, inside, wanted, now + Duration::Seconds(seconds));
  if (!external) return Fault(Code(ErrorCode::kNoPortMapsAvailable));
  if (!any && external->port != wanted) {
    // The inside endpoint's existing endpoint-independent mapping became the
    // lease on another port: not what AddPortMapping asked.
    table_.UnmapPort(now, protocol, inside);
    return Fault(Code(ErrorCode::kConflictInMappingEntry));
  }
  ++counters_.granted;
  if (held) ++counters_.renewed;
  const std::string service = kServiceType;
  if (any) {
    return upnp::BuildHttpResponse(
        200, "OK",
        upnp::BuildSoapResponse(service, call.action,
                                {{"NewReservedPort", std::to_string(external->port)}}),
        kServer);
  }
  return upnp::BuildHttpResponse(200, "OK", upnp::BuildSoapResponse(service, call.action, {}),
                                 kServer);
}

// ---- UpnpIgdHttp -------------------------------------------------------------

void UpnpIgdHttp::HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) {
  if (!igd_.config().upnp) {
    // A router without UPnP: closed at once (where Linux would refuse).
    igd_.CountNotOffered();
    actions_.push_back(StreamAction::Close(conn, "upnp not offered"));
    return;
  }
  Conn& c = conns_[conn];
  c.remote = remote;
  c.deadline = now + idle_;
}

void UpnpIgdHttp::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  Conn& c = it->second;
  switch (c.reader.Feed(bytes)) {
    case upnp::HttpRequestReader::State::kNeedMore: return;
    case upnp::HttpRequestReader::State::kError:
      igd_.CountBadRequest();
      Finish(conn, upnp::BuildHttpResponse(400, "Bad Request", "", kServer), "bad request");
      return;
    case upnp::HttpRequestReader::State::kDone:
      Finish(conn, igd_.HandleHttp(now, c.remote, c.reader.request()), "answered");
      return;
  }
}

void UpnpIgdHttp::Finish(ConnectionId conn, Bytes response, const char* why) {
  conns_.erase(conn);  // one request per connection: what follows is not read
  actions_.push_back(StreamAction::Write(conn, std::move(response)));
  actions_.push_back(StreamAction::Close(conn, why));
}

void UpnpIgdHttp::HandleClosed(Timestamp /*now*/, ConnectionId conn) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  igd_.CountBadRequest();  // closed before a whole request came
  conns_.erase(it);
}

std::optional<StreamAction> UpnpIgdHttp::PollStreamAction() {
  if (actions_.empty()) return std::nullopt;
  StreamAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

void UpnpIgdHttp::HandleTimeout(Timestamp now) {
  for (auto it = conns_.begin(); it != conns_.end();) {
    if (now >= it->second.deadline) {
      igd_.CountBadRequest();
      actions_.push_back(StreamAction::Close(it->first, "no request in time"));
      it = conns_.erase(it);
    } else {
      ++it;
    }
  }
}

std::optional<Timestamp> UpnpIgdHttp::PollTimeout() const {
  std::optional<Timestamp> t;
  for (const auto& [id, c] : conns_) {
    if (!t || c.deadline < *t) t = c.deadline;
  }
  return t;
}

}  // namespace nat
}  // namespace punchlab
