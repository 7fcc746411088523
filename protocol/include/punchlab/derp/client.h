// DERP client machine: one node's connection to one DERP server.
//
// Start() emits kConnect (ids 1, 2, ... chosen here, one per attempt), then
// on HandleConnected it sends the HTTP upgrade request, expects 101 and the
// ServerKey frame, answers ClientInfo (node key + nonce || box(JSON
// {"version":2,"CanAckPings":true}, as Tailscale's client sends: this client
// answers the server's Pings) sealed from the node key to the server key) and is connected
// once the ServerInfo box opens. Then Send() relays packets to a node key and
// Received events carry what others relayed here.
//
// Liveness: the server sends KeepAlive every 60-65 s; a connection that
// brings no frame for idle_timeout is considered dead. Any loss (closed,
// timed out, malformed input) emits Disconnected with the reason and the
// instant of the next attempt, which follows exponential backoff from
// initial_backoff doubling up to max_backoff, each delay multiplied by a
// factor drawn from [0.5, 1.5] (the injected RandomSource); a completed
// handshake resets it. A Restarting frame replaces the next delay by the
// server's reconnect_in.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/clone-on-copy.h"
#include "punchlab/crypto/box.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/derp/frame-reader.h"
#include "punchlab/derp/frames.h"
#include "punchlab/derp/http-upgrade.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"

namespace punchlab {
namespace derp {

struct ClientConfig {
  Endpoint server;
  std::string host = "derp";  // HTTP Host header
  // Set: dial over TLS with these checks of the server's certificate (the
  // host runs TLS; see TlsDial in stream-machine.h). Unset: plain HTTP, which
  // shows everything but packet contents to the path and lets a captured
  // ClientInfo be replayed (docs/PROTOCOL.md, "DERP over TLS").
  std::optional<TlsDial> tls;
  // When set, a server presenting another key is refused (and retried).
  std::optional<NodePublicKey> server_key;
  // A region's mesh pre-shared key (64 hex digits, Tailscale's ClientInfo
  // "meshKey"): a server that trusts it lets this client watch connections.
  std::string mesh_key;
  // After every handshake, ask for the server's connection list (WatchConns):
  // a PeerPresent for every connected key, then PeerPresent/PeerGone as
  // clients come and go. Servers only honour it with the right mesh_key.
  bool watch_connections = false;
  // From kConnect to ServerInfo.
  Duration handshake_timeout = Duration::Seconds(10);
  // Two keepalive periods (60 s + up to 5 s) without a frame: gone.
  Duration idle_timeout = Duration::Seconds(130);
  Duration initial_backoff = Duration::Millis(100);
  Duration max_backoff = Duration::Seconds(10);
};

enum class ClientState : uint8_t {
  kIdle,         // not started
  kConnecting,   // kConnect emitted, waiting for HandleConnected
  kUpgrading,    // HTTP request sent, waiting for 101
  kHandshaking,  // waiting for ServerKey, then ServerInfo
  kConnected,
  kBackoff,  // lost; waiting to retry
  kStopped,
};
const char* ClientStateName(ClientState state);

struct ClientStats {
  uint64_t connect_attempts = 0;
  uint64_t handshakes = 0;  // connections that reached kConnected
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_received = 0;
  uint64_t bytes_received = 0;
  uint64_t send_dropped = 0;  // Send() while not connected, or oversize
  uint64_t protocol_errors = 0;
  // Servers refused for presenting another key than config.server_key (also
  // counted in protocol_errors; the Disconnected reason names both keys).
  uint64_t server_key_refused = 0;
  uint64_t unknown_frames = 0;
  uint64_t keepalives_received = 0;
  uint64_t pongs_sent = 0;  // answers to the server's pings
};

// Events (see protocol/README.md, "Events"): one struct per kind.
struct Connecting {};  // an attempt started
struct Connected {     // handshake done
  NodePublicKey server_key;
};
struct Disconnected {
  std::string reason;
  Timestamp retry_at;  // the next attempt; Max when stopped
};
struct Received {  // a packet another node relayed here
  NodePublicKey source;
  Bytes data;  // hand back with RecycleReceived() when done
};
struct PeerGone {
  NodePublicKey peer;
  PeerGoneReason reason = PeerGoneReason::kDisconnected;
};
struct PeerPresent {
  NodePublicKey peer;
  std::optional<Endpoint> endpoint;  // when the server sent it
  std::optional<uint8_t> flags;      // when the server sent them
};
struct Health {
  std::string problem;  // the server's health message; empty: healthy again
};
struct Pong {
  Bytes data;  // the 8 bytes of our Ping
};
struct Restarting {  // the server is restarting
  Duration reconnect_in;
  Duration try_for;
};
using ClientEvent = std::variant<Connecting, Connected, Disconnected, Received, PeerGone,
                                 PeerPresent, Health, Pong, Restarting>;

class Client final : public StreamMachine {
 public:
  Client(NodePrivateKey key, RandomSource& rng, ClientConfig config);

  const NodePublicKey& public_key() const { return key_.Public(); }
  ClientState state() const { return state_; }
  bool connected() const { return state_ == ClientState::kConnected; }
  // The id of the current (or last) connection attempt; 0 before Start().
  ConnectionId connection() const { return conn_; }

  // Begins connecting (from kIdle or kStopped).
  void Start(Timestamp now);
  // Closes the connection and stays down until Start().
  void Stop(Timestamp now);
  // Relays `packet` to the node holding `destination`. false (and counted)
  // when not connected or larger than kMaxPacketSize.
  bool Send(Timestamp now, const NodePublicKey& destination, ByteView packet);
  // Tells the server whether it is this node's home region; remembered and
  // repeated after every reconnect.
  void SetPreferred(Timestamp now, bool preferred);
  // false when not connected; the echo arrives as a Pong event.
  bool Ping(Timestamp now, const PingData& data);
  // A host may hand back the buffer of a write it is done with (emptied); the
  // next write reuses its memory. At most a few are kept.
  void RecycleWriteBuffer(Bytes buffer);
  // Likewise the data of a Received event once the application is done with
  // it: the next received packet is copied into that memory instead of a
  // fresh allocation. Optional; at most a few are kept.
  void RecycleReceived(Bytes packet);

  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<StreamAction> PollStreamAction() override;
  std::optional<Timestamp> PollTimeout() const override;

  std::optional<ClientEvent> PollEvent();
  const ClientStats& stats() const { return stats_; }

  // This machine exactly as it is now (its connection, handshake and
  // session), drawing from `rng` from here on: a snapshot to start many runs
  // from, as Server::Clone. Call it between handler calls.
  Client Clone(RandomSource& rng) const;
  Client(Client&&) = default;

 private:
  // Clone()'s copy: the default copy (every member; the secrets by CloneOnCopy),
  // then `rng`.
  Client(const Client&) = default;
  Client(const Client& other, RandomSource& rng) : Client(other) { rng_ = &rng; }

  bool Attempting() const;
  void Connect(Timestamp now);
  void OnFrames(Timestamp now);
  // false when the frame ended the connection.
  bool OnFrame(Timestamp now, const FrameView& frame);
  bool OnHandshakeFrame(Timestamp now, const FrameView& frame);
  // Closes the connection ourselves, then Lost().
  void Fail(Timestamp now, const std::string& reason);
  void ProtocolError(Timestamp now, const std::string& reason);
  // Schedules the next attempt and reports the loss.
  void Lost(Timestamp now, const std::string& reason);
  void Write(Bytes bytes);
  // The pending write to append to (the last action if it is a write on this
  // connection, else a new one), so frames sent together go out as one write.
  Bytes& WriteBuffer();
  void Emit(ClientEvent event) { events_.push_back(std::move(event)); }

  CloneOnCopy<NodePrivateKey> key_;
  RandomSource* rng_;  // never null; a pointer so the copy is the default one
  ClientConfig config_;
  ClientState state_ = ClientState::kIdle;
  ConnectionId conn_ = 0;
  HttpHeadReader http_;
  FrameReader frames_;
  std::optional<NodePublicKey> server_key_;  // this attempt's, once ServerKey arrived
  CloneOnCopy<std::optional<SharedKey>> shared_;
  Timestamp handshake_deadline_;
  Timestamp last_heard_;
  Timestamp retry_at_;
  uint32_t failures_ = 0;  // since the last completed handshake
  std::optional<Duration> restart_hint_;
  bool preferred_ = false;
  std::deque<StreamAction> actions_;
  std::vector<Bytes> spare_buffers_;  // see RecycleWriteBuffer
  std::vector<Bytes> spare_packets_;  // see RecycleReceived
  std::deque<ClientEvent> events_;
  ClientStats stats_;
};

}  // namespace derp
}  // namespace punchlab
