// The direct paths to one peer and which of them to use: the decision logic
// of Tailscale magicsock's per-peer `endpoint`, without any I/O. A node keeps
// one PeerPaths per peer, seals the pings it asks for (sealer.h) and sends
// data to BestAddr(now), or over DERP when that is nullopt.
//
// Candidates are the peer's possible addresses, from three origins: the
// netmap, the peer's CallMeMaybe (over DERP), and incoming pings
// (peer-reflexive: where the peer's pings came from after its NAT).
//
// Behaviour (PathConfig holds the numbers):
// * Nothing happens until data is sent (NoteDataSent) or the peer reaches out
//   (CallMeMaybe, ping). Without a trusted direct path, every send starts a
//   discovery round: each candidate not pinged within ping_interval is pinged,
//   and if any ping went out, a SendCallMeMaybe event asks the node to send
//   its own endpoints to the peer over DERP, so the peer pings back at once
//   and both NATs open.
// * CallMeMaybe from the peer: its endpoints become candidates (earlier
//   CallMeMaybe endpoints it no longer lists stop being candidates) and every
//   candidate is pinged at once, rate limit or not.
// * A pong that answers an outstanding ping (by txid) records the latency and
//   trusts that path for trust_duration. With no best path it becomes the best
//   path; otherwise it replaces the best path only if IsBetterPath (hysteresis,
//   LAN and IPv6 preference). Unknown, expired and already answered txids
//   (replays) are dropped, counted, and change nothing.
// * While the session is active (data sent within session_active_timeout), a
//   heartbeat every heartbeat_interval pings the best path and, while
//   searching, every candidate (rate-limited). The search stops at
//   good_enough_latency; with a slower direct path it repeats every
//   upgrade_interval.
// * When the best path's trust runs out (no pong for trust_duration), it falls
//   back to another still-trusted path, else to DERP.
// * A trusted candidate is never deleted: a path that answers pings keeps
//   working even if the netmap or a CallMeMaybe no longer lists it.
//
// Shape: inputs carry `now`; each first runs whatever timers are due.
// Outputs: PollPingsToSend(now) (also runs due timers), PollEvent(),
// NextWakeup(). Host loop: after every input, drain PollPingsToSend and
// PollEvent; call PollPingsToSend(now) again at NextWakeup().
// Pings that arrive over DERP are the node's business (answer over DERP);
// HandlePingFrom is for pings that came over UDP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/disco/message.h"
#include "punchlab/disco/path-config.h"
#include "punchlab/endpoint.h"
#include "punchlab/random.h"
#include "punchlab/time.h"

namespace punchlab {
namespace disco {

enum class PingPurpose : uint8_t {
  kDiscovery,    // does this candidate work? (sends, heartbeats while searching)
  kCallMeMaybe,  // discovery, answering the peer's CallMeMaybe
  kHeartbeat,    // keep the best path (and its NAT mappings) alive
};
const char* PingPurposeName(PingPurpose p);

struct PingToSend {
  TxId txid{};
  Endpoint to;
  PingPurpose purpose = PingPurpose::kDiscovery;
};

enum class PathChangeReason : uint8_t {
  kPong,          // a pong gave us a direct path (we were on DERP)
  kCallMeMaybe,   // same, and the ping answered the peer's CallMeMaybe
  kBetterPath,    // a pong showed a clearly better path (latency, LAN, IPv6)
  kTrustExpired,  // no pong on the best path for trust_duration
  kReset,         // Reset(): the peer's disco key changed, old proofs void
};
const char* PathChangeReasonName(PathChangeReason r);

// Events (see protocol/README.md, "Events").
struct PathChanged {
  std::optional<Endpoint> from;  // nullopt: DERP
  std::optional<Endpoint> to;    // nullopt: DERP
  std::optional<Duration> rtt;   // latest latency of `to`
  PathChangeReason reason = PathChangeReason::kPong;
  std::string detail;  // for logs, e.g. "pong from 192.0.2.1:41641 (rtt 20ms)"
};
struct SendCallMeMaybe {};  // send our endpoints to the peer over DERP now
using PeerPathsEvent = std::variant<PathChanged, SendCallMeMaybe>;

struct Candidate {
  Endpoint endpoint;
  bool in_netmap = false;
  bool in_call_me_maybe = false;
  bool peer_reflexive = false;  // the peer has pinged us from here
  std::optional<Timestamp> last_ping_sent;
  std::optional<Timestamp> last_pong;
  std::optional<Timestamp> last_ping_received;
  std::optional<TxId> last_ping_received_txid;  // to spot a ping seen twice
  std::optional<Timestamp> call_me_maybe_at;
  std::optional<Timestamp> trusted_until;  // last pong + trust_duration
  std::deque<Duration> latencies;          // oldest first

  std::optional<Duration> latency() const;  // the most recent sample
  bool Trusted(Timestamp now) const { return trusted_until && now < *trusted_until; }
};

enum class PongResult : uint8_t {
  kAccepted,     // answered an outstanding ping: latency recorded, path trusted
  kUnknownTxid,  // not a ping of ours (or one forgotten long ago)
  kExpired,      // our ping had timed out (or was cancelled by Reset)
  kDuplicate,    // already answered: a replay or a duplicate
};
const char* PongResultName(PongResult r);

// What a pong meant, with what the node needs to time the path it proved.
struct PongAnswer {
  struct Timed {
    Endpoint to;   // where the answered ping was sent (the path it proves)
    Duration rtt;  // from that ping's send to this pong
  };
  PongResult result = PongResult::kUnknownTxid;
  std::optional<Timed> timed;  // set exactly when result is kAccepted

  bool accepted() const { return result == PongResult::kAccepted; }
};

struct PeerPathsStats {
  uint64_t discovery_pings = 0;  // including CallMeMaybe-triggered ones
  uint64_t heartbeat_pings = 0;
  uint64_t pings_suppressed = 0;  // max_outstanding_pings reached
  uint64_t ping_timeouts = 0;
  uint64_t pongs_accepted = 0;
  uint64_t pongs_unknown_txid = 0;
  uint64_t pongs_expired_txid = 0;
  uint64_t pongs_duplicate_txid = 0;
  uint64_t pongs_for_removed_candidate = 0;  // accepted, but the candidate is gone
  uint64_t pings_received = 0;
  uint64_t duplicate_pings_received = 0;
  uint64_t call_me_maybes_received = 0;
  uint64_t call_me_maybe_requests = 0;  // SendCallMeMaybe events
  uint64_t candidates_added = 0;
  uint64_t candidates_removed = 0;
  uint64_t candidates_refused = 0;  // unusable address (port 0, unspecified) or limit
  uint64_t path_changes = 0;

  uint64_t PongsDropped() const {
    return pongs_unknown_txid + pongs_expired_txid + pongs_duplicate_txid;
  }
};

class PeerPaths {
 public:
  // Ping txids are drawn from `rng`, which must outlive this object.
  explicit PeerPaths(RandomSource& rng, PathConfig config = {});

  // The peer's endpoints as the netmap lists them now (replaces the last list).
  void SetNetmapEndpoints(Timestamp now, const std::vector<Endpoint>& endpoints);
  // A CallMeMaybe from the peer (it arrives over DERP).
  void HandleCallMeMaybe(Timestamp now, const std::vector<Endpoint>& endpoints);
  // A ping from the peer arrived over UDP from `src`. Returns whether to
  // answer with a pong to `src`: false for a ping already seen (same txid
  // from the same address, e.g. received on two sockets) or an unusable `src`.
  bool HandlePingFrom(Timestamp now, const Endpoint& src, const TxId& txid);
  // A pong from the peer arrived over UDP from `from`. The latency and trust
  // go to the address the ping was sent to; an accepted answer says which
  // address that was and the round trip (the node times paths with it).
  PongAnswer HandlePongFrom(Timestamp now, const TxId& txid, const Endpoint& from);
  // The node sent (or is about to send) data to this peer.
  void NoteDataSent(Timestamp now);
  // The peer restarted (new disco key): forget paths, trust and pings in
  // flight; keep the candidates.
  void Reset(Timestamp now);

  // Runs due timers, then hands over the pings to seal and send.
  std::vector<PingToSend> PollPingsToSend(Timestamp now);
  std::optional<PeerPathsEvent> PollEvent();
  // When PollPingsToSend(now) next has work (ping timeout, trust expiry,
  // heartbeat); nullopt when idle.
  std::optional<Timestamp> NextWakeup() const;

  // The direct path to send to, or nullopt for DERP.
  std::optional<Endpoint> BestAddr(Timestamp now) const;
  // Latest latency of the best path, if there is one.
  std::optional<Duration> BestLatency() const;
  bool SessionActive(Timestamp now) const;

  const std::map<Endpoint, Candidate>& candidates() const { return candidates_; }
  const Candidate* FindCandidate(const Endpoint& ep) const;
  size_t OutstandingPings() const { return outstanding_.size(); }
  const PeerPathsStats& stats() const { return stats_; }
  const PathConfig& config() const { return config_; }

 private:
  struct SentPing {
    Endpoint to;
    Timestamp at;
    PingPurpose purpose;
  };
  enum class Retired : uint8_t { kAnswered, kTimedOut, kCancelled };

  // best_ and every endpoint a ping goes to are candidates (asserted).
  Candidate& CandidateAt(const Endpoint& ep);
  const Candidate& CandidateAt(const Endpoint& ep) const;
  void Advance(Timestamp now);
  void ExpirePings(Timestamp now);
  void ExpireTrust(Timestamp now);
  void Heartbeat(Timestamp now);
  bool WantFullPing(Timestamp now) const;
  void SendDiscoPings(Timestamp now, PingPurpose purpose, bool want_call_me_maybe);
  bool StartPing(const Endpoint& to, Timestamp now, PingPurpose purpose);
  void Retire(const TxId& txid, Retired why);
  std::optional<Retired> FindRetired(const TxId& txid) const;
  void RecordPong(Timestamp now, const SentPing& sent, Duration rtt, const Endpoint& from);
  Candidate* AddCandidate(Timestamp now, const Endpoint& ep);
  bool ShouldDelete(const Candidate& c, Timestamp now) const;
  void PruneCandidates(Timestamp now);
  void ChangePath(std::optional<Endpoint> to, PathChangeReason reason,
                  std::string detail);

  RandomSource& rng_;
  PathConfig config_;
  std::map<Endpoint, Candidate> candidates_;
  std::optional<Endpoint> best_;  // always a trusted candidate once timers ran
  std::map<TxId, SentPing> outstanding_;
  std::deque<std::pair<TxId, Retired>> retired_;
  std::optional<Timestamp> last_data_sent_;
  std::optional<Timestamp> last_full_ping_;
  std::optional<Timestamp> heartbeat_at_;
  std::vector<PingToSend> pings_;
  std::deque<PeerPathsEvent> events_;
  PeerPathsStats stats_;
};

}  // namespace disco
}  // namespace punchlab
