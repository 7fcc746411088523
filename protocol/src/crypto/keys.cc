#include "punchlab/crypto/keys.h"

#include <sodium.h>

#include <algorithm>

#include "crypto/key-text.h"
#include "punchlab/sodium.h"

namespace punchlab {

static_assert(kCurve25519KeySize == crypto_box_PUBLICKEYBYTES, "public key size");
static_assert(kCurve25519KeySize == crypto_box_SECRETKEYBYTES, "secret key size");
static_assert(kCurve25519KeySize == crypto_box_SEEDBYTES, "seed size");

template <typename Role>
std::optional<PublicKey<Role>> PublicKey<Role>::FromBytes(ByteView bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  KeyBytes raw{};
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  return PublicKey(raw);
}

template <typename Role>
std::optional<PublicKey<Role>> PublicKey<Role>::Parse(const std::string& text) {
  auto raw = crypto_detail::ParsePublicKeyText(Role::kPublicPrefix, text);
  if (!raw) return std::nullopt;
  return PublicKey(*raw);
}

template <typename Role>
std::string PublicKey<Role>::ToString() const {
  return crypto_detail::FormatKeyText(Role::kPublicPrefix, view());
}

template <typename Role>
std::string PublicKey<Role>::ShortString() const {
  return crypto_detail::ShortKeyText(view());
}

template <typename Role>
bool PublicKey<Role>::IsZero() const {
  return sodium_is_zero(raw_.data(), raw_.size()) == 1;
}

template <typename Role>
PrivateKey<Role> PrivateKey<Role>::Generate(RandomSource& rng) {
  EnsureSodium();
  KeyBytes seed{};
  KeyBytes pk{};
  KeyBytes sk{};
  rng.Fill(seed.data(), seed.size());
  crypto_box_seed_keypair(pk.data(), sk.data(), seed.data());
  PrivateKey key(sk);
  sodium_memzero(seed.data(), seed.size());
  sodium_memzero(sk.data(), sk.size());
  return key;
}

template <typename Role>
PrivateKey<Role>::PrivateKey(const KeyBytes& raw) : secret_(raw) {
  EnsureSodium();
  KeyBytes pk{};
  crypto_scalarmult_base(pk.data(), secret_.data());
  public_ = PublicKey<Role>(pk);
}

template <typename Role>
std::optional<PrivateKey<Role>> PrivateKey<Role>::FromBytes(ByteView bytes) {
  if (bytes.size() != kSize) return std::nullopt;
  KeyBytes raw{};
  std::copy(bytes.begin(), bytes.end(), raw.begin());
  PrivateKey key(raw);
  sodium_memzero(raw.data(), raw.size());
  return key;
}

template <typename Role>
std::optional<PrivateKey<Role>> PrivateKey<Role>::Parse(const std::string& text) {
  auto raw = crypto_detail::ParseKeyText(Role::kPrivatePrefix, text);
  if (!raw) return std::nullopt;
  PrivateKey key(*raw);
  sodium_memzero(raw->data(), raw->size());
  return key;
}

template <typename Role>
PrivateKey<Role>::~PrivateKey() {
  sodium_memzero(secret_.data(), secret_.size());
}

template <typename Role>
PrivateKey<Role>::PrivateKey(PrivateKey&& other) noexcept
    : secret_(other.secret_), public_(other.public_) {
  sodium_memzero(other.secret_.data(), other.secret_.size());
  other.public_ = PublicKey<Role>();
}

template <typename Role>
PrivateKey<Role>& PrivateKey<Role>::operator=(PrivateKey&& other) noexcept {
  if (this != &other) {
    secret_ = other.secret_;
    public_ = other.public_;
    sodium_memzero(other.secret_.data(), other.secret_.size());
    other.public_ = PublicKey<Role>();
  }
  return *this;
}

template <typename Role>
PrivateKey<Role> PrivateKey<Role>::Clone() const {
  return PrivateKey(secret_);
}

template <typename Role>
std::string PrivateKey<Role>::ToSecretString() const {
  return crypto_detail::FormatKeyText(Role::kPrivatePrefix, SecretBytes());
}

// The roles are closed: every role is instantiated here, so libsodium stays
// out of the header.
template class PublicKey<NodeKeyRole>;
template class PrivateKey<NodeKeyRole>;
template class PublicKey<DiscoKeyRole>;
template class PrivateKey<DiscoKeyRole>;
template class PublicKey<MachineKeyRole>;
template class PrivateKey<MachineKeyRole>;

}  // namespace punchlab
