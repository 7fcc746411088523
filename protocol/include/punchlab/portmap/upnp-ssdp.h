// SSDP discovery of an Internet Gateway Device (UPnP Device Architecture 1.1
// section 1.3): the M-SEARCH a client sends over UDP, to the gateway itself
// or to 239.255.255.250:1900 (some routers answer only the multicast one,
// tailscale#3197), and the unicast answer whose LOCATION names the root
// device description. Sans-IO: the host sends and receives the datagrams.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/portmap/upnp-errors.h"

namespace punchlab {
namespace portmap {
namespace upnp {

constexpr uint16_t kSsdpPort = 1900;
// 239.255.255.250, SSDP's multicast group.
IpAddress SsdpMulticastAddress();

// What a client searches for: the IGD device (version 1 matches version 2
// devices too, which answer for every version they implement).
constexpr const char* kIgdSearchTarget = "urn:schemas-upnp-org:device:InternetGatewayDevice:1";

// "M-SEARCH * HTTP/1.1" with HOST 239.255.255.250:1900, MAN "ssdp:discover",
// MX (seconds a device may wait before it answers, 1 to 5) and ST.
Bytes BuildMSearch(const std::string& search_target = kIgdSearchTarget, int mx = 2);

struct SsdpAnswer {
  std::string location;  // the root description's URL, as sent
  std::string search_target;  // ST
  std::string usn;            // USN
  std::string server;         // SERVER, may be empty
};

// An answer to an M-SEARCH: "HTTP/1.1 200 OK" with LOCATION and ST (header
// names in any case). nullopt, with the reason in `error`, for anything else
// (NOTIFY announcements included: a client that searched waits for answers).
std::optional<SsdpAnswer> ParseSsdpAnswer(ByteView datagram, ParseError* error = nullptr);

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
