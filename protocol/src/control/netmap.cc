#include "punchlab/control/netmap.h"

namespace punchlab::control {

void PeerPatch::ApplyTo(NodeInfo& node) const {
  if (endpoints) node.endpoints = *endpoints;
  if (disco_key) node.disco_key = *disco_key;
  if (home_region) node.home_region = *home_region;
}

const NodeInfo* Netmap::FindPeer(const NodePublicKey& key) const {
  for (const NodeInfo& p : peers) {
    if (p.node_key == key) return &p;
  }
  return nullptr;
}

}  // namespace punchlab::control
