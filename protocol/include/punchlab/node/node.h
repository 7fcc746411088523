// A punchlab node: Tailscale magicsock's behaviour as one sans-IO machine,
// composed from the machines of the other areas.
//
//   control::ControlClient  registers the node key, publishes endpoints, disco
//                           key and home region; brings the netmap (peers and
//                           DERP map).
//   netcheck::NetcheckClient STUN to every region from the node's UDP socket:
//                           global endpoint, hard NAT, UDP blocked, home
//                           region (hysteresis), re-STUN every 20-26 s while
//                           active.
//   derp::Client (per region) the relays: the home region at once, a peer's
//                           home region when something must reach that peer.
//   disco::DiscoSealer      seals/opens disco with this run's disco key.
//   disco::PeerPaths (per peer) which direct path to use, pings, trust,
//                           heartbeats, upgrades, fallback; its accepted
//                           pongs time the direct paths.
// and three parts of its own:
//   DerpLinks (derp-links.h) the derp::Clients, their connection slots and
//                           the queues of packets waiting for a connection.
//   RelayedRttProbe (per peer, relayed-rtt.h) when to ping a relayed peer
//                           through DERP, and the relayed round trip.
//   PeerScheduler (peer-scheduler.h) which peers have work now and when the
//                           others next wake up.
//
// One object is one run of the node: the constructor draws a fresh disco key
// from the RandomSource, Start() begins, Stop() ends for good. A restart is a
// new Node with the same node key (peers see a new disco key in the netmap
// and start over: PathChanged kPeerRestarted, then discovery again).
//
// Host contract. The Node is both machine shapes:
// * DatagramMachine: a UDP socket bound to each endpoint of
//   `local_endpoints` (usually just one, e.g. 10.0.0.2:41641). Everything
//   that arrives on them goes to HandleDatagram with the socket's endpoint as
//   `local`; PollTransmit names the socket to send from in Transmit::source.
//   The node demultiplexes: STUN -> netcheck, disco magic -> disco,
//   WireGuard message types (1-4, then three zero bytes) -> WireGuard, or
//   0xD0 -> data with the sealed-frame data plane.
// * StreamMachine: TCP connections to the control server and to DERP
//   servers. The node chooses the ConnectionIds (kConnect carries the remote
//   endpoint); the host reports HandleConnected/HandleStream/HandleClosed with
//   the same id. Ids are (slot << 32) | sub-machine id: slot 0 is control,
//   each DERP client instance gets a new slot.
// * Drain rule: after every input (HandleDatagram, HandleConnected,
//   HandleStream, HandleClosed, HandleTimeout and every command), poll
//   PollTransmit() until empty, PollStreamAction() until empty, PollEvent()
//   until empty, then arm one timer at PollTimeout() (HandleTimeout(now) when
//   it fires; an early or late call is harmless).
//
// DERP usage. The home region comes from netcheck; when a report finds no
// region at all (UDP blocked), the node falls back to the lowest region id
// of the DERP map (Tailscale measures HTTPS latency then; punchlab has only
// STUN). A peer is reached through its home region from the netmap, or ours
// when it has none. Packets for a region whose connection is still coming up
// wait in a bounded queue. Connections stay open for the node's lifetime
// (Tailscale closes idle non-home ones after a minute; punchlab does not).
// Pings that arrive over DERP are answered over the same region with a pong
// whose source is 127.3.3.40:<region> (Tailscale's DERP "magic" address).
//
// RTT per path: direct paths from disco pong round trips (every discovery
// ping and heartbeat). DERP: while a session to a peer is active and its data
// goes over DERP, the node sends the peer a disco ping THROUGH DERP every
// heartbeat_interval; the relayed pong gives the end-to-end relayed RTT,
// which is what an application would see. (A DERP Ping frame would only time
// half the path.)
//
// Endpoints published: the STUN-discovered global endpoints (kept for
// `endpoint_freshness`, 27 s, after a report last saw them, so one lost
// report does not withdraw them), then the local interface endpoints.
// Peer-reflexive endpoints of peers (where their pings came from) are
// candidates in their PeerPaths. With a default gateway (NodeConfig::gateway)
// the node runs portmap::Client as magicsock runs net/portmapper: a probe
// after every netcheck report, a mapping of the node's socket when the probe
// found NAT-PMP, PCP or a UPnP IGD (portmap::UpnpMapper over TCP to the
// gateway, connection slot kPortMapSlot); the mapped endpoint goes first among those published
// (Tailscale's EndpointPortmapped) and every change republishes.
//
// Data (data-frame.h), one of two data planes (NodeConfig::data_plane).
// WireGuard, as Tailscale's: Send() hands the payload to a wireguard::Device
// keyed by the node key, which stages it behind a handshake when there is no
// session; every message the device emits for a peer (initiation, response,
// transport data, keepalive) goes to the best trusted direct path, else over
// DERP inside SendPacket (node-wireguard.cc). The sealed frame (the default
// for now): each payload sealed alone with a NaCl box, no handshake. Every
// send is session activity for that peer's PeerPaths (discovery,
// heartbeats); sends and receives keep netcheck active (re-STUN) for
// session_active_timeout.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <type_traits>
#include <string>
#include <unordered_map>
#include <vector>

#include "punchlab/control/client.h"
#include "punchlab/crypto/box.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/datagram-machine.h"
#include "punchlab/derp/client.h"
#include "punchlab/disco/path-config.h"
#include "punchlab/disco/peer-paths.h"
#include "punchlab/disco/sealer.h"
#include "punchlab/netcheck/client.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/node/derp-links.h"
#include "punchlab/node/events.h"
#include "punchlab/node/peer-scheduler.h"
#include "punchlab/portmap/client.h"
#include "punchlab/portmap/upnp-mapper.h"
#include "punchlab/node/relayed-rtt.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"
#include "punchlab/wireguard/device.h"

namespace punchlab {
namespace node {

struct NodeConfig {
  // Where the coordination server is (control.server), its key
  // (control.server_key) and the control timers.
  control::ControlClientConfig control;
  std::string token;  // from an identity provider
  // The UDP endpoints the host has bound (interface addresses): sent from,
  // probed from, and published.
  std::vector<Endpoint> local_endpoints;
  disco::PathConfig paths;
  netcheck::NetcheckConfig netcheck;
  // DERP timers and backoff; server and host name come from the DERP map.
  derp::ClientConfig derp;
  Duration endpoint_freshness = Duration::Seconds(27);
  // Packets held per DERP region while its connection comes up.
  size_t derp_queue_limit = 64;
  // Emit the disco log's events (DiscoSent, DiscoReceived, CandidateLearned,
  // TrustChanged: events.h). Off, nothing of it is built: a crowd of nodes
  // heartbeating every few seconds would pay for events nobody reads.
  bool disco_log = false;
  DataPlane data_plane = DataPlane::kSealedFrame;
  // WireGuard: persistent keepalive to every peer, off (zero) as in
  // Tailscale, whose disco heartbeats keep active paths alive; and the wall
  // clock the handshake's TAI64N timestamps come from (Unix time = now +
  // unix_offset: the real clock's offset on real sockets, a fixed epoch in
  // simulation so runs stay deterministic).
  Duration persistent_keepalive = Duration::Zero();
  Duration unix_offset = Duration::Seconds(1767225600);  // 2026-01-01T00:00:00Z
  // The default gateway, where the port-mapping client asks (its first IPv4
  // local endpoint is mapped); unset: no port mapping (a node on the
  // internet, or a host that knows no gateway).
  std::optional<IpAddress> gateway;
  // NAT-PMP, PCP and UPnP IGD, all three on as in Tailscale (TS_DISABLE_UPNP
  // unset).
  portmap::ClientConfig portmap = [] {
    portmap::ClientConfig c;
    c.upnp = true;
    return c;
  }();
  portmap::UpnpMapperConfig upnp;
};

enum class SendResult : uint8_t {
  kDirect,       // sent to the best direct path
  kDerp,         // handed to the DERP connection
  kQueued,       // waiting for the DERP connection or the WireGuard handshake
  kUnknownPeer,  // not in the netmap (or its node key is unusable)
  kNoRoute,      // no direct path and no DERP region to use
  kTooLarge,     // above kMaxDataPayload
  kDropped,      // DERP queue full, or the node is not running
};
const char* SendResultName(SendResult r);

class Node final : public DatagramMachine, public StreamMachine {
 public:
  // The disco key is drawn from `rng` here. `rng` must outlive the node.
  Node(NodePrivateKey key, RandomSource& rng, NodeConfig config);
  ~Node() override;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const NodePublicKey& public_key() const { return key_.Public(); }
  const DiscoPublicKey& disco_key() const { return sealer_.public_key(); }

  // ---- commands ----
  // Registers with control; everything else follows from the netmap. Once.
  void Start(Timestamp now);
  // Leaves the control plane, closes DERP, stops timers. Final.
  void Stop(Timestamp now);
  SendResult Send(Timestamp now, const NodePublicKey& peer, ByteView payload);
  // The host's interfaces changed (the host rebinds its sockets): publish
  // the new ones, run a netcheck report at once, and void every direct
  // path's trust (it was proven from the old sockets), as magicsock does on
  // a link change.
  void SetLocalEndpoints(Timestamp now, std::vector<Endpoint> locals);

  // ---- DatagramMachine ----
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  std::optional<Transmit> PollTransmit() override;

  // ---- StreamMachine ----
  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  std::optional<StreamAction> PollStreamAction() override;

  // ---- both ----
  void HandleTimeout(Timestamp now) override;
  std::optional<Timestamp> PollTimeout() const override;

  std::optional<Event> PollEvent();

  // ---- observation ----
  bool started() const { return started_; }
  bool stopped() const { return stopped_; }
  bool registered() const { return control_.registered(); }
  // Registered and connected to the home DERP region (or registered, when
  // the DERP map has no region with a server), since the event Up
  // (events.h); stays true once it was.
  bool up() const { return up_; }
  RegionId home_region() const { return home_; }
  bool DerpConnected(RegionId region) const;
  // What this node publishes.
  const std::vector<Endpoint>& endpoints() const { return endpoints_; }
  std::vector<NodePublicKey> Peers() const;
  bool HasPeer(const NodePublicKey& peer) const { return peers_.count(peer) != 0; }
  // The path data to `peer` takes now (as last reported by PathChanged).
  std::optional<Path> PathTo(const NodePublicKey& peer) const;
  // nullopt when `peer` is not a peer.
  std::optional<PeerStats> FindPeerStats(const NodePublicKey& peer) const;
  // nullptr until the peer is first used (node.h, Peer): then its paths.
  const disco::PeerPaths* FindPeerPaths(const NodePublicKey& peer) const;
  // The peer as the netmap last listed it.
  const control::NodeInfo* FindPeerInfo(const NodePublicKey& peer) const;
  const NodeStats& stats() const { return stats_; }
  const disco::SealerStats& sealer_stats() const { return sealer_.stats(); }
  // WireGuard's counters for one peer (handshakes, rekeys, keepalives,
  // replayed and late packets; nullptr before its first use), and the
  // device-wide drops.
  const wireguard::PeerCounters* FindWireGuardCounters(const NodePublicKey& peer) const {
    return wg_.counters(peer.raw());
  }
  const wireguard::DeviceCounters& wireguard_counters() const { return wg_.counters(); }
  const netcheck::NetcheckClient& netcheck() const { return netcheck_; }
  // nullptr without a gateway.
  const portmap::Client* portmap() const { return portmap_ ? &*portmap_ : nullptr; }
  // nullptr without a gateway or with UPnP off.
  const portmap::UpnpMapper* upnp() const { return upnp_ ? &*upnp_ : nullptr; }
  const control::ControlClient& control() const { return control_; }

 private:
  // Per-peer state is made on first use, not when the netmap lists the peer:
  // a node of a big tailnet talks to a few of its peers, and eager state
  // (an X25519 shared key each for data and disco, a PeerPaths) made a
  // tailnet cost the square of its size. An unused PeerPaths holds nothing
  // but the netmap's endpoints, so making it later from peer.info gives the
  // same candidates (up to PathConfig::max_candidates of them).
  // What only a used peer has, made at its first data, relayed probe or
  // disco-log entry (Use): a node of a big tailnet lists every peer and
  // talks to a few, and this was more than half of a listed peer's size
  // (456 -> 208 bytes a peer; a tailnet of 1,000 lists a million).
  struct PeerUse {
    // The sealed-frame data key (the WireGuard device keeps its own peer).
    std::optional<SharedKey> data_key;
    RelayedRttProbe relayed;
    std::map<Path, PathCounters> counters;  // PeerStats::paths
    uint64_t sends_dropped = 0;             // PeerStats::sends_dropped
    // The disco log's view of PeerPaths' candidates and trusted endpoints,
    // to report what changed (only kept with NodeConfig::disco_log).
    std::set<Endpoint> logged_candidates;
    std::set<Endpoint> logged_trusted;
  };
  struct Peer {
    control::NodeInfo info;
    bool wireguard_peer = false;        // the WireGuard device has it (first data)
    bool node_key_low_order = false;    // found at that first use: no data either way
    bool disco_ok = false;              // the sealer took its disco key (low-order: at first use)
    // Why PeerPaths was last Reset (its own reason only says "reset").
    PathChangeReason reset_reason = PathChangeReason::kPeerRestarted;
    std::unique_ptr<disco::PeerPaths> paths;  // direct paths, UDP pings, trust; Paths()
    Path path;  // as last reported
    // PeerStats::path_changes: every listed peer's path moves with its home
    // region, so this is not kept in PeerUse.
    uint64_t path_changes = 0;
    std::unique_ptr<PeerUse> use;  // Use()
  };
  // The peer's PeerUse, made now if not yet.
  static PeerUse& Use(Peer& peer) {
    if (!peer.use) peer.use = std::make_unique<PeerUse>();
    return *peer.use;
  }

  // Runs every sub-machine's follow-up work until nothing is left.
  void Pump(Timestamp now);
  void UpdateActivity(Timestamp now);
  // Emits Up the first time the node is registered and its home region's
  // connection is up.
  void CheckUp(Timestamp now);
  bool Active(Timestamp now) const;

  // Control and netcheck.
  void OnControlEvent(Timestamp now, control::ClientEvent event);
  void ApplyNetmap(Timestamp now, control::Netmap&& netmap);
  void ApplyPeersChanged(Timestamp now, control::PeersChanged&& change);
  void ApplyDerpMap(Timestamp now, const control::DerpMap& map);
  void AddPeer(Timestamp now, control::NodeInfo&& info);
  void UpdatePeer(Timestamp now, const NodePublicKey& key, Peer& peer,
                  control::NodeInfo&& info);
  void RemovePeer(Timestamp now, const NodePublicKey& key);
  void OnNetcheckEvent(Timestamp now, netcheck::NetcheckEvent event);
  void OnPortMapEvent(Timestamp now, portmap::ClientEvent event);
  void OnUpnpEvent(Timestamp now, portmap::UpnpMapperEvent event);
  void SetHome(Timestamp now, RegionId region, const std::string& reason);
  void PublishEndpoints(Timestamp now);
  std::vector<Endpoint> CurrentEndpoints(Timestamp now);
  RegionId FallbackHome() const;

  // Paths and disco.
  // The peer's PeerPaths, made now from its netmap endpoints if not yet.
  disco::PeerPaths& Paths(Timestamp now, Peer& peer);
  // The sealer derives the peer's disco key now if not yet; false (and the
  // peer loses disco, counted) when the key is low-order.
  bool DiscoUsable(Peer& peer);
  // The peer's data-plane state (a sealed-frame key or a WireGuard peer),
  // made now if not yet; false (counted once) when its node key is low-order.
  bool DataReady(Peer& peer);
  // Marks every peer busy whose drain would do something (DrainIsNoop).
  void MarkAllBusy();
  // The peer's drain (DrainPeer, CheckDerpPath, Reschedule) would change
  // nothing, and stays so until something marks it busy.
  bool DrainIsNoop(const Peer& peer) const;
  // After a drain: when the peer next needs one (PeerPaths' timers, its
  // relayed-RTT ping while its region is connected).
  void Reschedule(const NodePublicKey& key, Peer& peer);
  bool DrainPeer(Timestamp now, const NodePublicKey& key, Peer& peer);
  bool DrainPaths(Timestamp now, const NodePublicKey& key, Peer& peer);
  // On DERP and not where the regions say it should be: report the move.
  void CheckDerpPath(Timestamp now, const NodePublicKey& key, Peer& peer);
  void ReportPath(Timestamp now, const NodePublicKey& key, Peer& peer, Path to,
                  PathChangeReason reason, std::string detail, std::optional<Duration> rtt);
  Path FallbackPath(const Peer& peer) const;
  RegionId RegionFor(const Peer& peer) const;
  std::optional<Endpoint> LocalFor(const Endpoint& remote) const;
  // What DiscoSent carries of a sealed message (only with the disco log).
  struct SealedDisco {
    Bytes nonce;
    Bytes plaintext;
  };
  // The nonce of a sealed disco packet (magic || sender key || nonce || box)
  // and the message as sealed; empty unless `log`.
  static SealedDisco Sealed(bool log, const Bytes& packet, const disco::Message& m);
  SealedDisco SendDiscoUdp(Peer& peer, const Endpoint& from, const Endpoint& to,
                           const disco::Message& m);
  SealedDisco SendDiscoDerp(Timestamp now, Peer& peer, RegionId region, const disco::Message& m);
  void HandleDisco(Timestamp now, ByteView packet, const Endpoint* local, const Endpoint* remote,
                   RegionId derp_region, const NodePublicKey* derp_source);
  // The sealed-frame data plane.
  void HandleData(Timestamp now, ByteView frame, const Path& path,
                  const NodePublicKey* derp_source);
  SendResult SendSealed(Timestamp now, const NodePublicKey& key, Peer& peer, ByteView payload);
  // WireGuard (node-wireguard.cc): a message in, over `path` (from `remote`
  // on UDP, from `derp_source` over DERP); then everything the device wants
  // sent is routed and its events become node events.
  void HandleWireGuard(Timestamp now, ByteView message, const Path& path, const Endpoint* remote,
                       const NodePublicKey* derp_source);
  // Routes what the device emitted; returns how `for_peer`'s last data
  // message left (kQueued when none did: staged behind a handshake).
  SendResult FlushWireGuard(Timestamp now, const NodePublicKey* for_peer = nullptr);
  SendResult RouteWireGuard(Timestamp now, wireguard::Outgoing out);
  // The device asks for a peer it does not have yet (an initiation from it):
  // a netmap peer becomes a WireGuard peer at that first use.
  std::optional<wireguard::PeerConfig> WireGuardPeerFor(const wireguard::Key32& key);
  // Data that arrived over `path`, authenticated as from `sender`.
  void Deliver(Timestamp now, const NodePublicKey& sender, Peer& peer, Bytes payload,
               const Path& path);
  void RecordRtt(Timestamp now, const NodePublicKey& key, Peer& peer, const Path& path,
                 Duration rtt);
  void DropDisco(uint64_t& reason);
  void DropData(uint64_t& reason);

  // DERP.
  void RetireDerp(Timestamp now, RegionId region);
  void OnDerpEvent(Timestamp now, RegionId region, derp::ClientEvent event);
  DerpLinks::SendResult SendDerp(Timestamp now, RegionId region, const NodePublicKey& to,
                                 Bytes packet, std::optional<size_t> data_bytes);
  void CountDerpData(const NodePublicKey& to, RegionId region, size_t bytes);
  void Emit(Timestamp now, EventBody body);
  // The disco log: the peer's candidates and trusted endpoints that came or
  // went since the last call (CandidateLearned, TrustChanged).
  void LogCandidatesAndTrust(Timestamp now, const NodePublicKey& key, Peer& peer);
  // The disco log's message events; `why` is built only when the log is on.
  template <typename Step, typename Why>
  void LogDisco(Timestamp now, const NodePublicKey& peer, disco::MessageType type, Path via,
                std::optional<disco::TxId> txid, Why&& why, SealedDisco sealed = {}) {
    if (!config_.disco_log) return;
    Step step;
    step.peer = peer;
    step.type = type;
    step.via = std::move(via);
    step.txid = txid;
    step.why = why();
    if constexpr (std::is_same_v<Step, DiscoSent>) {
      step.nonce = std::move(sealed.nonce);
      step.plaintext = std::move(sealed.plaintext);
    }
    Emit(now, std::move(step));
  }

  NodePrivateKey key_;
  RandomSource& rng_;
  NodeConfig config_;
  NodeStats stats_;  // before the parts that count into it
  disco::DiscoSealer sealer_;
  control::ControlClient control_;
  netcheck::NetcheckClient netcheck_;
  std::optional<portmap::Client> portmap_;
  std::optional<portmap::UpnpMapper> upnp_;  // UPnP IGD: portmap_'s UpnpWanted
  bool started_ = false;
  bool stopped_ = false;
  bool up_ = false;

  // The relays: the map from control, our home region, a client per region.
  control::DerpMap derp_map_;
  bool have_derp_map_ = false;
  RegionId home_ = kNoRegion;
  DerpLinks derp_;

  // The netmap's peers, their disco keys, and which of them have work.
  // Hashed: a node of a fully visible tailnet of 1,000 looks its 999 peers up
  // by key for every netmap entry, disco packet and drain, and a tree's ten
  // key comparisons a lookup were the run's biggest cost (memcmp 10.7 %).
  // Nothing may depend on its order: what is done in key order (removals,
  // Peers(), a local change's resets) sorts the keys first; the drain order
  // is PeerScheduler's.
  std::unordered_map<NodePublicKey, Peer> peers_;
  // Each disco key's peer, by its key in peers_ (a node's key and value stay
  // put in an unordered_map too): a tailnet of 1,000 lists a million peers,
  // and a second copy of each node key cost 32 MB.
  std::unordered_map<DiscoPublicKey, const NodePublicKey*> by_disco_;
  PeerScheduler scheduler_;

  // The WireGuard data plane, and where the message it is handling came from.
  wireguard::Device wg_;
  std::optional<Path> wg_arrival_;
  const NodePublicKey* wg_derp_source_ = nullptr;

  // Our endpoints: interface sockets, STUN-seen globals, what is published.
  std::vector<Endpoint> locals_;
  std::map<Endpoint, Timestamp> stun_seen_;  // global endpoints, when last seen
  std::vector<Endpoint> endpoints_;          // as published
  std::optional<Timestamp> last_activity_;   // data sent or received

  std::deque<Transmit> transmits_;
  std::deque<Event> events_;
};

}  // namespace node
}  // namespace punchlab
