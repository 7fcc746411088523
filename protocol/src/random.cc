#include "punchlab/random.h"

#include "punchlab/sodium.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace punchlab {

uint32_t RandomSource::NextU32() {
  uint8_t b[4];
  Fill(b, sizeof b);
  return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
}

uint64_t RandomSource::NextU64() { return (uint64_t{NextU32()} << 32) | NextU32(); }

uint32_t RandomSource::Uniform(uint32_t bound) {
  if (bound <= 1) return 0;
  // Rejection sampling: drop the top partial range so every value is equally likely.
  const uint32_t limit = static_cast<uint32_t>(-bound) % bound;
  for (;;) {
    uint32_t r = NextU32();
    if (r >= limit) return r % bound;
  }
}

Duration RandomSource::UniformDuration(Duration lo, Duration hi) {
  if (hi <= lo) return lo;
  const uint64_t span = static_cast<uint64_t>(hi.nanos() - lo.nanos()) + 1;
  const uint64_t limit = static_cast<uint64_t>(-span) % span;
  uint64_t r;
  do {
    r = NextU64();
  } while (r < limit);
  return lo + Duration::Nanos(static_cast<int64_t>(r % span));
}

DeterministicRandom::DeterministicRandom(uint64_t seed) {
  EnsureSodium();
  uint8_t in[8];
  for (int i = 0; i < 8; ++i) in[i] = static_cast<uint8_t>(seed >> (56 - 8 * i));
  crypto_generichash(key_.data(), key_.size(), in, sizeof in, nullptr, 0);
}

DeterministicRandom::DeterministicRandom(const std::array<uint8_t, 32>& seed) : key_(seed) {
  EnsureSodium();
}

DeterministicRandom::DeterministicRandom(DeterministicRandom&& other) noexcept
    : key_(other.key_),
      block_counter_(other.block_counter_),
      nonce_counter_(other.nonce_counter_),
      buffer_(other.buffer_),
      buffer_pos_(other.buffer_pos_) {
  sodium_memzero(other.key_.data(), other.key_.size());
}

DeterministicRandom::~DeterministicRandom() {
  sodium_memzero(key_.data(), key_.size());
  sodium_memzero(buffer_.data(), buffer_.size());
}

void DeterministicRandom::Refill() {
  // IETF ChaCha20 has a 32-bit block counter; when it would wrap, move to the
  // next nonce so the stream never repeats.
  constexpr uint32_t kBlocks = sizeof(buffer_) / 64;
  if (block_counter_ > UINT32_MAX - kBlocks) {
    block_counter_ = 0;
    ++nonce_counter_;
  }
  uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {};
  for (int i = 0; i < 8; ++i) nonce[i] = static_cast<uint8_t>(nonce_counter_ >> (8 * i));
  std::fill(buffer_.begin(), buffer_.end(), 0);
  crypto_stream_chacha20_ietf_xor_ic(buffer_.data(), buffer_.data(), buffer_.size(), nonce,
                                     block_counter_, key_.data());
  block_counter_ += kBlocks;
  buffer_pos_ = 0;
}

void DeterministicRandom::Fill(uint8_t* out, size_t n) {
  while (n > 0) {
    if (buffer_pos_ == buffer_.size()) Refill();
    const size_t take = std::min(n, buffer_.size() - buffer_pos_);
    std::memcpy(out, buffer_.data() + buffer_pos_, take);
    sodium_memzero(buffer_.data() + buffer_pos_, take);  // drawn bytes are not kept
    buffer_pos_ += take;
    out += take;
    n -= take;
  }
}

DeterministicRandom DeterministicRandom::Fork(const std::string& label) const {
  std::array<uint8_t, 32> child{};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, child.size());
  crypto_generichash_update(&st, key_.data(), key_.size());
  crypto_generichash_update(&st, reinterpret_cast<const uint8_t*>(label.data()), label.size());
  crypto_generichash_final(&st, child.data(), child.size());
  return DeterministicRandom(child);
}

}  // namespace punchlab
