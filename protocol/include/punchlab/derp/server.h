// DERP relay server machine: many client connections on one host, packets
// relayed between them by node key. One Server is one DERP node; several
// regions are several independent Servers (mesh forwarding inside a region is
// not implemented: ForwardPacket from a client is a protocol error, and
// WatchConns is ignored, so no PeerPresent is ever sent).
//
// It behaves as Tailscale's derpserver (v1.102) where a client can tell;
// tests/conformance holds it against derper with Tailscale's own client.
//
// Per connection, in order:
//   1. HTTP: an upgrade request -> 101 response + ServerKey (with
//      "Derp-Fast-Start: 1": ServerKey at once, no response head);
//      GET/HEAD /derp/probe -> 200 and close; anything else (websocket
//      upgrades too) -> 426, close. The whole handshake must finish within
//      handshake_timeout.
//   2. ClientInfo -> its box must open with (server key, claimed client key)
//      and hold a JSON object; then ServerInfo, and the client is registered.
//      A forged ClientInfo (sealed by another key than the one it claims)
//      closes the connection.
//   3. SendPacket(dst) -> RecvPacket(src) on the connection holding dst.
//      Unknown dst: dropped, counted, and when the packet looks like disco
//      answered by PeerGone(not here) at most peer_gone_burst at once and one
//      per peer_gone_interval after that (Tailscale's clients drop their
//      route on it, so data is never answered). Ping -> Pong with the same 8
//      bytes. NotePreferred is recorded. KeepAlive every keepalive_interval +
//      a per-connection jitter drawn from [0, keepalive_jitter].
// Several connections may hold one key (a client moving networks, a cloned
// key): all stay up, and the one that most recently sent anything (or
// registered) gets the key's packets. When the last of them goes, every
// still-connected client that was relayed packets from that key gets
// PeerGone(disconnected), so it can forget the route; clients that only sent
// to it are not told.
// A malformed frame, an oversized length or a failed handshake closes that
// one connection with a reason (event ProtocolViolation); no other connection
// notices.
//
// Backpressure. Writes go out as StreamActions immediately, coalesced per
// connection. A host whose socket cannot take more calls HandleWriteBlocked
// (after accepting the write it was given, which it must buffer itself);
// from then on frames for that connection wait in queues: relayed packets in
// two of send_queue_depth each, one for disco and one for the rest, each
// dropping its OLDEST packet to make room (fresher packets matter more;
// packets_dropped_queue_overflow), and control frames (PeerGone, Pong,
// KeepAlive) in a third that drops beyond send_queue_depth
// (control_frames_dropped). HandleWritable releases control, disco, then
// data as one write. A host that can always write never calls either.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "punchlab/clone-on-copy.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/frames.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"

namespace punchlab {
namespace derp {

struct ServerConfig {
  Duration keepalive_interval = Duration::Seconds(60);
  Duration keepalive_jitter = Duration::Seconds(5);
  // From accept to registered client (HTTP upgrade + ClientInfo).
  Duration handshake_timeout = Duration::Seconds(10);
  // Frames held per connection while its host reports it blocked.
  size_t send_queue_depth = 32;
  // PeerGone(not here) token bucket, per connection.
  uint32_t peer_gone_burst = 3;
  Duration peer_gone_interval = Duration::Seconds(1);
};

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t clients_registered = 0;  // handshakes completed
  uint64_t duplicate_clients = 0;   // registrations for a key another connection holds
  uint64_t packets_relayed = 0;     // RecvPacket frames handed to a connection
  uint64_t bytes_relayed = 0;       // their packet bytes
  uint64_t packets_dropped_unknown_dest = 0;
  uint64_t packets_dropped_queue_overflow = 0;
  uint64_t packets_dropped_gone = 0;  // queued for a connection that then closed
  uint64_t control_frames_dropped = 0;
  uint64_t peer_gone_not_here_sent = 0;
  uint64_t peer_gone_not_here_suppressed = 0;  // by the rate limit
  uint64_t peer_gone_disconnected_sent = 0;
  uint64_t protocol_errors = 0;  // connections closed for malformed input
  uint64_t handshake_timeouts = 0;
  uint64_t unknown_frames = 0;  // skipped, as DERP asks for forward compatibility
  uint64_t keepalives_sent = 0;
  uint64_t pongs_sent = 0;
  uint64_t probes_answered = 0;  // GET/HEAD /derp/probe
};

// Events (see protocol/README.md, "Events"): one struct per kind.
struct ClientConnected {  // handshake done: conn now holds key
  ConnectionId conn = 0;
  NodePublicKey key;
};
struct ClientDisconnected {  // a registered client's connection ended
  ConnectionId conn = 0;
  NodePublicKey key;
  std::string reason;
};
struct ProtocolViolation {  // a connection is closed for malformed input (or a stalled handshake)
  ConnectionId conn = 0;
  NodePublicKey key;  // zero before the handshake
  std::string reason;
};
using ServerEvent = std::variant<ClientConnected, ClientDisconnected, ProtocolViolation>;

// One registered client, for hosts and tests.
struct ServerClientView {
  ConnectionId conn = 0;
  Endpoint remote;
  bool preferred = false;
  uint64_t queue_overflow_drops = 0;
};

class Server final : public StreamMachine {
 public:
  Server(NodePrivateKey key, RandomSource& rng, ServerConfig config = {});

  const NodePublicKey& public_key() const { return key_.Public(); }

  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<StreamAction> PollStreamAction() override;
  std::optional<Timestamp> PollTimeout() const override;

  // Backpressure from the host; see the comment at the top.
  void HandleWriteBlocked(Timestamp now, ConnectionId conn);
  void HandleWritable(Timestamp now, ConnectionId conn);

  // A host may hand back the buffer of a write it is done with (emptied), so
  // the next write reuses its memory rather than allocating afresh. At most
  // a few are kept; anything else is freed.
  void RecycleWriteBuffer(Bytes buffer);

  // Operator command: tell every client to come back after `reconnect_in`
  // (and keep trying for `try_for`), then close every connection.
  void AnnounceRestart(Timestamp now, Duration reconnect_in, Duration try_for);

  std::optional<ServerEvent> PollEvent();
  const ServerStats& stats() const { return stats_; }
  size_t client_count() const { return clients_.size(); }
  std::optional<ServerClientView> FindClient(const NodePublicKey& key) const;

  // This machine exactly as it is now, drawing from `rng` from here on: a
  // snapshot to start many runs from (the fuzz targets clone one set-up
  // world per input instead of redoing its handshakes). Call it between
  // handler calls, never from inside one.
  Server Clone(RandomSource& rng) const;
  Server(Server&&) = default;

 private:
  // Clone()'s copy: the default copy (every member; the key by CloneOnCopy),
  // then `rng`.
  Server(const Server&) = default;
  Server(const Server& other, RandomSource& rng) : Server(other) { rng_ = &rng; }

  enum class Phase : uint8_t { kHttp, kClientInfo, kActive };

  // Whole frames back to back, oldest first, that can lose their oldest
  // frame in O(1): what a blocked connection holds for one kind of traffic.
  class FrameQueue {
   public:
    size_t frames() const { return starts_.size(); }
    uint64_t packet_bytes() const { return packet_bytes_; }
    // Where to append the next frame; call Added() after appending it.
    Bytes& buffer() { return buf_; }
    void Added(size_t start, size_t packet_bytes);
    // Forgets the oldest frame; returns its packet bytes.
    size_t DropOldest();
    // Everything queued, oldest first; the queue is then empty.
    Bytes Take();

   private:
    Bytes buf_;
    size_t head_ = 0;  // bytes before head_ are dropped frames
    std::deque<std::pair<size_t, size_t>> starts_;  // (offset, packet bytes) per frame
    uint64_t packet_bytes_ = 0;
  };

  struct Connection {
    ConnectionId id = 0;
    Endpoint remote;
    Phase phase = Phase::kHttp;
    HttpHeadReader http;
    FrameReader frames;
    NodePublicKey key;
    Timestamp deadline;  // handshake deadline, then the next keepalive
    Duration keepalive_jitter;
    bool preferred = false;
    bool blocked = false;
    // Another connection holds the same key (so activity must be noted).
    bool duplicate = false;
    // While blocked (see Backpressure above): relayed packets, disco and
    // the rest, and control frames.
    FrameQueue packets;
    FrameQueue disco;
    Bytes control;
    size_t control_frames = 0;
    uint64_t queue_overflow_drops = 0;
    uint32_t peer_gone_tokens = 0;
    Timestamp peer_gone_refilled;
    // The last destination recorded in receivers_, so a steady flow to one
    // peer skips the bookkeeping. Cleared when that peer is forgotten.
    std::optional<NodePublicKey> last_relayed_to;
  };

  void OnHttp(Timestamp now, Connection& c, ByteView bytes);
  void OnFrames(Timestamp now, ConnectionId id);
  // false when the frame closed the connection.
  bool OnFrame(Timestamp now, Connection& c, const FrameView& frame);
  bool OnClientInfo(Timestamp now, Connection& c, const FrameView& frame);
  void OnSendPacket(Timestamp now, Connection& c, const SendPacketView& f);
  void NoteRelayed(Connection& c, const NodePublicKey& dst);
  void Register(Timestamp now, Connection& c);
  // c sent a frame: with other connections for its key, it becomes the active one.
  void NoteActivity(const Connection& c);
  // The key's last connection went: tell its receivers, forget its routes.
  void KeyGone(const NodePublicKey& key);
  bool AllowPeerGone(Timestamp now, Connection& c);

  // Sends a control frame to `c` (queued, or dropped and counted, while blocked).
  void Send(Connection& c, Bytes frame);
  // Queues a RecvPacket for a blocked `d`, dropping the oldest of its kind if full.
  void Enqueue(Connection& d, const NodePublicKey& source, ByteView packet);
  void Write(ConnectionId conn, Bytes bytes);
  // The pending write to `conn` to append to (the last action if it is one,
  // else a new one), so consecutive frames for a connection go out together.
  Bytes& WriteBuffer(ConnectionId conn);
  void ProtocolError(Timestamp now, Connection& c, const std::string& reason);
  // Closes `c` (emits kClose) and forgets it.
  void Close(Timestamp now, Connection& c, const std::string& reason);
  // Forgets `c`; notifies its correspondents if it was the key's current holder.
  void Forget(Timestamp now, ConnectionId id, const std::string& reason);

  CloneOnCopy<NodePrivateKey> key_;
  RandomSource* rng_;  // never null; a pointer so the copy is the default one
  ServerConfig config_;
  std::map<ConnectionId, Connection> conns_;
  // The connections registered for each key, least recently active first:
  // back() is the one that gets the key's packets.
  std::unordered_map<NodePublicKey, std::vector<ConnectionId>> clients_;
  // receivers_[a] holds b iff b was relayed packets from a (Tailscale's
  // peerGoneWatchers); senders_ is its inverse. Only registered keys appear.
  std::unordered_map<NodePublicKey, std::set<NodePublicKey>> receivers_;
  std::unordered_map<NodePublicKey, std::set<NodePublicKey>> senders_;
  std::deque<StreamAction> actions_;
  std::vector<Bytes> spare_buffers_;  // see RecycleWriteBuffer
  // PollTimeout() is asked after every input; walking every connection each
  // time is wasted while no deadline moved. Recomputed when one may have.
  mutable std::optional<Timestamp> earliest_deadline_;
  mutable bool deadlines_changed_ = false;
  std::deque<ServerEvent> events_;
  ServerStats stats_;
};

}  // namespace derp
}  // namespace punchlab
