// The parsed tuple a NAT or firewall decides on: protocol, direction, the two
// endpoints and (TCP) the header flags. Decisions never see packets, so the
// same logic serves ns-3's middlebox and the unit tests.
#pragma once

#include <cstdint>
#include <functional>

#include "punchlab/endpoint.h"

namespace punchlab {
namespace nat {

// IANA protocol numbers, so hosts can convert from an IPv4 header directly.
enum class Protocol : uint8_t { kTcp = 6, kUdp = 17 };
const char* ToString(Protocol p);

// Seen from the middlebox: outbound = from the inside (private) side.
enum class Direction : uint8_t { kOutbound, kInbound };

// TCP header flag bits as they sit in the header's flags byte (ns-3's
// TcpHeader::GetFlags() uses the same values). Ignored for UDP.
struct TcpFlags {
  static constexpr uint8_t kFin = 0x01;
  static constexpr uint8_t kSyn = 0x02;
  static constexpr uint8_t kRst = 0x04;
  static constexpr uint8_t kAck = 0x10;

  uint8_t bits = 0;

  constexpr TcpFlags() = default;
  constexpr explicit TcpFlags(uint8_t b) : bits(b) {}
  constexpr bool syn() const { return (bits & kSyn) != 0; }
  constexpr bool fin() const { return (bits & kFin) != 0; }
  constexpr bool rst() const { return (bits & kRst) != 0; }
  constexpr bool ack() const { return (bits & kAck) != 0; }
};

// One flow (a connection for TCP, an address pair for UDP) as the inside host
// sees it: its own endpoint and the remote one.
struct FlowKey {
  Protocol protocol = Protocol::kUdp;
  Endpoint inside;
  Endpoint remote;

  bool operator==(const FlowKey& o) const {
    return protocol == o.protocol && inside == o.inside && remote == o.remote;
  }
  bool operator!=(const FlowKey& o) const { return !(*this == o); }
};

// Mixes hashes the boost::hash_combine way; used by every key in nat/.
inline size_t HashCombine(size_t seed, size_t h) {
  return seed ^ (h + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const noexcept {
    size_t h = static_cast<size_t>(k.protocol);
    h = HashCombine(h, std::hash<Endpoint>()(k.inside));
    return HashCombine(h, std::hash<Endpoint>()(k.remote));
  }
};

// Why a NAT or firewall refused a packet; hosts count and trace these.
enum class DropReason : uint8_t {
  kNone = 0,
  kFiltered,            // inbound: the filtering behaviour refuses this remote
  kNoMapping,           // inbound: no mapping (or flow) for this destination
  kPoolExhausted,       // outbound: no external port free for a new mapping
  kNoExternalAddress,   // outbound: no external address of the packet's family
  kHairpinOff,          // outbound to the NAT's own external address, hairpinning off
  kUdpBlocked,          // firewall blocks UDP outright
  kNotAllowed,          // firewall: outbound destination not on the allow-list
};
const char* ToString(DropReason r);

}  // namespace nat
}  // namespace punchlab
