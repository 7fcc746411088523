#include "punchlab/control/server.h"

#include <algorithm>
#include <cassert>

#include "control/channel.h"
#include "punchlab/sodium.h"
#include "must-find.h"

namespace punchlab::control {

struct ControlServer::Conn {
  enum class Phase { kAwaitHello, kAwaitRegister, kRegistered };
  Phase phase = Phase::kAwaitHello;
  Channel channel{kMaxNodeFrameSize};
  NodePublicKey node_key;  // from the hello
  Challenge challenge{};   // the register must echo it
  Timestamp opened;
  Timestamp last_rx;
  // When the connection times out: its entry in deadlines_ (Refresh).
  Timestamp deadline;
  // A new session gets the whole netmap first, deltas after it.
  bool needs_netmap = true;
  // change_seq_ when its last whole netmap was made: it holds every change
  // up to that one.
  uint64_t netmap_seq = 0;
  // The register asked for compression: every message from its answer on.
  bool compress = false;
};

ControlServer::ControlServer(NodePrivateKey key, ControlServerConfig config, RandomSource& rng)
    : key_(std::move(key)),
      config_(std::move(config)),
      rng_(&rng),
      verifier_(config_.trusted_issuers),
      overlay_(config_.overlay_base, config_.overlay_prefix_len) {
  EnsureSodium();
  for (const auto& [domain, rules] : config_.access_rules) {
    access_.emplace(domain, DomainAccess(rules));
  }
}

ControlServer::ControlServer(const ControlServer&) = default;

ControlServer::ControlServer(const ControlServer& other, RandomSource& rng) : ControlServer(other) {
  rng_ = &rng;
}

ControlServer ControlServer::Clone(RandomSource& rng) const { return ControlServer(*this, rng); }

ControlServer::~ControlServer() = default;

void ControlServer::HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& /*remote*/) {
  // A host reusing a live id has lost track of a close; treat it as one.
  if (conns_.count(conn) != 0) Close(conn, "connection id reused by the host", false);
  auto c = std::make_unique<Conn>();
  c->opened = now;
  c->last_rx = now;
  Conn& added = *conns_.emplace(conn, std::move(c)).first->second;
  Refresh(conn, added, /*listed=*/false);
  ++stats_.connections;
}

void ControlServer::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;  // already closed by us; late bytes
  it->second->last_rx = now;
  Refresh(conn, *it->second);
  it->second->channel.Feed(bytes);
  for (;;) {
    it = conns_.find(conn);
    if (it == conns_.end()) break;
    Channel::Incoming in = it->second->channel.Next();
    using Kind = Channel::Incoming::Kind;
    if (in.kind == Kind::kNone) break;
    if (in.kind == Kind::kMessage) {
      ++stats_.messages;
      Dispatch(now, conn, std::move(in.msg));
      continue;
    }
    switch (in.kind) {
      case Kind::kOversized: ++stats_.oversized; break;
      case Kind::kUndecryptable: ++stats_.undecryptable; break;
      case Kind::kMalformed: ++stats_.malformed; break;
      case Kind::kOutOfOrder: ++stats_.out_of_order; break;
      case Kind::kNone:
      case Kind::kMessage: break;
    }
    Close(conn, in.error);
    break;
  }
  FlushNetmaps(now);
}

void ControlServer::HandleClosed(Timestamp now, ConnectionId conn) {
  if (conns_.count(conn) == 0) return;
  Close(conn, "connection closed by the node", false);
  FlushNetmaps(now);
}

void ControlServer::HandleTimeout(Timestamp now) {
  // The due connections, in id order (the order closes and their events
  // have always had).
  std::vector<ConnectionId> due;
  for (auto d = deadlines_.begin(); d != deadlines_.end() && d->first <= now; ++d) {
    due.push_back(d->second);
  }
  std::sort(due.begin(), due.end());
  std::vector<std::pair<ConnectionId, std::string>> expired;
  for (ConnectionId id : due) {
    const Conn* c = MustFind(conns_, id).get();  // deadlines_ lists open connections only
    if (c->phase != Conn::Phase::kRegistered && now >= c->opened + config_.handshake_timeout) {
      ++stats_.handshake_timeouts;
      expired.emplace_back(id, "not registered within " + config_.handshake_timeout.ToString());
    } else if (now >= c->last_rx + config_.idle_timeout) {
      ++stats_.idle_timeouts;
      expired.emplace_back(id, "silent for " + config_.idle_timeout.ToString());
    }
  }
  for (const auto& [id, reason] : expired) Close(id, reason);
  FlushDueBatches(now);
  FlushNetmaps(now);
}

std::optional<StreamAction> ControlServer::PollStreamAction() {
  if (actions_.empty()) return std::nullopt;
  StreamAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::optional<Timestamp> ControlServer::PollTimeout() const {
  std::optional<Timestamp> next;
  if (!deadlines_.empty()) next = deadlines_.begin()->first;
  if (!batch_due_.empty() && (!next || batch_due_.begin()->first < *next)) {
    next = batch_due_.begin()->first;
  }
  return next;
}

void ControlServer::Refresh(ConnectionId conn, Conn& c, bool listed) {
  if (listed) deadlines_.erase({c.deadline, conn});
  c.deadline = c.last_rx + config_.idle_timeout;
  if (c.phase != Conn::Phase::kRegistered) {
    c.deadline = std::min(c.deadline, c.opened + config_.handshake_timeout);
  }
  deadlines_.insert({c.deadline, conn});
}

void ControlServer::SetDerpMap(Timestamp now, DerpMap derp_map) {
  config_.derp_map = std::move(derp_map);
  derp_map_text_.clear();
  // Every session gets a whole netmap with the new DERP map.
  for (auto& [id, c] : conns_) AskNetmap(id, *c);
  if (config_.batch_delay <= Duration::Zero()) {
    for (const auto& [domain, keys] : members_) pending_[domain];
  }
  FlushNetmaps(now);
}

std::optional<ServerEvent> ControlServer::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ServerEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

std::optional<NodeInfo> ControlServer::FindNode(const NodePublicKey& key) const {
  auto it = nodes_.find(key);
  if (it == nodes_.end()) return std::nullopt;
  return it->second.info;
}

void ControlServer::Dispatch(Timestamp now, ConnectionId conn, Message msg) {
  Conn& c = *MustFind(conns_, conn);  // HandleStream dispatches for open ones only
  const char* type = MessageTypeName(msg);
  switch (c.phase) {
    case Conn::Phase::kAwaitHello:
      if (auto* hello = std::get_if<HelloMsg>(&msg)) return OnHello(conn, c, *hello);
      break;
    case Conn::Phase::kAwaitRegister:
      if (auto* reg = std::get_if<RegisterMsg>(&msg)) return OnRegister(conn, c, std::move(*reg), now);
      break;
    case Conn::Phase::kRegistered:
      if (auto* update = std::get_if<UpdateMsg>(&msg)) return OnUpdate(c, *update);
      if (std::holds_alternative<PingMsg>(msg)) return Send(conn, PongMsg{});
      if (std::holds_alternative<LeaveMsg>(msg)) return Close(conn, "node left");
      break;
  }
  ++stats_.unexpected;
  Close(conn, std::string("unexpected ") + type + " message");
}

void ControlServer::OnHello(ConnectionId conn, Conn& c, const HelloMsg& hello) {
  if (hello.version != kProtocolVersion) {
    ++stats_.malformed;
    return Close(conn, "unsupported protocol version " + std::to_string(hello.version));
  }
  auto shared = SharedKey::Compute(key_, hello.node_key);
  if (!shared) {
    ++stats_.malformed;
    return Close(conn, "hello carries an unusable node key");
  }
  c.node_key = hello.node_key;
  c.channel.SetKey(std::move(*shared));
  c.phase = Conn::Phase::kAwaitRegister;
  rng_->Fill(c.challenge.data(), c.challenge.size());
  Send(conn, ChallengeMsg{c.challenge});
}

void ControlServer::OnRegister(ConnectionId conn, Conn& c, RegisterMsg reg, Timestamp now) {
  c.compress = reg.compress == Compression::kZstd;  // the refusal too
  std::string error;
  std::optional<IdentityClaims> claims;
  if (reg.challenge != c.challenge) {
    error = "registration does not answer this connection's challenge (a replay?)";
  } else {
    claims = verifier_.Verify(reg.token, c.node_key, now, error);
  }
  std::optional<IpAddress> address;
  if (claims) {
    address = overlay_.Assign(c.node_key);
    if (!address) error = "no overlay address left to assign";
  }
  if (!claims || !address) {
    ++stats_.refused;
    events_.push_back(NodeRefused{conn, error});
    Send(conn, RefusedMsg{error});
    return Close(conn, "registration refused: " + error);
  }
  Record r;
  r.info.node_key = c.node_key;
  r.info.disco_key = reg.disco_key;
  r.info.endpoints = std::move(reg.endpoints);
  r.info.home_region = reg.home_region;
  r.info.address = *address;
  r.info.user = claims->user;
  r.domain = claims->domain;
  r.conn = conn;

  // The same key registering again replaces its earlier session; that
  // session's connection is told why and closed, without the node ever
  // leaving its peers' netmaps.
  auto old = nodes_.find(c.node_key);
  if (old != nodes_.end()) {
    const ConnectionId old_conn = old->second.conn;
    if (old->second.domain != r.domain) {
      MarkRemoved(old->second.domain, c.node_key, old->second.info.user);
      LeaveDomain(old->second.domain, c.node_key, old->second.info.user);
      JoinDomain(r.domain, c.node_key, r.info.user);
    } else if (old->second.info.user != r.info.user) {
      if (const DomainAccess* access = AccessOf(r.domain)) {
        // Who saw it under its old user may not see it now: they get whole
        // netmaps, which list exactly what they see.
        for (const NodePublicKey& viewer :
             VisibleKeys(*access, r.domain, old->second.info.user, c.node_key)) {
          const ConnectionId viewer_conn = MustFind(nodes_, viewer).conn;
          auto vc = conns_.find(viewer_conn);
          if (vc != conns_.end()) AskNetmap(viewer_conn, *vc->second);
        }
      }
      LeaveDomain(r.domain, c.node_key, old->second.info.user);
      JoinDomain(r.domain, c.node_key, r.info.user);
    }
    old->second = r;
    if (old_conn != conn && conns_.count(old_conn) != 0) {
      Send(old_conn, GoodbyeMsg{"this node key registered again on a newer connection"});
      Close(old_conn, "replaced by a newer session of the same node key");
    }
  } else {
    nodes_.emplace(c.node_key, r);
    JoinDomain(r.domain, c.node_key, r.info.user);
  }
  c.phase = Conn::Phase::kRegistered;
  Refresh(conn, c);  // the handshake deadline no longer applies
  AskNetmap(conn, c);
  ++stats_.registrations;
  MustFind(nodes_, c.node_key).registered = MarkChanged(r.domain, c.node_key);
  events_.push_back(NodeRegistered{conn, r.info, r.domain});
  Send(conn, RegisteredMsg{r.info.address, r.info.user, r.domain});
}

void ControlServer::OnUpdate(const Conn& c, const UpdateMsg& update) {
  Record& r = MustFind(nodes_, c.node_key);  // a registered session's node is listed
  const NodeInfo before = r.info;
  if (update.endpoints) r.info.endpoints = *update.endpoints;
  if (update.disco_key) r.info.disco_key = *update.disco_key;
  if (update.home_region) r.info.home_region = *update.home_region;
  if (r.info != before) {
    r.text.clear();
    for (std::string& text : r.patch_texts) text.clear();
    const uint64_t seq = MarkChanged(r.domain, c.node_key);
    if (r.info.endpoints != before.endpoints) r.endpoints_changed = seq;
    if (r.info.disco_key != before.disco_key) r.disco_key_changed = seq;
    if (r.info.home_region != before.home_region) r.home_region_changed = seq;
  }
}

void ControlServer::Send(ConnectionId conn, const Message& msg) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  SealFailure failure{};
  auto frame = it->second->channel.EncodeSealed(msg, *rng_, kMaxFrameSize, config_.key_log,
                                                it->second->compress ? &compressor_ : nullptr,
                                                &failure);
  if (!frame) return CloseUnsendable(conn, MessageTypeName(msg), failure);
  actions_.push_back(StreamAction::Write(conn, std::move(*frame)));
}

void ControlServer::Send(ConnectionId conn, const PreparedMessage& msg, const char* type) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  SealFailure failure{};
  auto frame = it->second->channel.EncodeSealed(msg, *rng_, kMaxFrameSize, config_.key_log,
                                                it->second->compress ? &compressor_ : nullptr,
                                                &failure);
  if (!frame) return CloseUnsendable(conn, type, failure);
  actions_.push_back(StreamAction::Write(conn, std::move(*frame)));
}

void ControlServer::CloseUnsendable(ConnectionId conn, const char* type, SealFailure failure) {
  if (failure == SealFailure::kUncompressible) ++stats_.uncompressible;
  Close(conn, std::string(type) + " message " + SealFailureText(failure));
}

void ControlServer::Close(ConnectionId conn, const std::string& reason, bool send_close) {
  auto it = conns_.find(conn);
  if (it == conns_.end()) return;
  const Conn& c = *it->second;
  if (c.phase == Conn::Phase::kRegistered) {
    auto node = nodes_.find(c.node_key);
    // Only if this connection still carries the node: a replaced session's
    // close must not remove the node its successor registered.
    if (node != nodes_.end() && node->second.conn == conn) {
      MarkRemoved(node->second.domain, c.node_key, node->second.info.user);
      LeaveDomain(node->second.domain, c.node_key, node->second.info.user);
      events_.push_back(NodeRemoved{c.node_key, node->second.domain, reason});
      nodes_.erase(node);
    }
  }
  deadlines_.erase({c.deadline, conn});
  conns_.erase(it);
  events_.push_back(ConnectionClosed{conn, reason});
  if (send_close) {
    actions_.push_back(StreamAction::Close(conn, reason));
  }
}

const std::string& ControlServer::EntryText(const Record& r) const {
  if (r.text.empty()) r.text = EncodeNodeInfo(r.info);
  return r.text;
}

const std::string& ControlServer::ChangeText(const Record& r, uint64_t known,
                                             bool& patch) const {
  const unsigned fields = (r.endpoints_changed > known ? 1u : 0u) |
                          (r.disco_key_changed > known ? 2u : 0u) |
                          (r.home_region_changed > known ? 4u : 0u);
  patch = r.registered <= known && fields != 0;
  if (!patch) return EntryText(r);
  std::string& text = r.patch_texts[fields];
  if (text.empty()) {
    PeerPatch p;
    p.node_key = r.info.node_key;
    if (fields & 1u) p.endpoints = r.info.endpoints;
    if (fields & 2u) p.disco_key = r.info.disco_key;
    if (fields & 4u) p.home_region = r.info.home_region;
    text = EncodePeerPatch(p);
  }
  return text;
}

const std::string& ControlServer::DerpMapText() const {
  if (derp_map_text_.empty()) derp_map_text_ = EncodeDerpMap(config_.derp_map);
  return derp_map_text_;
}

void ControlServer::JoinDomain(const std::string& domain, const NodePublicKey& key,
                               const std::string& user) {
  members_[domain].insert(key);
  if (AccessOf(domain) != nullptr) users_[domain][user].insert(key);
}

void ControlServer::LeaveDomain(const std::string& domain, const NodePublicKey& key,
                                const std::string& user) {
  auto it = members_.find(domain);
  assert(it != members_.end());
  it->second.erase(key);
  if (it->second.empty()) members_.erase(it);
  if (auto d = users_.find(domain); d != users_.end()) {
    if (auto u = d->second.find(user); u != d->second.end()) {
      u->second.erase(key);
      if (u->second.empty()) d->second.erase(u);
    }
    if (d->second.empty()) users_.erase(d);
  }
}

const DomainAccess* ControlServer::AccessOf(const std::string& domain) const {
  auto it = access_.find(domain);
  return it == access_.end() ? nullptr : &it->second;
}

std::vector<NodePublicKey> ControlServer::VisibleKeys(const DomainAccess& access,
                                                      const std::string& domain,
                                                      const std::string& user,
                                                      const NodePublicKey& self) const {
  std::vector<NodePublicKey> keys;
  const DomainAccess::Sight sight = access.Visible(user);
  if (sight.all) {
    if (auto m = members_.find(domain); m != members_.end()) {
      for (const NodePublicKey& key : m->second) {
        if (key != self) keys.push_back(key);
      }
    }
    return keys;
  }
  auto d = users_.find(domain);
  if (d == users_.end()) return keys;
  for (const std::string& u : sight.users) {
    auto it = d->second.find(u);
    if (it == d->second.end()) continue;
    for (const NodePublicKey& key : it->second) {
      if (key != self) keys.push_back(key);
    }
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

uint64_t ControlServer::MarkChanged(const std::string& domain, const NodePublicKey& key) {
  DomainChanges& d = pending_[domain];
  if (d.first == 0) {
    d.first = change_seq_ + 1;
    if (config_.batch_delay > Duration::Zero()) newly_pending_.push_back(domain);
  }
  if (auto gone = d.removed_user.find(key); gone != d.removed_user.end()) {
    // The key left during this batch and is back: its removal is dropped
    // for its change. Under another user, who saw the old user but does not
    // see the new one would keep it: they get whole netmaps (as a user
    // change in place does), which list exactly what they see.
    if (const DomainAccess* access = AccessOf(domain)) {
      const std::string& user = MustFind(nodes_, key).info.user;  // it registered again
      if (gone->second != user) {
        const std::vector<NodePublicKey> now_see = VisibleKeys(*access, domain, user, key);
        for (const NodePublicKey& viewer : VisibleKeys(*access, domain, gone->second, key)) {
          if (std::binary_search(now_see.begin(), now_see.end(), viewer)) continue;
          const ConnectionId viewer_conn = MustFind(nodes_, viewer).conn;
          auto vc = conns_.find(viewer_conn);
          if (vc != conns_.end()) AskNetmap(viewer_conn, *vc->second);
        }
      }
    }
    d.removed_user.erase(gone);
  }
  d.removed.erase(key);
  d.changed[key] = ++change_seq_;
  return change_seq_;
}

void ControlServer::MarkRemoved(const std::string& domain, const NodePublicKey& key,
                                const std::string& user) {
  DomainChanges& d = pending_[domain];
  if (d.first == 0) {
    d.first = change_seq_ + 1;
    if (config_.batch_delay > Duration::Zero()) newly_pending_.push_back(domain);
  }
  d.changed.erase(key);
  d.removed[key] = ++change_seq_;
  if (AccessOf(domain) != nullptr) d.removed_user[key] = user;
}

void ControlServer::FlushNetmaps(Timestamp now) {
  if (config_.batch_delay <= Duration::Zero()) {
    // Sending can close a connection (a message too large for a frame), which
    // changes its domain again; loop until nothing is pending.
    while (!pending_.empty()) FlushDomain(pending_.begin()->first);
    return;
  }
  // A new session's netmap does not wait for the batch: it is what the
  // node asked for (Tailscale's first map response answers the poll).
  const std::vector<ConnectionId> due = std::move(netmap_due_);
  netmap_due_.clear();
  for (ConnectionId conn : due) {
    auto c = conns_.find(conn);
    if (c == conns_.end() || !c->second->needs_netmap ||
        c->second->phase != Conn::Phase::kRegistered) {
      continue;
    }
    auto node = nodes_.find(c->second->node_key);
    if (node == nodes_.end() || node->second.conn != conn) continue;
    SendNetmap(conn, *c->second, node->second);
  }
  // Changes wait: a domain's batch is due batch_delay after its first.
  const std::vector<std::string> fresh = std::move(newly_pending_);
  newly_pending_.clear();
  for (const std::string& domain : fresh) {
    if (pending_.count(domain) == 0 || batch_due_of_.count(domain) != 0) continue;
    const Timestamp at = now + config_.batch_delay;
    batch_due_of_.emplace(domain, at);
    batch_due_.insert({at, domain});
  }
}

void ControlServer::FlushDueBatches(Timestamp now) {
  while (!batch_due_.empty() && batch_due_.begin()->first <= now) {
    const std::string domain = batch_due_.begin()->second;
    batch_due_.erase(batch_due_.begin());
    batch_due_of_.erase(domain);
    if (pending_.count(domain) != 0) FlushDomain(domain);
  }
}

void ControlServer::AskNetmap(ConnectionId conn, Conn& c) {
  c.needs_netmap = true;
  if (config_.batch_delay > Duration::Zero()) {
    netmap_due_.push_back(conn);
    return;
  }
  // A session not registered yet gets one when it registers.
  if (c.phase != Conn::Phase::kRegistered) return;
  auto node = nodes_.find(c.node_key);
  if (node != nodes_.end() && node->second.conn == conn) {
    pending_[node->second.domain].netmaps.insert(c.node_key);
  }
}

template <class Changed, class Removed>
void ControlServer::SendChangesSince(ConnectionId conn, const Changed& changed,
                                     const Removed& removed, uint64_t since, uint64_t known) {
  // Spliced from the entries' and patches' texts (encoded once per change).
  std::vector<const std::string*> changed_texts;
  std::vector<const std::string*> patch_texts;
  for (const auto& [peer, seq] : changed) {
    if (seq <= since) continue;
    if (auto node = nodes_.find(peer); node != nodes_.end()) {
      bool patch = false;
      const std::string& text = ChangeText(node->second, known, patch);
      (patch ? patch_texts : changed_texts).push_back(&text);
    }
  }
  std::vector<NodePublicKey> removed_keys;
  for (const auto& [peer, seq] : removed) {
    if (seq > since) removed_keys.push_back(peer);
  }
  if (changed_texts.empty() && removed_keys.empty() && patch_texts.empty()) return;
  Send(conn, PreparePeersChanged(changed_texts, removed_keys, patch_texts), "peers_changed");
  if (conns_.count(conn) != 0) ++stats_.deltas_sent;
}

void ControlServer::FlushDomain(const std::string& domain_name) {
  auto pending = pending_.find(domain_name);
  if (pending == pending_.end()) return;
  const std::string domain = domain_name;  // the key dies with its entry
  const DomainChanges changes = std::move(pending->second);
  pending_.erase(pending);
  if (const DomainAccess* access = AccessOf(domain)) {
    return FlushDomainWithRules(domain, *access, changes);
  }
  // Every change, for the members that get all of it (they know every
  // change before the batch's first, so an entry they hold goes as a
  // patch): spliced from the entries' and patches' texts now, before any
  // send can close a connection (and remove its node).
  const uint64_t known = changes.first == 0 ? 0 : changes.first - 1;  // 0: nothing changed
  std::vector<const std::string*> changed_texts;
  std::vector<const std::string*> patch_texts;
  for (const auto& [key, seq] : changes.changed) {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) continue;
    bool patch = false;
    const std::string& text = ChangeText(it->second, known, patch);
    (patch ? patch_texts : changed_texts).push_back(&text);
  }
  std::vector<NodePublicKey> removed_keys;
  for (const auto& [key, seq] : changes.removed) removed_keys.push_back(key);
  const bool any_change =
      !changed_texts.empty() || !removed_keys.empty() || !patch_texts.empty();
  const PreparedMessage all = any_change
                                  ? PreparePeersChanged(changed_texts, removed_keys, patch_texts)
                                  : PreparedMessage{};
  const bool batching = config_.batch_delay > Duration::Zero();
  // A copy: sending can close a connection, which leaves the domain.
  std::vector<NodePublicKey> members;
  if (auto m = members_.find(domain); m != members_.end()) {
    members.assign(m->second.begin(), m->second.end());
  }
  for (const NodePublicKey& key : members) {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) continue;
    const ConnectionId conn = it->second.conn;
    auto c = conns_.find(conn);
    if (c == conns_.end()) continue;
    if (c->second->needs_netmap) {
      SendNetmap(conn, *c->second, it->second);
    } else if (batching && c->second->netmap_seq >= changes.first) {
      // Its netmap, sent during the batch, holds the older changes already.
      SendChangesSince(conn, changes.changed, changes.removed, c->second->netmap_seq,
                       c->second->netmap_seq);
    } else if (any_change) {
      // The same text for every member but for its sequence number.
      Send(conn, all, "peers_changed");
      if (conns_.count(conn) != 0) ++stats_.deltas_sent;
    }
  }
}

void ControlServer::FlushDomainWithRules(const std::string& domain, const DomainAccess& access,
                                        const DomainChanges& changes) {
  // Per recipient, the changes it sees with their numbers, in key order (as
  // every member's message is in a domain without rules): a changed node
  // goes to the nodes that see it and to itself, a removed one to the nodes
  // that saw it. Visibility is symmetric, so the ones that see a node are
  // the ones it sees: O(changes x what each sees), not O(members x rules).
  struct Due {
    std::vector<std::pair<NodePublicKey, uint64_t>> changed;
    std::vector<std::pair<NodePublicKey, uint64_t>> removed;
  };
  std::map<NodePublicKey, Due> due;
  for (const auto& [key, seq] : changes.changed) {
    auto it = nodes_.find(key);
    if (it == nodes_.end()) continue;
    due[key].changed.emplace_back(key, seq);
    for (const NodePublicKey& viewer : VisibleKeys(access, domain, it->second.info.user, key)) {
      due[viewer].changed.emplace_back(key, seq);
    }
  }
  for (const auto& [key, seq] : changes.removed) {
    const std::string& user = MustFind(changes.removed_user, key);  // MarkRemoved records it
    for (const NodePublicKey& viewer : VisibleKeys(access, domain, user, key)) {
      due[viewer].removed.emplace_back(key, seq);
    }
  }
  // And the members due a whole netmap. With a batch delay every whole
  // netmap went out when asked for (netmap_due_); without one, AskNetmap
  // listed each in `changes.netmaps`. So only these recipients, not every
  // member, are visited: a change costs what sees the changed node.
  for (const NodePublicKey& key : changes.netmaps) due[key];
  // Changes were visited in key order, so each list is in key order; the
  // recipients go in key order too (as a domain's members do).
  const bool batching = config_.batch_delay > Duration::Zero();
  for (const auto& [key, d] : due) {
    // Looked up now: a send before this one may have closed a connection
    // and removed its node; a node due a netmap here may have registered in
    // another domain since (whose flush sends it).
    auto it = nodes_.find(key);
    if (it == nodes_.end() || it->second.domain != domain) continue;
    const ConnectionId conn = it->second.conn;
    auto c = conns_.find(conn);
    if (c == conns_.end()) continue;
    if (c->second->needs_netmap) {
      SendNetmap(conn, *c->second, it->second);
      continue;
    }
    // With a batch, a netmap sent during it holds the older changes already.
    const uint64_t since =
        batching && c->second->netmap_seq >= changes.first ? c->second->netmap_seq : 0;
    SendChangesSince(conn, d.changed, d.removed, since,
                     std::max(since, changes.first == 0 ? 0 : changes.first - 1));
  }
}

void ControlServer::SendNetmap(ConnectionId conn, Conn& c, const Record& r) {
  c.needs_netmap = false;
  c.netmap_seq = change_seq_;
  std::vector<const std::string*> peers;
  if (const DomainAccess* access = AccessOf(r.domain)) {
    const std::vector<NodePublicKey> visible =
        VisibleKeys(*access, r.domain, r.info.user, r.info.node_key);
    peers.reserve(visible.size());
    for (const NodePublicKey& key : visible) peers.push_back(&EntryText(MustFind(nodes_, key)));
    Send(conn, PrepareNetmap(r.domain, EntryText(r), peers, DerpMapText()), "netmap");
    if (conns_.count(conn) != 0) ++stats_.netmaps_sent;
    return;
  }
  auto members = members_.find(r.domain);
  assert(members != members_.end());  // r is one of them
  peers.reserve(members->second.size() - 1);
  for (const NodePublicKey& key : members->second) {
    if (key == r.info.node_key) continue;
    peers.push_back(&EntryText(MustFind(nodes_, key)));  // members_ and nodes_ change together
  }
  Send(conn, PrepareNetmap(r.domain, EntryText(r), peers, DerpMapText()), "netmap");
  if (conns_.count(conn) != 0) ++stats_.netmaps_sent;
}

}  // namespace punchlab::control
