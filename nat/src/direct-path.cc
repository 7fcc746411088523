#include "punchlab/nat/direct-path.h"

namespace punchlab {
namespace nat {
namespace {

bool Eim(const NatConfig& c) { return c.mapping == Dependence::kEndpointIndependent; }

// x's pings reach y and y's pongs come back (see the header for the argument).
bool Reaches(const NatConfig& x, const NatConfig& y) {
  const bool ping_in = y.filtering == Dependence::kEndpointIndependent ||
                       (Eim(y) && (y.filtering == Dependence::kAddressDependent || Eim(x)));
  const bool pong_back = Eim(y) || x.filtering != Dependence::kAddressAndPortDependent;
  return ping_in && pong_back;
}

}  // namespace

bool NatAllowsDirect(const NatConfig& a, const NatConfig& b) {
  return Reaches(a, b) || Reaches(b, a);
}

}  // namespace nat
}  // namespace punchlab
