// A WireGuard device as a sans-IO machine: its peers, their handshakes and
// sessions, and every timer of the paper's section 6, driven by injected time
// and randomness (the handle/poll shape of datagram-machine.h, except that an
// outgoing message names the peer it is for: the Node routes it over the best
// path or DERP; a statically configured host sends it to the peer's endpoint).
//
// Behaviour follows wireguard-go: a responder's session is used for sending
// only once the initiator's first transport message confirms it; the last
// three sessions (previous, current, next) are kept; packets sent without a
// session are staged (up to 128) and flushed when a handshake completes.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <unordered_map>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/random.h"
#include "punchlab/time.h"
#include "punchlab/wireguard/cookie.h"
#include "punchlab/wireguard/noise.h"
#include "punchlab/wireguard/replay-window.h"

namespace punchlab::wireguard {

// The paper's section 6 constants (wireguard-go's names).
struct Timers {
  static constexpr uint64_t kRekeyAfterMessages = uint64_t{1} << 60;
  static constexpr uint64_t kRejectAfterMessages = ~uint64_t{0} - (uint64_t{1} << 13);  // 2^64 - 2^13 - 1
  static constexpr Duration kRekeyAfterTime = Duration::Seconds(120);
  static constexpr Duration kRejectAfterTime = Duration::Seconds(180);
  static constexpr Duration kRekeyAttemptTime = Duration::Seconds(90);
  static constexpr Duration kRekeyTimeout = Duration::Seconds(5);
  static constexpr Duration kRekeyTimeoutJitterMax = Duration::Millis(333);
  static constexpr Duration kKeepaliveTimeout = Duration::Seconds(10);
  // Initiations from one peer at most this far apart are a flood (wireguard-go: 50/s).
  static constexpr Duration kInitiationMinInterval = Duration::Millis(20);
  static constexpr int kMaxHandshakeAttempts =
      static_cast<int>(kRekeyAttemptTime.nanos() / kRekeyTimeout.nanos());  // 18
  static constexpr size_t kMaxStagedPackets = 128;
};

struct PeerConfig {
  Key32 public_key{};
  Key32 preshared_key{};
  std::optional<Endpoint> endpoint;
  // Off (zero) by default, as in wg and Tailscale.
  Duration persistent_keepalive = Duration::Zero();
};

struct DeviceConfig {
  Key32 private_key{};
  // The wall clock the initiation's TAI64N timestamp is taken from: Unix time
  // in nanoseconds is now + unix_offset. Hosts pass the real clock's offset;
  // simulation a fixed epoch, so runs stay deterministic.
  Duration unix_offset = Duration::Zero();
  // Handshake messages received within one second beyond which the device
  // counts as under load for the next second and demands cookies (MAC2), with
  // a per-source-address rate limit of 20 handshakes/s (burst 5), as
  // wireguard-go when its handshake queue is an eighth full (128 of 1024).
  uint32_t under_load_after = 128;
  // Pad transport plaintext to a multiple of 16 bytes, as the paper and
  // wireguard-go do for the IP packets they carry (whose header says their
  // length). A carrier of payloads without a length of their own (the Node)
  // turns it off so they arrive exactly as sent.
  bool pad = true;
  // Asked when an initiation comes from a public key the device has no peer
  // for; a config adds the peer then. A host with many possible peers (the
  // Node's netmap) adds them at first use instead of all up front, as
  // wireguard-go's LookupPeer finds them in its table.
  std::function<std::optional<PeerConfig>(const Key32&)> find_peer;
};

// Per peer, for results.
struct PeerCounters {
  uint64_t initiations_sent = 0;     // first tries and retries
  uint64_t handshakes = 0;           // completed, in either role
  uint64_t rekeys = 0;               // handshakes completed while a session existed
  uint64_t handshake_timeouts = 0;   // gave up after REKEY_ATTEMPT_TIME
  uint64_t keepalives_sent = 0;
  uint64_t keepalives_received = 0;
  uint64_t data_sent = 0;
  uint64_t data_received = 0;
  uint64_t replayed = 0;             // counter already seen within the window
  uint64_t late = 0;                 // counter older than the window
  uint64_t cookies_received = 0;
  uint64_t staged_dropped = 0;       // staged queue overflowed or handshake gave up
};

// Device-wide drops, counted, never thrown.
struct DeviceCounters {
  uint64_t malformed = 0;
  uint64_t bad_mac1 = 0;
  uint64_t bad_mac2 = 0;             // under load, answered with a cookie reply
  uint64_t cookie_replies_sent = 0;
  uint64_t rate_limited = 0;
  uint64_t unknown_peer = 0;         // an initiation from a key we do not know
  uint64_t handshake_failed = 0;     // did not authenticate
  uint64_t timestamp_replayed = 0;   // an initiation not newer than the last
  uint64_t initiation_flood = 0;     // initiations closer than 20 ms
  uint64_t unknown_index = 0;
  uint64_t expired_session = 0;
  uint64_t decrypt_failed = 0;
  uint64_t bad_cookie_reply = 0;
  uint64_t replayed = 0;             // the per-peer replayed and late, summed
  uint64_t late = 0;
};

// Events (see protocol/README.md, "Events"): one struct per kind.
struct DataReceived {
  Key32 peer{};
  Bytes data;  // padded to 16 bytes, as sent
  std::optional<Endpoint> from;
};
struct HandshakeComplete {  // a new session with `peer`
  Key32 peer{};
  std::optional<Endpoint> from;
  bool initiator = false;  // our role in it
};
struct HandshakeGaveUp {  // no answer for REKEY_ATTEMPT_TIME; staged data dropped
  Key32 peer{};
};
using Event = std::variant<DataReceived, HandshakeComplete, HandshakeGaveUp>;

// A message for the wire. `peer` is zero for a cookie reply to an unknown
// sender; `destination` is the peer's endpoint when known (always set for a
// cookie reply: the source it answers).
struct Outgoing {
  Key32 peer{};
  std::optional<Endpoint> destination;
  Bytes message;
};

class Device {
 public:
  Device(const DeviceConfig& config, RandomSource& rng);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const Key32& public_key() const { return local_.public_key; }
  // Adding a peer that exists replaces its configuration, keeping its sessions.
  void AddPeer(const PeerConfig& peer);
  bool HasPeer(const Key32& peer) const;
  // Whether a handshake with the peer can succeed: false for a low-order
  // public key (the static-static DH is all zeros; wireguard-go refuses such a
  // peer). Computes the peer's DH and MAC keys now if not yet.
  bool KeyUsable(const Key32& peer);
  // Forgets the peer, its sessions and timers; messages for it are then unknown.
  void RemovePeer(const Key32& peer);
  void SetEndpoint(const Key32& peer, const Endpoint& endpoint);
  void SetPersistentKeepalive(Timestamp now, const Key32& peer, Duration interval);

  // Application data for `peer`: sent now over a live session, else staged
  // and a handshake started. False for an unknown peer.
  bool Send(Timestamp now, const Key32& peer, ByteView plaintext);
  // Starts a handshake now (subject to the REKEY_TIMEOUT rate limit).
  void Initiate(Timestamp now, const Key32& peer);
  // A WireGuard message. `from` is the sender's address as seen here, nullopt
  // when it came another way (inside DERP): then endpoints are not updated and
  // no cookie can be demanded.
  void HandleMessage(Timestamp now, const std::optional<Endpoint>& from, ByteView message);
  void HandleTimeout(Timestamp now);

  std::optional<Outgoing> PollTransmit();
  std::optional<Event> PollEvent();
  std::optional<Timestamp> PollTimeout() const;

  const PeerCounters* counters(const Key32& peer) const;
  const DeviceCounters& counters() const { return counters_; }
  std::optional<Endpoint> endpoint(const Key32& peer) const;
  // A session we may send on right now.
  bool HasSession(Timestamp now, const Key32& peer) const;

 private:
  struct Keypair;
  struct Peer;
  enum class Timer { kRetransmitHandshake, kSendKeepalive, kNewHandshake, kZeroKeyMaterial,
                     kPersistentKeepalive, kCount };
  struct KeyHash {
    size_t operator()(const Key32& k) const noexcept;
  };

  Peer* FindPeer(const Key32& key) const;
  uint32_t NewIndex(size_t peer_id);
  void FreeIndex(uint32_t index);
  void DropKeypair(std::unique_ptr<Keypair>& kp);
  bool UnderLoad(Timestamp now);
  bool AllowedUnderLoad(Timestamp now, const Endpoint& from);

  void OnInitiation(Timestamp now, const std::optional<Endpoint>& from, ByteView message);
  void OnResponse(Timestamp now, const std::optional<Endpoint>& from, ByteView message);
  void OnCookieReply(Timestamp now, ByteView message);
  void OnTransport(Timestamp now, const std::optional<Endpoint>& from, ByteView message);
  // Under load a handshake message needs a valid MAC2, else it gets a cookie reply.
  bool PassesLoadCheck(Timestamp now, const std::optional<Endpoint>& from, ByteView message,
                       uint32_t sender);

  void SendInitiation(Timestamp now, Peer& p, bool retry);
  void SendStaged(Timestamp now, Peer& p);
  void SendKeepalive(Timestamp now, Peer& p);
  void Emit(Peer& p, Bytes message);
  void SessionEstablished(Timestamp now, Peer& p, bool initiator);
  void FireTimers(Timestamp now, Peer& p);

  void Arm(Peer& p, Timer t, Timestamp at);
  void Disarm(Peer& p, Timer t);
  bool Pending(const Peer& p, Timer t) const;
  void Reschedule(Peer& p);
  // Section 6's named hooks (wireguard-go's timers.go).
  void OnDataSent(Timestamp now, Peer& p);
  void OnDataReceived(Timestamp now, Peer& p);
  void OnAuthenticatedSent(Peer& p);
  void OnAuthenticatedReceived(Peer& p);
  void OnAuthenticatedTraversal(Timestamp now, Peer& p);

  LocalStatic local_;
  Duration unix_offset_;
  uint32_t under_load_after_;
  bool pad_;
  std::function<std::optional<PeerConfig>(const Key32&)> find_peer_;
  RandomSource& rng_;
  CookieChecker cookie_checker_;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::unordered_map<Key32, size_t, KeyHash> peer_ids_;
  std::unordered_map<uint32_t, size_t> indices_;
  std::set<std::pair<Timestamp, size_t>> deadlines_;
  std::deque<Outgoing> outgoing_;
  std::deque<Event> events_;
  DeviceCounters counters_;
  // Under-load detection: handshake messages in the current one-second bucket.
  Timestamp load_bucket_start_;
  uint32_t load_bucket_count_ = 0;
  std::optional<Timestamp> under_load_until_;
  struct Bucket {
    int64_t tokens = 0;  // nanoseconds of credit (wireguard-go's ratelimiter)
    Timestamp last;
  };
  std::unordered_map<IpAddress, Bucket> rate_buckets_;
};

}  // namespace punchlab::wireguard
