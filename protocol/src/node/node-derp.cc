// Node: what its DERP connections (derp-links.h, one derp::Client per region
// in use) carry. The home region connects as soon as it is known; another
// region connects the first time something must reach a peer homed there.
// Packets wait in a bounded per-region queue while the connection comes up.
#include <utility>

#include "punchlab/disco/message.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/node/node.h"
#include "punchlab/wireguard/messages.h"

namespace punchlab {
namespace node {

void Node::RetireDerp(Timestamp now, RegionId region) {
  if (derp_.Retire(now, region)) {
    Emit(now, DerpDisconnected{region, "region left the DERP map or moved"});
  }
}

DerpLinks::SendResult Node::SendDerp(Timestamp now, RegionId region, const NodePublicKey& to,
                                     Bytes packet, std::optional<size_t> data_bytes) {
  return derp_.Send(now, region, derp_map_, to, std::move(packet), data_bytes);
}

void Node::CountDerpData(const NodePublicKey& to, RegionId region, size_t bytes) {
  ++stats_.data_sent_derp;
  auto it = peers_.find(to);
  if (it == peers_.end()) return;
  PathCounters& c = Use(it->second).counters[Path::Derp(region)];
  ++c.packets_sent;
  c.bytes_sent += bytes;
}

void Node::OnDerpEvent(Timestamp now, RegionId region, derp::ClientEvent event) {
  // Events of a client retired while they were collected are void.
  if (!derp_.Has(region)) return;
  if (std::holds_alternative<derp::Connected>(event)) {
    Emit(now, node::DerpConnected{region});
    derp_.FlushQueue(now, region);
    // Relayed-RTT pings that waited for this connection go out now.
    for (auto& [key, peer] : peers_) {
      if (RegionFor(peer) != region) continue;
      if (peer.use) peer.use->relayed.DueNow();
      if (!DrainIsNoop(peer)) scheduler_.MarkBusy(key);
    }
  } else if (auto* lost = std::get_if<derp::Disconnected>(&event)) {
    Emit(now, DerpDisconnected{region, lost->reason});
  } else if (auto* received = std::get_if<derp::Received>(&event)) {
    if (disco::LooksLikeDisco(received->data)) {
      HandleDisco(now, received->data, nullptr, nullptr, region, &received->source);
    } else if (config_.data_plane == DataPlane::kWireGuard &&
               wireguard::IsWireGuardMessage(received->data)) {
      HandleWireGuard(now, received->data, Path::Derp(region), nullptr, &received->source);
    } else if (config_.data_plane == DataPlane::kSealedFrame && LooksLikeData(received->data)) {
      HandleData(now, received->data, Path::Derp(region), &received->source);
    } else {
      ++stats_.derp_unknown_packets;
    }
  } else if (std::holds_alternative<derp::PeerGone>(event)) {
    ++stats_.derp_peer_gone;
  }
}

}  // namespace node
}  // namespace punchlab
