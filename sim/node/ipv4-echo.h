// Just enough IPv4 + ICMP for `punchlab-node wg` to be a host inside a
// WireGuard tunnel: answer pings (so `ping` from a real WireGuard's side
// crosses the tunnel and comes back) and send pings of its own. The header
// and ICMP checksums are the RFC 1071 ones' complement sum.
#pragma once

#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"

namespace punchlab::cli {

struct IcmpEcho {
  IpAddress source;
  IpAddress destination;
  bool request = true;  // echo request (8) or reply (0)
  uint16_t id = 0;
  uint16_t sequence = 0;
  Bytes data;
};

// An IPv4 packet carrying an ICMP echo, checksums filled.
Bytes EncodeIcmpEcho(const IcmpEcho& echo);
// The echo in `packet` (trailing padding after the IPv4 total length is
// ignored, as a tunnel's plaintext is padded to 16 bytes); nullopt for
// anything else or a wrong checksum.
std::optional<IcmpEcho> DecodeIcmpEcho(ByteView packet);

}  // namespace punchlab::cli
