// What a Node reports: the path it uses to each peer, the events a host logs
// or reacts to, and per-peer, per-path counters.
//
// A path is either a direct UDP endpoint of the peer or a DERP region (the
// relay the peer is reached through); "none" means the node has no way to
// reach the peer yet (no direct path, and neither the peer nor this node has
// a home region).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/control/derp-map.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/disco/message.h"
#include "punchlab/endpoint.h"
#include "punchlab/netcheck/report.h"
#include "punchlab/portmap/client.h"
#include "punchlab/time.h"

namespace punchlab {
namespace node {

using RegionId = control::RegionId;  // the same int as netcheck::RegionId
constexpr RegionId kNoRegion = control::kNoRegion;

struct Path {
  enum class Kind : uint8_t { kNone, kDirect, kDerp };
  Kind kind = Kind::kNone;
  Endpoint endpoint;            // kDirect: the peer's endpoint
  RegionId region = kNoRegion;  // kDerp: the region relaying to the peer

  static Path None() { return Path(); }
  static Path Direct(const Endpoint& ep);
  static Path Derp(RegionId region);

  bool direct() const { return kind == Kind::kDirect; }
  bool derp() const { return kind == Kind::kDerp; }
  // "direct 192.0.2.1:41641", "derp 1", "none".
  std::string ToString() const;

  bool operator==(const Path& o) const;
  bool operator!=(const Path& o) const { return !(*this == o); }
  bool operator<(const Path& o) const;
};

enum class PathChangeReason : uint8_t {
  kPong,           // a pong proved a direct path while we were on DERP
  kCallMeMaybe,    // same, for a ping that answered the peer's CallMeMaybe
  kBetterPath,     // a pong showed a clearly better direct path
  kTrustExpired,   // the direct path stopped answering: another one, or DERP
  kPeerRestarted,  // the peer has a new disco key: old proofs are void, DERP
  kLocalChange,    // our own sockets changed (SetLocalEndpoints): same, DERP
  kDerpRegion,     // on DERP, and the region to reach the peer through changed
};
const char* PathChangeReasonName(PathChangeReason r);

// Round-trip times measured on one path: disco pong RTTs, for direct paths
// from pings sent over UDP, for DERP from disco pings relayed end to end.
struct RttStats {
  uint64_t samples = 0;
  Duration last;
  Duration min;
  Duration max;
  Duration total;

  void Add(Duration rtt);
  Duration Mean() const { return samples == 0 ? Duration::Zero() : total / static_cast<int64_t>(samples); }
};

// Application data on one path. Bytes are application payload bytes (what
// Send() was given / DataReceived carries), not wire bytes.
struct PathCounters {
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_received = 0;
  uint64_t bytes_received = 0;
  RttStats rtt;
};

struct PeerStats {
  std::map<Path, PathCounters> paths;
  uint64_t path_changes = 0;
  uint64_t sends_dropped = 0;  // no route, DERP queue full or DERP send refused
};

// ---- events ----------------------------------------------------------------

struct Registered {
  IpAddress address;  // overlay address from the coordination server
  std::string user;
  std::string domain;
};
struct RegistrationRefused {
  std::string reason;  // the node stops talking to control; data keeps its last netmap
};
struct ControlDisconnected {
  std::string reason;
  bool will_reconnect = false;
};
struct PeerAdded {
  NodePublicKey peer;
  DiscoPublicKey disco_key;
  std::vector<Endpoint> endpoints;
  RegionId home_region = kNoRegion;
  Path path;  // where data to it goes until discovery finds better
};
struct PeerRemoved {
  NodePublicKey peer;
};
// The netmap shows a new disco key for a known peer: it restarted.
struct PeerRestarted {
  NodePublicKey peer;
  DiscoPublicKey old_disco_key;
  DiscoPublicKey new_disco_key;
};
// The endpoints this node publishes changed (and were sent to control).
struct EndpointsChanged {
  std::vector<Endpoint> endpoints;
};
struct NetcheckDone {
  netcheck::Report report;
};
struct HomeRegionChanged {
  RegionId from = kNoRegion;
  RegionId to = kNoRegion;
  std::string reason;  // netcheck's reason, or why the fallback was taken
};
struct DerpConnected {
  RegionId region = kNoRegion;
};
struct DerpDisconnected {
  RegionId region = kNoRegion;
  std::string reason;
};
// The node is up, once per Node (one run of it): registered with control and
// connected to its home DERP region, so a peer in the netmap can be reached
// at once (over DERP if nothing better). What `tailscale up` waits for before
// a user's program starts sending; the scenario traffic of both worlds
// starts a node's flows from here (scenario/meaning/probe-schedule.h). With a
// DERP map that has no region with a server there is nothing to connect to:
// registered (and the map received) is up, home_region kNoRegion.
struct Up {
  RegionId home_region = kNoRegion;
};
struct PathChanged {
  NodePublicKey peer;
  Path from;
  Path to;
  PathChangeReason reason = PathChangeReason::kPong;
  std::string detail;          // for logs
  std::optional<Duration> rtt;  // latest RTT of a direct `to`
};
struct DataReceived {
  NodePublicKey peer;
  Bytes data;
  Path path;
};
struct RttMeasured {
  NodePublicKey peer;
  Path path;
  Duration rtt;
};


// The disco log (only with NodeConfig::disco_log): every disco message to or
// from a peer, every endpoint of the peer learned, every trust change, each
// with why -- what a person reads to follow a punch. PathChanged is the
// log's path decision.
//
// What the two message events share.
struct DiscoMessageStep {
  NodePublicKey peer;
  disco::MessageType type = disco::MessageType::kPing;
  // Over UDP: Direct(where it went to, or came from); over DERP: Derp(region).
  Path via;
  std::optional<disco::TxId> txid;  // pings and pongs
  std::string why;  // "heartbeat", "answers the ping", "rtt 20ms", "dropped: ...", ...
};
struct DiscoSent : DiscoMessageStep {
  // The sealed packet's nonce and the message as sealed (disco::EncodeMessage):
  // a key log of these lets a capture's reader open the packet (the
  // simulation writes pcap/disco-keys.log beside its captures).
  Bytes nonce;
  Bytes plaintext;
};
struct DiscoReceived : DiscoMessageStep {};
// An endpoint of the peer to try: from the netmap, a CallMeMaybe, or a ping
// the peer sent from it.
struct CandidateLearned {
  NodePublicKey peer;
  Endpoint endpoint;
  std::string source;
};
// A direct endpoint of the peer became trusted (a pong proved it) or stopped
// being trusted (no pong within the trust window, or a reset).
struct TrustChanged {
  NodePublicKey peer;
  Endpoint endpoint;
  bool trusted = false;
  std::string why;
};

// Port mapping at the default gateway (portmap::Client): the mapped endpoint
// is published first among the node's endpoints while it is good, as
// Tailscale's magicsock publishes its portmapped endpoint.
struct PortMappingCreated {
  portmap::Mapping mapping;
  bool renewal = false;
};
struct PortMappingLost {
  portmap::Mapping mapping;
  portmap::LossReason reason = portmap::LossReason::kExpired;
};
struct PortMappingFailed {
  portmap::MappingProtocol protocol = portmap::MappingProtocol::kPmp;
  std::string reason;
};
// A probe of the gateway ended: which services answered (only with
// NodeConfig::disco_log: a probe follows every netcheck report).
struct PortMappingProbed {
  bool pmp = false;
  bool pcp = false;
  bool upnp = false;
};

// A WireGuard handshake with the peer completed (data_plane wireguard):
// `initiator` when we started it (its response came over `via`), else we
// answered the initiation that came over `via`.
struct WireGuardHandshake {
  NodePublicKey peer;
  bool initiator = false;
  Path via;
};

using EventBody =
    std::variant<Registered, RegistrationRefused, ControlDisconnected, PeerAdded, PeerRemoved,
                 PeerRestarted, EndpointsChanged, NetcheckDone, HomeRegionChanged, DerpConnected,
                 DerpDisconnected, Up, PathChanged, DataReceived, RttMeasured, DiscoSent,
                 DiscoReceived, CandidateLearned, TrustChanged,
                 PortMappingCreated, PortMappingLost, PortMappingFailed, WireGuardHandshake,
                 PortMappingProbed>;

struct Event {
  Timestamp at;
  EventBody body;
};

// One line for logs, e.g. "path [1a2b3c4d] derp 1 -> direct 192.0.2.1:41641 (pong: ...)".
// Data payloads are shown by size only.
std::string Describe(const EventBody& body);

// ---- counters --------------------------------------------------------------

struct NodeStats {
  // The UDP socket's demultiplexer.
  uint64_t datagrams_received = 0;
  uint64_t stun_datagrams = 0;
  uint64_t disco_datagrams = 0;
  uint64_t data_datagrams = 0;
  uint64_t unknown_datagrams = 0;  // neither STUN, disco nor data: dropped
  // The gateway's NAT-PMP / PCP answers and SSDP answers (portmap::Client::Claims).
  uint64_t portmap_datagrams = 0;

  // Disco. Every dropped disco packet counts once in disco_dropped; the
  // sealer's stats say why for those that did not open.
  uint64_t disco_pings_sent = 0;
  uint64_t disco_pongs_sent = 0;
  uint64_t disco_call_me_maybes_sent = 0;
  uint64_t disco_pings_received = 0;
  uint64_t disco_pongs_received = 0;
  uint64_t disco_call_me_maybes_received = 0;
  uint64_t disco_dropped = 0;
  uint64_t disco_not_opened = 0;          // forged, truncated, unknown sender (sealer)
  uint64_t disco_sender_mismatch = 0;     // over DERP, from another node than the key's owner
  uint64_t disco_node_key_mismatch = 0;   // a ping naming another node key than its sender's
  uint64_t disco_call_me_maybe_over_udp = 0;  // only DERP may carry CallMeMaybe
  uint64_t disco_pongs_rejected = 0;      // unknown, expired or replayed txid
  uint64_t disco_pings_not_answered = 0;  // replayed (same txid, same source) or unusable source
  uint64_t pings_without_local = 0;       // a candidate of a family we have no socket for

  // Data.
  uint64_t data_sent_direct = 0;
  uint64_t data_sent_derp = 0;
  uint64_t data_received = 0;
  uint64_t data_dropped = 0;  // sum of the three below
  uint64_t data_unknown_sender = 0;
  uint64_t data_bad_box = 0;         // forged, tampered or truncated
  uint64_t data_sender_mismatch = 0; // over DERP, the frame names another sender
  uint64_t sends_unknown_peer = 0;
  uint64_t sends_too_large = 0;
  uint64_t sends_no_route = 0;

  // DERP.
  uint64_t derp_queue_dropped = 0;   // queued while connecting, limit reached or region gone
  uint64_t derp_send_failed = 0;     // the DERP client refused (not connected any more)
  uint64_t derp_unknown_packets = 0; // relayed bytes that are neither disco nor data
  uint64_t derp_peer_gone = 0;

  uint64_t data_keys_derived = 0;  // per-peer data keys made (at first data to or from it)
  uint64_t peers_rejected = 0;  // low-order node or disco key, or a disco key already in use
  // A control patch for a peer the node does not hold, dropped (the server
  // lost track of what this node knows).
  uint64_t patches_unknown_peer = 0;
};

}  // namespace node
}  // namespace punchlab
