// The receiving side's sliding window over 64-bit transport counters (RFC 6479's
// ring of bitmap blocks, sized as wireguard-go's: 128 blocks of 64 bits, so
// counters up to 8,128 behind the newest are still accepted once).
#pragma once

#include <array>
#include <cstdint>

namespace punchlab::wireguard {

class ReplayWindow {
 public:
  static constexpr uint64_t kBlockBits = 64;
  static constexpr uint64_t kBlocks = 128;
  static constexpr uint64_t kWindowSize = (kBlocks - 1) * kBlockBits;  // 8128

  enum class Verdict { kFresh, kReplayed, kTooOld, kOverLimit };

  // Marks `counter` seen and says whether it was fresh. A counter at or above
  // `limit` (REJECT_AFTER_MESSAGES) is refused; one more than kWindowSize behind
  // the newest is too old (late); one already seen is replayed. Call only
  // after the packet authenticated, so forged counters cannot move the window.
  Verdict Check(uint64_t counter, uint64_t limit);
  void Reset();
  uint64_t newest() const { return last_; }

 private:
  std::array<uint64_t, kBlocks> ring_{};
  uint64_t last_ = 0;
};

}  // namespace punchlab::wireguard
