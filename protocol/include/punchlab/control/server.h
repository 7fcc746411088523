// The coordination server: a StreamMachine that accepts nodes' TCP
// connections, checks their identity tokens, assigns overlay addresses and
// keeps every node of a domain told about the others (and nothing about other
// domains).
//
// Session on one connection (frames: frame.h, messages: messages.h):
//   node   -> hello {node_key}                    plaintext, the only one
//   server -> challenge {32 random bytes}
//   node   -> register {challenge, token, disco_key, endpoints, home_region[, compress]}
//   server -> registered {address, user, domain}  or refused {reason} + close
//             (from here on each zstd-compressed if the register asked: compression.h)
//   server -> netmap {...}                        the whole netmap, now
//   server -> peers_changed {changed, removed, patched}  after every change
//   node   -> update / ping / leave               server -> pong
// Everything after the hello is nonce || crypto_box between the node key and
// the server key, so a node also proves it holds the key it registers; the
// echoed challenge ties the registration to this connection.
//
// Updates go out when an input changed a domain: once per input, after all
// of its messages are handled, to every node of that domain: a session's
// first update (and every one after the DERP map changes) is the whole
// netmap, later ones only the entries that changed, patches of the fields
// that changed in entries the session already holds (patched), and the keys
// that left, so a change costs O(domain size) messages of one entry or less,
// not O(domain size) whole netmaps. With a batch delay (ControlServerConfig::batch_delay), a
// domain's changes wait that long from the first of them and then go out as
// one message per member covering all of them (each entry once, as it is
// then), as a busy Tailscale map session coalesces its updates (testcontrol:
// a one-slot update channel) and headscale batches them (batch_change_delay);
// a new session's whole netmap still goes out at once.
//
// With access rules for a domain (ControlServerConfig::access_rules, access-rules.h) a node's
// netmap lists only the peers visible to it (a rule lets it reach them or them reach it), and a
// change goes only to the nodes that see the changed node (and to it): one message each with the
// entries it sees; a flush visits only those (and any due a whole netmap), so a change costs what
// sees the changed node, not the domain. Visibility is symmetric and depends only on users. A key
// registering again under another user gets its old viewers whole netmaps (they may no longer see
// it): all of them in place, the ones that do not see the new user after it left in the same batch.
// Domains without rules work as above, unchanged.
//
// A broken, hostile or
// silent connection is closed with a reason (a ConnectionClosed event) and
// counted; it never disturbs other connections.
#pragma once

#include <array>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/clone-on-copy.h"
#include "punchlab/control/access-rules.h"
#include "punchlab/control/compression.h"
#include "punchlab/control/derp-map.h"
#include "punchlab/control/identity.h"
#include "punchlab/control/key-log.h"
#include "punchlab/control/messages.h"
#include "punchlab/control/netmap.h"
#include "punchlab/control/overlay-allocator.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"

namespace punchlab::control {

enum class SealFailure;  // control/channel.h

struct ControlServerConfig {
  std::vector<TrustedIssuer> trusted_issuers;
  DerpMap derp_map;
  IpAddress overlay_base = IpAddress::V4(100, 64, 0, 0);
  int overlay_prefix_len = 10;
  // From accept to a successful registration.
  Duration handshake_timeout = Duration::Seconds(10);
  // Nothing received for this long: the node is gone (clients ping every 20 s).
  Duration idle_timeout = Duration::Seconds(60);
  // Told every frame this server seals (key-log.h); for captures.
  KeyLog key_log;
  // How long a domain's changes wait to be sent together (header comment).
  // Zero: every input's changes go out at once, one message per member.
  Duration batch_delay = Duration::Zero();
  // Per domain: who may reach whom, and so who is listed in whose netmap
  // (access-rules.h). A domain not listed: everyone sees everyone.
  AccessRules access_rules;
};

struct NodeRegistered {
  ConnectionId conn = 0;
  NodeInfo node;
  std::string domain;
};
// A node left the netmaps: it sent leave, its connection closed or went
// silent. (A node registering its key again on a new connection replaces the
// old session without a NodeRemoved.)
struct NodeRemoved {
  NodePublicKey node_key;
  std::string domain;
  std::string reason;
};
struct NodeRefused {
  ConnectionId conn = 0;
  std::string reason;  // also sent to the node
};
// Every connection the server closes or sees closed, with why.
struct ConnectionClosed {
  ConnectionId conn = 0;
  std::string reason;
};
using ServerEvent = std::variant<NodeRegistered, NodeRemoved, NodeRefused, ConnectionClosed>;

struct ServerStats {
  uint64_t connections = 0;
  uint64_t messages = 0;       // well-formed messages handled
  uint64_t oversized = 0;      // frame length above kMaxFrameSize
  uint64_t undecryptable = 0;  // frame did not open with the session key
  uint64_t malformed = 0;      // not a well-formed message (incl. a bad hello)
  uint64_t out_of_order = 0;   // wrong sequence number (replay, drop, reorder)
  uint64_t unexpected = 0;     // a message not valid in the session's state
  uint64_t registrations = 0;
  uint64_t refused = 0;
  uint64_t netmaps_sent = 0;   // whole netmaps
  uint64_t deltas_sent = 0;    // peers_changed messages
  uint64_t handshake_timeouts = 0;
  uint64_t idle_timeouts = 0;
  // a message zstd could not compress (no memory): its connection closed
  uint64_t uncompressible = 0;
};

class ControlServer final : public StreamMachine {
 public:
  ControlServer(NodePrivateKey key, ControlServerConfig config, RandomSource& rng);

  // Nodes need this (out of band, like Tailscale's control key) to talk to us.
  const NodePublicKey& public_key() const { return key_.Public(); }

  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<StreamAction> PollStreamAction() override;
  std::optional<Timestamp> PollTimeout() const override;

  // Replaces the DERP map and sends every node a netmap with it.
  void SetDerpMap(Timestamp now, DerpMap derp_map);

  std::optional<ServerEvent> PollEvent();
  const ServerStats& stats() const { return stats_; }
  // The registered node with this key, if any.
  std::optional<NodeInfo> FindNode(const NodePublicKey& key) const;
  size_t node_count() const { return nodes_.size(); }

  // This machine exactly as it is now (its sessions, nodes and pending
  // changes), drawing from `rng` from here on: a snapshot to start many runs
  // from (the fuzz target clones one set-up world per input instead of
  // redoing its registrations). Call it between handler calls.
  ControlServer Clone(RandomSource& rng) const;

  ~ControlServer() override;

 private:
  // Clone()'s copy: the default copy (every member; the key and the
  // connections' sessions by CloneOnCopy), then `rng`.
  ControlServer(const ControlServer&);
  ControlServer(const ControlServer& other, RandomSource& rng);

  struct Conn;
  struct Record {
    NodeInfo info;
    std::string domain;
    ConnectionId conn = 0;
    // EncodeNodeInfo(info), made at its first use after a change (EntryText):
    // every netmap and change message is spliced from these, so an entry is
    // encoded once per change, not once per recipient.
    mutable std::string text;
    // The change number (change_seq_) of its registration, and of the last
    // change of each field an update may change. A recipient that knows
    // every change up to one at or after `registered` holds this entry and
    // is sent a patch of the fields changed since (ChangeText).
    uint64_t registered = 0;
    uint64_t endpoints_changed = 0;
    uint64_t disco_key_changed = 0;
    uint64_t home_region_changed = 0;
    // EncodePeerPatch of each subset of those fields (bit 0 endpoints, 1 disco
    // key, 2 home region), made at first use after a change, as `text`.
    mutable std::array<std::string, 8> patch_texts;
  };

  void Dispatch(Timestamp now, ConnectionId conn, Message msg);
  void OnHello(ConnectionId conn, Conn& c, const HelloMsg& hello);
  void OnRegister(ConnectionId conn, Conn& c, RegisterMsg reg, Timestamp now);
  void OnUpdate(const Conn& c, const UpdateMsg& update);
  void Send(ConnectionId conn, const Message& msg);
  void Send(ConnectionId conn, const PreparedMessage& msg, const char* type);
  // Closes `conn` and, if it carried a registered node, removes that node.
  // `send_close` is false when the peer already closed it.
  void Close(ConnectionId conn, const std::string& reason, bool send_close = true);
  // Closes a connection whose `type` message could not be sealed.
  void CloseUnsendable(ConnectionId conn, const char* type, SealFailure failure);
  // After an input: sends what is due (with no batch delay: every change;
  // with one: new sessions' netmaps) and schedules the rest.
  void FlushNetmaps(Timestamp now);
  // Sends one domain's pending changes (and any whole netmap due there): to
  // every member, or with rules to the ones they reach and the ones due a
  // whole netmap.
  void FlushDomain(const std::string& domain);
  // The session's whole netmap, sent now.
  void SendNetmap(ConnectionId conn, Conn& c, const Record& r);
  // With a batch delay: sends the batches due by `now`.
  void FlushDueBatches(Timestamp now);
  // The session gets a whole netmap at the next flush.
  void AskNetmap(ConnectionId conn, Conn& c);
  // Returns the change's number.
  uint64_t MarkChanged(const std::string& domain, const NodePublicKey& key);
  void MarkRemoved(const std::string& domain, const NodePublicKey& key, const std::string& user);
  void JoinDomain(const std::string& domain, const NodePublicKey& key, const std::string& user);
  void LeaveDomain(const std::string& domain, const NodePublicKey& key, const std::string& user);
  // The domain's rules, or null when it has none (everyone sees everyone).
  const DomainAccess* AccessOf(const std::string& domain) const;
  // The registered nodes of `domain` that a node of `user` sees (its own key
  // `self` left out), ordered by key. Only for a domain with rules.
  std::vector<NodePublicKey> VisibleKeys(const DomainAccess& access, const std::string& domain,
                                         const std::string& user,
                                         const NodePublicKey& self) const;

  const std::string& EntryText(const Record& r) const;
  // What a recipient that knows every change numbered up to `known` is sent
  // for r's newer change: a patch of the fields changed after `known`
  // (`patch` true) when it holds r's entry, else the whole entry.
  const std::string& ChangeText(const Record& r, uint64_t known, bool& patch) const;
  const std::string& DerpMapText() const;
  // Recomputes the connection's deadline and its place in deadlines_
  // (`listed`: it has one there already).
  void Refresh(ConnectionId conn, Conn& c, bool listed = true);

  CloneOnCopy<NodePrivateKey> key_;
  ControlServerConfig config_;
  // Compresses for every session that asked (one context, reused).
  ZstdCompressor compressor_;
  mutable std::string derp_map_text_;  // EncodeDerpMap(config_.derp_map); DerpMapText()
  RandomSource* rng_;  // never null; a pointer so the copy is the default one
  TokenVerifier verifier_;
  OverlayAllocator overlay_;
  // Conn holds src/ types; a copy of the server copies each Conn.
  std::map<ConnectionId, CloneOnCopy<std::unique_ptr<Conn>>> conns_;
  std::map<NodePublicKey, Record> nodes_;
  // Each domain's registered nodes, so a change costs the domain's size, not
  // every node's.
  std::map<std::string, std::set<NodePublicKey>> members_;
  // Each domain's registered nodes by user, for the domains with rules.
  std::map<std::string, std::map<std::string, std::set<NodePublicKey>>> users_;
  // config_.access_rules indexed, by domain.
  std::map<std::string, DomainAccess> access_;
  // Every connection's deadline (handshake or idle), earliest first, so
  // PollTimeout reads one entry and HandleTimeout visits only due ones.
  std::set<std::pair<Timestamp, ConnectionId>> deadlines_;
  // What changed per domain since the last flush.
  // What changed per domain since the last flush: each key with the number
  // of its latest change (change_seq_), so a session whose netmap came
  // after some of them is sent only the rest.
  struct DomainChanges {
    std::map<NodePublicKey, uint64_t> changed;  // added or changed
    std::map<NodePublicKey, uint64_t> removed;
    // The user each removed node had (in a domain with rules: who saw it).
    std::map<NodePublicKey, std::string> removed_user;
    // With no batch delay, the members (by key) that asked for a whole
    // netmap (AskNetmap; with a delay netmap_due_ serves them at once), so a
    // domain with rules visits these and the nodes its changes reach, not
    // every member.
    std::set<NodePublicKey> netmaps;
    uint64_t first = 0;  // no change in the batch is older
  };
  std::map<std::string, DomainChanges> pending_;
  // FlushDomain for a domain with rules: to each member the changes it sees.
  void FlushDomainWithRules(const std::string& domain, const DomainAccess& access,
                            const DomainChanges& changes);
  // One peers_changed to conn with the changed entries and removed keys
  // numbered after `since`, in their order (ranges of (key, change number));
  // nothing when there are none. The recipient knows every change up to
  // `known` (>= since), so an entry it holds goes as a patch. Both flushes
  // send through it.
  template <class Changed, class Removed>
  void SendChangesSince(ConnectionId conn, const Changed& changed, const Removed& removed,
                        uint64_t since, uint64_t known);
  // With a batch delay: when each domain with pending changes sends them,
  // earliest first (PollTimeout reads one entry), and the domain's entry.
  std::set<std::pair<Timestamp, std::string>> batch_due_;
  std::map<std::string, Timestamp> batch_due_of_;
  // Domains whose batch began during this input: FlushNetmaps schedules them.
  std::vector<std::string> newly_pending_;
  // With a batch delay: sessions that need a whole netmap now (registered or
  // given a new DERP map), in the order they asked.
  std::vector<ConnectionId> netmap_due_;
  // Counts changes (MarkChanged, MarkRemoved); a session's netmap records it.
  uint64_t change_seq_ = 0;
  std::deque<StreamAction> actions_;
  std::deque<ServerEvent> events_;
  ServerStats stats_;
};

}  // namespace punchlab::control
