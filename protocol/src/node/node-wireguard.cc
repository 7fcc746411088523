// Node: WireGuard as the data plane. The device decides what to send (a
// handshake, staged data, keepalives); the node decides where: the best
// trusted direct path, else the peer's DERP region, as magicsock does for
// wireguard-go. What arrives is counted on the path it came over.
#include <utility>
#include <variant>

#include "punchlab/node/data-frame.h"
#include "punchlab/node/node.h"
#include "punchlab/overloaded.h"
#include "punchlab/wireguard/messages.h"

namespace punchlab {
namespace node {
namespace {

// Transport data (not a keepalive, not a handshake): what counts as data sent.
bool IsData(const Bytes& message) {
  return message.size() > wireguard::kKeepaliveSize &&
         message[0] == static_cast<uint8_t>(wireguard::MessageType::kTransport);
}

// The device's drops of messages that did not authenticate (or came again),
// summed for the node's own data_bad_box.
uint64_t AuthDrops(const wireguard::DeviceCounters& c) {
  return c.malformed + c.bad_mac1 + c.bad_mac2 + c.rate_limited + c.unknown_peer +
         c.handshake_failed + c.timestamp_replayed + c.initiation_flood + c.expired_session +
         c.decrypt_failed + c.bad_cookie_reply + c.replayed + c.late;
}

}  // namespace

std::optional<wireguard::PeerConfig> Node::WireGuardPeerFor(const wireguard::Key32& key) {
  auto it = peers_.find(NodePublicKey(key));
  if (it == peers_.end() || it->second.node_key_low_order) return std::nullopt;
  // Its first use: an initiation from it. (A low-order key cannot get here:
  // such an initiation fails to open.)
  it->second.wireguard_peer = true;
  ++stats_.data_keys_derived;
  return wireguard::PeerConfig{key, {}, std::nullopt, config_.persistent_keepalive};
}

void Node::HandleWireGuard(Timestamp now, ByteView message, const Path& path,
                           const Endpoint* remote, const NodePublicKey* derp_source) {
  const uint64_t unknown_before = wg_.counters().unknown_index;
  const uint64_t bad_before = AuthDrops(wg_.counters());
  wg_arrival_ = path;
  wg_derp_source_ = derp_source;
  wg_.HandleMessage(now, remote ? std::optional<Endpoint>(*remote) : std::nullopt, message);
  if (wg_.counters().unknown_index != unknown_before) DropData(stats_.data_unknown_sender);
  if (AuthDrops(wg_.counters()) != bad_before) DropData(stats_.data_bad_box);
  FlushWireGuard(now);
  wg_arrival_.reset();
  wg_derp_source_ = nullptr;
}

SendResult Node::FlushWireGuard(Timestamp now, const NodePublicKey* for_peer) {
  SendResult result = SendResult::kQueued;
  while (std::optional<wireguard::Outgoing> out = wg_.PollTransmit()) {
    const bool mine = for_peer && IsData(out->message) && out->peer == for_peer->raw();
    const SendResult r = RouteWireGuard(now, std::move(*out));
    if (mine) result = r;
  }
  while (std::optional<wireguard::Event> e = wg_.PollEvent()) {
    std::visit(
        Overloaded{
            [&](wireguard::DataReceived& d) {
              if (!wg_arrival_) return;  // data only arrives in HandleWireGuard
              const NodePublicKey sender(d.peer);
              // Over DERP the relay names the sender; WireGuard authenticated another.
              if (wg_derp_source_ && *wg_derp_source_ != sender) {
                DropData(stats_.data_sender_mismatch);
                return;
              }
              auto it = peers_.find(sender);
              if (it == peers_.end()) return;  // removed since; the device forgot it too
              Deliver(now, sender, it->second, std::move(d.data), *wg_arrival_);
            },
            [&](wireguard::HandshakeComplete& h) {
              // Both roles complete inside HandleWireGuard: the initiator on
              // the response, the responder on the initiation.
              if (wg_arrival_) {
                Emit(now, WireGuardHandshake{NodePublicKey(h.peer), h.initiator, *wg_arrival_});
              }
            },
            [&](wireguard::HandshakeGaveUp&) {},
        },
        *e);
  }
  return result;
}

SendResult Node::RouteWireGuard(Timestamp now, wireguard::Outgoing out) {
  const bool data = IsData(out.message);
  const size_t payload = data ? out.message.size() - wireguard::kKeepaliveSize : 0;
  auto it = peers_.find(NodePublicKey(out.peer));
  if (it == peers_.end()) {
    // A cookie reply (to no known peer) goes back where the handshake came from.
    if (out.destination) {
      if (const std::optional<Endpoint> from = LocalFor(*out.destination)) {
        transmits_.push_back(Transmit{*from, *out.destination, std::move(out.message)});
        return SendResult::kDirect;
      }
    }
    return SendResult::kNoRoute;
  }
  Peer& peer = it->second;
  if (!data) {
    // A handshake or keepalive is traffic to the peer like data (magicsock
    // cannot tell them apart): it keeps the session active, so heartbeats
    // keep the direct path trusted and its NAT mappings open. Data did this
    // in Send() already.
    last_activity_ = now;
    if (DiscoUsable(peer)) Paths(now, peer).NoteDataSent(now);
    scheduler_.MarkBusy(it->first);
  }
  const std::optional<Endpoint> best = peer.paths ? peer.paths->BestAddr(now) : std::nullopt;
  const std::optional<Endpoint> from = best ? LocalFor(*best) : std::nullopt;
  if (best && from) {
    transmits_.push_back(Transmit{*from, *best, std::move(out.message)});
    if (data) {
      PathCounters& c = Use(peer).counters[Path::Direct(*best)];
      ++c.packets_sent;
      c.bytes_sent += payload;
      ++stats_.data_sent_direct;
    }
    return SendResult::kDirect;
  }
  if (const RegionId region = RegionFor(peer); region != kNoRegion) {
    switch (SendDerp(now, region, it->first, std::move(out.message),
                     data ? std::optional<size_t>(payload) : std::nullopt)) {
      case DerpLinks::SendResult::kSent: return SendResult::kDerp;
      case DerpLinks::SendResult::kQueued: return SendResult::kQueued;
      case DerpLinks::SendResult::kDropped:
        if (data) ++Use(peer).sends_dropped;
        return SendResult::kDropped;
    }
  }
  ++stats_.sends_no_route;
  if (data) ++Use(peer).sends_dropped;
  return SendResult::kNoRoute;
}

}  // namespace node
}  // namespace punchlab
