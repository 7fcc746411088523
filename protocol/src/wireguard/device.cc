#include "punchlab/wireguard/device.h"

#include <algorithm>
#include <cassert>
#include <cstring>

namespace punchlab::wireguard {
namespace {

constexpr Duration kLoadWindow = Duration::Seconds(1);
// wireguard-go's ratelimiter: 20 handshakes/s per source address, burst 5.
constexpr int64_t kPacketCost = 1000000000 / 20;
constexpr int64_t kMaxTokens = kPacketCost * 5;
constexpr size_t kRateTableSweepAt = 4096;

Key32 ToKey(const std::array<uint8_t, 32>& a) { return a; }

}  // namespace

struct Device::Keypair {
  SessionKeys keys;
  Timestamp created;
  uint64_t send_counter = 0;
  ReplayWindow replay;

  bool Expired(Timestamp now) const {
    return now - created >= Timers::kRejectAfterTime || send_counter >= Timers::kRejectAfterMessages;
  }
  ~Keypair() {
    Wipe(keys.send);
    Wipe(keys.receive);
  }
};

struct Device::Peer {
  Peer(size_t id_in, const PeerConfig& c) : id(id_in), config(c), endpoint(c.endpoint) {}

  // The static-static DH and the MAC keys, computed on first use: a node with
  // a large netmap talks to few of its peers.
  struct Crypto {
    Crypto(const LocalStatic& local, const PeerConfig& c)
        : remote(local, c.public_key, c.preshared_key), cookies(remote) {}
    RemoteStatic remote;
    CookieGenerator cookies;
  };
  Crypto& crypto(const LocalStatic& local) {
    if (!crypto_) crypto_ = std::make_unique<Crypto>(local, config);
    return *crypto_;
  }
  RemoteStatic& remote(const LocalStatic& local) { return crypto(local).remote; }
  CookieGenerator& cookies(const LocalStatic& local) { return crypto(local).cookies; }

  size_t id;
  PeerConfig config;
  std::unique_ptr<Crypto> crypto_;
  HandshakeState handshake;
  std::optional<Endpoint> endpoint;
  Tai64n last_timestamp{};
  std::optional<Timestamp> last_initiation_consumed;
  std::optional<Timestamp> last_handshake_sent;
  std::unique_ptr<Keypair> previous, current, next;
  std::deque<Bytes> staged;
  int handshake_attempts = 0;
  bool need_another_keepalive = false;
  bool sent_last_minute_handshake = false;
  bool had_session = false;
  std::optional<Timestamp> timers[static_cast<size_t>(Timer::kCount)];
  std::optional<Timestamp> scheduled;
  PeerCounters counters;
};

size_t Device::KeyHash::operator()(const Key32& k) const noexcept {
  uint64_t h;
  std::memcpy(&h, k.data(), sizeof h);
  return static_cast<size_t>(h);
}

Device::Device(const DeviceConfig& config, RandomSource& rng)
    : local_(config.private_key), unix_offset_(config.unix_offset),
      under_load_after_(config.under_load_after), pad_(config.pad), find_peer_(config.find_peer), rng_(rng),
      cookie_checker_(local_) {}

Device::~Device() = default;

Device::Peer* Device::FindPeer(const Key32& key) const {
  auto it = peer_ids_.find(key);
  return it == peer_ids_.end() ? nullptr : peers_[it->second].get();
}

void Device::AddPeer(const PeerConfig& config) {
  if (Peer* p = FindPeer(config.public_key)) {
    p->config = config;
    if (p->crypto_) p->crypto_->remote.preshared_key = config.preshared_key;
    if (config.endpoint) p->endpoint = config.endpoint;
    return;
  }
  const size_t id = peers_.size();
  peers_.push_back(std::make_unique<Peer>(id, config));
  peer_ids_.emplace(config.public_key, id);
}

bool Device::HasPeer(const Key32& peer) const { return FindPeer(peer) != nullptr; }

bool Device::KeyUsable(const Key32& peer) {
  Peer* p = FindPeer(peer);
  return p != nullptr && p->remote(local_).static_static_ok;
}

void Device::RemovePeer(const Key32& key) {
  auto it = peer_ids_.find(key);
  if (it == peer_ids_.end()) return;
  std::unique_ptr<Peer>& slot = peers_[it->second];
  DropKeypair(slot->previous);
  DropKeypair(slot->current);
  DropKeypair(slot->next);
  if (slot->handshake.stage != HandshakeState::Stage::kNone) FreeIndex(slot->handshake.local_index);
  if (slot->scheduled) deadlines_.erase({*slot->scheduled, slot->id});
  slot.reset();  // ids stay stable: the slot is not reused
  peer_ids_.erase(it);
}

void Device::SetEndpoint(const Key32& peer, const Endpoint& endpoint) {
  if (Peer* p = FindPeer(peer)) p->endpoint = endpoint;
}

void Device::SetPersistentKeepalive(Timestamp now, const Key32& peer, Duration interval) {
  Peer* p = FindPeer(peer);
  if (p == nullptr) return;
  p->config.persistent_keepalive = interval;
  if (interval > Duration::Zero()) {
    Arm(*p, Timer::kPersistentKeepalive, now + interval);
  } else {
    Disarm(*p, Timer::kPersistentKeepalive);
  }
}

std::optional<Endpoint> Device::endpoint(const Key32& peer) const {
  const Peer* p = FindPeer(peer);
  return p ? p->endpoint : std::nullopt;
}

const PeerCounters* Device::counters(const Key32& peer) const {
  const Peer* p = FindPeer(peer);
  return p ? &p->counters : nullptr;
}

bool Device::HasSession(Timestamp now, const Key32& peer) const {
  const Peer* p = FindPeer(peer);
  return p && p->current && !p->current->Expired(now);
}

// ---- indices ---------------------------------------------------------------

uint32_t Device::NewIndex(size_t peer_id) {
  for (;;) {
    const uint32_t index = rng_.NextU32();
    if (indices_.emplace(index, peer_id).second) return index;
  }
}

void Device::FreeIndex(uint32_t index) { indices_.erase(index); }

void Device::DropKeypair(std::unique_ptr<Keypair>& kp) {
  if (!kp) return;
  FreeIndex(kp->keys.local_index);
  kp.reset();
}

// ---- commands ---------------------------------------------------------------

bool Device::Send(Timestamp now, const Key32& peer, ByteView plaintext) {
  Peer* p = FindPeer(peer);
  if (p == nullptr) return false;
  if (p->staged.size() >= Timers::kMaxStagedPackets) {
    p->staged.pop_front();
    ++p->counters.staged_dropped;
  }
  p->staged.push_back(plaintext.ToBytes());
  SendStaged(now, *p);
  return true;
}

void Device::Initiate(Timestamp now, const Key32& peer) {
  if (Peer* p = FindPeer(peer)) SendInitiation(now, *p, /*retry=*/false);
}

void Device::Emit(Peer& p, Bytes message) {
  outgoing_.push_back(Outgoing{p.config.public_key, p.endpoint, std::move(message)});
}

void Device::SendInitiation(Timestamp now, Peer& p, bool retry) {
  if (!retry) p.handshake_attempts = 0;
  // Rate limit: one handshake message per REKEY_TIMEOUT, retries included.
  if (p.last_handshake_sent && now - *p.last_handshake_sent < Timers::kRekeyTimeout) return;
  p.last_handshake_sent = now;
  if (p.handshake.stage != HandshakeState::Stage::kNone) FreeIndex(p.handshake.local_index);
  const uint32_t index = NewIndex(p.id);
  const Tai64n ts = Tai64nFromUnixNanos((now + unix_offset_).nanos());
  Bytes message = Encode(CreateInitiation(local_, p.remote(local_), p.handshake, rng_, index, ts));
  p.cookies(local_).AddMacs(now, message);
  ++p.counters.initiations_sent;
  Emit(p, std::move(message));
  OnAuthenticatedTraversal(now, p);
  OnAuthenticatedSent(p);
  Arm(p, Timer::kRetransmitHandshake,
      now + Timers::kRekeyTimeout + rng_.UniformDuration(Duration::Zero(), Timers::kRekeyTimeoutJitterMax));
}

void Device::SendStaged(Timestamp now, Peer& p) {
  Keypair* kp = p.current.get();
  if (kp == nullptr || kp->Expired(now)) {
    SendInitiation(now, p, /*retry=*/false);
    return;
  }
  while (!p.staged.empty()) {
    Bytes plain = std::move(p.staged.front());
    p.staged.pop_front();
    const bool keepalive = plain.empty();
    if (pad_) plain.resize((plain.size() + 15) / 16 * 16, 0);  // padded to 16, as the paper
    const uint64_t counter = kp->send_counter++;
    Bytes sealed;
    AeadSeal(kp->keys.send, counter, plain, ByteView(), sealed);
    Emit(p, EncodeTransport(TransportHeader{kp->keys.remote_index, counter}, sealed));
    if (keepalive) {
      ++p.counters.keepalives_sent;
    } else {
      ++p.counters.data_sent;
      OnDataSent(now, p);
    }
    OnAuthenticatedTraversal(now, p);
    OnAuthenticatedSent(p);
  }
  // Keep the key fresh: the initiator of a session rekeys after REKEY_AFTER_TIME.
  if ((kp->keys.initiator && now - kp->created >= Timers::kRekeyAfterTime) ||
      kp->send_counter >= Timers::kRekeyAfterMessages) {
    SendInitiation(now, p, /*retry=*/false);
  }
}

void Device::SendKeepalive(Timestamp now, Peer& p) {
  if (p.staged.empty()) p.staged.emplace_back();
  SendStaged(now, p);
}

// ---- receiving --------------------------------------------------------------

void Device::HandleMessage(Timestamp now, const std::optional<Endpoint>& from, ByteView message) {
  const auto type = ClassifyMessage(message);
  if (!type) {
    ++counters_.malformed;
    return;
  }
  switch (*type) {
    case MessageType::kInitiation: OnInitiation(now, from, message); break;
    case MessageType::kResponse: OnResponse(now, from, message); break;
    case MessageType::kCookieReply: OnCookieReply(now, message); break;
    case MessageType::kTransport: OnTransport(now, from, message); break;
  }
}

bool Device::UnderLoad(Timestamp now) {
  if (now - load_bucket_start_ >= kLoadWindow) {
    load_bucket_start_ = now;
    load_bucket_count_ = 0;
  }
  if (++load_bucket_count_ > under_load_after_) under_load_until_ = now + kLoadWindow;
  return under_load_until_ && now < *under_load_until_;
}

bool Device::AllowedUnderLoad(Timestamp now, const Endpoint& from) {
  if (rate_buckets_.size() >= kRateTableSweepAt) {
    for (auto it = rate_buckets_.begin(); it != rate_buckets_.end();) {
      it = now - it->second.last > kLoadWindow ? rate_buckets_.erase(it) : std::next(it);
    }
  }
  auto [it, fresh] = rate_buckets_.try_emplace(from.ip, Bucket{kMaxTokens, now});
  Bucket& b = it->second;
  if (!fresh) {
    b.tokens = std::min(kMaxTokens, b.tokens + (now - b.last).nanos());
    b.last = now;
  }
  if (b.tokens < kPacketCost) return false;
  b.tokens -= kPacketCost;
  return true;
}

bool Device::PassesLoadCheck(Timestamp now, const std::optional<Endpoint>& from, ByteView message,
                             uint32_t sender) {
  if (!cookie_checker_.CheckMac1(message)) {
    ++counters_.bad_mac1;
    return false;
  }
  if (!UnderLoad(now) || !from) return true;
  if (!cookie_checker_.CheckMac2(now, rng_, message, *from)) {
    ++counters_.bad_mac2;
    ++counters_.cookie_replies_sent;
    outgoing_.push_back(
        Outgoing{Key32{}, *from, Encode(cookie_checker_.MakeReply(now, rng_, message, sender, *from))});
    return false;
  }
  if (!AllowedUnderLoad(now, *from)) {
    ++counters_.rate_limited;
    return false;
  }
  return true;
}

void Device::OnInitiation(Timestamp now, const std::optional<Endpoint>& from, ByteView message) {
  const Initiation m = *DecodeInitiation(message);
  if (!PassesLoadCheck(now, from, message, m.sender)) return;
  auto opened = OpenInitiation(local_, m);
  if (!opened) {
    ++counters_.handshake_failed;
    return;
  }
  Peer* p = FindPeer(ToKey(opened->initiator_static));
  if (p == nullptr && find_peer_) {
    if (std::optional<PeerConfig> config = find_peer_(ToKey(opened->initiator_static))) {
      AddPeer(*config);
      p = FindPeer(config->public_key);
    }
  }
  if (p == nullptr) {
    ++counters_.unknown_peer;
    return;
  }
  if (!OpenTimestamp(p->remote(local_), m, *opened)) {
    ++counters_.handshake_failed;
    return;
  }
  if (std::memcmp(opened->timestamp.data(), p->last_timestamp.data(), opened->timestamp.size()) <= 0) {
    ++counters_.timestamp_replayed;
    return;
  }
  if (p->last_initiation_consumed && now - *p->last_initiation_consumed <= Timers::kInitiationMinInterval) {
    ++counters_.initiation_flood;
    return;
  }
  p->last_timestamp = opened->timestamp;
  p->last_initiation_consumed = now;
  if (p->handshake.stage != HandshakeState::Stage::kNone) FreeIndex(p->handshake.local_index);
  AcceptInitiation(*opened, p->handshake);
  if (from) p->endpoint = from;
  OnAuthenticatedTraversal(now, *p);
  OnAuthenticatedReceived(*p);

  // Answer at once; the session waits in `next` until the initiator confirms it.
  // A response counts against the initiation rate limit (wireguard-go's
  // SendHandshakeResponse sets lastSentHandshake): after a collision each
  // side's next try waits REKEY_TIMEOUT from its answer. Senders whose data
  // ticks meet that end together collide again (see
  // tests/unit/wireguard/collision-test.cc); wireguard-go has no tie-break.
  p->last_handshake_sent = now;
  auto kp = std::make_unique<Keypair>();
  const uint32_t index = NewIndex(p->id);
  Bytes response = Encode(CreateResponse(p->remote(local_), p->handshake, rng_, index, kp->keys));
  p->cookies(local_).AddMacs(now, response);
  kp->created = now;
  DropKeypair(p->next);
  p->next = std::move(kp);
  Emit(*p, std::move(response));
  SessionEstablished(now, *p, /*initiator=*/false);
  OnAuthenticatedTraversal(now, *p);
  OnAuthenticatedSent(*p);
}

void Device::OnResponse(Timestamp now, const std::optional<Endpoint>& from, ByteView message) {
  const Response m = *DecodeResponse(message);
  if (!PassesLoadCheck(now, from, message, m.sender)) return;
  auto it = indices_.find(m.receiver);
  Peer* p = it == indices_.end() ? nullptr : peers_[it->second].get();  // null once removed
  if (p == nullptr || p->handshake.stage != HandshakeState::Stage::kInitiationCreated ||
      p->handshake.local_index != m.receiver) {
    ++counters_.unknown_index;
    return;
  }
  auto keys = ConsumeResponse(local_, p->remote(local_), p->handshake, m);
  if (!keys) {
    ++counters_.handshake_failed;
    return;
  }
  auto kp = std::make_unique<Keypair>();
  kp->keys = *keys;
  kp->created = now;
  // The initiator's new session is current at once; the old one stays as previous.
  if (p->next) {
    DropKeypair(p->previous);
    p->previous = std::move(p->next);
  } else {
    DropKeypair(p->previous);
    p->previous = std::move(p->current);
  }
  DropKeypair(p->current);
  p->current = std::move(kp);
  if (from) p->endpoint = from;
  OnAuthenticatedTraversal(now, *p);
  OnAuthenticatedReceived(*p);
  SessionEstablished(now, *p, /*initiator=*/true);
  // Confirm the session: staged data, or a keepalive.
  SendKeepalive(now, *p);
}

void Device::SessionEstablished(Timestamp now, Peer& p, bool initiator) {
  ++p.counters.handshakes;
  if (p.had_session) ++p.counters.rekeys;
  p.had_session = true;
  // timersSessionDerived: wipe everything if nothing happens for 3 x REJECT_AFTER_TIME.
  Arm(p, Timer::kZeroKeyMaterial, now + Timers::kRejectAfterTime * 3);
  if (initiator) {
    // timersHandshakeComplete
    Disarm(p, Timer::kRetransmitHandshake);
    p.handshake_attempts = 0;
    p.sent_last_minute_handshake = false;
  }
  events_.push_back(HandshakeComplete{p.config.public_key, p.endpoint, initiator});
}

void Device::OnCookieReply(Timestamp now, ByteView message) {
  const CookieReply m = *DecodeCookieReply(message);
  auto it = indices_.find(m.receiver);
  if (it == indices_.end()) {
    ++counters_.unknown_index;
    return;
  }
  if (!peers_[it->second]) {
    ++counters_.unknown_index;
    return;
  }
  Peer& p = *peers_[it->second];
  if (!p.cookies(local_).ConsumeReply(now, m)) {
    ++counters_.bad_cookie_reply;
    return;
  }
  ++p.counters.cookies_received;
}

void Device::OnTransport(Timestamp now, const std::optional<Endpoint>& from, ByteView message) {
  ByteView ciphertext;
  const TransportHeader h = *DecodeTransport(message, ciphertext);
  auto it = indices_.find(h.receiver);
  if (it == indices_.end()) {
    ++counters_.unknown_index;
    return;
  }
  if (!peers_[it->second]) {
    ++counters_.unknown_index;
    return;
  }
  Peer& p = *peers_[it->second];
  Keypair* kp = nullptr;
  for (Keypair* k : {p.current.get(), p.previous.get(), p.next.get()}) {
    if (k != nullptr && k->keys.local_index == h.receiver) kp = k;
  }
  if (kp == nullptr) {
    ++counters_.unknown_index;
    return;
  }
  if (now - kp->created >= Timers::kRejectAfterTime) {
    ++counters_.expired_session;
    return;
  }
  Bytes plain;
  if (!AeadOpen(kp->keys.receive, h.counter, ciphertext, ByteView(), plain)) {
    ++counters_.decrypt_failed;
    return;
  }
  switch (kp->replay.Check(h.counter, Timers::kRejectAfterMessages)) {
    case ReplayWindow::Verdict::kFresh: break;
    case ReplayWindow::Verdict::kReplayed:
      ++p.counters.replayed;
      ++counters_.replayed;
      return;
    case ReplayWindow::Verdict::kTooOld:
      ++p.counters.late;
      ++counters_.late;
      return;
    case ReplayWindow::Verdict::kOverLimit: ++counters_.expired_session; return;
  }
  if (from) p.endpoint = from;
  if (kp == p.next.get()) {
    // The initiator confirmed our responder session: it becomes current.
    DropKeypair(p.previous);
    p.previous = std::move(p.current);
    p.current = std::move(p.next);
    Disarm(p, Timer::kRetransmitHandshake);
    p.handshake_attempts = 0;
    p.sent_last_minute_handshake = false;
    SendStaged(now, p);
  }
  // Keep the key fresh from the receiving side: an initiator whose session nears
  // REJECT_AFTER_TIME rekeys once, even if it has nothing to send.
  if (p.current && p.current->keys.initiator && !p.sent_last_minute_handshake &&
      now - p.current->created >= Timers::kRejectAfterTime - Timers::kKeepaliveTimeout - Timers::kRekeyTimeout) {
    p.sent_last_minute_handshake = true;
    SendInitiation(now, p, /*retry=*/false);
  }
  OnAuthenticatedTraversal(now, p);
  OnAuthenticatedReceived(p);
  if (plain.empty()) {
    ++p.counters.keepalives_received;
    return;
  }
  ++p.counters.data_received;
  OnDataReceived(now, p);
  events_.push_back(DataReceived{p.config.public_key, std::move(plain), from});
}

// ---- timers -------------------------------------------------------------------

void Device::Arm(Peer& p, Timer t, Timestamp at) {
  p.timers[static_cast<size_t>(t)] = at;
  Reschedule(p);
}

void Device::Disarm(Peer& p, Timer t) {
  if (!p.timers[static_cast<size_t>(t)]) return;
  p.timers[static_cast<size_t>(t)].reset();
  Reschedule(p);
}

bool Device::Pending(const Peer& p, Timer t) const { return p.timers[static_cast<size_t>(t)].has_value(); }

void Device::Reschedule(Peer& p) {
  std::optional<Timestamp> earliest;
  for (const auto& t : p.timers) {
    if (t && (!earliest || *t < *earliest)) earliest = t;
  }
  if (earliest == p.scheduled) return;
  if (p.scheduled) deadlines_.erase({*p.scheduled, p.id});
  p.scheduled = earliest;
  if (earliest) deadlines_.insert({*earliest, p.id});
}

void Device::OnDataSent(Timestamp now, Peer& p) {
  // Expect an answer within KEEPALIVE_TIMEOUT + REKEY_TIMEOUT, else rehandshake.
  if (!Pending(p, Timer::kNewHandshake)) {
    Arm(p, Timer::kNewHandshake,
        now + Timers::kKeepaliveTimeout + Timers::kRekeyTimeout +
            rng_.UniformDuration(Duration::Zero(), Timers::kRekeyTimeoutJitterMax));
  }
}

void Device::OnDataReceived(Timestamp now, Peer& p) {
  // Passive keepalive: answer within KEEPALIVE_TIMEOUT if we send nothing else.
  if (!Pending(p, Timer::kSendKeepalive)) {
    Arm(p, Timer::kSendKeepalive, now + Timers::kKeepaliveTimeout);
  } else {
    p.need_another_keepalive = true;
  }
}

void Device::OnAuthenticatedSent(Peer& p) { Disarm(p, Timer::kSendKeepalive); }

void Device::OnAuthenticatedReceived(Peer& p) { Disarm(p, Timer::kNewHandshake); }

void Device::OnAuthenticatedTraversal(Timestamp now, Peer& p) {
  if (p.config.persistent_keepalive > Duration::Zero()) {
    Arm(p, Timer::kPersistentKeepalive, now + p.config.persistent_keepalive);
  }
}

void Device::FireTimers(Timestamp now, Peer& p) {
  auto due = [&](Timer t) {
    auto& slot = p.timers[static_cast<size_t>(t)];
    if (!slot || *slot > now) return false;
    slot.reset();
    Reschedule(p);
    return true;
  };
  if (due(Timer::kRetransmitHandshake)) {
    // wireguard-go's expiredRetransmitHandshake: retries while attempts <=
    // MaxTimerHandshakes (18), so it gives up after 20 initiations (its log:
    // "after MaxTimerHandshakes+2 attempts").
    if (p.handshake_attempts > Timers::kMaxHandshakeAttempts) {
      // Gave up after REKEY_ATTEMPT_TIME: drop what waited, wipe keys later.
      ++p.counters.handshake_timeouts;
      p.counters.staged_dropped += p.staged.size();
      p.staged.clear();
      Disarm(p, Timer::kSendKeepalive);
      if (!Pending(p, Timer::kZeroKeyMaterial)) {
        Arm(p, Timer::kZeroKeyMaterial, now + Timers::kRejectAfterTime * 3);
      }
      events_.push_back(HandshakeGaveUp{p.config.public_key});
    } else {
      ++p.handshake_attempts;
      SendInitiation(now, p, /*retry=*/true);
    }
  }
  if (due(Timer::kSendKeepalive)) {
    SendKeepalive(now, p);
    if (p.need_another_keepalive) {
      p.need_another_keepalive = false;
      Arm(p, Timer::kSendKeepalive, now + Timers::kKeepaliveTimeout);
    }
  }
  if (due(Timer::kNewHandshake)) SendInitiation(now, p, /*retry=*/false);
  if (due(Timer::kZeroKeyMaterial)) {
    DropKeypair(p.previous);
    DropKeypair(p.current);
    DropKeypair(p.next);
    if (p.handshake.stage != HandshakeState::Stage::kNone) FreeIndex(p.handshake.local_index);
    p.handshake.Clear();
  }
  if (due(Timer::kPersistentKeepalive) && p.config.persistent_keepalive > Duration::Zero()) {
    SendKeepalive(now, p);
  }
}

void Device::HandleTimeout(Timestamp now) {
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    FireTimers(now, *peers_[deadlines_.begin()->second]);
  }
}

std::optional<Timestamp> Device::PollTimeout() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::optional<Outgoing> Device::PollTransmit() {
  if (outgoing_.empty()) return std::nullopt;
  Outgoing o = std::move(outgoing_.front());
  outgoing_.pop_front();
  return o;
}

std::optional<Event> Device::PollEvent() {
  if (events_.empty()) return std::nullopt;
  Event e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace punchlab::wireguard
