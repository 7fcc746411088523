// NaCl crypto_box (curve25519-xsalsa20-poly1305) with a per-peer precomputed
// key. Disco packets (magic || sender disco key || nonce || box), DERP
// ClientInfo/ServerInfo (nonce || box(JSON)) and the control plane all carry
// the same "nonce || box" layout that Seal() produces and Open() consumes.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/random.h"

namespace punchlab {

constexpr size_t kBoxNonceSize = 24;  // crypto_box_NONCEBYTES
constexpr size_t kBoxOverhead = 16;   // crypto_box_MACBYTES (Poly1305 tag)
using BoxNonce = std::array<uint8_t, kBoxNonceSize>;

// The crypto_box_beforenm result for one (my private, their public) pair.
// Symmetric: A's key with B's public equals B's key with A's public, so one
// SharedKey both seals to and opens from that peer. Wiped on destruction.
class SharedKey {
 public:
  static constexpr size_t kSize = 32;  // crypto_box_BEFORENMBYTES

  // nullopt when `theirs` is a low-order point (the shared secret would be all
  // zeros: libsodium refuses it). Keys off the network can be such points, so
  // callers drop and count the packet instead of trusting it.
  template <typename Role>
  static std::optional<SharedKey> Compute(const PrivateKey<Role>& mine,
                                          const PublicKey<Role>& theirs) {
    return ComputeRaw(mine.SecretBytes(), theirs.view());
  }

  ~SharedKey();
  SharedKey(const SharedKey&) = delete;
  SharedKey& operator=(const SharedKey&) = delete;
  // The moved-from key is wiped to zeros and must not be used again.
  SharedKey(SharedKey&& other) noexcept;
  SharedKey& operator=(SharedKey&& other) noexcept;
  // A copy, on purpose (as PrivateKey::Clone): for a machine's Clone().
  SharedKey Clone() const;

  // nonce (24, drawn from rng) || box(plaintext) (plaintext size + 16).
  Bytes Seal(RandomSource& rng, ByteView plaintext) const;
  // Same, with a caller-chosen nonce (byte-vector tests). Never reuse a nonce
  // with the same key in real traffic.
  Bytes Seal(const BoxNonce& nonce, ByteView plaintext) const;
  // Input is nonce || box. nullopt if too short, tampered, or sealed under a
  // different key. Never throws.
  std::optional<Bytes> Open(ByteView nonce_and_box) const;

  // The precomputed key itself, for tests and cross-checks.
  ByteView SecretBytes() const { return ByteView(key_.data(), key_.size()); }

 private:
  SharedKey() = default;
  static std::optional<SharedKey> ComputeRaw(ByteView secret, ByteView peer_public);
  std::array<uint8_t, kSize> key_{};
};

}  // namespace punchlab
