#include "punchlab/nat/flow-types.h"

namespace punchlab {
namespace nat {

const char* ToString(Protocol p) {
  switch (p) {
    case Protocol::kTcp: return "tcp";
    case Protocol::kUdp: return "udp";
  }
  return "?";
}

const char* ToString(DropReason r) {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kFiltered: return "filtered";
    case DropReason::kNoMapping: return "no-mapping";
    case DropReason::kPoolExhausted: return "pool-exhausted";
    case DropReason::kNoExternalAddress: return "no-external-address";
    case DropReason::kHairpinOff: return "hairpin-off";
    case DropReason::kUdpBlocked: return "udp-blocked";
    case DropReason::kNotAllowed: return "not-allowed";
  }
  return "?";
}

}  // namespace nat
}  // namespace punchlab
