#include "punchlab/disco/peer-paths.h"

#include <algorithm>
#include <set>

#include "punchlab/disco/path-score.h"
#include "must-find.h"

namespace punchlab {
namespace disco {

namespace {

// Nothing can be sent to these.
bool Usable(const Endpoint& ep) { return ep.port != 0 && !ep.ip.IsUnspecified(); }

// fe80::/10 needs a zone (interface) to be reached; Tailscale ignores such
// CallMeMaybe endpoints too.
bool IsV6LinkLocal(const IpAddress& ip) {
  return ip.is_v6() && ip.bytes()[0] == 0xfe && (ip.bytes()[1] & 0xc0) == 0x80;
}

// A measured RTT for people: milliseconds to the microsecond ("48.001ms",
// "20ms"), where Duration::ToString's exact form would say "48000104ns".
std::string RttText(Duration rtt) {
  const int64_t us = (rtt.nanos() + 500) / 1000;
  std::string frac = std::to_string(1000 + us % 1000).substr(1);  // three digits
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::to_string(us / 1000) + (frac.empty() ? "" : "." + frac) + "ms";
}

std::string WithRtt(const Endpoint& ep, std::optional<Duration> rtt) {
  return ep.ToString() + " (rtt " + (rtt ? RttText(*rtt) : std::string("?")) + ")";
}

}  // namespace

const char* PingPurposeName(PingPurpose p) {
  switch (p) {
    case PingPurpose::kDiscovery: return "discovery";
    case PingPurpose::kCallMeMaybe: return "call-me-maybe";
    case PingPurpose::kHeartbeat: return "heartbeat";
  }
  return "unknown";
}

const char* PathChangeReasonName(PathChangeReason r) {
  switch (r) {
    case PathChangeReason::kPong: return "pong";
    case PathChangeReason::kCallMeMaybe: return "call-me-maybe";
    case PathChangeReason::kBetterPath: return "better path";
    case PathChangeReason::kTrustExpired: return "trust expired";
    case PathChangeReason::kReset: return "reset";
  }
  return "unknown";
}

const char* PongResultName(PongResult r) {
  switch (r) {
    case PongResult::kAccepted: return "accepted";
    case PongResult::kUnknownTxid: return "unknown txid";
    case PongResult::kExpired: return "expired txid";
    case PongResult::kDuplicate: return "duplicate txid";
  }
  return "unknown";
}

std::optional<Duration> Candidate::latency() const {
  if (latencies.empty()) return std::nullopt;
  return latencies.back();
}

PeerPaths::PeerPaths(RandomSource& rng, PathConfig config) : rng_(rng), config_(config) {}

// ---- inputs ----------------------------------------------------------------

void PeerPaths::SetNetmapEndpoints(Timestamp now, const std::vector<Endpoint>& endpoints) {
  Advance(now);
  std::set<Endpoint> listed;
  for (const Endpoint& ep : endpoints) {
    if (Usable(ep)) {
      listed.insert(ep);
    } else {
      ++stats_.candidates_refused;
    }
  }
  // Mark before adding: AddCandidate may prune, and must see the new flags.
  for (auto& [ep, c] : candidates_) c.in_netmap = listed.count(ep) != 0;
  for (const Endpoint& ep : listed) {
    if (candidates_.count(ep)) continue;
    if (Candidate* c = AddCandidate(now, ep)) c->in_netmap = true;
  }
  PruneCandidates(now);
}

void PeerPaths::HandleCallMeMaybe(Timestamp now, const std::vector<Endpoint>& endpoints) {
  Advance(now);
  ++stats_.call_me_maybes_received;
  std::set<Endpoint> listed;
  for (const Endpoint& ep : endpoints) {
    if (Usable(ep) && !IsV6LinkLocal(ep.ip)) {
      listed.insert(ep);
    } else {
      ++stats_.candidates_refused;
    }
  }
  // The latest CallMeMaybe is the peer's whole current list.
  for (auto& [ep, c] : candidates_) {
    c.in_call_me_maybe = listed.count(ep) != 0;
    if (c.in_call_me_maybe) c.call_me_maybe_at = now;
  }
  for (const Endpoint& ep : listed) {
    if (candidates_.count(ep)) continue;
    if (Candidate* c = AddCandidate(now, ep)) {
      c->in_call_me_maybe = true;
      c->call_me_maybe_at = now;
    }
  }
  PruneCandidates(now);
  // The peer has just pinged us from its side, so its NAT expects our pings
  // now: every candidate, whatever the rate limit says.
  for (auto& [ep, c] : candidates_) c.last_ping_sent.reset();
  SendDiscoPings(now, PingPurpose::kCallMeMaybe, /*want_call_me_maybe=*/false);
}

bool PeerPaths::HandlePingFrom(Timestamp now, const Endpoint& src, const TxId& txid) {
  Advance(now);
  ++stats_.pings_received;
  if (!Usable(src)) {
    ++stats_.candidates_refused;
    return false;
  }
  auto it = candidates_.find(src);
  if (it != candidates_.end()) {
    Candidate& c = it->second;
    const bool duplicate = c.last_ping_received_txid == txid;
    c.peer_reflexive = true;
    c.last_ping_received = now;
    c.last_ping_received_txid = txid;
    if (duplicate) ++stats_.duplicate_pings_received;
    return !duplicate;
  }
  // A new address: where the peer's NAT maps it towards us. Even when the
  // candidate list is full the ping is genuine, so it is still answered.
  if (Candidate* c = AddCandidate(now, src)) {
    c->peer_reflexive = true;
    c->last_ping_received = now;
    c->last_ping_received_txid = txid;
  }
  return true;
}

PongAnswer PeerPaths::HandlePongFrom(Timestamp now, const TxId& txid, const Endpoint& from) {
  Advance(now);
  auto it = outstanding_.find(txid);
  if (it == outstanding_.end()) {
    const std::optional<Retired> retired = FindRetired(txid);
    if (!retired) {
      ++stats_.pongs_unknown_txid;
      return PongAnswer{PongResult::kUnknownTxid, std::nullopt};
    }
    if (*retired == Retired::kAnswered) {
      ++stats_.pongs_duplicate_txid;
      return PongAnswer{PongResult::kDuplicate, std::nullopt};
    }
    ++stats_.pongs_expired_txid;
    return PongAnswer{PongResult::kExpired, std::nullopt};
  }
  const SentPing sent = it->second;
  outstanding_.erase(it);
  Retire(txid, Retired::kAnswered);
  ++stats_.pongs_accepted;
  const Duration rtt = now - sent.at;
  RecordPong(now, sent, rtt, from);
  return PongAnswer{PongResult::kAccepted, PongAnswer::Timed{sent.to, rtt}};
}

void PeerPaths::NoteDataSent(Timestamp now) {
  Advance(now);
  last_data_sent_ = now;
  if (!best_) SendDiscoPings(now, PingPurpose::kDiscovery, /*want_call_me_maybe=*/true);
  if (!heartbeat_at_) heartbeat_at_ = now + config_.heartbeat_interval;
}

void PeerPaths::Reset(Timestamp now) {
  Advance(now);
  if (best_) ChangePath(std::nullopt, PathChangeReason::kReset, "peer reset");
  for (const auto& [txid, sent] : outstanding_) Retire(txid, Retired::kCancelled);
  outstanding_.clear();
  for (auto& [ep, c] : candidates_) {
    c.last_ping_sent.reset();
    c.trusted_until.reset();
  }
  last_data_sent_.reset();
  last_full_ping_.reset();
  heartbeat_at_.reset();
}

// ---- outputs ---------------------------------------------------------------

std::vector<PingToSend> PeerPaths::PollPingsToSend(Timestamp now) {
  Advance(now);
  std::vector<PingToSend> out;
  out.swap(pings_);
  return out;
}

std::optional<PeerPathsEvent> PeerPaths::PollEvent() {
  if (events_.empty()) return std::nullopt;
  PeerPathsEvent ev = std::move(events_.front());
  events_.pop_front();
  return ev;
}

std::optional<Timestamp> PeerPaths::NextWakeup() const {
  std::optional<Timestamp> next;
  auto consider = [&next](Timestamp t) {
    if (!next || t < *next) next = t;
  };
  for (const auto& [txid, sent] : outstanding_) consider(sent.at + config_.ping_timeout);
  if (best_) {
    const Candidate& c = CandidateAt(*best_);
    if (c.trusted_until) consider(*c.trusted_until);
  }
  if (heartbeat_at_) consider(*heartbeat_at_);
  return next;
}

std::optional<Endpoint> PeerPaths::BestAddr(Timestamp now) const {
  // Checked against `now` too, so the answer is right even before the timer
  // that expires the trust has run.
  if (!best_ || !CandidateAt(*best_).Trusted(now)) return std::nullopt;
  return best_;
}

std::optional<Duration> PeerPaths::BestLatency() const {
  if (!best_) return std::nullopt;
  return CandidateAt(*best_).latency();
}

bool PeerPaths::SessionActive(Timestamp now) const {
  return last_data_sent_ && now - *last_data_sent_ <= config_.session_active_timeout;
}

const Candidate* PeerPaths::FindCandidate(const Endpoint& ep) const {
  auto it = candidates_.find(ep);
  return it == candidates_.end() ? nullptr : &it->second;
}

// ---- timers ----------------------------------------------------------------

void PeerPaths::Advance(Timestamp now) {
  ExpirePings(now);
  ExpireTrust(now);
  if (heartbeat_at_ && now >= *heartbeat_at_) Heartbeat(now);
}

void PeerPaths::ExpirePings(Timestamp now) {
  for (auto it = outstanding_.begin(); it != outstanding_.end();) {
    if (now >= it->second.at + config_.ping_timeout) {
      Retire(it->first, Retired::kTimedOut);
      ++stats_.ping_timeouts;
      it = outstanding_.erase(it);
    } else {
      ++it;
    }
  }
}

void PeerPaths::ExpireTrust(Timestamp now) {
  if (!best_ || CandidateAt(*best_).Trusted(now)) return;
  std::string detail = "no pong from " + best_->ToString() + " for " +
                       config_.trust_duration.ToString();
  if (!SessionActive(now)) detail += " (session idle)";
  // A path that answered a discovery ping recently is still proven.
  const Candidate* alt = nullptr;
  for (const auto& [ep, c] : candidates_) {
    if (ep == *best_ || !c.Trusted(now) || !c.latency()) continue;
    if (!alt || IsBetterPath(ep, *c.latency(), alt->endpoint, *alt->latency(), 0)) alt = &c;
  }
  if (alt) {
    ChangePath(alt->endpoint, PathChangeReason::kTrustExpired,
               detail + "; " + WithRtt(alt->endpoint, alt->latency()) + " still trusted");
  } else {
    ChangePath(std::nullopt, PathChangeReason::kTrustExpired, detail);
  }
}

void PeerPaths::Heartbeat(Timestamp now) {
  if (!SessionActive(now)) {
    heartbeat_at_.reset();  // idle: the next send restarts the heartbeat
    return;
  }
  if (best_) StartPing(*best_, now, PingPurpose::kHeartbeat);
  if (WantFullPing(now)) SendDiscoPings(now, PingPurpose::kDiscovery, /*want_call_me_maybe=*/true);
  heartbeat_at_ = now + config_.heartbeat_interval;
}

bool PeerPaths::WantFullPing(Timestamp now) const {
  if (!best_ || !last_full_ping_) return true;
  const std::optional<Duration> latency = CandidateAt(*best_).latency();
  if (latency && *latency <= config_.good_enough_latency) return false;
  return now - *last_full_ping_ >= config_.upgrade_interval;
}

// ---- pings -----------------------------------------------------------------

void PeerPaths::SendDiscoPings(Timestamp now, PingPurpose purpose, bool want_call_me_maybe) {
  last_full_ping_ = now;
  PruneCandidates(now);
  bool sent_any = false;
  for (auto& [ep, c] : candidates_) {
    if (c.last_ping_sent && now - *c.last_ping_sent < config_.ping_interval) continue;
    sent_any = StartPing(ep, now, purpose) || sent_any;
  }
  if (sent_any && want_call_me_maybe) {
    events_.push_back(SendCallMeMaybe{});
    ++stats_.call_me_maybe_requests;
  }
}

bool PeerPaths::StartPing(const Endpoint& to, Timestamp now, PingPurpose purpose) {
  if (outstanding_.size() >= config_.max_outstanding_pings) {
    ++stats_.pings_suppressed;
    return false;
  }
  TxId txid{};
  do {
    rng_.Fill(txid.data(), txid.size());
  } while (outstanding_.count(txid) != 0);
  outstanding_[txid] = SentPing{to, now, purpose};
  CandidateAt(to).last_ping_sent = now;
  pings_.push_back(PingToSend{txid, to, purpose});
  if (purpose == PingPurpose::kHeartbeat) {
    ++stats_.heartbeat_pings;
  } else {
    ++stats_.discovery_pings;
  }
  return true;
}

void PeerPaths::Retire(const TxId& txid, Retired why) {
  retired_.emplace_back(txid, why);
  while (retired_.size() > config_.remembered_txids) retired_.pop_front();
}

std::optional<PeerPaths::Retired> PeerPaths::FindRetired(const TxId& txid) const {
  for (const auto& [id, why] : retired_) {
    if (id == txid) return why;
  }
  return std::nullopt;
}

// ---- paths -----------------------------------------------------------------

// Latency and trust go to the address pinged, not to where the pong came
// from (a peer may answer from another socket), as in Tailscale.
void PeerPaths::RecordPong(Timestamp now, const SentPing& sent, Duration rtt,
                           const Endpoint& from) {
  auto it = candidates_.find(sent.to);
  if (it == candidates_.end()) {
    ++stats_.pongs_for_removed_candidate;
    return;
  }
  Candidate& c = it->second;
  c.last_pong = now;
  c.trusted_until = now + config_.trust_duration;
  c.latencies.push_back(rtt);
  while (c.latencies.size() > std::max<size_t>(config_.latency_history, 1)) c.latencies.pop_front();

  if (!best_) {
    const bool answered_cmm = sent.purpose == PingPurpose::kCallMeMaybe;
    std::string detail = "pong from " + WithRtt(from, rtt);
    if (from != c.endpoint) detail += " for ping to " + c.endpoint.ToString();
    if (answered_cmm) detail += " after call-me-maybe";
    ChangePath(c.endpoint,
               answered_cmm ? PathChangeReason::kCallMeMaybe : PathChangeReason::kPong,
               std::move(detail));
    return;
  }
  if (*best_ == c.endpoint) return;  // trust refreshed, latency updated
  const Candidate& current = CandidateAt(*best_);
  const Duration current_rtt = current.latency().value_or(Duration::Max());
  if (IsBetterPath(c.endpoint, rtt, current.endpoint, current_rtt, config_.switch_margin_points)) {
    ChangePath(c.endpoint, PathChangeReason::kBetterPath,
               WithRtt(c.endpoint, rtt) + " better than " + WithRtt(current.endpoint, current_rtt));
  }
}

void PeerPaths::ChangePath(std::optional<Endpoint> to, PathChangeReason reason,
                           std::string detail) {
  PathChanged ev;
  ev.from = best_;
  ev.to = to;
  if (to) ev.rtt = CandidateAt(*to).latency();
  ev.reason = reason;
  ev.detail = std::move(detail);
  events_.push_back(std::move(ev));
  best_ = to;
  ++stats_.path_changes;
}

// ---- candidates ------------------------------------------------------------

// best_ and every endpoint a ping goes to are candidates.
Candidate& PeerPaths::CandidateAt(const Endpoint& ep) { return MustFind(candidates_, ep); }

const Candidate& PeerPaths::CandidateAt(const Endpoint& ep) const {
  return MustFind(candidates_, ep);
}

Candidate* PeerPaths::AddCandidate(Timestamp now, const Endpoint& ep) {
  if (candidates_.size() >= config_.max_candidates) PruneCandidates(now);
  if (candidates_.size() >= config_.max_candidates) {
    ++stats_.candidates_refused;
    return nullptr;
  }
  Candidate& c = candidates_[ep];
  c.endpoint = ep;
  ++stats_.candidates_added;
  return &c;
}

bool PeerPaths::ShouldDelete(const Candidate& c, Timestamp now) const {
  if (c.in_netmap || c.in_call_me_maybe || c.Trusted(now)) return false;
  return !(c.peer_reflexive && c.last_ping_received &&
           now - *c.last_ping_received <= config_.session_active_timeout);
}

void PeerPaths::PruneCandidates(Timestamp now) {
  for (auto it = candidates_.begin(); it != candidates_.end();) {
    // best_ is trusted, so it is never pruned (ShouldDelete checks trust).
    if (ShouldDelete(it->second, now) && it->first != best_) {
      it = candidates_.erase(it);
      ++stats_.candidates_removed;
    } else {
      ++it;
    }
  }
}

}  // namespace disco
}  // namespace punchlab
