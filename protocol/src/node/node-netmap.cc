// Node: what the control plane and netcheck tell it. The netmap's peers
// become peers and sealer entries (their keys and PeerPaths made at first
// use); its DERP map becomes netcheck's
// regions; netcheck's reports become published endpoints and the home region.
#include <algorithm>
#include <cassert>
#include <type_traits>
#include <utility>

#include "punchlab/node/node.h"
#include "punchlab/overloaded.h"

namespace punchlab {
namespace node {

// ---- control -----------------------------------------------------------------

void Node::OnControlEvent(Timestamp now, control::ClientEvent event) {
  std::visit(
      [&](auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, control::Registered>) {
          Emit(now, Registered{e.address, e.user, e.domain});
        } else if constexpr (std::is_same_v<T, control::RegistrationRefused>) {
          Emit(now, RegistrationRefused{e.reason});
        } else if constexpr (std::is_same_v<T, control::NetmapUpdated>) {
          ApplyNetmap(now, std::move(e.netmap));
        } else if constexpr (std::is_same_v<T, control::PeersChanged>) {
          ApplyPeersChanged(now, std::move(e));
        } else {
          static_assert(std::is_same_v<T, control::Disconnected>);
          Emit(now, ControlDisconnected{e.reason, e.will_reconnect});
        }
      },
      event);
}

// The entries are moved from: a netmap of a big domain is a NodeInfo per
// peer, copied once per node before.
void Node::ApplyNetmap(Timestamp now, control::Netmap&& netmap) {
  ApplyDerpMap(now, netmap.derp_map);
  std::vector<NodePublicKey> listed;
  listed.reserve(netmap.peers.size());
  for (control::NodeInfo& info : netmap.peers) {
    if (info.node_key == public_key()) continue;
    listed.push_back(info.node_key);
    auto it = peers_.find(info.node_key);
    if (it == peers_.end()) {
      AddPeer(now, std::move(info));
    } else {
      UpdatePeer(now, it->first, it->second, std::move(info));
    }
  }
  std::sort(listed.begin(), listed.end());
  std::vector<NodePublicKey> gone;
  for (const auto& [key, peer] : peers_) {
    if (!std::binary_search(listed.begin(), listed.end(), key)) gone.push_back(key);
  }
  std::sort(gone.begin(), gone.end());  // removed (and reported) in key order
  for (const NodePublicKey& key : gone) RemovePeer(now, key);
}

// Only what changed: one entry per changed peer, whatever the domain's size.
void Node::ApplyPeersChanged(Timestamp now, control::PeersChanged&& change) {
  for (control::NodeInfo& info : change.changed) {
    if (info.node_key == public_key()) continue;
    auto it = peers_.find(info.node_key);
    if (it == peers_.end()) {
      AddPeer(now, std::move(info));
    } else {
      UpdatePeer(now, it->first, it->second, std::move(info));
    }
  }
  // A patch costs its fields: the entry is the one held, with them replaced.
  for (const control::PeerPatch& patch : change.patched) {
    if (patch.node_key == public_key()) continue;
    auto it = peers_.find(patch.node_key);
    if (it == peers_.end()) {
      ++stats_.patches_unknown_peer;
      continue;
    }
    control::NodeInfo info = it->second.info;
    patch.ApplyTo(info);
    UpdatePeer(now, it->first, it->second, std::move(info));
  }
  for (const NodePublicKey& key : change.removed) {
    if (peers_.count(key) != 0) RemovePeer(now, key);
  }
}

void Node::ApplyDerpMap(Timestamp now, const control::DerpMap& map) {
  if (have_derp_map_ && map == derp_map_) return;
  derp_map_ = map;
  have_derp_map_ = true;
  MarkAllBusy();  // the region each peer is reached through may change
  // A region that left the map, or whose server moved, loses its connection.
  for (RegionId region : derp_.Stale(derp_map_)) RetireDerp(now, region);
  if (home_ != kNoRegion) {
    if (derp::Client* client = derp_.Ensure(now, home_, derp_map_)) {
      client->SetPreferred(now, true);
    }
  }

  std::vector<netcheck::Region> regions;
  for (const control::DerpRegion& r : derp_map_.regions) {
    netcheck::Region region{r.id, r.name, {}};
    for (const control::DerpNode& n : r.nodes) region.stun.push_back(n.StunEndpoint());
    regions.push_back(std::move(region));
  }
  netcheck_.SetRegions(std::move(regions));
  netcheck_.StartReport(now);
}

// No key is derived and no PeerPaths made here: both wait for first use
// (node.h, Peer).
void Node::AddPeer(Timestamp now, control::NodeInfo&& info) {
  const NodePublicKey key = info.node_key;
  auto [it, added] = peers_.emplace(key, Peer{});
  assert(added);  // the netmap's peers are new (ApplyNetmap, ApplyPeersChanged)
  (void)added;
  Peer& peer = it->second;
  peer.info = std::move(info);
  const control::NodeInfo& i = peer.info;
  if (by_disco_.count(i.disco_key) == 0 &&
      sealer_.AddPeer(i.disco_key) == disco::DiscoSealer::AddPeerResult::kAdded) {
    peer.disco_ok = true;
    by_disco_[i.disco_key] = &it->first;
  } else {
    ++stats_.peers_rejected;  // relayed data still works; no direct path
  }
  peer.path = FallbackPath(peer);
  Emit(now, PeerAdded{i.node_key, i.disco_key, i.endpoints, i.home_region, peer.path});
  scheduler_.MarkBusy(key);
}

void Node::UpdatePeer(Timestamp now, const NodePublicKey& key, Peer& peer,
                      control::NodeInfo&& info) {
  scheduler_.MarkBusy(key);
  if (info.disco_key != peer.info.disco_key) {
    // The peer restarted: pings, pongs and trust of its old run mean nothing.
    if (peer.disco_ok) {
      sealer_.RemovePeer(peer.info.disco_key);
      by_disco_.erase(peer.info.disco_key);
    }
    peer.disco_ok = by_disco_.count(info.disco_key) == 0 &&
                    sealer_.AddPeer(info.disco_key) == disco::DiscoSealer::AddPeerResult::kAdded;
    if (peer.disco_ok) {
      by_disco_[info.disco_key] = &peers_.find(key)->first;
    } else {
      ++stats_.peers_rejected;
    }
    peer.reset_reason = PathChangeReason::kPeerRestarted;
    if (peer.paths) peer.paths->Reset(now);
    // Its WireGuard sessions died with it: the next data handshakes afresh
    // instead of sending on a session the peer forgot (which WireGuard alone
    // would notice only KEEPALIVE + REKEY_TIMEOUT later).
    if (peer.wireguard_peer) {
      wg_.RemovePeer(key.raw());
      peer.wireguard_peer = false;
    }
    if (peer.use) peer.use->relayed.Reset();
    Emit(now, PeerRestarted{key, peer.info.disco_key, info.disco_key});
  }
  if (peer.paths && info.endpoints != peer.info.endpoints) {
    peer.paths->SetNetmapEndpoints(now, info.endpoints);
  }
  peer.info = std::move(info);
}

void Node::RemovePeer(Timestamp now, const NodePublicKey& key) {
  auto it = peers_.find(key);
  if (it == peers_.end()) return;
  if (it->second.disco_ok) {
    sealer_.RemovePeer(it->second.info.disco_key);
    by_disco_.erase(it->second.info.disco_key);
  }
  scheduler_.Forget(key);
  wg_.RemovePeer(key.raw());
  peers_.erase(it);
  Emit(now, PeerRemoved{key});
}

// ---- netcheck ----------------------------------------------------------------

void Node::OnNetcheckEvent(Timestamp now, netcheck::NetcheckEvent event) {
  if (const auto* report = std::get_if<netcheck::Report>(&event)) {
    const netcheck::Report& r = *report;
    if (r.global_v4) stun_seen_[*r.global_v4] = now;
    if (r.global_v6) stun_seen_[*r.global_v6] = now;
    PublishEndpoints(now);
    Emit(now, NetcheckDone{r});
    // netcheck probes the port mappers beside STUN (its report's PMP/PCP).
    if (portmap_) portmap_->Probe(now);
    // No region answered (UDP blocked) and none chosen before: DERP over
    // TCP still works, so pick one rather than stay unreachable.
    if (netcheck_.home_region() == kNoRegion && home_ == kNoRegion) {
      if (RegionId fallback = FallbackHome(); fallback != kNoRegion) {
        SetHome(now, fallback, "no STUN answer: lowest region id");
      }
    }
    return;
  }
  if (const auto* change = std::get_if<netcheck::HomeRegionChange>(&event)) {
    const netcheck::HomeRegionChange& c = *change;
    std::string reason = netcheck::HomeChangeReasonName(c.reason);
    if (!c.detail.empty()) reason += ": " + c.detail;
    if (c.to != kNoRegion) {
      SetHome(now, c.to, reason);
    } else if (RegionId fallback = FallbackHome(); fallback != kNoRegion) {
      SetHome(now, fallback, reason + "; lowest region id");
    }
  }
}

RegionId Node::FallbackHome() const {
  RegionId best = kNoRegion;
  for (const control::DerpRegion& r : derp_map_.regions) {
    if (!r.nodes.empty() && (best == kNoRegion || r.id < best)) best = r.id;
  }
  return best;
}

void Node::SetHome(Timestamp now, RegionId region, const std::string& reason) {
  if (region == home_) return;
  const RegionId old = home_;
  derp_.SetPreferred(now, old, false);
  home_ = region;
  MarkAllBusy();  // peers reached through our home region move with it
  control_.SetHomeRegion(now, region);
  if (derp::Client* client = derp_.Ensure(now, region, derp_map_)) {
    client->SetPreferred(now, true);
  }
  Emit(now, HomeRegionChanged{old, region, reason});
}

// ---- port mapping ------------------------------------------------------------

void Node::OnPortMapEvent(Timestamp now, portmap::ClientEvent event) {
  std::visit(Overloaded{
                 [&](const portmap::Probed& p) {
                   if (config_.disco_log) Emit(now, PortMappingProbed{p.pmp, p.pcp, p.upnp});
                   // magicsock's determineEndpoints asks for the mapping after
                   // every report; here only when there is something to ask.
                   if (p.pmp || p.pcp || p.upnp || portmap_->mapping()) {
                     portmap_->CachedMappingOrStartCreating(now);
                   }
                 },
                 [&](const portmap::MappingCreated& c) {
                   Emit(now, PortMappingCreated{c.mapping, c.renewal});
                   PublishEndpoints(now);
                 },
                 [&](const portmap::MappingLost& l) {
                   Emit(now, PortMappingLost{l.mapping, l.reason});
                   PublishEndpoints(now);
                 },
                 [&](const portmap::MappingFailed& f) {
                   Emit(now, PortMappingFailed{f.protocol, f.reason});
                 },
                 [&](const portmap::UpnpWanted& w) {
                   if (upnp_) upnp_->Map(now, w);
                 },
             },
             event);
}

void Node::OnUpnpEvent(Timestamp now, portmap::UpnpMapperEvent event) {
  std::visit(Overloaded{
                 [&](const portmap::UpnpMapped& m) { portmap_->AdoptMapping(now, m.mapping); },
                 [&](const portmap::UpnpFailed& f) { portmap_->UpnpFailed(now, f.reason, f.code); },
             },
             event);
}

// ---- endpoints ---------------------------------------------------------------

std::vector<Endpoint> Node::CurrentEndpoints(Timestamp now) {
  for (auto it = stun_seen_.begin(); it != stun_seen_.end();) {
    it = now - it->second > config_.endpoint_freshness ? stun_seen_.erase(it) : std::next(it);
  }
  // Most recently seen first: the endpoint peers should try first.
  std::vector<std::pair<Timestamp, Endpoint>> seen;
  for (const auto& [ep, at] : stun_seen_) seen.emplace_back(at, ep);
  std::stable_sort(seen.begin(), seen.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<Endpoint> out;
  // The mapped endpoint first while it is good (magicsock adds it first).
  if (portmap_ && portmap_->mapping() && now < portmap_->mapping()->good_until) {
    out.push_back(portmap_->mapping()->external);
  }
  for (const auto& [at, ep] : seen) {
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  for (const Endpoint& ep : locals_) {
    if (std::find(out.begin(), out.end(), ep) == out.end()) out.push_back(ep);
  }
  return out;
}

void Node::PublishEndpoints(Timestamp now) {
  std::vector<Endpoint> eps = CurrentEndpoints(now);
  if (eps == endpoints_) return;
  endpoints_ = std::move(eps);
  control_.UpdateEndpoints(now, endpoints_);
  Emit(now, EndpointsChanged{endpoints_});
}

}  // namespace node
}  // namespace punchlab
