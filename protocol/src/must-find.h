// A map lookup that only a broken internal invariant could make fail (an
// index naming an entry that must exist): asserted, not thrown, since
// nothing from the network can cause it (DESIGN.md: a broken internal
// invariant is an assertion). Input from the network is looked up with find
// and dropped and counted when missing.
#pragma once

#include <cassert>

namespace punchlab {

template <typename Map, typename Key>
auto& MustFind(Map& map, const Key& key) {
  auto it = map.find(key);
  assert(it != map.end());
  return it->second;
}

}  // namespace punchlab
