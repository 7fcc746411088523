#include "punchlab/nat/port-pool.h"

#include <cassert>

namespace punchlab {
namespace nat {

namespace {
constexpr int kRandomDraws = 32;
}  // namespace

uint16_t PortPool::Wrap(uint32_t p) const {
  return static_cast<uint16_t>(range_.first + (p - range_.first) % range_.size());
}

bool PortPool::CanTake(uint16_t port, const Endpoint& inside) const {
  if (!range_.Contains(port)) return false;
  auto it = held_.find(port);
  return it == held_.end() || it->second == inside;
}

template <typename Ok>
std::optional<uint16_t> PortPool::ScanFrom(uint16_t start, Ok ok) const {
  for (uint32_t i = 0; i < range_.size(); ++i) {
    const uint16_t port = Wrap(uint32_t{start} + i);
    if (ok(port)) return port;
  }
  return std::nullopt;
}

std::optional<uint16_t> PortPool::Pick(const Endpoint& inside, PortAssignment how,
                                       RandomSource& rng) {
  switch (how) {
    case PortAssignment::kPreserve: {
      const uint16_t start = range_.Contains(inside.port) ? inside.port : range_.first;
      return ScanFrom(start, [&](uint16_t p) { return CanTake(p, inside); });
    }
    case PortAssignment::kSequential: {
      if (held_.size() >= range_.size()) return std::nullopt;
      auto port = ScanFrom(cursor_, [&](uint16_t p) { return Free(p); });
      if (port) cursor_ = Wrap(uint32_t{*port} + 1);
      return port;
    }
    case PortAssignment::kRandom: {
      if (held_.size() >= range_.size()) return std::nullopt;
      for (int i = 0; i < kRandomDraws; ++i) {
        const uint16_t p = Wrap(range_.first + rng.Uniform(range_.size()));
        if (Free(p)) return p;
      }
      const uint16_t start = Wrap(range_.first + rng.Uniform(range_.size()));
      return ScanFrom(start, [&](uint16_t p) { return Free(p); });
    }
  }
  return std::nullopt;
}

void PortPool::Hold(uint16_t port, const Endpoint& inside) {
  const bool inserted = held_.emplace(port, inside).second;
  assert(inserted);
  (void)inserted;
}

void PortPool::Release(uint16_t port) {
  const size_t erased = held_.erase(port);
  assert(erased == 1);
  (void)erased;
}

}  // namespace nat
}  // namespace punchlab
