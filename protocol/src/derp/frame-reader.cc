#include "punchlab/derp/frame-reader.h"

#include <algorithm>

namespace punchlab {
namespace derp {

void FrameReader::Feed(ByteView bytes) {
  Borrow(bytes);
  Keep();
}

void FrameReader::Borrow(ByteView bytes) {
  if (failed() || bytes.empty()) return;
  // Bytes still borrowed from an earlier call come first: make them ours.
  if (!borrowed_.empty()) Keep();
  borrowed_ = bytes;
}

void FrameReader::Keep() {
  if (failed() || borrowed_.empty()) return;
  // Drop consumed bytes before growing, so the buffer stays about one frame long.
  if (pos_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  TakeBorrowed(borrowed_.size());
}

void FrameReader::TakeBorrowed(size_t want) {
  const size_t n = std::min(want, borrowed_.size());
  buffer_.insert(buffer_.end(), borrowed_.begin(),
                 borrowed_.begin() + static_cast<std::ptrdiff_t>(n));
  borrowed_ = borrowed_.sub(n);
}

std::optional<Frame> FrameReader::Next() {
  auto view = NextView();
  if (!view) return std::nullopt;
  return Frame{view->type, view->payload.ToBytes()};
}

void FrameReader::Fail(FrameType type, uint32_t length) {
  error_ = "frame " + FrameTypeName(type) + " announces " + std::to_string(length) +
           " bytes, over the limit of " + std::to_string(max_payload_);
  buffer_.clear();
  pos_ = 0;
  borrowed_ = ByteView();
}

bool FrameReader::ReadHeader(ByteView bytes, FrameType& type, size_t& frame_size) {
  // By hand rather than through ByteReader: this runs once per frame.
  if (bytes.size() < kFrameHeaderSize) return false;
  const uint8_t* h = bytes.data();
  type = static_cast<FrameType>(h[0]);
  const uint32_t length = (uint32_t{h[1]} << 24) | (uint32_t{h[2]} << 16) |
                          (uint32_t{h[3]} << 8) | uint32_t{h[4]};
  if (length > max_payload_) {
    Fail(type, length);
    return false;
  }
  frame_size = kFrameHeaderSize + length;
  return true;
}

std::optional<FrameView> FrameReader::NextView() {
  if (failed()) return std::nullopt;
  FrameType type = FrameType::kKeepAlive;
  size_t size = 0;
  if (pos_ < buffer_.size()) {
    // A frame that began in an earlier read: complete it in our own buffer
    // with just the bytes it lacks, header first.
    if (buffer_.size() - pos_ < kFrameHeaderSize) {
      TakeBorrowed(kFrameHeaderSize - (buffer_.size() - pos_));
    }
    if (!ReadHeader(ByteView(buffer_).sub(pos_), type, size)) return std::nullopt;
    if (buffer_.size() - pos_ < size) TakeBorrowed(size - (buffer_.size() - pos_));
    if (buffer_.size() - pos_ < size) return std::nullopt;
    FrameView frame{type, ByteView(buffer_).sub(pos_ + kFrameHeaderSize, size - kFrameHeaderSize)};
    pos_ += size;
    if (pos_ == buffer_.size()) {
      // The view stays valid: clear() keeps the storage until the next call.
      buffer_.clear();
      pos_ = 0;
    }
    return frame;
  }
  // Everything we own is parsed: frames whole in the borrowed bytes are parsed there.
  if (!ReadHeader(borrowed_, type, size) || borrowed_.size() < size) return std::nullopt;
  FrameView frame{type, borrowed_.sub(kFrameHeaderSize, size - kFrameHeaderSize)};
  borrowed_ = borrowed_.sub(size);
  return frame;
}

}  // namespace derp
}  // namespace punchlab
