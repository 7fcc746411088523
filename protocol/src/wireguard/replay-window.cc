#include "punchlab/wireguard/replay-window.h"

namespace punchlab::wireguard {

ReplayWindow::Verdict ReplayWindow::Check(uint64_t counter, uint64_t limit) {
  if (counter >= limit) return Verdict::kOverLimit;
  uint64_t block = counter / kBlockBits;
  if (counter > last_) {
    // Move forward: clear the blocks the window slides over (all of them at most).
    const uint64_t current = last_ / kBlockBits;
    uint64_t diff = block - current;
    if (diff > kBlocks) diff = kBlocks;
    for (uint64_t i = current + 1; diff > 0; ++i, --diff) ring_[i % kBlocks] = 0;
    last_ = counter;
  } else if (last_ - counter > kWindowSize) {
    return Verdict::kTooOld;
  }
  block %= kBlocks;
  const uint64_t bit = uint64_t{1} << (counter % kBlockBits);
  const uint64_t old = ring_[block];
  ring_[block] = old | bit;
  return (old & bit) != 0 ? Verdict::kReplayed : Verdict::kFresh;
}

void ReplayWindow::Reset() {
  ring_.fill(0);
  last_ = 0;
}

}  // namespace punchlab::wireguard
