// Node: lifecycle, the machine interfaces, and the pump that lets the
// sub-machines react to each other after every input.
#include "punchlab/node/node.h"

#include <algorithm>
#include <functional>
#include <limits>
#include <utility>

#include "punchlab/disco/message.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/stun/message.h"
#include "punchlab/wireguard/messages.h"
#include "node/conn-id.h"

namespace punchlab {
namespace node {
namespace {

wireguard::DeviceConfig WireGuardConfig(
    const NodePrivateKey& key, const NodeConfig& config,
    std::function<std::optional<wireguard::PeerConfig>(const wireguard::Key32&)> find_peer) {
  wireguard::DeviceConfig c;
  c.find_peer = std::move(find_peer);
  const ByteView secret = key.SecretBytes();
  std::copy(secret.begin(), secret.end(), c.private_key.begin());
  c.unix_offset = config.unix_offset;
  c.pad = false;  // payloads have no length of their own (data-frame.h)
  return c;
}

// The node keeps its peers (peers_); its control client keeps none.
control::ControlClientConfig ControlConfig(control::ControlClientConfig config) {
  config.keep_peers = false;
  return config;
}

}  // namespace

const char* SendResultName(SendResult r) {
  switch (r) {
    case SendResult::kDirect: return "direct";
    case SendResult::kDerp: return "derp";
    case SendResult::kQueued: return "queued";
    case SendResult::kUnknownPeer: return "unknown peer";
    case SendResult::kNoRoute: return "no route";
    case SendResult::kTooLarge: return "too large";
    case SendResult::kDropped: return "dropped";
  }
  return "unknown";
}

Node::Node(NodePrivateKey key, RandomSource& rng, NodeConfig config)
    : key_(std::move(key)),
      rng_(rng),
      config_(std::move(config)),
      // Bounded by the netmap (from the trusted control server), not by the
      // sealer's guard for unvetted registries: a tailnet may list thousands.
      sealer_(DiscoPrivateKey::Generate(rng_), std::numeric_limits<size_t>::max()),
      control_(ControlConfig(config_.control), rng_),
      netcheck_(rng_, config_.netcheck),
      derp_(key_, rng_, config_.derp, config_.derp_queue_limit, stats_,
            [this](const NodePublicKey& to, RegionId region, size_t bytes) {
              CountDerpData(to, region, bytes);
            }),
      wg_(WireGuardConfig(key_, config_,
                          [this](const wireguard::Key32& k) { return WireGuardPeerFor(k); }),
          rng_),
      locals_(config_.local_endpoints) {}

Node::~Node() = default;

// ---- commands ----------------------------------------------------------------

void Node::Start(Timestamp now) {
  if (started_) return;
  started_ = true;
  netcheck_.SetLocalEndpoints(locals_);
  if (config_.gateway) {
    auto v4 = std::find_if(locals_.begin(), locals_.end(),
                           [](const Endpoint& e) { return e.ip.is_v4(); });
    if (v4 != locals_.end()) {
      portmap_.emplace(rng_, config_.portmap);
      portmap_->SetGateway(now, *v4, *config_.gateway);
      if (config_.portmap.upnp) upnp_.emplace(rng_, config_.upnp);
    }
  }
  endpoints_ = CurrentEndpoints(now);
  control_.Register(now, key_.Clone(),
                    control::Registration{config_.token, disco_key(), endpoints_, home_});
  Emit(now, EndpointsChanged{endpoints_});
  Pump(now);
}

void Node::Stop(Timestamp now) {
  if (!started_ || stopped_) return;
  stopped_ = true;
  // magicsock closes its portmapper: the mapping is deleted at the router.
  if (upnp_ && portmap_ && portmap_->mapping()) upnp_->Release(now, *portmap_->mapping());
  if (portmap_) portmap_->Release(now);
  control_.Leave(now);
  derp_.Stop(now);
  netcheck_.SetActive(now, false);
}

SendResult Node::Send(Timestamp now, const NodePublicKey& peer_key, ByteView payload) {
  if (!started_ || stopped_) return SendResult::kDropped;
  if (payload.size() > kMaxDataPayload) {
    ++stats_.sends_too_large;
    return SendResult::kTooLarge;
  }
  auto it = peers_.find(peer_key);
  if (it == peers_.end()) {
    ++stats_.sends_unknown_peer;
    return SendResult::kUnknownPeer;
  }
  Peer& peer = it->second;
  if (!DataReady(peer)) {  // a low-order node key, found now
    ++stats_.sends_unknown_peer;
    return SendResult::kUnknownPeer;
  }
  last_activity_ = now;
  if (DiscoUsable(peer)) Paths(now, peer).NoteDataSent(now);
  scheduler_.MarkBusy(peer_key);
  // Pings, CallMeMaybe and path changes this send starts (or that are due)
  // go first, so the path chosen below is the one just reported.
  DrainPeer(now, peer_key, peer);

  SendResult result;
  if (config_.data_plane == DataPlane::kWireGuard) {
    // Staged behind a handshake when there is no session yet; what the
    // device emits goes out over the path just chosen.
    wg_.Send(now, peer_key.raw(), payload);
    result = FlushWireGuard(now, &peer_key);
  } else {
    result = SendSealed(now, peer_key, peer, payload);
  }
  Pump(now);
  return result;
}

SendResult Node::SendSealed(Timestamp now, const NodePublicKey& peer_key, Peer& peer,
                            ByteView payload) {
  Bytes frame = SealData(rng_, public_key(), *Use(peer).data_key, payload);
  SendResult result = SendResult::kNoRoute;
  const std::optional<Endpoint> best =
      peer.paths ? peer.paths->BestAddr(now) : std::nullopt;
  const std::optional<Endpoint> from = best ? LocalFor(*best) : std::nullopt;
  if (best && from) {
    transmits_.push_back(Transmit{*from, *best, std::move(frame)});
    PathCounters& c = Use(peer).counters[Path::Direct(*best)];
    ++c.packets_sent;
    c.bytes_sent += payload.size();
    ++stats_.data_sent_direct;
    result = SendResult::kDirect;
  } else if (const RegionId region = RegionFor(peer); region != kNoRegion) {
    switch (SendDerp(now, region, peer_key, std::move(frame), payload.size())) {
      case DerpLinks::SendResult::kSent: result = SendResult::kDerp; break;
      case DerpLinks::SendResult::kQueued: result = SendResult::kQueued; break;
      case DerpLinks::SendResult::kDropped:
        ++Use(peer).sends_dropped;
        result = SendResult::kDropped;
        break;
    }
  } else {
    ++stats_.sends_no_route;
    ++Use(peer).sends_dropped;
  }
  return result;
}

void Node::SetLocalEndpoints(Timestamp now, std::vector<Endpoint> locals) {
  if (locals == locals_) return;
  locals_ = std::move(locals);
  netcheck_.SetLocalEndpoints(locals_);
  if (!started_ || stopped_) return;
  // The mapped socket moved: as Tailscale's portmapper when its own address
  // or the gateway changes, the mappings and the services seen are
  // forgotten (the client's, and the UPnP machine's cached IGD); the
  // netcheck below probes again and maps the new address.
  if (portmap_) {
    auto v4 = std::find_if(locals_.begin(), locals_.end(),
                           [](const Endpoint& e) { return e.ip.is_v4(); });
    if (v4 != locals_.end() && portmap_->SetGateway(now, *v4, *config_.gateway) && upnp_) {
      upnp_->Forget();
    }
  }
  netcheck_.StartReport(now);
  // In key order, not the hash map's: a reset runs an overdue heartbeat,
  // whose pings draw their ids from rng_. Rare (a local address change).
  std::vector<NodePublicKey> keys;
  keys.reserve(peers_.size());
  for (const auto& [key, peer] : peers_) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  for (const NodePublicKey& key : keys) {
    Peer& peer = peers_.at(key);
    peer.reset_reason = PathChangeReason::kLocalChange;
    if (peer.paths) peer.paths->Reset(now);
  }
  MarkAllBusy();
  PublishEndpoints(now);
  Pump(now);
}

// ---- DatagramMachine -------------------------------------------------------

void Node::HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                          ByteView payload) {
  if (!started_ || stopped_) return;
  ++stats_.datagrams_received;
  // Only the gateway's NAT-PMP / PCP and SSDP answers: a peer whose NAT
  // gave it port 1900 or 5351 still reaches disco and WireGuard.
  if (portmap_ && portmap_->Claims(remote, payload)) {
    ++stats_.portmap_datagrams;
    portmap_->HandleDatagram(now, local, remote, payload);
  } else if (stun::LooksLikeStun(payload)) {
    ++stats_.stun_datagrams;
    netcheck_.HandleDatagram(now, local, remote, payload);
  } else if (disco::LooksLikeDisco(payload)) {
    ++stats_.disco_datagrams;
    HandleDisco(now, payload, &local, &remote, kNoRegion, nullptr);
  } else if (config_.data_plane == DataPlane::kWireGuard &&
             wireguard::IsWireGuardMessage(payload)) {
    ++stats_.data_datagrams;
    HandleWireGuard(now, payload, Path::Direct(remote), &remote, nullptr);
  } else if (config_.data_plane == DataPlane::kSealedFrame && LooksLikeData(payload)) {
    ++stats_.data_datagrams;
    HandleData(now, payload, Path::Direct(remote), nullptr);
  } else {
    ++stats_.unknown_datagrams;
  }
  Pump(now);
}

std::optional<Transmit> Node::PollTransmit() {
  if (!transmits_.empty()) {
    Transmit t = std::move(transmits_.front());
    transmits_.pop_front();
    return t;
  }
  if (portmap_) {
    if (auto t = portmap_->PollTransmit()) return t;
  }
  return netcheck_.PollTransmit();
}

// ---- StreamMachine -----------------------------------------------------------

void Node::HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) {
  const ConnSplit s = SplitConn(conn);
  if (s.slot == kControlSlot) {
    control_.HandleConnected(now, s.sub, remote);
  } else if (s.slot == kPortMapSlot) {
    if (upnp_) upnp_->HandleConnected(now, s.sub, remote);
  } else if (derp::Client* client = derp_.BySlot(s.slot)) {
    client->HandleConnected(now, s.sub, remote);
  }
  Pump(now);
}

void Node::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  const ConnSplit s = SplitConn(conn);
  if (s.slot == kControlSlot) {
    control_.HandleStream(now, s.sub, bytes);
  } else if (s.slot == kPortMapSlot) {
    if (upnp_) upnp_->HandleStream(now, s.sub, bytes);
  } else if (derp::Client* client = derp_.BySlot(s.slot)) {
    client->HandleStream(now, s.sub, bytes);
  }
  Pump(now);
}

void Node::HandleClosed(Timestamp now, ConnectionId conn) {
  const ConnSplit s = SplitConn(conn);
  if (s.slot == kControlSlot) {
    control_.HandleClosed(now, s.sub);
  } else if (s.slot == kPortMapSlot) {
    if (upnp_) upnp_->HandleClosed(now, s.sub);
  } else if (derp::Client* client = derp_.BySlot(s.slot)) {
    client->HandleClosed(now, s.sub);
  }
  Pump(now);
}

std::optional<StreamAction> Node::PollStreamAction() {
  if (auto a = derp_.PollClosing()) return a;
  if (auto a = control_.PollStreamAction()) {
    a->conn = ComposeConn(kControlSlot, a->conn);
    return a;
  }
  if (auto a = upnp_ ? upnp_->PollStreamAction() : std::nullopt) {
    a->conn = ComposeConn(kPortMapSlot, a->conn);
    return a;
  }
  return derp_.PollStreamAction();
}

// ---- timers ------------------------------------------------------------------

void Node::HandleTimeout(Timestamp now) {
  if (!started_ || stopped_) return;
  auto due = [now](std::optional<Timestamp> t) { return t && *t <= now; };
  if (due(control_.PollTimeout())) control_.HandleTimeout(now);
  if (due(netcheck_.PollTimeout())) netcheck_.HandleTimeout(now);
  if (portmap_ && due(portmap_->PollTimeout())) portmap_->HandleTimeout(now);
  if (upnp_ && due(upnp_->PollTimeout())) upnp_->HandleTimeout(now);
  derp_.HandleTimeout(now);
  if (due(wg_.PollTimeout())) {
    wg_.HandleTimeout(now);
    FlushWireGuard(now);
  }
  // Peer timers (ping timeouts, trust expiry, heartbeats, DERP pings) run in
  // the pump: PollPingsToSend(now) advances them, for the peers that are due.
  scheduler_.WakeDue(now);
  Pump(now);
}

std::optional<Timestamp> Node::PollTimeout() const {
  if (!started_ || stopped_) return std::nullopt;
  std::optional<Timestamp> next;
  auto consider = [&next](std::optional<Timestamp> t) {
    if (t && (!next || *t < *next)) next = t;
  };
  consider(control_.PollTimeout());
  consider(netcheck_.PollTimeout());
  if (portmap_) consider(portmap_->PollTimeout());
  if (upnp_) consider(upnp_->PollTimeout());
  consider(derp_.PollTimeout());
  consider(wg_.PollTimeout());
  // Busy peers are drained at the end of every input; a busy one left here
  // (a command before Start) wants the next timeout at once.
  if (scheduler_.AnyBusy()) return Timestamp::Zero();
  consider(scheduler_.NextWake());
  // Wake up when the session goes idle, to stop re-STUNning.
  if (last_activity_ && netcheck_.active()) {
    consider(*last_activity_ + config_.paths.session_active_timeout + Duration::Nanos(1));
  }
  return next;
}

void Node::MarkAllBusy() {
  for (const auto& [key, peer] : peers_) {
    if (!DrainIsNoop(peer)) scheduler_.MarkBusy(key);
  }
}

bool Node::DrainIsNoop(const Peer& peer) const {
  // A peer never used (no paths, no use; with the disco log its first drain
  // makes its paths) has nothing to drain or reschedule; its only work is
  // CheckDerpPath, whose answer depends on the DERP map, our home region and
  // the peer's own, each of whose changes marks it (MarkAllBusy, UpdatePeer),
  // and its path moves only there. So when it is where the regions say, its
  // drain would do nothing, now or when taken: it is not marked. Most of a
  // big tailnet's peers on each of a node's "all peers busy" passes (999 a
  // node in the fully visible tailnet of 1,000: set inserts and takes and a
  // peer lookup each).
  return !peer.paths && !peer.use && !config_.disco_log && !peer.path.direct() &&
         FallbackPath(peer) == peer.path;
}

void Node::Reschedule(const NodePublicKey& key, Peer& peer) {
  // A peer never used has no wake-up to set or clear: one needs its paths or
  // its use, and both stay once made. Most of a big tailnet's peers, drained
  // on every "all peers busy" pass (a lookup in the wake index each, 0.9 % of
  // the fully visible tailnet of 1,000).
  if (!peer.paths && !peer.use) return;
  std::optional<Timestamp> wake = peer.paths ? peer.paths->NextWakeup() : std::nullopt;
  // A relayed-RTT ping waits for its region's connection, whose kConnected
  // marks the peer busy; until then its due time would only wake us in a loop.
  const std::optional<Timestamp> ping = peer.use ? peer.use->relayed.next() : std::nullopt;
  if (ping && DerpConnected(RegionFor(peer)) && (!wake || *ping < *wake)) wake = ping;
  scheduler_.SetWake(key, wake);
}

std::optional<Event> Node::PollEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

// ---- the pump ----------------------------------------------------------------

void Node::Pump(Timestamp now) {
  // After Stop() the sub-machines only finish closing; nothing new starts.
  if (stopped_) return;
  for (bool progress = true; progress;) {
    progress = false;
    while (auto e = control_.PollEvent()) {
      progress = true;
      OnControlEvent(now, std::move(*e));
    }
    while (auto e = netcheck_.PollEvent()) {
      progress = true;
      OnNetcheckEvent(now, std::move(*e));
    }
    while (auto e = portmap_ ? portmap_->PollEvent() : std::nullopt) {
      progress = true;
      OnPortMapEvent(now, std::move(*e));
    }
    while (auto e = upnp_ ? upnp_->PollEvent() : std::nullopt) {
      progress = true;
      OnUpnpEvent(now, std::move(*e));
    }
    // Collected first: handling one may open another region's connection.
    for (auto& [region, e] : derp_.PollEvents()) {
      progress = true;
      OnDerpEvent(now, region, std::move(e));
    }
    while (std::optional<NodePublicKey> key = scheduler_.TakeBusy()) {
      auto it = peers_.find(*key);
      if (it == peers_.end()) continue;
      progress = DrainPeer(now, *key, it->second) || progress;
      CheckDerpPath(now, *key, it->second);
      Reschedule(*key, it->second);
    }
  }
  CheckUp(now);
  UpdateActivity(now);
}

void Node::CheckUp(Timestamp now) {
  // Registration, the home region and its connection come in any order (a
  // slow control server registers after the first netcheck): checked after
  // every pump, the first instant all three hold. A DERP map with no region
  // that has a server (`derp: {regions: []}`) has nothing to connect to:
  // registered is up then, or the node would never be.
  if (up_ || !registered()) return;
  const bool no_derp = have_derp_map_ && FallbackHome() == kNoRegion;
  if (!no_derp && (home_ == kNoRegion || !derp_.Connected(home_))) return;
  up_ = true;
  Emit(now, Up{home_});
}

bool Node::Active(Timestamp now) const {
  return last_activity_ && now - *last_activity_ <= config_.paths.session_active_timeout;
}

void Node::UpdateActivity(Timestamp now) {
  // Re-STUN (keeping NAT mappings and endpoints fresh) only while data
  // flows, as magicsock does; an idle node lets its mappings go.
  if (have_derp_map_) netcheck_.SetActive(now, Active(now));
}

void Node::Emit(Timestamp now, EventBody body) { events_.push_back(Event{now, std::move(body)}); }

// ---- observation -------------------------------------------------------------

bool Node::DerpConnected(RegionId region) const { return derp_.Connected(region); }

std::vector<NodePublicKey> Node::Peers() const {
  std::vector<NodePublicKey> out;
  out.reserve(peers_.size());
  for (const auto& [key, peer] : peers_) out.push_back(key);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<Path> Node::PathTo(const NodePublicKey& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  return it->second.path;
}

std::optional<PeerStats> Node::FindPeerStats(const NodePublicKey& peer) const {
  auto it = peers_.find(peer);
  if (it == peers_.end()) return std::nullopt;
  PeerStats stats;
  stats.path_changes = it->second.path_changes;
  if (const PeerUse* use = it->second.use.get()) {  // else nothing counted yet
    stats.paths = use->counters;
    stats.sends_dropped = use->sends_dropped;
  }
  return stats;
}

const disco::PeerPaths* Node::FindPeerPaths(const NodePublicKey& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.paths.get();
}

const control::NodeInfo* Node::FindPeerInfo(const NodePublicKey& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : &it->second.info;
}

}  // namespace node
}  // namespace punchlab
