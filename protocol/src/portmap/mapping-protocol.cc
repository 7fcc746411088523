#include "punchlab/portmap/mapping-protocol.h"

namespace punchlab {
namespace portmap {

const char* ToString(MappingProtocol p) {
  switch (p) {
    case MappingProtocol::kPmp: return "pmp";
    case MappingProtocol::kPcp: return "pcp";
    case MappingProtocol::kUpnp: return "upnp";
  }
  return "?";
}

std::optional<MappingProtocol> ParseMappingProtocol(std::string_view text) {
  for (MappingProtocol p : {MappingProtocol::kPmp, MappingProtocol::kPcp, MappingProtocol::kUpnp}) {
    if (text == ToString(p)) return p;
  }
  return std::nullopt;
}

}  // namespace portmap
}  // namespace punchlab
