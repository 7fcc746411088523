// Randomness is injected: protocol/ never touches a global RNG. Simulation
// hands every machine a DeterministicRandom forked from the scenario seed, so a
// run with the same seed draws the same keys, nonces and jitter every time.
// The OS-backed source for real sockets lives outside protocol/ (sim/realio).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

#include "punchlab/time.h"

namespace punchlab {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void Fill(uint8_t* out, size_t n) = 0;

  uint32_t NextU32();
  uint64_t NextU64();
  // Uniform in [0, bound) without modulo bias; bound must be > 0.
  uint32_t Uniform(uint32_t bound);
  // Uniform in [lo, hi] at nanosecond resolution.
  Duration UniformDuration(Duration lo, Duration hi);
};

// ChaCha20 keystream (libsodium crypto_stream_chacha20_ietf) keyed by a 32-byte
// seed: the construction libsodium uses for its deterministic random bytes,
// but streaming.
class DeterministicRandom final : public RandomSource {
 public:
  explicit DeterministicRandom(uint64_t seed);
  explicit DeterministicRandom(const std::array<uint8_t, 32>& seed);
  ~DeterministicRandom() override;
  DeterministicRandom(const DeterministicRandom&) = delete;
  DeterministicRandom& operator=(const DeterministicRandom&) = delete;
  DeterministicRandom(DeterministicRandom&& other) noexcept;

  void Fill(uint8_t* out, size_t n) override;
  // An independent stream for a named sub-component ("node/laptop", "nat/home"),
  // keyed by BLAKE2b(seed || label): adding a node does not shift another's draws.
  DeterministicRandom Fork(const std::string& label) const;

 private:
  void Refill();
  std::array<uint8_t, 32> key_{};
  uint32_t block_counter_ = 0;
  uint64_t nonce_counter_ = 0;
  std::array<uint8_t, 64 * 16> buffer_{};
  size_t buffer_pos_ = sizeof(buffer_);
};

}  // namespace punchlab
