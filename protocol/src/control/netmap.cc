#include "punchlab/control/netmap.h"

namespace punchlab::control {

const NodeInfo* Netmap::FindPeer(const NodePublicKey& key) const {
  for (const NodeInfo& p : peers) {
    if (p.node_key == key) return &p;
  }
  return nullptr;
}

}  // namespace punchlab::control
