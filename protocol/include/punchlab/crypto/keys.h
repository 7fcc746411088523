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

  // Inline, a word at a time: keys are compared in every map a node keeps
  // of its peers, and std::array's operators call memcmp (10.7 % of a
  // fully visible tailnet of 1,000). operator< is the same order as the
  // bytes' (lexicographic), so ordered containers keep their order.
  bool operator==(const PublicKey& o) const {
    uint64_t diff = 0;
    for (size_t i = 0; i < kSize; i += 8) diff |= Word(raw_, i) ^ Word(o.raw_, i);
    return diff == 0;
  }
  bool operator!=(const PublicKey& o) const { return !(*this == o); }
  bool operator<(const PublicKey& o) const {
    for (size_t i = 0; i < kSize; i += 8) {
      const uint64_t a = Word(raw_, i), b = Word(o.raw_, i);
      if (a != b) return BigEndian(a) < BigEndian(b);
    }
    return false;
  }
  // The first 8 bytes as a number: a public key's bytes are uniformly
  // random, so this is a good hash (std::hash below).
  uint64_t HashWord() const { return Word(raw_, 0); }

 private:
  static uint64_t Word(const KeyBytes& k, size_t at) {
    uint64_t w;
    std::memcpy(&w, k.data() + at, sizeof w);
    return w;
  }
  // A word loaded in host order, as the number its bytes spell big-endian
  // (first byte most significant): comparing these is comparing the bytes.
  static uint64_t BigEndian(uint64_t w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    return __builtin_bswap64(w);
#else
    return w;
#endif
  }

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
    return std::hash<uint64_t>{}(k.HashWord());
  }
};
}  // namespace std
