#include "punchlab/control/client.h"

#include <algorithm>

#include "control/channel.h"
#include "punchlab/sodium.h"

namespace punchlab::control {

struct ControlClient::Session {
  ConnectionId conn = 0;
  Channel channel{kMaxFrameSize};
  Timestamp started;
  Timestamp last_rx;
  Timestamp last_tx;
};

ControlClient::ControlClient(ControlClientConfig config, RandomSource& rng)
    : config_(std::move(config)), rng_(&rng), backoff_(config_.backoff_initial) {
  EnsureSodium();
}

ControlClient::ControlClient(const ControlClient&) = default;

ControlClient::ControlClient(const ControlClient& other, RandomSource& rng) : ControlClient(other) {
  rng_ = &rng;
}

ControlClient ControlClient::Clone(RandomSource& rng) const { return ControlClient(*this, rng); }

ControlClient::ControlClient(ControlClient&&) noexcept = default;

ControlClient::~ControlClient() = default;

void ControlClient::Register(Timestamp now, NodePrivateKey node_key, Registration registration) {
  node_key_.emplace(std::move(node_key));
  registration_ = std::move(registration);
  if (registration_.endpoints.size() > kMaxEndpoints) {
    registration_.endpoints.resize(kMaxEndpoints);
  }
  if (session_) {
    actions_.push_back(StreamAction::Close(session_->conn, "registering again"));
    session_.reset();
  }
  backoff_ = config_.backoff_initial;
  Connect(now);
}

void ControlClient::UpdateEndpoints(Timestamp now, std::vector<Endpoint> endpoints) {
  if (endpoints.size() > kMaxEndpoints) endpoints.resize(kMaxEndpoints);
  if (endpoints == registration_.endpoints) return;
  registration_.endpoints = endpoints;
  UpdateMsg u;
  u.endpoints = std::move(endpoints);
  SendUpdate(now, u);
}

void ControlClient::UpdateDiscoKey(Timestamp now, const DiscoPublicKey& disco_key) {
  if (disco_key == registration_.disco_key) return;
  registration_.disco_key = disco_key;
  UpdateMsg u;
  u.disco_key = disco_key;
  SendUpdate(now, u);
}

void ControlClient::SetHomeRegion(Timestamp now, RegionId region) {
  if (region == registration_.home_region) return;
  registration_.home_region = region;
  UpdateMsg u;
  u.home_region = region;
  SendUpdate(now, u);
}

void ControlClient::Leave(Timestamp now) {
  if (state_ == State::kAwaitRegistered || state_ == State::kRegistered) Send(now, LeaveMsg{});
  if (session_) {
    Drop(now, "left", /*reconnect=*/false);
  } else {
    state_ = State::kStopped;
  }
}

void ControlClient::HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& /*remote*/) {
  if (!session_ || session_->conn != conn || state_ != State::kConnecting) return;
  state_ = State::kAwaitChallenge;
  session_->last_rx = now;
  session_->last_tx = now;
  actions_.push_back(StreamAction::Write(
      conn, session_->channel.EncodePlain(HelloMsg{kProtocolVersion, node_key_->Public()})));
}

void ControlClient::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  if (!session_ || session_->conn != conn) return;
  session_->last_rx = now;
  session_->channel.Feed(bytes);
  while (session_ && session_->conn == conn) {
    Channel::Incoming in = session_->channel.Next();
    using Kind = Channel::Incoming::Kind;
    switch (in.kind) {
      case Kind::kNone: return;
      case Kind::kMessage: OnMessage(now, std::move(in.msg)); continue;
      case Kind::kOversized: ++stats_.oversized; break;
      case Kind::kUndecryptable: ++stats_.undecryptable; break;
      case Kind::kMalformed: ++stats_.malformed; break;
      case Kind::kOutOfOrder: ++stats_.out_of_order; break;
    }
    return Drop(now, in.error, /*reconnect=*/true);
  }
}

void ControlClient::HandleClosed(Timestamp now, ConnectionId conn) {
  if (!session_ || session_->conn != conn) return;
  Drop(now,
       state_ == State::kConnecting ? "could not connect to the coordination server"
                                    : "connection to the coordination server closed",
       /*reconnect=*/true, /*send_close=*/false);
}

void ControlClient::HandleTimeout(Timestamp now) {
  switch (state_) {
    case State::kBackoff:
      if (now >= retry_at_) Connect(now);
      break;
    case State::kConnecting:
    case State::kAwaitChallenge:
    case State::kAwaitRegistered:
      if (now >= session_->started + config_.handshake_timeout) {
        Drop(now, "not registered within " + config_.handshake_timeout.ToString(), true);
      }
      break;
    case State::kRegistered:
      if (now >= session_->last_rx + config_.server_silence_timeout) {
        Drop(now, "coordination server silent for " + config_.server_silence_timeout.ToString(),
             true);
      } else if (now >= session_->last_tx + config_.keepalive_interval) {
        Send(now, PingMsg{});
      }
      break;
    case State::kIdle:
    case State::kStopped:
      break;
  }
}

std::optional<StreamAction> ControlClient::PollStreamAction() {
  if (actions_.empty()) return std::nullopt;
  StreamAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::optional<Timestamp> ControlClient::PollTimeout() const {
  switch (state_) {
    case State::kBackoff:
      return retry_at_;
    case State::kConnecting:
    case State::kAwaitChallenge:
    case State::kAwaitRegistered:
      return session_->started + config_.handshake_timeout;
    case State::kRegistered:
      return std::min(session_->last_rx + config_.server_silence_timeout,
                      session_->last_tx + config_.keepalive_interval);
    case State::kIdle:
    case State::kStopped:
      break;
  }
  return std::nullopt;
}

std::optional<ClientEvent> ControlClient::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

void ControlClient::Connect(Timestamp now) {
  auto shared = SharedKey::Compute(*node_key_, config_.server_key);
  if (!shared) {
    state_ = State::kStopped;
    events_.push_back(Disconnected{"the coordination server key is not usable", false});
    return;
  }
  session_ = std::make_unique<Session>();
  session_->conn = next_conn_++;
  session_->channel.SetKey(std::move(*shared));
  session_->started = now;
  session_->last_rx = now;
  session_->last_tx = now;
  state_ = State::kConnecting;
  ++stats_.connects;
  actions_.push_back(StreamAction::Connect(session_->conn, config_.server));
}

void ControlClient::OnMessage(Timestamp now, Message msg) {
  if (state_ == State::kAwaitChallenge) {
    if (auto* ch = std::get_if<ChallengeMsg>(&msg)) {
      state_ = State::kAwaitRegistered;
      const Compression compress = config_.compress ? Compression::kZstd : Compression::kNone;
      Send(now, RegisterMsg{ch->challenge, registration_.token, registration_.disco_key,
                            registration_.endpoints, registration_.home_region, compress});
      // The server answers the register already compressed.
      if (session_ && compress != Compression::kNone) session_->channel.ExpectCompressed();
      return;
    }
  }
  if (state_ == State::kAwaitRegistered) {
    if (auto* ok = std::get_if<RegisteredMsg>(&msg)) {
      state_ = State::kRegistered;
      have_netmap_ = false;  // this session's first update is a whole netmap
      backoff_ = config_.backoff_initial;
      ++stats_.registrations;
      events_.push_back(Registered{ok->address, ok->user, ok->domain});
      return;
    }
    if (auto* refused = std::get_if<RefusedMsg>(&msg)) {
      // A refusal (bad or expired token) does not heal by retrying.
      events_.push_back(RegistrationRefused{refused->reason});
      state_ = State::kStopped;
      actions_.push_back(StreamAction::Close(session_->conn, "registration refused"));
      session_.reset();
      return;
    }
  }
  if (state_ == State::kRegistered) {
    if (auto* nm = std::get_if<NetmapMsg>(&msg)) {
      ++stats_.netmaps;
      have_netmap_ = true;
      if (config_.keep_peers) {
        netmap_ = nm->netmap;
      } else {
        netmap_ = Netmap{nm->netmap.domain, nm->netmap.self, {}, nm->netmap.derp_map};
      }
      events_.push_back(NetmapUpdated{std::move(nm->netmap)});
      return;
    }
    // A change makes sense only on top of a whole netmap from this session.
    if (auto* delta = std::get_if<PeersChangedMsg>(&msg); delta && have_netmap_) {
      ++stats_.deltas;
      ApplyPeersChanged(std::move(*delta));
      return;
    }
    if (std::holds_alternative<PongMsg>(msg)) return;
  }
  if (auto* bye = std::get_if<GoodbyeMsg>(&msg)) {
    return Drop(now, "server said goodbye: " + bye->reason, /*reconnect=*/false);
  }
  ++stats_.unexpected;
  Drop(now, std::string("unexpected ") + MessageTypeName(msg) + " message", /*reconnect=*/true);
}

void ControlClient::ApplyPeersChanged(PeersChangedMsg delta) {
  Netmap& m = *netmap_;
  auto byKey = [](const NodeInfo& n, const NodePublicKey& k) { return n.node_key < k; };
  PeersChanged event;
  event.changed.reserve(delta.changed.size());
  for (NodeInfo& info : delta.changed) {
    if (info.node_key == m.self.node_key) {
      m.self = std::move(info);
      continue;
    }
    if (!config_.keep_peers) {
      event.changed.push_back(std::move(info));
      continue;
    }
    // Peers stay ordered by node key, as in a whole netmap.
    auto it = std::lower_bound(m.peers.begin(), m.peers.end(), info.node_key, byKey);
    if (it != m.peers.end() && it->node_key == info.node_key) {
      *it = info;
    } else {
      m.peers.insert(it, info);
    }
    event.changed.push_back(std::move(info));
  }
  for (PeerPatch& patch : delta.patched) {
    if (patch.node_key == m.self.node_key) {
      patch.ApplyTo(m.self);
      continue;
    }
    if (!config_.keep_peers) {
      event.patched.push_back(std::move(patch));
      continue;
    }
    auto it = std::lower_bound(m.peers.begin(), m.peers.end(), patch.node_key, byKey);
    if (it == m.peers.end() || it->node_key != patch.node_key) {
      ++stats_.unknown_patches;
      continue;
    }
    patch.ApplyTo(*it);
    event.patched.push_back(std::move(patch));
  }
  for (const NodePublicKey& key : delta.removed) {
    if (!config_.keep_peers) {
      event.removed.push_back(key);
      continue;
    }
    auto it = std::lower_bound(m.peers.begin(), m.peers.end(), key, byKey);
    if (it == m.peers.end() || it->node_key != key) continue;
    m.peers.erase(it);
    event.removed.push_back(key);
  }
  if (!event.changed.empty() || !event.removed.empty() || !event.patched.empty()) {
    events_.push_back(std::move(event));
  }
}

void ControlClient::SendUpdate(Timestamp now, const UpdateMsg& update) {
  if (state_ == State::kAwaitRegistered || state_ == State::kRegistered) Send(now, update);
}

void ControlClient::Send(Timestamp now, const Message& msg) {
  // Only an absurd token can exceed the server's limit; retrying would not
  // help.
  auto frame = session_->channel.EncodeSealed(msg, *rng_, kMaxNodeFrameSize, config_.key_log);
  if (!frame) return Drop(now, std::string(MessageTypeName(msg)) + " message too large", false);
  session_->last_tx = now;
  actions_.push_back(StreamAction::Write(session_->conn, std::move(*frame)));
}

void ControlClient::Drop(Timestamp now, const std::string& reason, bool reconnect,
                         bool send_close) {
  if (session_ && send_close) {
    actions_.push_back(StreamAction::Close(session_->conn, reason));
  }
  session_.reset();
  events_.push_back(Disconnected{reason, reconnect});
  if (!reconnect) {
    state_ = State::kStopped;
    return;
  }
  state_ = State::kBackoff;
  retry_at_ = now + rng_->UniformDuration(backoff_ / 2, backoff_);
  backoff_ = std::min(backoff_ * 2, config_.backoff_max);
}

}  // namespace punchlab::control
