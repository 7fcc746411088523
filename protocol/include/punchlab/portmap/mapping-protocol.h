// The three ways to ask a router for a port mapping: the name a client
// reports a mapping by and a NAT's `port_mapping` lists the services it
// offers by (one name, one place).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace punchlab {
namespace portmap {

enum class MappingProtocol : uint8_t { kPmp, kPcp, kUpnp };
const char* ToString(MappingProtocol p);  // "pmp", "pcp", "upnp"
std::optional<MappingProtocol> ParseMappingProtocol(std::string_view text);

}  // namespace portmap
}  // namespace punchlab
