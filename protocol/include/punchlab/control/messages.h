// Control-plane messages and their JSON encoding (written with nlohmann-json,
// read with simdjson: src/control/message-reader.h). Every frame
// payload is one JSON object with a "type" and a "seq": each direction of a
// connection numbers its messages 0, 1, 2, ... and the receiver accepts only
// the next number, so a recorded frame cannot be replayed, dropped or
// reordered within a session unnoticed.
//
// Client -> server: hello (seq 0, the only plaintext frame), register (which
// may ask for compressed answers: compression.h), update,
// leave, ping. Server -> client: challenge, registered, refused, netmap (the
// whole netmap), peers_changed (what changed since the last one), pong,
// goodbye. The register must echo the challenge the server drew for this
// connection, so a recorded session replayed on a new connection is refused.
// Which of these a side accepts is the machines' business; the codec only
// checks shape: required fields present with the right types, keys and
// addresses in their strict text forms. Unknown fields are ignored.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/control/compression.h"
#include "punchlab/control/derp-map.h"
#include "punchlab/control/netmap.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"

namespace punchlab::control {

constexpr int kProtocolVersion = 1;
// A node reporting more endpoints than this is misbehaving (real ones have a
// handful: LAN addresses plus what STUN saw).
constexpr size_t kMaxEndpoints = 32;

struct HelloMsg {
  int version = kProtocolVersion;
  NodePublicKey node_key;
};
constexpr size_t kChallengeSize = 32;
using Challenge = std::array<uint8_t, kChallengeSize>;

struct ChallengeMsg {
  Challenge challenge{};
};
struct RegisterMsg {
  Challenge challenge{};
  std::string token;
  DiscoPublicKey disco_key;
  std::vector<Endpoint> endpoints;
  RegionId home_region = kNoRegion;
  // "compress": "zstd" asks the server to compress every message it sends
  // on this session from its answer to this register on (compression.h);
  // left out on the wire for kNone.
  Compression compress = Compression::kNone;
};
// Any subset of what a node may change after registering (at least one).
struct UpdateMsg {
  std::optional<std::vector<Endpoint>> endpoints;
  std::optional<DiscoPublicKey> disco_key;
  std::optional<RegionId> home_region;
};
struct LeaveMsg {};
struct PingMsg {};
struct RegisteredMsg {
  IpAddress address;
  std::string user;
  std::string domain;
};
struct RefusedMsg {
  std::string reason;
};
struct NetmapMsg {
  Netmap netmap;
};
// Since the last netmap or peers_changed on this session: these nodes of the
// domain were added or changed (whole entries; the receiver's own entry may
// be among them), these changed only in some fields of an entry the receiver
// holds (patches, keyed by node key; its own may be among them), these left.
// What Tailscale's map responses call PeersChanged/PeersChangedPatch/
// PeersRemoved: a change costs one entry (or less) per node, not a whole
// netmap, so a large domain stays cheap. A key is in at most one of the
// lists; on the wire "patched" is left out when empty.
struct PeersChangedMsg {
  std::vector<NodeInfo> changed;
  std::vector<NodePublicKey> removed;
  std::vector<PeerPatch> patched;
};
struct PongMsg {};
// The server is closing this session and the client should not come back
// with it (e.g. the same node key registered again elsewhere).
struct GoodbyeMsg {
  std::string reason;
};

using Message = std::variant<HelloMsg, RegisterMsg, UpdateMsg, LeaveMsg, PingMsg, ChallengeMsg,
                             RegisteredMsg, RefusedMsg, NetmapMsg, PeersChangedMsg, PongMsg,
                             GoodbyeMsg>;

// "hello", "register", ...: for logs and errors.
const char* MessageTypeName(const Message& msg);

// UTF-8 JSON text of the message with its sequence number.
Bytes EncodeMessage(const Message& msg, uint64_t seq);

// A message encoded once for many connections, each with its own sequence
// number: EncodePrepared(PrepareMessage(m), seq) == EncodeMessage(m, seq).
// The server sends every change of a domain to each member; encoding it
// once instead of per member took a sixth of a 300-node tailnet's CPU.
struct PreparedMessage {
  std::string head;  // the text before the sequence number
  std::string tail;  // and after it
  std::optional<Message> whole;  // when the text does not split (encoded per call)
};
PreparedMessage PrepareMessage(const Message& msg);
Bytes EncodePrepared(const PreparedMessage& prepared, uint64_t seq);

// A peers_changed message spliced from entries encoded once each: a batch
// goes to members whose netmaps came at different points of it, each a
// different subset. EncodePrepared(PreparePeersChanged(texts, removed,
// patches), seq) == EncodeMessage(PeersChangedMsg{those entries, removed,
// those patches}, seq) when each text is EncodeNodeInfo of its entry or
// EncodePeerPatch of its patch.
std::string EncodeNodeInfo(const NodeInfo& node);
std::string EncodePeerPatch(const PeerPatch& patch);
PreparedMessage PreparePeersChanged(const std::vector<const std::string*>& changed,
                                    const std::vector<NodePublicKey>& removed,
                                    const std::vector<const std::string*>& patched = {});
// A whole netmap spliced the same way: each text is EncodeNodeInfo of its
// entry and `derp_map` is EncodeDerpMap of the map, so
// EncodePrepared(PrepareNetmap(...), seq) == EncodeMessage(NetmapMsg{...}, seq).
// The server keeps each node's entry text until the node changes: a tailnet
// of N registering nodes encoded N^2/2 entries for their netmaps before.
std::string EncodeDerpMap(const DerpMap& map);
PreparedMessage PrepareNetmap(const std::string& domain, const std::string& self,
                              const std::vector<const std::string*>& peers,
                              const std::string& derp_map);

struct DecodedMessage {
  uint64_t seq = 0;
  Message msg;
};
// nullopt with `error` set when the bytes are not a well-formed message.
std::optional<DecodedMessage> DecodeMessage(ByteView json, std::string& error);

}  // namespace punchlab::control
