#include "punchlab/crypto/sign.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/key-text.h"
#include "punchlab/sodium.h"

namespace punchlab {

static_assert(kSignatureSize == crypto_sign_BYTES, "signature size");
static_assert(VerifyKey::kSize == crypto_sign_PUBLICKEYBYTES, "verify key size");
static_assert(SigningKey::kSeedSize == crypto_sign_SEEDBYTES, "seed size");
static_assert(sizeof(std::array<uint8_t, 64>) == crypto_sign_SECRETKEYBYTES, "secret key size");

std::optional<VerifyKey> VerifyKey::FromBytes(ByteView bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  std::array<uint8_t, kSize> raw{};
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return VerifyKey(raw);
}

std::optional<VerifyKey> VerifyKey::Parse(const std::string& text) {
  auto raw = crypto_detail::ParseKeyText(kPrefix, text);
  if (!raw) return std::nullopt;
  return VerifyKey(*raw);
}

bool VerifyKey::Verify(ByteView message, ByteView signature) const {
  EnsureSodium();
  if (signature.size() != kSignatureSize) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                     raw_.data()) == 0;
}

std::string VerifyKey::ToString() const { return crypto_detail::FormatKeyText(kPrefix, view()); }

std::string VerifyKey::ShortString() const { return crypto_detail::ShortKeyText(view()); }

bool VerifyKey::IsZero() const { return sodium_is_zero(raw_.data(), raw_.size()) == 1; }

SigningKey SigningKey::Generate(RandomSource& rng) {
  std::array<uint8_t, kSeedSize> seed{};
  rng.Fill(seed.data(), seed.size());
  SigningKey key(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

SigningKey::SigningKey(const std::array<uint8_t, kSeedSize>& seed) {
  EnsureSodium();
  std::array<uint8_t, VerifyKey::kSize> pk{};
  crypto_sign_seed_keypair(pk.data(), secret_.data(), seed.data());
  public_ = VerifyKey(pk);
}

std::optional<SigningKey> SigningKey::Parse(const std::string& text) {
  auto seed = crypto_detail::ParseKeyText(kPrefix, text);
  if (!seed) return std::nullopt;
  SigningKey key(*seed);
  sodium_memzero(seed->data(), seed->size());
  return key;
}

SigningKey::~SigningKey() { sodium_memzero(secret_.data(), secret_.size()); }

SigningKey::SigningKey(SigningKey&& other) noexcept
    : secret_(other.secret_), public_(other.public_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
  other.public_ = VerifyKey();
}

SigningKey& SigningKey::operator=(SigningKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    public_ = other.public_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
    other.public_ = VerifyKey();
  }
  return *this;
}

SigningKey SigningKey::Clone() const {
  std::array<uint8_t, kSeedSize> seed{};
  std::copy(secret_.begin(), secret_.begin() + kSeedSize, seed.begin());
  SigningKey key(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

Signature SigningKey::Sign(ByteView message) const {
  Signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), secret_.data());
  return sig;
}

std::string SigningKey::ToSecretString() const {
  return crypto_detail::FormatKeyText(kPrefix, SeedBytes());
}

}  // namespace punchlab
