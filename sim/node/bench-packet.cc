#include "node/bench-packet.h"

#include <cstring>

namespace punchlab::cli {

namespace {

void PutU64(uint8_t* out, uint64_t v) {
  for (int i = 7; i >= 0; --i, v >>= 8) out[i] = static_cast<uint8_t>(v);
}

uint64_t GetU64(const uint8_t* in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | in[i];
  return v;
}

// The sender's packet with seq 0: tag, then a xorshift64 stream seeded by the
// tag, so every sender's body differs.
Bytes Template(uint64_t tag, size_t size) {
  Bytes packet(size);
  PutU64(packet.data() + 8, tag);
  uint64_t x = tag | 1;
  for (size_t i = kBenchHeaderSize; i < size; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    packet[i] = static_cast<uint8_t>(x);
  }
  return packet;
}

}  // namespace

BenchPacketSender::BenchPacketSender(uint64_t tag, size_t size) : packet_(Template(tag, size)) {}

ByteView BenchPacketSender::Next() {
  PutU64(packet_.data(), ++seq_);
  return packet_;
}

BenchPacketChecker::BenchPacketChecker(uint64_t tag, size_t size)
    : tag_(tag), expected_(Template(tag, size)) {}

bool BenchPacketChecker::Check(ByteView packet, uint64_t& lost) {
  if (packet.size() != expected_.size()) return false;
  if (GetU64(packet.data() + 8) != tag_) return false;
  if (std::memcmp(packet.data() + kBenchHeaderSize, expected_.data() + kBenchHeaderSize,
                  expected_.size() - kBenchHeaderSize) != 0) {
    return false;
  }
  const uint64_t seq = GetU64(packet.data());
  if (seq <= last_seq_) return false;
  lost += seq - last_seq_ - 1;
  last_seq_ = seq;
  return true;
}

}  // namespace punchlab::cli
