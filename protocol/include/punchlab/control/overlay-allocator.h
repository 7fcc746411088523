// Overlay (tailnet) addresses: each node key gets one IPv4 address from a
// prefix (100.64.0.0/10, the CGNAT range, as in Tailscale), unique across the
// server and the same every time that key registers again.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>

#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"

namespace punchlab::control {

class OverlayAllocator {
 public:
  // `prefix_len` in [8, 30]; the prefix's first and last address are never
  // handed out.
  explicit OverlayAllocator(IpAddress base = IpAddress::V4(100, 64, 0, 0), int prefix_len = 10);

  // The key's address: the one it had before, else a fresh one. The first
  // choice depends only on the key, so a run does not depend on the order in
  // which nodes register. nullopt when the prefix is full.
  std::optional<IpAddress> Assign(const NodePublicKey& key);
  size_t assigned() const { return by_key_.size(); }

 private:
  uint32_t base_;
  uint32_t host_count_;  // usable addresses: prefix size minus first and last
  // Addresses stay reserved for their key after it leaves, which is what keeps
  // them stable across re-registration.
  std::map<NodePublicKey, uint32_t> by_key_;
  std::set<uint32_t> taken_;
};

}  // namespace punchlab::control
