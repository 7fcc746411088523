// A node's side of the control plane: a StreamMachine that connects to the
// coordination server, registers the node and keeps its registration current,
// and reports the netmaps the server pushes. It reconnects with jittered
// exponential backoff when the connection drops or the server goes silent,
// registering again with its latest state; it stops for good when the server
// refuses the registration or says goodbye, or after Leave().
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/clone-on-copy.h"
#include "punchlab/control/derp-map.h"
#include "punchlab/control/key-log.h"
#include "punchlab/control/messages.h"
#include "punchlab/control/netmap.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"

namespace punchlab::control {

struct ControlClientConfig {
  Endpoint server;
  NodePublicKey server_key;
  Duration keepalive_interval = Duration::Seconds(20);
  // Nothing heard from the server for this long: reconnect.
  Duration server_silence_timeout = Duration::Seconds(60);
  // From starting a connection to being registered.
  Duration handshake_timeout = Duration::Seconds(10);
  // First reconnect delay (jittered into [d/2, d]); doubles up to the maximum.
  Duration backoff_initial = Duration::Seconds(1);
  Duration backoff_max = Duration::Seconds(30);
  // false: netmap() keeps self, domain and DERP map but no peers; peers are
  // only reported (NetmapUpdated, PeersChanged, whose `removed` then lists
  // every key the server named). For an owner that keeps its peers itself
  // (the Node): a second copy per node made a tailnet's memory twice its
  // square, and a sorted insert per changed peer its CPU a cube.
  bool keep_peers = true;
  // Told every frame this client seals (key-log.h); for captures.
  KeyLog key_log;
  // Ask the server to zstd-compress what it sends (compression.h), as every
  // Tailscale client does (MapRequest.Compress "zstd", unconditionally).
  // false: plain JSON, as a client that does not know compression.
  bool compress = true;
};

// What the node tells the server about itself.
struct Registration {
  std::string token;  // from an IdentityProvider
  DiscoPublicKey disco_key;
  std::vector<Endpoint> endpoints;  // best first; only the first kMaxEndpoints are sent
  RegionId home_region = kNoRegion;
};

struct Registered {
  IpAddress address;
  std::string user;
  std::string domain;
};
struct RegistrationRefused {
  std::string reason;  // the server's words, e.g. why the token was not accepted
};
// The server sent the whole netmap (after registering, or with a new DERP map).
struct NetmapUpdated {
  Netmap netmap;
};
// The server sent what changed in the domain (netmap() holds the result):
// peers added or changed (whole entries), peers changed in some fields
// (patches), and peers that left (patches and removals only for peers
// netmap() had, unless keep_peers is false: then the owner applies them and
// drops a patch for a peer it does not hold). Changes to this node's own
// entry only update netmap().self and are not listed.
struct PeersChanged {
  std::vector<NodeInfo> changed;
  std::vector<NodePublicKey> removed;
  std::vector<PeerPatch> patched;
};
struct Disconnected {
  std::string reason;
  bool will_reconnect = false;
};
using ClientEvent =
    std::variant<Registered, RegistrationRefused, NetmapUpdated, PeersChanged, Disconnected>;

struct ClientStats {
  uint64_t connects = 0;
  uint64_t registrations = 0;
  uint64_t netmaps = 0;
  uint64_t deltas = 0;
  uint64_t oversized = 0;
  uint64_t undecryptable = 0;
  uint64_t malformed = 0;
  uint64_t out_of_order = 0;
  uint64_t unexpected = 0;
  // Patches for a peer the netmap does not hold (keep_peers), dropped: a
  // server that sent one has lost track of what this session knows.
  uint64_t unknown_patches = 0;
};

class ControlClient final : public StreamMachine {
 public:
  ControlClient(ControlClientConfig config, RandomSource& rng);
  ~ControlClient() override;

  // Starts (or restarts, on a fresh connection) registering `node_key`.
  void Register(Timestamp now, NodePrivateKey node_key, Registration registration);
  // Each change reaches the server at once when connected, else with the next
  // registration.
  void UpdateEndpoints(Timestamp now, std::vector<Endpoint> endpoints);
  void UpdateDiscoKey(Timestamp now, const DiscoPublicKey& disco_key);
  void SetHomeRegion(Timestamp now, RegionId region);
  // Tells the server the node is going away and stops.
  void Leave(Timestamp now);

  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<StreamAction> PollStreamAction() override;
  std::optional<Timestamp> PollTimeout() const override;

  std::optional<ClientEvent> PollEvent();
  bool registered() const { return state_ == State::kRegistered; }
  // The latest netmap received, kept across reconnects.
  const std::optional<Netmap>& netmap() const { return netmap_; }
  const ClientStats& stats() const { return stats_; }

  // This machine exactly as it is now (its key, registration and session),
  // drawing from `rng` from here on: a snapshot to start many runs from, as
  // ControlServer::Clone. Call it between handler calls.
  ControlClient Clone(RandomSource& rng) const;
  ControlClient(ControlClient&&) noexcept;

 private:
  // Clone()'s copy: the default copy (every member; the key and the
  // session by CloneOnCopy), then `rng`.
  ControlClient(const ControlClient&);
  ControlClient(const ControlClient& other, RandomSource& rng);

  enum class State {
    kIdle,
    kConnecting,        // kConnect emitted
    kAwaitChallenge,    // hello sent
    kAwaitRegistered,   // register sent
    kRegistered,
    kBackoff,           // waiting to reconnect
    kStopped,
  };
  struct Session;

  void Connect(Timestamp now);
  void OnMessage(Timestamp now, Message msg);
  void ApplyPeersChanged(PeersChangedMsg delta);
  // Sent only while a registration is in flight or done; otherwise the change
  // waits in registration_ for the next Register message.
  void SendUpdate(Timestamp now, const UpdateMsg& update);
  void Send(Timestamp now, const Message& msg);
  // Ends the current connection (if any); then reconnects after a backoff or
  // stops for good. `send_close` is false when the host reported the close.
  void Drop(Timestamp now, const std::string& reason, bool reconnect, bool send_close = true);

  ControlClientConfig config_;
  RandomSource* rng_;  // never null; a pointer so the copy is the default one
  CloneOnCopy<std::optional<NodePrivateKey>> node_key_;
  Registration registration_;
  State state_ = State::kIdle;
  CloneOnCopy<std::unique_ptr<Session>> session_;  // the current connection, if any
  ConnectionId next_conn_ = 1;
  Duration backoff_;
  Timestamp retry_at_;
  std::optional<Netmap> netmap_;
  bool have_netmap_ = false;  // a whole netmap arrived on this session
  std::deque<StreamAction> actions_;
  std::deque<ClientEvent> events_;
  ClientStats stats_;
};

}  // namespace punchlab::control
