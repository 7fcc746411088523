// Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s as WireGuard runs it (paper section
// 5.4): the initiator's and responder's message steps as plain functions over
// a per-peer HandshakeState, and the transport keys they end in. No timers,
// indices tables or retries here: that is the Device's job.
#pragma once

#include <cstdint>
#include <optional>

#include "punchlab/random.h"
#include "punchlab/wireguard/messages.h"
#include "punchlab/wireguard/primitives.h"

namespace punchlab::wireguard {

// This side's static key pair with the labels derived from its public key.
struct LocalStatic {
  Key32 private_key{};
  Key32 public_key{};
  Key32 mac1_key{};    // HASH("mac1----" || public): checks MAC1 of messages to us
  Key32 cookie_key{};  // HASH("cookie--" || public): seals our cookie replies

  explicit LocalStatic(const Key32& private_key);
  ~LocalStatic();
  LocalStatic(const LocalStatic&) = delete;
  LocalStatic& operator=(const LocalStatic&) = delete;
};

// What one side knows of a peer.
struct RemoteStatic {
  Key32 public_key{};
  Key32 preshared_key{};      // all zeros when none (as wg's default)
  Key32 static_static{};      // DH(our static, its static), computed once
  bool static_static_ok = false;  // false for a low-order peer key
  Key32 mac1_key{};           // HASH("mac1----" || its public): MAC1 of messages to it
  Key32 cookie_key{};         // HASH("cookie--" || its public): opens its cookie replies

  RemoteStatic(const LocalStatic& local, const Key32& public_key, const Key32& preshared_key);
  ~RemoteStatic();
};

// The running hash and chaining key between the messages of one handshake.
struct HandshakeState {
  enum class Stage { kNone, kInitiationCreated, kInitiationConsumed, kResponseCreated };
  Stage stage = Stage::kNone;
  Key32 hash{};
  Key32 chaining_key{};
  Key32 ephemeral_private{};
  Key32 remote_ephemeral{};
  uint32_t local_index = 0;
  uint32_t remote_index = 0;

  void Clear();
  ~HandshakeState() { Clear(); }
};

// Transport keys a completed handshake ends in.
struct SessionKeys {
  Key32 send{};
  Key32 receive{};
  uint32_t local_index = 0;
  uint32_t remote_index = 0;
  bool initiator = false;
};

// Initiator, message 1. MAC fields are left zero (CookieGenerator fills them).
Initiation CreateInitiation(const LocalStatic& local, const RemoteStatic& remote, HandshakeState& hs,
                            RandomSource& rng, uint32_t local_index, const Tai64n& timestamp);

// Responder, message 1, in three steps: OpenInitiation opens the initiator's
// static key; the caller looks it up among its peers; OpenTimestamp opens the
// timestamp with that peer's static-static DH; the caller refuses a timestamp
// not newer than the last one from that peer (replay) or an initiation too
// soon after the last (flood), then AcceptInitiation commits the state.
struct OpenedInitiation {
  Key32 initiator_static{};
  Tai64n timestamp{};
  Key32 hash{};
  Key32 chaining_key{};
  Key32 remote_ephemeral{};
  uint32_t remote_index = 0;
};
std::optional<OpenedInitiation> OpenInitiation(const LocalStatic& local, const Initiation& m);
bool OpenTimestamp(const RemoteStatic& remote, const Initiation& m, OpenedInitiation& opened);
void AcceptInitiation(const OpenedInitiation& opened, HandshakeState& hs);

// Responder, message 2, and the responder's transport keys.
Response CreateResponse(const RemoteStatic& remote, HandshakeState& hs, RandomSource& rng,
                        uint32_t local_index, SessionKeys& keys);

// Initiator, message 2: nullopt when it does not authenticate.
std::optional<SessionKeys> ConsumeResponse(const LocalStatic& local, const RemoteStatic& remote,
                                           HandshakeState& hs, const Response& m);

}  // namespace punchlab::wireguard
