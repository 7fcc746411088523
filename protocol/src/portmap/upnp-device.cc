#include "punchlab/portmap/upnp-device.h"

#include <cctype>

#include "portmap/upnp-xml.h"
#include "punchlab/ascii.h"

namespace punchlab {
namespace portmap {
namespace upnp {
namespace {

constexpr const char* kDeviceNs = "urn:schemas-upnp-org:device-1-0";
constexpr const char* kControlNs = "urn:schemas-upnp-org:control-1-0";

Bytes ToBytes(const std::string& s) { return Bytes(s.begin(), s.end()); }

// "urn:...:Name:3" -> ("urn:...:Name", 3); version 0 when there is none.
std::pair<std::string, int> SplitVersion(const std::string& type) {
  const size_t colon = type.rfind(':');
  if (colon == std::string::npos || colon + 1 >= type.size()) return {type, 0};
  int v = 0;
  for (size_t i = colon + 1; i < type.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(type[i])) || v > 1000) return {type, 0};
    v = v * 10 + (type[i] - '0');
  }
  return {type.substr(0, colon), v};
}

// <name>text</name> under `parent`, in the parent's namespace.
xmlNode* AddText(xmlNode* parent, const char* name, const std::string& text) {
  xmlNode* n = xmlNewChild(parent, parent->ns, X(name), nullptr);
  if (!text.empty()) xmlNodeAddContent(n, X(text));
  return n;
}

// A device element with its type, names and UDN; its children go after.
xmlNode* AddDevice(xmlNode* parent, const std::string& type, const std::string& name,
                   const DeviceDescription& d, const std::string& udn_suffix) {
  xmlNode* device = xmlNewChild(parent, parent->ns, X("device"), nullptr);
  AddText(device, "deviceType", type);
  AddText(device, "friendlyName", name);
  AddText(device, "manufacturer", d.manufacturer);
  AddText(device, "modelName", d.friendly_name);
  AddText(device, "UDN", d.udn + udn_suffix);
  return device;
}

}  // namespace

std::optional<MSearch> ParseMSearch(ByteView datagram, ParseError* error) {
  auto fail = [&](ParseError e) -> std::optional<MSearch> {
    if (error) *error = e;
    return std::nullopt;
  };
  derp::HttpHeadReader reader;
  if (reader.Feed(datagram) != derp::HttpHeadReader::State::kDone) return fail(ParseError::kHttp);
  const derp::HttpHead& head = reader.head();
  if (head.start_line != "M-SEARCH * HTTP/1.1") return fail(ParseError::kHttp);
  const std::optional<std::string> man = head.Field("MAN");
  const std::optional<std::string> st = head.Field("ST");
  if (!man || LowerAscii(*man) != "\"ssdp:discover\"" || !st || st->empty()) {
    return fail(ParseError::kMissingHeader);
  }
  MSearch m;
  m.search_target = *st;
  if (const std::optional<std::string> mx = head.Field("MX")) {
    int v = 0;
    bool ok = !mx->empty() && mx->size() <= 3;
    for (char c : *mx) {
      if (!std::isdigit(static_cast<unsigned char>(c))) ok = false;
      if (ok) v = v * 10 + (c - '0');
    }
    m.mx = ok ? v : 0;
  }
  if (error) *error = ParseError::kNone;
  return m;
}

std::optional<std::string> SearchTargetAnswered(const std::string& search_target,
                                                const std::string& device_type) {
  // ssdp:all: one answer per device and service, each with its own type as
  // ST; the root device's is the one a client looking for an IGD reads.
  if (search_target == "ssdp:all") return device_type;
  if (search_target == "upnp:rootdevice") return search_target;
  const auto [asked, asked_version] = SplitVersion(search_target);
  const auto [own, own_version] = SplitVersion(device_type);
  if (asked == own && asked_version >= 1 && asked_version <= own_version) return search_target;
  return std::nullopt;
}

Bytes BuildSsdpAnswer(const std::string& location, const std::string& search_target,
                      const std::string& usn, const std::string& server) {
  return ToBytes("HTTP/1.1 200 OK\r\n"
                 "CACHE-CONTROL: max-age=120\r\n"
                 "ST: " + search_target + "\r\n"
                 "USN: " + usn + "\r\n"
                 "EXT:\r\n"
                 "SERVER: " + server + "\r\n"
                 "LOCATION: " + location + "\r\n"
                 "\r\n");
}

HttpRequestReader::State HttpRequestReader::Fail(std::string why) {
  error_ = std::move(why);
  state_ = State::kError;
  return state_;
}

HttpRequestReader::State HttpRequestReader::Feed(ByteView bytes) {
  if (state_ != State::kNeedMore) return state_;
  if (!head_done_) {
    const derp::HttpHeadReader::State s = head_reader_.Feed(bytes);
    if (s == derp::HttpHeadReader::State::kError) return Fail(head_reader_.error());
    if (s == derp::HttpHeadReader::State::kNeedMore) return state_;
    head_done_ = true;
    request_.head = head_reader_.head();
    const Bytes rest = head_reader_.TakeRest();
    request_.body.assign(rest.begin(), rest.end());
    // "METHOD target HTTP/1.x"
    const std::string& line = request_.head.start_line;
    const size_t a = line.find(' ');
    const size_t b = a == std::string::npos ? a : line.find(' ', a + 1);
    if (a == std::string::npos || b == std::string::npos || a == 0 || b == a + 1 ||
        (line.compare(b + 1, std::string::npos, "HTTP/1.1") != 0 &&
         line.compare(b + 1, std::string::npos, "HTTP/1.0") != 0)) {
      return Fail("not an HTTP/1.x request line: \"" + line.substr(0, 64) + "\"");
    }
    request_.method = line.substr(0, a);
    request_.target = line.substr(a + 1, b - a - 1);
    if (request_.head.Field("Transfer-Encoding")) return Fail("a chunked request body");
    if (const std::optional<std::string> length = request_.head.Field("Content-Length")) {
      if (length->empty() || length->size() > 9) return Fail("bad Content-Length");
      for (char c : *length) {
        if (c < '0' || c > '9') return Fail("bad Content-Length");
        length_ = length_ * 10 + static_cast<size_t>(c - '0');
      }
      if (length_ > kMaxBody) return Fail("body longer than 64 KiB");
    }
  } else {
    request_.body.append(bytes.begin(), bytes.end());
  }
  if (request_.body.size() >= length_) {
    request_.body.resize(length_);  // bytes after the body are not a second request
    state_ = State::kDone;
  }
  return state_;
}

Bytes BuildHttpResponse(int status, const std::string& reason, const std::string& body,
                        const std::string& server) {
  std::string head = "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\n";
  if (!body.empty()) head += "Content-Type: text/xml; charset=\"utf-8\"\r\n";
  head += "Connection: close\r\n"
          "Content-Length: " + std::to_string(body.size()) + "\r\n"
          "Server: " + server + "\r\n"
          "Ext:\r\n"
          "\r\n";
  return ToBytes(head + body);
}

std::string BuildDescription(const DeviceDescription& d) {
  const std::string v = std::to_string(d.igd_version);
  XmlDoc doc(xmlNewDoc(X("1.0")));
  xmlNode* root = xmlNewDocNode(doc.get(), nullptr, X("root"), nullptr);
  xmlDocSetRootElement(doc.get(), root);
  xmlSetNs(root, xmlNewNs(root, X(kDeviceNs), nullptr));
  xmlNode* spec = xmlNewChild(root, root->ns, X("specVersion"), nullptr);
  AddText(spec, "major", "1");
  AddText(spec, "minor", "1");
  xmlNode* igd = AddDevice(root, "urn:schemas-upnp-org:device:InternetGatewayDevice:" + v,
                           d.friendly_name, d, "");
  xmlNode* wan = AddDevice(xmlNewChild(igd, igd->ns, X("deviceList"), nullptr),
                           "urn:schemas-upnp-org:device:WANDevice:" + v, "WANDevice", d, "-wan");
  xmlNode* conn = AddDevice(xmlNewChild(wan, wan->ns, X("deviceList"), nullptr),
                            "urn:schemas-upnp-org:device:WANConnectionDevice:" + v,
                            "WANConnectionDevice", d, "-wanconn");
  xmlNode* services = xmlNewChild(conn, conn->ns, X("serviceList"), nullptr);
  xmlNode* service = xmlNewChild(services, services->ns, X("service"), nullptr);
  AddText(service, "serviceType", d.service_type);
  const std::string id = SplitVersion(d.service_type).first;
  AddText(service, "serviceId",
          "urn:upnp-org:serviceId:" + id.substr(id.rfind(':') + 1) + "1");
  AddText(service, "SCPDURL", d.control_path + ".xml");
  AddText(service, "controlURL", d.control_path);
  AddText(service, "eventSubURL", "/evt" + d.control_path);
  return Serialize(doc.get());
}

std::optional<std::string> SoapCall::Argument(const std::string& name) const {
  for (const auto& [k, v] : arguments) {
    if (k == name) return v;
  }
  return std::nullopt;
}

std::optional<SoapCall> ParseSoapCall(const std::string& xml, ParseError* error) {
  auto fail = [&](ParseError e) -> std::optional<SoapCall> {
    if (error) *error = e;
    return std::nullopt;
  };
  const XmlDoc doc = ParseXml(xml);
  if (!doc) return fail(ParseError::kXml);
  xmlNode* envelope = xmlDocGetRootElement(doc.get());
  if (!envelope || LocalName(envelope) != "Envelope") return fail(ParseError::kNotSoap);
  const std::vector<xmlNode*> calls = ChildElements(Child(envelope, "Body"));
  if (calls.size() != 1) return fail(ParseError::kNotSoap);
  SoapCall call;
  call.action = LocalName(calls[0]);
  if (calls[0]->ns && calls[0]->ns->href) {
    call.service_type = reinterpret_cast<const char*>(calls[0]->ns->href);
  }
  for (xmlNode* argument : ChildElements(calls[0])) {
    call.arguments.emplace_back(LocalName(argument), Text(argument));
  }
  if (error) *error = ParseError::kNone;
  return call;
}

std::string BuildSoapResponse(const std::string& service_type, const std::string& action,
                              const std::vector<std::pair<std::string, std::string>>& arguments) {
  return SoapEnvelope(service_type, action + "Response", arguments);
}

std::string BuildSoapFault(uint16_t code, const std::string& description) {
  SoapDoc d = NewSoapDoc();
  xmlNode* fault = xmlNewDocNode(d.doc.get(), d.s, X("Fault"), nullptr);
  xmlAddChild(d.body, fault);
  AddPlain(d.doc.get(), fault, "faultcode", "s:Client");
  AddPlain(d.doc.get(), fault, "faultstring", "UPnPError");
  xmlNode* detail = xmlNewDocNode(d.doc.get(), nullptr, X("detail"), nullptr);
  xmlAddChild(fault, detail);
  xmlNode* upnp = xmlNewDocNode(d.doc.get(), nullptr, X("UPnPError"), nullptr);
  xmlAddChild(detail, upnp);
  xmlSetNs(upnp, xmlNewNs(upnp, X(kControlNs), nullptr));
  AddPlain(d.doc.get(), upnp, "errorCode", std::to_string(code));
  AddPlain(d.doc.get(), upnp, "errorDescription", description);
  return Serialize(d.doc.get());
}

const char* ErrorDescription(uint16_t code) {
  switch (static_cast<ErrorCode>(code)) {
    case ErrorCode::kInvalidAction: return "Invalid Action";
    case ErrorCode::kInvalidArgs: return "Invalid Args";
    case ErrorCode::kActionFailed: return "Action Failed";
    case ErrorCode::kNotAuthorized: return "Action not authorized";
    case ErrorCode::kSpecifiedArrayIndexInvalid: return "SpecifiedArrayIndexInvalid";
    case ErrorCode::kNoSuchEntryInArray: return "NoSuchEntryInArray";
    case ErrorCode::kWildCardNotPermittedInSrcIp: return "WildCardNotPermittedInSrcIP";
    case ErrorCode::kWildCardNotPermittedInExtPort: return "WildCardNotPermittedInExtPort";
    case ErrorCode::kConflictInMappingEntry: return "ConflictInMappingEntry";
    case ErrorCode::kSamePortValuesRequired: return "SamePortValuesRequired";
    case ErrorCode::kOnlyPermanentLeasesSupported: return "OnlyPermanentLeasesSupported";
    case ErrorCode::kRemoteHostOnlySupportsWildcard: return "RemoteHostOnlySupportsWildcard";
    case ErrorCode::kExternalPortOnlySupportsWildcard: return "ExternalPortOnlySupportsWildcard";
    case ErrorCode::kNoPortMapsAvailable: return "NoPortMapsAvailable";
    case ErrorCode::kConflictWithOtherMechanisms: return "ConflictWithOtherMechanisms";
  }
  return "Error";
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
