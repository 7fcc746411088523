#include "punchlab/wireguard/primitives.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sodium.h>

#include <cassert>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "punchlab/sodium.h"

namespace punchlab::wireguard {
namespace {

// The library's algorithms are fetched once; a failed fetch means OpenSSL
// was built without BLAKE2, and nothing here could be trusted after that.
// Fetched explicitly: OpenSSL 3 looks an implicit algorithm up in its
// provider store on every use (EVP_blake2s256() in every EVP_DigestInit_ex,
// HMAC's digest named in every EVP_MAC_init's parameters). Callgrind of
// wireguard-bench: a Hash 6.0 k -> 2.9 k instructions, an Hmac 15.9 k -> 10 k
// (a handshake does some thirty of them on each side).
EVP_MAC* FetchMac(const char* name) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, name, nullptr);
  if (mac == nullptr) std::abort();
  return mac;
}

const EVP_MD* Blake2sDigest() {
  static EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "BLAKE2S-256", nullptr);
    if (fetched == nullptr) std::abort();
    return fetched;
  }();
  return md;
}

EVP_MAC* Blake2sMacAlgorithm() {
  static EVP_MAC* mac = FetchMac("BLAKE2SMAC");
  return mac;
}

// HMAC-BLAKE2s set up once: the digest is named (and so fetched) here only.
// Every Hmac works in a context of its own, copied from this template (the
// copy shares the fetched digest; a fresh EVP_MAC_CTX_new would name it again
// and fetch it on every init) and freed when it is done: freeing an HMAC
// context clears its key and its keyed digest states (OpenSSL's HMAC
// provider: OPENSSL_secure_clear_free of the key; the BLAKE2s contexts
// OPENSSL_clear_free). A context kept and re-keyed per call would keep its
// last key (for a KDF's last Hmac, the secret the session's keys derive
// from) in memory after the session, and the static private key does not
// recover that. The template holds an all-zero key: an HMAC context copies
// only once keyed, and a zero key is no secret.
const EVP_MAC_CTX* HmacTemplate() {
  static EVP_MAC_CTX* ctx = [] {
    EVP_MAC_CTX* made = EVP_MAC_CTX_new(FetchMac("HMAC"));
    char digest[] = "BLAKE2S-256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                           OSSL_PARAM_construct_end()};
    const uint8_t zero[32] = {};
    if (made == nullptr || EVP_MAC_init(made, zero, sizeof zero, params) != 1) std::abort();
    return made;
  }();
  return ctx;
}

// OpenSSL wants a non-null key pointer even for the empty key (HMAC's KDF of
// an empty chaining key in the vectors).
const uint8_t kNoKey[1] = {0};

struct MacCtxFree {
  void operator()(EVP_MAC_CTX* ctx) const { EVP_MAC_CTX_free(ctx); }
};
using MacCtx = std::unique_ptr<EVP_MAC_CTX, MacCtxFree>;

// Keys `ctx` (params as the algorithm needs) and MACs `parts`.
template <size_t N>
std::array<uint8_t, N> RunMac(EVP_MAC_CTX* ctx, ByteView key,
                              std::initializer_list<ByteView> parts, OSSL_PARAM* params) {
  std::array<uint8_t, N> out{};
  if (ctx == nullptr) std::abort();
  const uint8_t* k = key.empty() ? kNoKey : key.data();
  size_t written = 0;
  bool ok = EVP_MAC_init(ctx, k, key.size(), params) == 1;
  for (ByteView p : parts) {
    if (ok && !p.empty()) ok = EVP_MAC_update(ctx, p.data(), p.size()) == 1;
  }
  ok = ok && EVP_MAC_final(ctx, out.data(), &written, out.size()) == 1 && written == N;
  if (!ok) std::abort();  // only a misuse (bad key length) gets here
  return out;
}

}  // namespace

Key32 Hash(std::initializer_list<ByteView> parts) {
  Key32 out{};
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) std::abort();
  bool ok = EVP_DigestInit_ex(ctx, Blake2sDigest(), nullptr) == 1;
  for (ByteView p : parts) {
    if (ok && !p.empty()) ok = EVP_DigestUpdate(ctx, p.data(), p.size()) == 1;
  }
  unsigned int len = 0;
  ok = ok && EVP_DigestFinal_ex(ctx, out.data(), &len) == 1 && len == out.size();
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();
  return out;
}

Mac16 Mac(ByteView key, ByteView data) {
  assert(!key.empty() && key.size() <= 32);
  size_t size = 16;
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &size),
                         OSSL_PARAM_construct_end()};
  const MacCtx ctx(EVP_MAC_CTX_new(Blake2sMacAlgorithm()));
  return RunMac<16>(ctx.get(), key, {data}, params);
}

Key32 Hmac(ByteView key, std::initializer_list<ByteView> parts) {
  const MacCtx ctx(EVP_MAC_CTX_dup(HmacTemplate()));  // freed (and cleared) on return
  return RunMac<32>(ctx.get(), key, parts, nullptr);
}

void Kdf1(ByteView key, ByteView input, Key32& t0) {
  Key32 prk = Hmac(key, {input});
  const uint8_t one = 1;
  t0 = Hmac(View(prk), {ByteView(&one, 1)});
  Wipe(prk);
}

void Kdf2(ByteView key, ByteView input, Key32& t0, Key32& t1) {
  Key32 prk = Hmac(key, {input});
  const uint8_t one = 1, two = 2;
  t0 = Hmac(View(prk), {ByteView(&one, 1)});
  t1 = Hmac(View(prk), {View(t0), ByteView(&two, 1)});
  Wipe(prk);
}

void Kdf3(ByteView key, ByteView input, Key32& t0, Key32& t1, Key32& t2) {
  Key32 prk = Hmac(key, {input});
  const uint8_t one = 1, two = 2, three = 3;
  t0 = Hmac(View(prk), {ByteView(&one, 1)});
  t1 = Hmac(View(prk), {View(t0), ByteView(&two, 1)});
  t2 = Hmac(View(prk), {View(t1), ByteView(&three, 1)});
  Wipe(prk);
}

std::optional<Key32> Dh(ByteView private_key, ByteView public_key) {
  EnsureSodium();
  if (private_key.size() != 32 || public_key.size() != 32) return std::nullopt;
  Key32 out{};
  // crypto_scalarmult fails on an all-zero result (low-order public key).
  if (crypto_scalarmult(out.data(), private_key.data(), public_key.data()) != 0) {
    return std::nullopt;
  }
  return out;
}

Key32 PublicFromPrivate(ByteView private_key) {
  EnsureSodium();
  Key32 out{};
  if (private_key.size() != 32 || crypto_scalarmult_base(out.data(), private_key.data()) != 0) {
    std::abort();
  }
  return out;
}

namespace {
std::array<uint8_t, 12> CounterNonce(uint64_t counter) {
  std::array<uint8_t, 12> nonce{};
  for (int i = 0; i < 8; ++i) nonce[4 + static_cast<size_t>(i)] = static_cast<uint8_t>(counter >> (8 * i));
  return nonce;
}
}  // namespace

void AeadSeal(const Key32& key, uint64_t counter, ByteView plaintext, ByteView ad, Bytes& out) {
  EnsureSodium();
  const auto nonce = CounterNonce(counter);
  const size_t at = out.size();
  out.resize(at + plaintext.size() + kAeadTag);
  unsigned long long clen = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data() + at, &clen, plaintext.data(),
                                            plaintext.size(), ad.data(), ad.size(), nullptr,
                                            nonce.data(), key.data());
}

bool AeadOpen(const Key32& key, uint64_t counter, ByteView ciphertext, ByteView ad, Bytes& out) {
  EnsureSodium();
  if (ciphertext.size() < kAeadTag) return false;
  const auto nonce = CounterNonce(counter);
  const size_t at = out.size();
  out.resize(at + ciphertext.size() - kAeadTag);
  unsigned long long mlen = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data() + at, &mlen, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(),
                                                nonce.data(), key.data()) != 0) {
    out.resize(at);
    return false;
  }
  return true;
}

void XAeadSeal(const Key32& key, ByteView nonce24, ByteView plaintext, ByteView ad, Bytes& out) {
  EnsureSodium();
  assert(nonce24.size() == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  const size_t at = out.size();
  out.resize(at + plaintext.size() + kAeadTag);
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data() + at, &clen, plaintext.data(),
                                             plaintext.size(), ad.data(), ad.size(), nullptr,
                                             nonce24.data(), key.data());
}

bool XAeadOpen(const Key32& key, ByteView nonce24, ByteView ciphertext, ByteView ad, Bytes& out) {
  EnsureSodium();
  if (ciphertext.size() < kAeadTag || nonce24.size() != crypto_aead_xchacha20poly1305_ietf_NPUBBYTES) {
    return false;
  }
  const size_t at = out.size();
  out.resize(at + ciphertext.size() - kAeadTag);
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(out.data() + at, &mlen, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(),
                                                 nonce24.data(), key.data()) != 0) {
    out.resize(at);
    return false;
  }
  return true;
}

void Wipe(uint8_t* data, size_t n) { sodium_memzero(data, n); }

Tai64n Tai64nFromUnixNanos(int64_t unix_nanos) {
  constexpr uint64_t kBase = (uint64_t{1} << 62) + 10;
  constexpr uint32_t kWhitener = 0x1000000 - 1;
  const int64_t secs = unix_nanos / 1000000000;
  const uint32_t nanos = static_cast<uint32_t>(unix_nanos % 1000000000) & ~kWhitener;
  const uint64_t label = kBase + static_cast<uint64_t>(secs);
  Tai64n out{};
  for (size_t i = 0; i < 8; ++i) out[i] = static_cast<uint8_t>(label >> (56 - 8 * i));
  for (size_t i = 0; i < 4; ++i) out[8 + i] = static_cast<uint8_t>(nanos >> (24 - 8 * i));
  return out;
}

}  // namespace punchlab::wireguard
