#include "punchlab/control/overlay-allocator.h"

#include <cassert>

namespace punchlab::control {

OverlayAllocator::OverlayAllocator(IpAddress base, int prefix_len) {
  assert(base.is_v4() && prefix_len >= 8 && prefix_len <= 30);
  const uint32_t size = uint32_t{1} << (32 - prefix_len);
  base_ = base.v4() & ~(size - 1);
  host_count_ = size - 2;
}

std::optional<IpAddress> OverlayAllocator::Assign(const NodePublicKey& key) {
  auto it = by_key_.find(key);
  if (it != by_key_.end()) return IpAddress::V4(base_ + it->second);
  if (taken_.size() >= host_count_) return std::nullopt;
  // Public keys are uniformly random, so their leading bytes already spread
  // first choices evenly; collisions probe upward.
  const KeyBytes& raw = key.raw();
  const uint32_t seed = (uint32_t{raw[0]} << 24) | (uint32_t{raw[1]} << 16) |
                        (uint32_t{raw[2]} << 8) | uint32_t{raw[3]};
  uint32_t offset = seed % host_count_;
  while (taken_.count(offset + 1) != 0) offset = (offset + 1) % host_count_;
  taken_.insert(offset + 1);
  by_key_.emplace(key, offset + 1);
  return IpAddress::V4(base_ + offset + 1);
}

}  // namespace punchlab::control
