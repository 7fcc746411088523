#include "punchlab/control/derp-map.h"

namespace punchlab::control {

std::optional<TlsDial> DerpNode::Tls() const {
  if (plain_http) return std::nullopt;
  TlsDial tls;
  tls.cert_name = cert_name;
  tls.insecure_for_tests = insecure_for_tests;
  return tls;
}

const DerpRegion* DerpMap::FindRegion(RegionId id) const {
  for (const DerpRegion& r : regions) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

}  // namespace punchlab::control
