// Node: its DERP connections, one derp::Client per region in use. The home
// region connects as soon as it is known; another region connects the first
// time something must reach a peer homed there. Packets wait in a bounded
// per-region queue while the connection comes up.
#include <utility>

#include "punchlab/disco/message.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/node/node.h"
#include "node/conn-id.h"

namespace punchlab {
namespace node {

Node::DerpLink* Node::EnsureDerp(Timestamp now, RegionId region) {
  if (auto it = derp_.find(region); it != derp_.end()) return &it->second;
  const control::DerpRegion* r = derp_map_.FindRegion(region);
  if (r == nullptr || r->nodes.empty()) return nullptr;
  const control::DerpNode& server = r->nodes.front();
  derp::ClientConfig config = config_.derp;
  config.server = server.derp;
  if (!server.name.empty()) config.host = server.name;
  DerpLink link;
  link.slot = next_slot_++;
  link.server = server.derp;
  link.client = std::make_unique<derp::Client>(key_.Clone(), rng_, config);
  link.client->Start(now);
  derp_slots_[link.slot] = region;
  return &derp_.emplace(region, std::move(link)).first->second;
}

void Node::RetireDerp(Timestamp now, RegionId region) {
  auto it = derp_.find(region);
  if (it == derp_.end()) return;
  DerpLink& link = it->second;
  link.client->Stop(now);
  // The close must still reach the host after the client is gone.
  while (auto a = link.client->PollStreamAction()) {
    a->conn = ComposeConn(link.slot, a->conn);
    actions_.push_back(std::move(*a));
  }
  stats_.derp_queue_dropped += link.queue.size();
  derp_slots_.erase(link.slot);
  derp_.erase(it);
  Emit(now, DerpDisconnected{region, "region left the DERP map or moved"});
}

bool Node::SendDerp(Timestamp now, RegionId region, const NodePublicKey& to, Bytes packet,
                    std::optional<size_t> data_bytes, bool* queued) {
  DerpLink* link = EnsureDerp(now, region);
  if (link == nullptr) {
    ++stats_.derp_queue_dropped;
    return false;
  }
  if (link->client->connected()) {
    if (!link->client->Send(now, to, packet)) {
      ++stats_.derp_send_failed;
      return false;
    }
    if (data_bytes) CountDerpData(to, region, *data_bytes);
    return true;
  }
  if (link->queue.size() >= config_.derp_queue_limit) {
    ++stats_.derp_queue_dropped;
    return false;
  }
  link->queue.push_back(Queued{to, std::move(packet), data_bytes});
  if (queued != nullptr) *queued = true;
  return true;
}

void Node::CountDerpData(const NodePublicKey& to, RegionId region, size_t bytes) {
  ++stats_.data_sent_derp;
  auto it = peers_.find(to);
  if (it == peers_.end()) return;
  PathCounters& c = it->second.stats.paths[Path::Derp(region)];
  ++c.packets_sent;
  c.bytes_sent += bytes;
}

void Node::OnDerpEvent(Timestamp now, RegionId region, derp::ClientEvent event) {
  auto it = derp_.find(region);
  if (it == derp_.end()) return;
  DerpLink& link = it->second;
  switch (event.kind) {
    case derp::ClientEvent::Kind::kConnected: {
      Emit(now, node::DerpConnected{region});
      while (!link.queue.empty() && link.client->connected()) {
        Queued q = std::move(link.queue.front());
        link.queue.pop_front();
        if (!link.client->Send(now, q.to, q.packet)) {
          ++stats_.derp_send_failed;
        } else if (q.data_bytes) {
          CountDerpData(q.to, region, *q.data_bytes);
        }
      }
      // Relayed-RTT pings that waited for this connection go out now.
      for (auto& [key, peer] : peers_) {
        if (RegionFor(peer) != region) continue;
        peer.next_derp_ping.reset();
        MarkBusy(key);
      }
      break;
    }
    case derp::ClientEvent::Kind::kDisconnected:
      Emit(now, DerpDisconnected{region, event.text});
      break;
    case derp::ClientEvent::Kind::kReceived:
      if (disco::LooksLikeDisco(event.data)) {
        HandleDisco(now, event.data, nullptr, nullptr, region, &event.key);
      } else if (LooksLikeData(event.data)) {
        HandleData(now, event.data, Path::Derp(region), &event.key);
      } else {
        ++stats_.derp_unknown_packets;
      }
      break;
    case derp::ClientEvent::Kind::kPeerGone:
      ++stats_.derp_peer_gone;
      break;
    default:
      break;
  }
}

}  // namespace node
}  // namespace punchlab
