#include "punchlab/portmap/upnp-ssdp.h"

#include <algorithm>

#include "punchlab/derp/http-upgrade.h"
#include "punchlab/portmap/upnp-http.h"

namespace punchlab {
namespace portmap {
namespace upnp {

IpAddress SsdpMulticastAddress() { return IpAddress::V4(239, 255, 255, 250); }

Bytes BuildMSearch(const std::string& search_target, int mx) {
  const std::string text = "M-SEARCH * HTTP/1.1\r\n"
                           "HOST: 239.255.255.250:1900\r\n"
                           "MAN: \"ssdp:discover\"\r\n"
                           "MX: " + std::to_string(std::clamp(mx, 1, 5)) + "\r\n"
                           "ST: " + search_target + "\r\n"
                           "\r\n";
  return Bytes(text.begin(), text.end());
}

std::optional<SsdpAnswer> ParseSsdpAnswer(ByteView datagram, ParseError* error) {
  auto fail = [&](ParseError e) -> std::optional<SsdpAnswer> {
    if (error) *error = e;
    return std::nullopt;
  };
  // A datagram is the whole message: its head must end in it.
  derp::HttpHeadReader reader;
  if (reader.Feed(datagram) != derp::HttpHeadReader::State::kDone) return fail(ParseError::kHttp);
  const derp::HttpHead& head = reader.head();
  const std::string& line = head.start_line;
  if (line.compare(0, 9, "HTTP/1.1 ") != 0 && line.compare(0, 9, "HTTP/1.0 ") != 0) {
    return fail(ParseError::kHttp);
  }
  if (line.compare(9, 3, "200") != 0 || (line.size() > 12 && line[12] != ' ')) {
    return fail(ParseError::kHttpStatus);
  }
  SsdpAnswer answer;
  const std::optional<std::string> location = head.Field("LOCATION");
  const std::optional<std::string> st = head.Field("ST");
  if (!location || !st || location->empty()) return fail(ParseError::kMissingHeader);
  if (!ParseUrl(*location)) return fail(ParseError::kBadUrl);
  answer.location = *location;
  answer.search_target = *st;
  answer.usn = head.Field("USN").value_or("");
  answer.server = head.Field("SERVER").value_or("");
  if (error) *error = ParseError::kNone;
  return answer;
}

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
