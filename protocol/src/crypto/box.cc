#include "punchlab/crypto/box.h"

#include <sodium.h>

#include <algorithm>

#include "punchlab/sodium.h"

namespace punchlab {

static_assert(kBoxNonceSize == crypto_box_NONCEBYTES, "nonce size");
static_assert(kBoxOverhead == crypto_box_MACBYTES, "MAC size");
static_assert(SharedKey::kSize == crypto_box_BEFORENMBYTES, "shared key size");

std::optional<SharedKey> SharedKey::ComputeRaw(ByteView secret, ByteView peer_public) {
  EnsureSodium();
  SharedKey shared;
  if (crypto_box_beforenm(shared.key_.data(), peer_public.data(), secret.data()) != 0) {
    return std::nullopt;
  }
  return shared;
}

SharedKey::~SharedKey() { sodium_memzero(key_.data(), key_.size()); }

SharedKey SharedKey::Clone() const {
  SharedKey copy;
  copy.key_ = key_;
  return copy;
}

SharedKey::SharedKey(SharedKey&& other) noexcept : key_(other.key_) {
  sodium_memzero(other.key_.data(), other.key_.size());
}

SharedKey& SharedKey::operator=(SharedKey&& other) noexcept {
  if (this != &other) {
    key_ = other.key_;
    sodium_memzero(other.key_.data(), other.key_.size());
  }
  return *this;
}

Bytes SharedKey::Seal(RandomSource& rng, ByteView plaintext) const {
  BoxNonce nonce{};
  rng.Fill(nonce.data(), nonce.size());
  return Seal(nonce, plaintext);
}

Bytes SharedKey::Seal(const BoxNonce& nonce, ByteView plaintext) const {
  Bytes out(kBoxNonceSize + kBoxOverhead + plaintext.size());
  std::copy(nonce.begin(), nonce.end(), out.begin());
  crypto_box_easy_afternm(out.data() + kBoxNonceSize, plaintext.data(), plaintext.size(),
                          nonce.data(), key_.data());
  return out;
}

std::optional<Bytes> SharedKey::Open(ByteView nonce_and_box) const {
  if (nonce_and_box.size() < kBoxNonceSize + kBoxOverhead) return std::nullopt;
  const ByteView box = nonce_and_box.sub(kBoxNonceSize);
  Bytes plain(box.size() - kBoxOverhead);
  if (crypto_box_open_easy_afternm(plain.data(), box.data(), box.size(), nonce_and_box.data(),
                                   key_.data()) != 0) {
    return std::nullopt;
  }
  return plain;
}

}  // namespace punchlab
