#include "punchlab/control/derp-map.h"

namespace punchlab::control {

const DerpRegion* DerpMap::FindRegion(RegionId id) const {
  for (const DerpRegion& r : regions) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace punchlab::control
