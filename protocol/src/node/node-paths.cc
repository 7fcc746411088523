// Node: disco and data. PeerPaths decides; this file seals what it asks for,
// routes what arrives (UDP or DERP) to it, translates its path changes into
// node paths (a direct endpoint, or the DERP region the peer is reached
// through) and keeps per-path counters and RTTs.
#include <string>
#include <utility>
#include <variant>

#include "punchlab/disco/message.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/node/node.h"
#include "must-find.h"

namespace punchlab {
namespace node {
namespace {

// Where a pong over DERP says the ping came from: Tailscale's "magic" DERP
// address 127.3.3.40 with the region id as port.
Endpoint DerpMagicEndpoint(RegionId region) {
  return Endpoint(IpAddress::V4(127, 3, 3, 40), static_cast<uint16_t>(region));
}

std::string EndpointList(const std::vector<Endpoint>& endpoints) {
  std::string out;
  for (const Endpoint& ep : endpoints) out += (out.empty() ? "" : " ") + ep.ToString();
  return "[" + out + "]";
}

// "148.001ms": a measured RTT to the microsecond, as a person reads it.
std::string Millis(Duration d) {
  const int64_t us = (d.nanos() + 500) / 1000;
  std::string frac = std::to_string(us % 1000);
  return std::to_string(us / 1000) + "." + std::string(3 - frac.size(), '0') + frac + "ms";
}

PathChangeReason FromDisco(disco::PathChangeReason r, PathChangeReason reset_reason) {
  switch (r) {
    case disco::PathChangeReason::kPong: return PathChangeReason::kPong;
    case disco::PathChangeReason::kCallMeMaybe: return PathChangeReason::kCallMeMaybe;
    case disco::PathChangeReason::kBetterPath: return PathChangeReason::kBetterPath;
    case disco::PathChangeReason::kTrustExpired: return PathChangeReason::kTrustExpired;
    case disco::PathChangeReason::kReset: return reset_reason;
  }
  return PathChangeReason::kPong;
}

}  // namespace

// ---- per-peer work -------------------------------------------------------------

disco::PeerPaths& Node::Paths(Timestamp now, Peer& peer) {
  if (!peer.paths) {
    peer.paths = std::make_unique<disco::PeerPaths>(rng_, config_.paths);
    peer.paths->SetNetmapEndpoints(now, peer.info.endpoints);
  }
  return *peer.paths;
}

bool Node::DiscoUsable(Peer& peer) {
  if (!peer.disco_ok) return false;
  if (sealer_.Prepare(peer.info.disco_key)) return true;
  // A low-order disco key: nothing can be sealed to it. Relayed data still works.
  sealer_.RemovePeer(peer.info.disco_key);
  by_disco_.erase(peer.info.disco_key);
  peer.disco_ok = false;
  ++stats_.peers_rejected;
  return false;
}

bool Node::DataReady(Peer& peer) {
  if (peer.node_key_low_order) return false;
  if (config_.data_plane == DataPlane::kWireGuard) {
    if (peer.wireguard_peer) return true;
    const wireguard::Key32 key = peer.info.node_key.raw();
    wg_.AddPeer(wireguard::PeerConfig{key, {}, std::nullopt, config_.persistent_keepalive});
    if (wg_.KeyUsable(key)) {
      peer.wireguard_peer = true;
      ++stats_.data_keys_derived;
      return true;
    }
    wg_.RemovePeer(key);
  } else {
    PeerUse& use = Use(peer);
    if (use.data_key) return true;
    use.data_key = SharedKey::Compute(key_, peer.info.node_key);
    if (use.data_key) {
      ++stats_.data_keys_derived;
      return true;
    }
  }
  peer.node_key_low_order = true;
  ++stats_.peers_rejected;  // a low-order node key: no data either way
  return false;
}

bool Node::DrainPeer(Timestamp now, const NodePublicKey& key, Peer& peer) {
  bool progress = false;
  // The disco log reports each netmap candidate when the node learns it, as
  // PeerPaths has it: with the log on, a listed peer's PeerPaths is made at
  // its first drain (its keys stay lazy).
  if (!peer.paths && config_.disco_log) Paths(now, peer);
  if (peer.paths) progress = DrainPaths(now, key, peer);
  // The relayed path's RTT: a disco ping through DERP every heartbeat while
  // the session is active and relayed (relayed-rtt.h). Without a PeerPaths
  // no data was ever sent: no session.
  const RegionId region = RegionFor(peer);
  const bool relayed = !(peer.paths && peer.paths->BestAddr(now)) && region != kNoRegion;
  const bool probing =
      peer.disco_ok && relayed && peer.paths && peer.paths->SessionActive(now);
  // Not probing, an unused peer has nothing to reset.
  if (!probing && !peer.use) return progress;
  if (std::optional<disco::TxId> txid =
          Use(peer).relayed.Due(now, probing, probing && DerpConnected(region), region, rng_,
                                config_.paths.heartbeat_interval, config_.paths.ping_timeout)) {
    SealedDisco sealed = SendDiscoDerp(now, peer, region, disco::Ping{*txid, public_key(), 0});
    ++stats_.disco_pings_sent;
    LogDisco<DiscoSent>(now, key, disco::MessageType::kPing, Path::Derp(region), *txid,
                        [] { return std::string("relayed rtt"); }, std::move(sealed));
  }
  return progress;
}

bool Node::DrainPaths(Timestamp now, const NodePublicKey& key, Peer& peer) {
  bool progress = false;
  for (const disco::PingToSend& p : peer.paths->PollPingsToSend(now)) {
    progress = true;
    const std::optional<Endpoint> from = LocalFor(p.to);
    if (!from) {
      ++stats_.pings_without_local;
      continue;
    }
    SealedDisco sealed = SendDiscoUdp(peer, *from, p.to, disco::Ping{p.txid, public_key(), 0});
    ++stats_.disco_pings_sent;
    LogDisco<DiscoSent>(now, key, disco::MessageType::kPing, Path::Direct(p.to), p.txid,
                        [&] { return std::string(disco::PingPurposeName(p.purpose)); },
                        std::move(sealed));
  }
  LogCandidatesAndTrust(now, key, peer);
  while (auto ev = peer.paths->PollEvent()) {
    progress = true;
    const auto* change = std::get_if<disco::PathChanged>(&*ev);
    if (!change) {  // disco::SendCallMeMaybe
      const RegionId region = RegionFor(peer);
      if (region == kNoRegion) continue;
      SealedDisco sealed = SendDiscoDerp(now, peer, region, disco::CallMeMaybe{endpoints_});
      ++stats_.disco_call_me_maybes_sent;
      LogDisco<DiscoSent>(now, key, disco::MessageType::kCallMeMaybe, Path::Derp(region),
                          std::nullopt, [&] { return "our endpoints " + EndpointList(endpoints_); },
                          std::move(sealed));
      continue;
    }
    const Path to = change->to ? Path::Direct(*change->to) : FallbackPath(peer);
    const PathChangeReason reason = FromDisco(change->reason, peer.reset_reason);
    std::string detail = change->detail;
    if (reason == PathChangeReason::kPeerRestarted) detail = "new disco key; earlier pongs void";
    if (reason == PathChangeReason::kLocalChange) detail = "our sockets changed; earlier pongs void";
    ReportPath(now, key, peer, to, reason, std::move(detail), change->rtt);
  }
  return progress;
}

void Node::LogCandidatesAndTrust(Timestamp now, const NodePublicKey& key, Peer& peer) {
  if (!config_.disco_log) return;
  PeerUse& use = Use(peer);
  for (const auto& [ep, c] : peer.paths->candidates()) {
    if (use.logged_candidates.insert(ep).second) {
      // Where PeerPaths has it from (the first that applies).
      const char* source = c.in_netmap          ? "netmap"
                           : c.in_call_me_maybe ? "call-me-maybe"
                           : c.peer_reflexive   ? "a ping from the peer came from it"
                                                : "discovery";
      Emit(now, CandidateLearned{key, ep, source});
    }
    if (c.Trusted(now) && use.logged_trusted.insert(ep).second) {
      Emit(now, TrustChanged{key, ep, true,
                             "a pong proved it; trusted for " + Millis(*c.trusted_until - now) +
                                 " unless a pong renews it"});
    }
  }
  for (auto it = use.logged_trusted.begin(); it != use.logged_trusted.end();) {
    const disco::Candidate* c = peer.paths->FindCandidate(*it);
    if (c != nullptr && c->Trusted(now)) {
      ++it;
      continue;
    }
    const char* why = c == nullptr                 ? "no longer a candidate"
                      : c->trusted_until.has_value() ? "no pong within the trust window"
                                                     : "trust reset (peer restarted or our sockets changed)";
    Emit(now, TrustChanged{key, *it, false, why});
    it = use.logged_trusted.erase(it);
  }
  for (auto it = use.logged_candidates.begin(); it != use.logged_candidates.end();) {
    it = peer.paths->FindCandidate(*it) == nullptr ? use.logged_candidates.erase(it) : ++it;
  }
}

void Node::ReportPath(Timestamp now, const NodePublicKey& key, Peer& peer, Path to,
                      PathChangeReason reason, std::string detail, std::optional<Duration> rtt) {
  if (to == peer.path) return;
  const Path from = peer.path;
  peer.path = to;
  ++peer.path_changes;
  Emit(now, PathChanged{key, from, std::move(to), reason, std::move(detail), rtt});
}

void Node::CheckDerpPath(Timestamp now, const NodePublicKey& key, Peer& peer) {
  if (peer.path.direct()) return;
  const Path want = FallbackPath(peer);
  if (want == peer.path) return;
  const bool theirs = want.derp() && want.region == peer.info.home_region;
  ReportPath(now, key, peer, want, PathChangeReason::kDerpRegion,
             want.derp() ? (theirs ? "the peer's home region" : "our home region")
                         : "no region to reach the peer",
             std::nullopt);
}

Path Node::FallbackPath(const Peer& peer) const {
  const RegionId region = RegionFor(peer);
  return region == kNoRegion ? Path::None() : Path::Derp(region);
}

RegionId Node::RegionFor(const Peer& peer) const {
  if (peer.info.home_region != kNoRegion && derp_map_.FindRegion(peer.info.home_region)) {
    return peer.info.home_region;
  }
  return home_;
}

std::optional<Endpoint> Node::LocalFor(const Endpoint& remote) const {
  for (const Endpoint& local : locals_) {
    if (local.ip.family() == remote.ip.family()) return local;
  }
  return std::nullopt;
}

// ---- disco -------------------------------------------------------------------

Node::SealedDisco Node::Sealed(bool log, const Bytes& packet, const disco::Message& m) {
  if (!log || packet.size() < disco::kHeaderSize) return {};
  const size_t at = disco::kMagicSize + kCurve25519KeySize;
  return {Bytes(packet.begin() + static_cast<std::ptrdiff_t>(at),
                packet.begin() + static_cast<std::ptrdiff_t>(at + kBoxNonceSize)),
          disco::EncodeMessage(m)};
}

Node::SealedDisco Node::SendDiscoUdp(Peer& peer, const Endpoint& from, const Endpoint& to,
                                     const disco::Message& m) {
  std::optional<Bytes> packet = sealer_.Seal(rng_, peer.info.disco_key, m);
  if (!packet) return {};
  SealedDisco sealed = Sealed(config_.disco_log, *packet, m);
  transmits_.push_back(Transmit{from, to, std::move(*packet)});
  return sealed;
}

Node::SealedDisco Node::SendDiscoDerp(Timestamp now, Peer& peer, RegionId region,
                                      const disco::Message& m) {
  std::optional<Bytes> packet = sealer_.Seal(rng_, peer.info.disco_key, m);
  if (!packet) return {};
  SealedDisco sealed = Sealed(config_.disco_log, *packet, m);
  SendDerp(now, region, peer.info.node_key, std::move(*packet), std::nullopt);
  return sealed;
}

void Node::HandleDisco(Timestamp now, ByteView packet, const Endpoint* local,
                       const Endpoint* remote, RegionId derp_region,
                       const NodePublicKey* derp_source) {
  disco::OpenResult opened = sealer_.Open(packet);
  if (!opened.ok()) {
    DropDisco(stats_.disco_not_opened);
    return;
  }
  auto owner = by_disco_.find(opened.opened->sender);
  if (owner == by_disco_.end()) {  // the sealer knows only netmap peers; kept in step
    DropDisco(stats_.disco_not_opened);
    return;
  }
  const NodePublicKey key = *owner->second;
  Peer& peer = MustFind(peers_, key);  // by_disco_ lists only peers
  const bool via_derp = derp_source != nullptr;
  if (via_derp && *derp_source != key) {
    DropDisco(stats_.disco_sender_mismatch);
    return;
  }
  scheduler_.MarkBusy(key);  // whatever it says may give its PeerPaths work

  // How it came, for the disco log.
  const Path came = via_derp ? Path::Derp(derp_region) : Path::Direct(*remote);
  if (const auto* ping = std::get_if<disco::Ping>(&opened.opened->message)) {
    if (!ping->node_key.IsZero() && ping->node_key != key) {
      DropDisco(stats_.disco_node_key_mismatch);
      LogDisco<DiscoReceived>(now, key, disco::MessageType::kPing, came, ping->txid,
                              [] { return std::string("dropped: names another node key"); });
      return;
    }
    ++stats_.disco_pings_received;
    SealedDisco pong;
    if (via_derp) {
      LogDisco<DiscoReceived>(now, key, disco::MessageType::kPing, came, ping->txid,
                              [] { return std::string("answered over derp"); });
      pong = SendDiscoDerp(now, peer, derp_region,
                           disco::Pong{ping->txid, DerpMagicEndpoint(derp_region)});
    } else {
      const bool answer = Paths(now, peer).HandlePingFrom(now, *remote, ping->txid);
      LogDisco<DiscoReceived>(now, key, disco::MessageType::kPing, came, ping->txid, [&] {
        return std::string(answer ? "answered" : "not answered: seen before or unusable source");
      });
      if (!answer) {
        DropDisco(stats_.disco_pings_not_answered);
        return;
      }
      pong = SendDiscoUdp(peer, *local, *remote, disco::Pong{ping->txid, *remote});
    }
    ++stats_.disco_pongs_sent;
    LogDisco<DiscoSent>(
        now, key, disco::MessageType::kPong, came, ping->txid,
        [&] { return "answers the ping; it came from " + (via_derp ? came.ToString() : remote->ToString()); },
        std::move(pong));
    return;
  }

  if (const auto* pong = std::get_if<disco::Pong>(&opened.opened->message)) {
    ++stats_.disco_pongs_received;
    if (via_derp) {
      const std::optional<RelayedRttProbe::Answer> answer =
          peer.use ? peer.use->relayed.HandlePong(now, pong->txid, config_.paths.ping_timeout)
                   : std::nullopt;
      LogDisco<DiscoReceived>(now, key, disco::MessageType::kPong, came, pong->txid, [&] {
        return answer ? "relayed rtt " + Millis(answer->rtt)
                      : std::string("rejected: not an outstanding relayed ping");
      });
      if (!answer) {
        DropDisco(stats_.disco_pongs_rejected);
        return;
      }
      RecordRtt(now, key, peer, Path::Derp(answer->region), answer->rtt);
      return;
    }
    // No PeerPaths: it never pinged, so no txid can be ours.
    const disco::PongAnswer answer =
        peer.paths ? peer.paths->HandlePongFrom(now, pong->txid, *remote)
                   : disco::PongAnswer{disco::PongResult::kUnknownTxid, std::nullopt};
    LogDisco<DiscoReceived>(now, key, disco::MessageType::kPong, came, pong->txid, [&] {
      return answer.accepted()
                 ? "rtt " + Millis(answer.timed->rtt) + " to " + answer.timed->to.ToString() +
                       "; it saw us at " + pong->source.ToString()
                 : std::string("rejected: ") + disco::PongResultName(answer.result);
    });
    if (!answer.accepted()) {
      DropDisco(stats_.disco_pongs_rejected);
      return;
    }
    RecordRtt(now, key, peer, Path::Direct(answer.timed->to), answer.timed->rtt);
    return;
  }

  const auto& cmm = std::get<disco::CallMeMaybe>(opened.opened->message);
  LogDisco<DiscoReceived>(now, key, disco::MessageType::kCallMeMaybe, came, std::nullopt, [&] {
    return (via_derp ? "their endpoints " : "dropped: only DERP may carry it; endpoints ") +
           EndpointList(cmm.endpoints);
  });
  if (!via_derp) {
    DropDisco(stats_.disco_call_me_maybe_over_udp);
    return;
  }
  ++stats_.disco_call_me_maybes_received;
  Paths(now, peer).HandleCallMeMaybe(now, cmm.endpoints);
}

void Node::RecordRtt(Timestamp now, const NodePublicKey& key, Peer& peer, const Path& path,
                     Duration rtt) {
  Use(peer).counters[path].rtt.Add(rtt);
  Emit(now, RttMeasured{key, path, rtt});
}

void Node::DropDisco(uint64_t& reason) {
  ++reason;
  ++stats_.disco_dropped;
}

// ---- data --------------------------------------------------------------------

void Node::HandleData(Timestamp now, ByteView frame, const Path& path,
                      const NodePublicKey* derp_source) {
  const std::optional<NodePublicKey> sender = PeekDataSender(frame);  // LooksLikeData held
  if (derp_source && *derp_source != *sender) {
    DropData(stats_.data_sender_mismatch);
    return;
  }
  auto it = peers_.find(*sender);
  if (it == peers_.end()) {
    DropData(stats_.data_unknown_sender);
    return;
  }
  if (!DataReady(it->second)) {
    DropData(stats_.data_unknown_sender);  // a low-order key: anyone could have sealed it
    return;
  }
  std::optional<Bytes> payload = OpenData(*Use(it->second).data_key, frame);
  if (!payload) {
    DropData(stats_.data_bad_box);
    return;
  }
  Deliver(now, *sender, it->second, std::move(*payload), path);
}

void Node::Deliver(Timestamp now, const NodePublicKey& sender, Peer& peer, Bytes payload,
                   const Path& path) {
  ++stats_.data_received;
  PathCounters& c = Use(peer).counters[path];
  ++c.packets_received;
  c.bytes_received += payload.size();
  last_activity_ = now;
  Emit(now, DataReceived{sender, std::move(payload), path});
}

void Node::DropData(uint64_t& reason) {
  ++reason;
  ++stats_.data_dropped;
}

}  // namespace node
}  // namespace punchlab
