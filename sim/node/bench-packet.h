// The packets derp-bench relays: seq u64 | sender tag u64 | body, all of one
// size, the body a pattern fixed per sender (derived from its tag). The
// receiver knows whom it should hear from, so one header compare and one
// memcmp tell a packet delivered to the wrong peer, corrupted, duplicated or
// reordered from a good one; a jump in seq counts the packets lost in between
// (the relay may drop; TCP never reorders).
#pragma once

#include <cstddef>
#include <cstdint>

#include "punchlab/bytes.h"

namespace punchlab::cli {

constexpr size_t kBenchHeaderSize = 16;

class BenchPacketSender {
 public:
  // `size` >= kBenchHeaderSize.
  BenchPacketSender(uint64_t tag, size_t size);
  // The next packet (seq 1, 2, ...); valid until the next call.
  ByteView Next();
  uint64_t sent() const { return seq_; }

 private:
  Bytes packet_;
  uint64_t seq_ = 0;
};

class BenchPacketChecker {
 public:
  // Checks packets from the sender with `tag` (same `size`).
  BenchPacketChecker(uint64_t tag, size_t size);
  // true for a good packet, adding the packets skipped since the last one to
  // `lost`; false for a bad one (wrong size, sender or body, or an old seq).
  bool Check(ByteView packet, uint64_t& lost);
  uint64_t last_seq() const { return last_seq_; }

 private:
  uint64_t tag_;
  Bytes expected_;
  uint64_t last_seq_ = 0;
};

}  // namespace punchlab::cli
