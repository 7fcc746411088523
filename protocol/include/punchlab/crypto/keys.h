// Curve25519 key pairs, one C++ type per role, so a disco key cannot be passed
// where a node key is expected (and a box can only be computed between keys
// of the same role; see box.h).
//
// Roles and their text forms, as Tailscale's types/key writes them (lowercase
// hex; parsing takes either case, as Tailscale's does):
//   node    public "nodekey:<64 hex>"   private "privkey:<64 hex>"
//           A node's long-lived WireGuard-style identity. The DERP server's key
//           is a node key too (as in Tailscale): ClientInfo is boxed between the
//           client's node key and the server's key, and both travel in the same
//           32-byte slots of DERP frames.
//   disco   public "discokey:<64 hex>"  private "discoprivkey:<64 hex>"
//           Fresh at every start; seals disco pings/pongs/CallMeMaybe.
//   machine public "mkey:<64 hex>"      private "privkey:<64 hex>"
//           Control plane: the coordination server's key and each node's
//           machine key for talking to it. Its private form is the node
//           private key's (Tailscale's too): the context says which it is.
// Tailscale has no text form for disco private keys; "discoprivkey:" is
// punchlab's own (tests and tools only: disco keys are fresh every start).
//
// Keys come from an injected RandomSource: Generate() draws a 32-byte seed and
// calls crypto_box_seed_keypair, so a simulated run is deterministic.
// Private keys are move-only (Clone() copies on purpose), wiped with
// sodium_memzero on destruction and when moved from, and have no ToString():
// their text form is ToSecretString(), so they are never logged by accident.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/random.h"

namespace punchlab {

struct NodeKeyRole {
  static constexpr const char* kPublicPrefix = "nodekey:";
  static constexpr const char* kPrivatePrefix = "privkey:";
};
struct DiscoKeyRole {
  static constexpr const char* kPublicPrefix = "discokey:";
  static constexpr const char* kPrivatePrefix = "discoprivkey:";
};
struct MachineKeyRole {
  static constexpr const char* kPublicPrefix = "mkey:";
  static constexpr const char* kPrivatePrefix = "privkey:";
};

constexpr size_t kCurve25519KeySize = 32;
using KeyBytes = std::array<uint8_t, kCurve25519KeySize>;

// A Curve25519 public key of one role. Default-constructed it is all zeros
// (IsZero()), which no real key is: use it as "not set yet".
template <typename Role>
class PublicKey {
 public:
  static constexpr size_t kSize = kCurve25519KeySize;

  PublicKey() = default;
  explicit PublicKey(const KeyBytes& raw) : raw_(raw) {}
  // Exactly 32 bytes (e.g. straight off the wire), else nullopt.
  static std::optional<PublicKey> FromBytes(ByteView bytes);
  // Role prefix + exactly 64 hex digits (either case), nothing before or after.
  static std::optional<PublicKey> Parse(const std::string& text);

  std::string ToString() const;     // "nodekey:<64 hex>"
  std::string ShortString() const;  // "[<first 8 hex>]" for logs
  const KeyBytes& raw() const { return raw_; }
  ByteView view() const { return ByteView(raw_.data(), raw_.size()); }
  bool IsZero() const;

  bool operator==(const PublicKey& o) const { return raw_ == o.raw_; }
  bool operator!=(const PublicKey& o) const { return raw_ != o.raw_; }
  bool operator<(const PublicKey& o) const { return raw_ < o.raw_; }

 private:
  KeyBytes raw_{};
};

// A Curve25519 private key of one role, with its public key cached.
template <typename Role>
class PrivateKey {
 public:
  static constexpr size_t kSize = kCurve25519KeySize;

  // 32 bytes from `rng` as the seed of crypto_box_seed_keypair.
  static PrivateKey Generate(RandomSource& rng);
  // A raw Curve25519 scalar (as crypto_box_keypair would produce).
  explicit PrivateKey(const KeyBytes& raw);
  static std::optional<PrivateKey> FromBytes(ByteView bytes);
  // Role's private prefix + exactly 64 hex digits (either case).
  static std::optional<PrivateKey> Parse(const std::string& text);

  ~PrivateKey();
  PrivateKey(const PrivateKey&) = delete;
  PrivateKey& operator=(const PrivateKey&) = delete;
  // The moved-from key is wiped: secret and public both become all zeros.
  PrivateKey(PrivateKey&& other) noexcept;
  PrivateKey& operator=(PrivateKey&& other) noexcept;
  PrivateKey Clone() const;

  const PublicKey<Role>& Public() const { return public_; }
  // The secret itself; named loudly so it is not printed by mistake.
  std::string ToSecretString() const;  // "privkey:<64 hex>"
  ByteView SecretBytes() const { return ByteView(secret_.data(), secret_.size()); }

 private:
  KeyBytes secret_{};
  PublicKey<Role> public_;
};

using NodePublicKey = PublicKey<NodeKeyRole>;
using NodePrivateKey = PrivateKey<NodeKeyRole>;
using DiscoPublicKey = PublicKey<DiscoKeyRole>;
using DiscoPrivateKey = PrivateKey<DiscoKeyRole>;
using MachinePublicKey = PublicKey<MachineKeyRole>;
using MachinePrivateKey = PrivateKey<MachineKeyRole>;

}  // namespace punchlab

// Public keys are uniformly random bytes, so their first 8 bytes hash well.
namespace std {
template <typename Role>
struct hash<punchlab::PublicKey<Role>> {
  size_t operator()(const punchlab::PublicKey<Role>& k) const noexcept {
    uint64_t h;
    std::memcpy(&h, k.raw().data(), sizeof h);
    return std::hash<uint64_t>{}(h);
  }
};
}  // namespace std
