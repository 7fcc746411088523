// The root device description an SSDP answer's LOCATION points to (UPnP
// Device Architecture 1.1 section 2.3), read with libxml2: which service
// controls port mappings, and at which URL.
#pragma once

#include <optional>
#include <string>

#include "punchlab/portmap/upnp-errors.h"
#include "punchlab/portmap/upnp-http.h"

namespace punchlab {
namespace portmap {
namespace upnp {

struct IgdService {
  // "urn:schemas-upnp-org:service:WANIPConnection:2", as the device wrote it;
  // SOAP calls name it.
  std::string service_type;
  Url control_url;  // resolved against URLBase, or else the description's own URL
};

// The port-mapping service of the description in `xml`, fetched from
// `location`: WANIPConnection (the highest version offered) before
// WANPPPConnection, anywhere in the device tree; element names are matched
// by local name, namespaces aside, as IGDs vary. nullopt with the reason in
// `error` when the text is not a description with such a service (or its
// control URL does not resolve to http://).
std::optional<IgdService> ParseDescription(const std::string& xml, const Url& location,
                                           ParseError* error = nullptr);

}  // namespace upnp
}  // namespace portmap
}  // namespace punchlab
