// Seals and opens disco packets for one node (one disco key pair):
//   magic (6) || my disco public key (32) || nonce (24) || crypto_box(message)
//
// Peers are registered up front (from the netmap) and their crypto_box shared
// key is derived on first use (the first Seal to or Open from that peer, or
// Prepare), once: a node in a tailnet of thousands talks to a few of them,
// and a scalar multiplication per listed peer made a tailnet cost the square
// of its size. A packet from a key that is not a registered peer is dropped
// before any public-key work: strangers cannot make us compute (Tailscale
// likewise ignores disco from keys outside its netmap). A low-order peer key
// (its shared secret would be all zeros) is found and refused at that first
// use: counted once, then treated as unknown. The registry is bounded by
// `max_peers`.
//
// Open() never throws; every drop is counted by reason. Replay protection is
// not done here: a replayed packet is still a valid box and opens again. The
// path layer above matches pongs to outstanding ping txids (peer-paths.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "punchlab/bytes.h"
#include "punchlab/crypto/box.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/disco/message.h"
#include "punchlab/random.h"

namespace punchlab {
namespace disco {

enum class DropReason : uint8_t {
  kNotDisco,       // no magic (or shorter than the magic): not a disco packet at all
  kTooShort,       // magic, but too short for header, MAC, type and version
  kUnknownSender,  // sender key is not a registered peer (low-order keys never are)
  kBoxFailed,      // the box did not open: tampered, truncated, or sealed to another key
  kUnknownType,    // opened, but a message type we do not know
  kBadPayload,     // opened, known type, payload too short for it
};
constexpr size_t kDropReasonCount = static_cast<size_t>(DropReason::kBadPayload) + 1;
const char* DropReasonName(DropReason r);

struct SealerStats {
  uint64_t sealed = 0;
  uint64_t opened = 0;  // packets that opened and decoded
  uint64_t dropped[kDropReasonCount] = {};
  uint64_t peers_rejected_low_order = 0;  // registered keys found low-order at first use
  uint64_t keys_derived = 0;              // shared keys computed (at most one per peer)
  uint64_t peers_rejected_full = 0;       // AddPeer past max_peers

  uint64_t Dropped(DropReason r) const { return dropped[static_cast<size_t>(r)]; }
  uint64_t DroppedTotal() const;
};

struct Opened {
  DiscoPublicKey sender;
  Message message;
};

struct OpenResult {
  std::optional<Opened> opened;             // set when the packet was good
  DropReason drop = DropReason::kNotDisco;  // meaningful only when !opened
  bool ok() const { return opened.has_value(); }
};

class DiscoSealer {
 public:
  static constexpr size_t kDefaultMaxPeers = 4096;

  explicit DiscoSealer(DiscoPrivateKey mine, size_t max_peers = kDefaultMaxPeers);

  const DiscoPublicKey& public_key() const { return mine_.Public(); }

  enum class AddPeerResult : uint8_t { kAdded, kAlreadyKnown, kFull };
  // Registers `peer`; its shared key is derived at first use.
  AddPeerResult AddPeer(const DiscoPublicKey& peer);
  // Derives the shared key with `peer` now if not yet done. False if `peer`
  // is not registered or its key is low-order (then counted, once).
  bool Prepare(const DiscoPublicKey& peer);
  // Forgets a peer (netmap removal, or its disco key changed). False if unknown.
  bool RemovePeer(const DiscoPublicKey& peer);
  bool HasPeer(const DiscoPublicKey& peer) const { return peers_.count(peer) != 0; }
  // Registered peers whose shared key has been derived (low-order ones not).
  size_t DerivedCount() const;
  size_t PeerCount() const { return peers_.size(); }

  // The full packet for `to`, with a nonce drawn from `rng`. nullopt if `to`
  // is not a registered peer or its key is low-order.
  std::optional<Bytes> Seal(RandomSource& rng, const DiscoPublicKey& to, const Message& m);
  // With a fixed nonce (byte-vector tests) and/or raw plaintext (messages
  // this codec does not model). Never reuse a nonce in real traffic.
  std::optional<Bytes> Seal(const BoxNonce& nonce, const DiscoPublicKey& to, const Message& m);
  std::optional<Bytes> SealPlaintext(const BoxNonce& nonce, const DiscoPublicKey& to,
                                     ByteView plaintext);

  OpenResult Open(ByteView packet);

  // The claimed sender of a packet that LooksLikeDisco, without opening it
  // (e.g. to find which peer it belongs to). Not authenticated.
  static std::optional<DiscoPublicKey> PeekSender(ByteView packet);

  const SealerStats& stats() const { return stats_; }

 private:
  // A registered peer: its key once derived; low_order once found so.
  struct Entry {
    std::optional<SharedKey> key;
    bool low_order = false;
  };
  OpenResult Drop(DropReason r);
  // The peer's shared key, derived now if needed; nullptr if low-order.
  const SharedKey* KeyOf(const DiscoPublicKey& peer, Entry& entry);

  DiscoPrivateKey mine_;
  size_t max_peers_;
  // Hashed: looked up for every disco packet sealed or opened, never
  // iterated in an order that matters.
  std::unordered_map<DiscoPublicKey, Entry> peers_;
  SealerStats stats_;
};

}  // namespace disco
}  // namespace punchlab
