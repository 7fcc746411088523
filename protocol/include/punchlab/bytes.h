// Byte views and bounds-checked big-endian readers/writers used by every codec.
// A reader never reads past its view: every Read* reports failure instead.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace punchlab {

using Bytes = std::vector<uint8_t>;

// A non-owning view of contiguous bytes (std::span is C++20).
class ByteView {
 public:
  constexpr ByteView() = default;
  constexpr ByteView(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  ByteView(const Bytes& b) : data_(b.data()), size_(b.size()) {}  // NOLINT: implicit by design

  constexpr const uint8_t* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr uint8_t operator[](size_t i) const { return data_[i]; }
  constexpr const uint8_t* begin() const { return data_; }
  constexpr const uint8_t* end() const { return data_ + size_; }
  // Clamped: a sub-view never extends past this view.
  ByteView sub(size_t offset, size_t count = static_cast<size_t>(-1)) const;
  Bytes ToBytes() const { return Bytes(begin(), end()); }

 private:
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

bool operator==(ByteView a, ByteView b);
inline bool operator!=(ByteView a, ByteView b) { return !(a == b); }

class ByteReader {
 public:
  explicit ByteReader(ByteView v) : view_(v) {}
  size_t remaining() const { return view_.size() - pos_; }
  size_t position() const { return pos_; }
  bool ReadU8(uint8_t& out);
  bool ReadU16(uint16_t& out);
  bool ReadU32(uint32_t& out);
  bool ReadU64(uint64_t& out);
  bool ReadBytes(size_t n, ByteView& out);
  bool ReadInto(uint8_t* out, size_t n);
  bool Skip(size_t n);
  ByteView Rest() const { return view_.sub(pos_); }

 private:
  ByteView view_;
  size_t pos_ = 0;
};

class ByteWriter {
 public:
  explicit ByteWriter(Bytes& out) : out_(out) {}
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v);
  void U32(uint32_t v);
  void U64(uint64_t v);
  void Append(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
  void Zeros(size_t n) { out_.insert(out_.end(), n, 0); }
  size_t size() const { return out_.size(); }
  // Overwrites a big-endian u16 written earlier (e.g. a length field).
  void PatchU16(size_t offset, uint16_t v);

 private:
  Bytes& out_;
};

std::string ToHex(ByteView v);
// Strict: even length, [0-9a-fA-F] only. Returns false on anything else.
bool FromHex(const std::string& hex, Bytes& out);
// The same into exactly `size` bytes at `out` (hex.size() must be 2 * size),
// with no copy on the heap: a key in a control message is parsed this way.
bool FromHex(std::string_view hex, uint8_t* out, size_t size);

}  // namespace punchlab
