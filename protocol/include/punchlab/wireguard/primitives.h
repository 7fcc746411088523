// The cryptographic primitives of WireGuard's Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s,
// each a thin call into a library (never written here): X25519 and
// ChaCha20-Poly1305 / XChaCha20-Poly1305 from libsodium; BLAKE2s, keyed
// BLAKE2s-128 (MAC) and HMAC-BLAKE2s from OpenSSL's EVP (libsodium has no
// BLAKE2s). KDF1/2/3 are the paper's HKDF chain over that HMAC.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>

#include "punchlab/bytes.h"

namespace punchlab::wireguard {

using Key32 = std::array<uint8_t, 32>;
using Mac16 = std::array<uint8_t, 16>;

constexpr size_t kAeadTag = 16;

// BLAKE2s-256 over the concatenation of `parts`.
Key32 Hash(std::initializer_list<ByteView> parts);
// Keyed BLAKE2s with a 16-byte output (the paper's MAC); key is 1..32 bytes.
Mac16 Mac(ByteView key, ByteView data);
// HMAC-BLAKE2s-256 over the concatenation of `parts`.
Key32 Hmac(ByteView key, std::initializer_list<ByteView> parts);
// KDFn(key, input) -> n 32-byte outputs (HKDF with BLAKE2s, empty info).
void Kdf1(ByteView key, ByteView input, Key32& t0);
void Kdf2(ByteView key, ByteView input, Key32& t0, Key32& t1);
void Kdf3(ByteView key, ByteView input, Key32& t0, Key32& t1, Key32& t2);

// X25519; nullopt when the result is all zeros (a low-order point), which
// the protocol must refuse.
std::optional<Key32> Dh(ByteView private_key, ByteView public_key);
Key32 PublicFromPrivate(ByteView private_key);

// ChaCha20-Poly1305 (IETF) with the nonce 4 zero bytes || counter (64-bit
// little-endian). Seal appends ciphertext+tag to `out`; Open appends the
// plaintext and returns false (appending nothing) when the tag is wrong.
void AeadSeal(const Key32& key, uint64_t counter, ByteView plaintext, ByteView ad, Bytes& out);
bool AeadOpen(const Key32& key, uint64_t counter, ByteView ciphertext, ByteView ad, Bytes& out);
// XChaCha20-Poly1305 with a 24-byte nonce (cookie replies).
void XAeadSeal(const Key32& key, ByteView nonce24, ByteView plaintext, ByteView ad, Bytes& out);
bool XAeadOpen(const Key32& key, ByteView nonce24, ByteView ciphertext, ByteView ad, Bytes& out);

// Overwrites with zeros in a way the compiler keeps (sodium_memzero).
void Wipe(uint8_t* data, size_t n);
template <size_t N>
void Wipe(std::array<uint8_t, N>& a) { Wipe(a.data(), N); }

// TAI64N label of a wall-clock instant given as nanoseconds since the Unix
// epoch, as wireguard-go writes it: 8 bytes big-endian seconds + 2^62 + 10,
// then 4 bytes big-endian nanoseconds rounded down to 2^24 ns (so the
// timestamp does not leak fine timing). Compared bytewise.
using Tai64n = std::array<uint8_t, 12>;
Tai64n Tai64nFromUnixNanos(int64_t unix_nanos);

inline ByteView View(const Key32& k) { return ByteView(k.data(), k.size()); }

}  // namespace punchlab::wireguard
