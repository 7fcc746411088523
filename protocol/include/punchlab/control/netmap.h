// What a node learns from the coordination server: itself as the server sees
// it, the peers of its own domain, and the DERP map.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "punchlab/control/derp-map.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"

namespace punchlab::control {

// A registered node as it appears in netmaps.
struct NodeInfo {
  NodePublicKey node_key;
  DiscoPublicKey disco_key;
  std::vector<Endpoint> endpoints;  // as the node reported them, in its order
  RegionId home_region = kNoRegion;
  IpAddress address;  // overlay address assigned by the server
  std::string user;   // who the identity provider said registered it

  bool operator==(const NodeInfo& o) const {
    return node_key == o.node_key && disco_key == o.disco_key && endpoints == o.endpoints &&
           home_region == o.home_region && address == o.address && user == o.user;
  }
  bool operator!=(const NodeInfo& o) const { return !(*this == o); }
};

// What changed of a node its receiver already holds: its key and only the
// fields that changed, each with its value now (Tailscale's
// tailcfg.PeerChange in a MapResponse's PeersChangedPatch). A node's
// endpoint or home-region update then costs its new endpoints, not its whole
// entry again. The address and user never change this way: a node with a new
// one registered again and is sent whole.
struct PeerPatch {
  NodePublicKey node_key;
  std::optional<std::vector<Endpoint>> endpoints;
  std::optional<DiscoPublicKey> disco_key;
  std::optional<RegionId> home_region;

  // `node` (the entry of node_key) with the patch's fields replaced.
  void ApplyTo(NodeInfo& node) const;
  bool operator==(const PeerPatch& o) const {
    return node_key == o.node_key && endpoints == o.endpoints && disco_key == o.disco_key &&
           home_region == o.home_region;
  }
  bool operator!=(const PeerPatch& o) const { return !(*this == o); }
};

struct Netmap {
  std::string domain;
  NodeInfo self;
  std::vector<NodeInfo> peers;  // same domain only, ordered by node key
  DerpMap derp_map;

  // nullptr when `key` is not a peer.
  const NodeInfo* FindPeer(const NodePublicKey& key) const;
  bool operator==(const Netmap& o) const {
    return domain == o.domain && self == o.self && peers == o.peers && derp_map == o.derp_map;
  }
  bool operator!=(const Netmap& o) const { return !(*this == o); }
};

}  // namespace punchlab::control
