#include "punchlab/node/derp-links.h"

#include <utility>

#include "node/conn-id.h"
#include "must-find.h"

namespace punchlab {
namespace node {

DerpLinks::DerpLinks(const NodePrivateKey& key, RandomSource& rng, derp::ClientConfig config,
                     size_t queue_limit, NodeStats& stats, DataSent data_sent)
    : key_(key),
      rng_(rng),
      config_(std::move(config)),
      queue_limit_(queue_limit),
      stats_(stats),
      data_sent_(std::move(data_sent)) {}

derp::Client* DerpLinks::Ensure(Timestamp now, RegionId region, const control::DerpMap& map) {
  if (auto it = links_.find(region); it != links_.end()) return it->second.client.get();
  const control::DerpRegion* r = map.FindRegion(region);
  if (r == nullptr || r->nodes.empty()) return nullptr;
  const control::DerpNode& server = r->nodes.front();
  derp::ClientConfig config = config_;
  config.server = server.derp;
  if (!server.name.empty()) config.host = server.name;
  // A pinned key: a server presenting another one is refused (and retried).
  if (!server.public_key.IsZero()) config.server_key = server.public_key;
  config.tls = server.Tls();
  Link link;
  link.slot = next_slot_++;
  link.server = server.derp;
  link.client = std::make_unique<derp::Client>(key_.Clone(), rng_, config);
  link.client->Start(now);
  slots_[link.slot] = region;
  return links_.emplace(region, std::move(link)).first->second.client.get();
}

bool DerpLinks::Retire(Timestamp now, RegionId region) {
  auto it = links_.find(region);
  if (it == links_.end()) return false;
  Link& link = it->second;
  link.client->Stop(now);
  // The close must still reach the host after the client is gone.
  while (auto a = link.client->PollStreamAction()) {
    a->conn = ComposeConn(link.slot, a->conn);
    closing_.push_back(std::move(*a));
  }
  stats_.derp_queue_dropped += link.queue.size();
  slots_.erase(link.slot);
  links_.erase(it);
  return true;
}

std::vector<RegionId> DerpLinks::Stale(const control::DerpMap& map) const {
  std::vector<RegionId> stale;
  for (const auto& [region, link] : links_) {
    const control::DerpRegion* r = map.FindRegion(region);
    if (r == nullptr || r->nodes.empty() || r->nodes.front().derp != link.server) {
      stale.push_back(region);
    }
  }
  return stale;
}

void DerpLinks::SetPreferred(Timestamp now, RegionId region, bool preferred) {
  if (auto it = links_.find(region); it != links_.end()) {
    it->second.client->SetPreferred(now, preferred);
  }
}

void DerpLinks::Stop(Timestamp now) {
  for (auto& [region, link] : links_) {
    link.client->Stop(now);
    stats_.derp_queue_dropped += link.queue.size();
    link.queue.clear();
  }
}

DerpLinks::SendResult DerpLinks::Send(Timestamp now, RegionId region,
                                      const control::DerpMap& map, const NodePublicKey& to,
                                      Bytes packet, std::optional<size_t> data_bytes) {
  if (Ensure(now, region, map) == nullptr) {
    ++stats_.derp_queue_dropped;
    return SendResult::kDropped;
  }
  Link& link = links_.find(region)->second;
  if (link.client->connected()) {
    if (!link.client->Send(now, to, packet)) {
      ++stats_.derp_send_failed;
      return SendResult::kDropped;
    }
    if (data_bytes) data_sent_(to, region, *data_bytes);
    return SendResult::kSent;
  }
  if (link.queue.size() >= queue_limit_) {
    ++stats_.derp_queue_dropped;
    return SendResult::kDropped;
  }
  link.queue.push_back(Queued{to, std::move(packet), data_bytes});
  return SendResult::kQueued;
}

void DerpLinks::FlushQueue(Timestamp now, RegionId region) {
  auto it = links_.find(region);
  if (it == links_.end()) return;
  Link& link = it->second;
  while (!link.queue.empty() && link.client->connected()) {
    Queued q = std::move(link.queue.front());
    link.queue.pop_front();
    if (!link.client->Send(now, q.to, q.packet)) {
      ++stats_.derp_send_failed;
    } else if (q.data_bytes) {
      data_sent_(q.to, region, *q.data_bytes);
    }
  }
}

bool DerpLinks::Connected(RegionId region) const {
  auto it = links_.find(region);
  return it != links_.end() && it->second.client->connected();
}

derp::Client* DerpLinks::BySlot(uint32_t slot) {
  auto r = slots_.find(slot);
  if (r == slots_.end()) return nullptr;
  return MustFind(links_, r->second).client.get();  // slots_ and links_ change together
}

std::vector<std::pair<RegionId, derp::ClientEvent>> DerpLinks::PollEvents() {
  std::vector<std::pair<RegionId, derp::ClientEvent>> events;
  for (auto& [region, link] : links_) {
    while (auto e = link.client->PollEvent()) events.emplace_back(region, std::move(*e));
  }
  return events;
}

std::optional<StreamAction> DerpLinks::PollClosing() {
  if (closing_.empty()) return std::nullopt;
  StreamAction a = std::move(closing_.front());
  closing_.pop_front();
  return a;
}

std::optional<StreamAction> DerpLinks::PollStreamAction() {
  for (auto& [region, link] : links_) {
    if (auto a = link.client->PollStreamAction()) {
      a->conn = ComposeConn(link.slot, a->conn);
      return a;
    }
  }
  return std::nullopt;
}

void DerpLinks::HandleTimeout(Timestamp now) {
  for (auto& [region, link] : links_) {
    const std::optional<Timestamp> t = link.client->PollTimeout();
    if (t && *t <= now) link.client->HandleTimeout(now);
  }
}

std::optional<Timestamp> DerpLinks::PollTimeout() const {
  std::optional<Timestamp> next;
  for (const auto& [region, link] : links_) {
    const std::optional<Timestamp> t = link.client->PollTimeout();
    if (t && (!next || *t < *next)) next = t;
  }
  return next;
}

}  // namespace node
}  // namespace punchlab
