// External ports of one external address for one protocol: who holds which,
// and how a new mapping picks one.
//
// A held port belongs to exactly one inside endpoint (no "port overloading",
// RFC 4787 REQ-3), so an inbound packet to it has one inside destination.
// Several mappings of that endpoint may share it (see kPreserve).
//
// Assignment:
//  * kPreserve: the inside port itself if it is in range and free or already
//    held by the same inside endpoint. That is how a port-preserving symmetric
//    NAT (and Linux masquerade) gives one inside socket the same external port
//    towards every destination. Fallback on collision: the next port upward
//    that is free or held by the same endpoint, wrapping around in the range.
//  * kSequential: the next free port after the previous pick, wrapping.
//  * kRandom: a uniformly random free port from the injected RandomSource:
//    up to 32 random draws, then a scan upward from a random start, so a nearly
//    full pool still finds its last free ports.
// Sequential and random never share: every new mapping gets a port of its own.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "punchlab/endpoint.h"
#include "punchlab/random.h"

namespace punchlab {
namespace nat {

enum class PortAssignment : uint8_t { kPreserve, kSequential, kRandom };

struct PortRange {
  uint16_t first = 1024;
  uint16_t last = 65535;

  uint32_t size() const { return uint32_t{last} - first + 1; }
  bool Contains(uint16_t p) const { return p >= first && p <= last; }
  bool operator==(const PortRange& o) const { return first == o.first && last == o.last; }
  bool operator!=(const PortRange& o) const { return !(*this == o); }
};

class PortPool {
 public:
  explicit PortPool(PortRange range) : range_(range), cursor_(range.first) {}

  // Whether `inside` may take `port` (in range, and free or already its own).
  bool CanTake(uint16_t port, const Endpoint& inside) const;
  // A port for a new mapping of `inside`, or nullopt when the pool has none.
  // Picking does not hold it: call Hold once the mapping exists.
  std::optional<uint16_t> Pick(const Endpoint& inside, PortAssignment how, RandomSource& rng);

  // Marks a free `port` as held by `inside` (one hold however many mappings
  // share it), and frees it again.
  void Hold(uint16_t port, const Endpoint& inside);
  void Release(uint16_t port);

 private:
  // First port from `start` upward (wrapping) that `ok` accepts.
  template <typename Ok>
  std::optional<uint16_t> ScanFrom(uint16_t start, Ok ok) const;
  bool Free(uint16_t port) const { return held_.find(port) == held_.end(); }
  uint16_t Wrap(uint32_t p) const;

  PortRange range_;
  uint16_t cursor_;  // kSequential: where the next search starts
  std::unordered_map<uint16_t, Endpoint> held_;  // port -> inside endpoint
};

}  // namespace nat
}  // namespace punchlab
