#include "punchlab/bytes.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>

namespace punchlab {

ByteView ByteView::sub(size_t offset, size_t count) const {
  if (offset >= size_) return ByteView(data_ + size_, 0);
  return ByteView(data_ + offset, std::min(count, size_ - offset));
}

bool operator==(ByteView a, ByteView b) {
  return a.size() == b.size() && (a.size() == 0 || std::memcmp(a.data(), b.data(), a.size()) == 0);
}

bool ByteReader::ReadU8(uint8_t& out) {
  if (remaining() < 1) return false;
  out = view_[pos_++];
  return true;
}

bool ByteReader::ReadU16(uint16_t& out) {
  if (remaining() < 2) return false;
  out = static_cast<uint16_t>((view_[pos_] << 8) | view_[pos_ + 1]);
  pos_ += 2;
  return true;
}

bool ByteReader::ReadU32(uint32_t& out) {
  if (remaining() < 4) return false;
  out = 0;
  for (int i = 0; i < 4; ++i) out = (out << 8) | view_[pos_++];
  return true;
}

bool ByteReader::ReadU64(uint64_t& out) {
  if (remaining() < 8) return false;
  out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | view_[pos_++];
  return true;
}

bool ByteReader::ReadBytes(size_t n, ByteView& out) {
  if (remaining() < n) return false;
  out = view_.sub(pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::ReadInto(uint8_t* out, size_t n) {
  if (remaining() < n) return false;
  if (n > 0) std::memcpy(out, view_.data() + pos_, n);
  pos_ += n;
  return true;
}

bool ByteReader::Skip(size_t n) {
  if (remaining() < n) return false;
  pos_ += n;
  return true;
}

void ByteWriter::U16(uint16_t v) {
  out_.push_back(static_cast<uint8_t>(v >> 8));
  out_.push_back(static_cast<uint8_t>(v));
}

void ByteWriter::U32(uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(v >> shift));
}

void ByteWriter::U64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out_.push_back(static_cast<uint8_t>(v >> shift));
}

void ByteWriter::PatchU16(size_t offset, uint16_t v) {
  assert(offset + 2 <= out_.size());  // a field written earlier, by the caller
  out_[offset] = static_cast<uint8_t>(v >> 8);
  out_[offset + 1] = static_cast<uint8_t>(v);
}

std::string ToHex(ByteView v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(v.size() * 2);
  for (uint8_t b : v) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 0xf]);
  }
  return s;
}

namespace {

// Each character's value as a hex digit, 0xff for any other character: one
// load a digit, no branches (a node of a fully visible tailnet of 1,000
// decodes two keys of 64 digits for each of its 999 peers; the branchy
// version was 1.7 % of that run).
constexpr std::array<uint8_t, 256> kHexValue = [] {
  std::array<uint8_t, 256> t{};
  for (uint8_t& v : t) v = 0xff;
  for (int c = '0'; c <= '9'; ++c) t[c] = static_cast<uint8_t>(c - '0');
  for (int c = 'a'; c <= 'f'; ++c) t[c] = static_cast<uint8_t>(c - 'a' + 10);
  for (int c = 'A'; c <= 'F'; ++c) t[c] = static_cast<uint8_t>(c - 'A' + 10);
  return t;
}();

}  // namespace

bool FromHex(std::string_view hex, uint8_t* out, size_t size) {
  if (hex.size() != 2 * size) return false;
  uint8_t bad = 0;  // any non-digit sets bits above the low nibble
  for (size_t i = 0; i < size; ++i) {
    const uint8_t hi = kHexValue[static_cast<uint8_t>(hex[2 * i])];
    const uint8_t lo = kHexValue[static_cast<uint8_t>(hex[2 * i + 1])];
    bad |= hi | lo;
    out[i] = static_cast<uint8_t>((hi << 4) | (lo & 0x0f));
  }
  return (bad & 0xf0) == 0;
}

bool FromHex(const std::string& hex, Bytes& out) {
  if (hex.size() % 2 != 0) return false;
  Bytes result(hex.size() / 2);
  if (!FromHex(hex, result.data(), result.size())) return false;
  out = std::move(result);
  return true;
}

}  // namespace punchlab
