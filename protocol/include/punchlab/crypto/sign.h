// Ed25519 detached signatures (libsodium crypto_sign_*), used by the control
// plane: an identity provider signs tokens that vouch for a node's identity
// and the coordination server verifies them.
//
// Text forms (lowercase hex only): verify key "idpkey:<64 hex>", signing key
// "idpprivkey:<64 hex>" where the hex is the 32-byte seed (RFC 8032's
// "secret key"), from which the full key pair is re-derived.
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

constexpr size_t kSignatureSize = 64;  // crypto_sign_BYTES
using Signature = std::array<uint8_t, kSignatureSize>;

class VerifyKey {
 public:
  static constexpr size_t kSize = 32;  // crypto_sign_PUBLICKEYBYTES
  static constexpr const char* kPrefix = "idpkey:";

  VerifyKey() = default;  // all zeros: "not set"; verifies nothing
  explicit VerifyKey(const std::array<uint8_t, kSize>& raw) : raw_(raw) {}
  static std::optional<VerifyKey> FromBytes(ByteView bytes);  // exactly 32 bytes
  static std::optional<VerifyKey> Parse(const std::string& text);

  // True only if `signature` is exactly 64 bytes and valid for `message`.
  bool Verify(ByteView message, ByteView signature) const;

  std::string ToString() const;     // "idpkey:<64 hex>"
  std::string ShortString() const;  // "[<first 8 hex>]"
  const std::array<uint8_t, kSize>& raw() const { return raw_; }
  ByteView view() const { return ByteView(raw_.data(), raw_.size()); }
  bool IsZero() const;

  bool operator==(const VerifyKey& o) const { return raw_ == o.raw_; }
  bool operator!=(const VerifyKey& o) const { return raw_ != o.raw_; }
  bool operator<(const VerifyKey& o) const { return raw_ < o.raw_; }

 private:
  std::array<uint8_t, kSize> raw_{};
};

// Move-only, wiped on destruction and when moved from.
class SigningKey {
 public:
  static constexpr size_t kSeedSize = 32;  // crypto_sign_SEEDBYTES
  static constexpr const char* kPrefix = "idpprivkey:";

  // 32 bytes from `rng` as the seed of crypto_sign_seed_keypair.
  static SigningKey Generate(RandomSource& rng);
  explicit SigningKey(const std::array<uint8_t, kSeedSize>& seed);
  static std::optional<SigningKey> Parse(const std::string& text);

  ~SigningKey();
  SigningKey(const SigningKey&) = delete;
  SigningKey& operator=(const SigningKey&) = delete;
  SigningKey(SigningKey&& other) noexcept;
  SigningKey& operator=(SigningKey&& other) noexcept;
  SigningKey Clone() const;

  const VerifyKey& Public() const { return public_; }
  Signature Sign(ByteView message) const;

  std::string ToSecretString() const;  // "idpprivkey:<seed hex>"
  ByteView SeedBytes() const { return ByteView(secret_.data(), kSeedSize); }

 private:
  std::array<uint8_t, 64> secret_{};  // crypto_sign_SECRETKEYBYTES: seed || public
  VerifyKey public_;
};

}  // namespace punchlab

namespace std {
template <>
struct hash<punchlab::VerifyKey> {
  size_t operator()(const punchlab::VerifyKey& k) const noexcept {
    uint64_t h;
    std::memcpy(&h, k.raw().data(), sizeof h);
    return std::hash<uint64_t>{}(h);
  }
};
}  // namespace std
