#include "punchlab/control/frame.h"

#include <cassert>

namespace punchlab::control {

Bytes EncodeFrame(ByteView payload) {
  assert(payload.size() <= kMaxFrameSize);
  Bytes out;
  out.reserve(kFrameHeaderSize + payload.size());
  ByteWriter w(out);
  w.U32(static_cast<uint32_t>(payload.size()));
  w.Append(payload);
  return out;
}

void FrameDecoder::Feed(ByteView bytes) {
  if (broken_) return;
  // Compact before growing so the buffer holds at most one partial frame plus
  // the new bytes.
  if (pos_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Bytes> FrameDecoder::Next() {
  if (broken_) return std::nullopt;
  ByteReader r(ByteView(buffer_).sub(pos_));
  uint32_t length = 0;
  if (!r.ReadU32(length)) return std::nullopt;
  if (length > max_) {
    broken_ = true;
    buffer_.clear();
    pos_ = 0;
    return std::nullopt;
  }
  ByteView payload;
  if (!r.ReadBytes(length, payload)) return std::nullopt;
  pos_ += kFrameHeaderSize + length;
  Bytes out = payload.ToBytes();
  if (pos_ == buffer_.size()) {
    // Drained. A big frame (a whole netmap) must not leave its capacity
    // behind for the connection's lifetime: in a tailnet of N nodes that is
    // N buffers of N entries each.
    if (buffer_.capacity() > kKeptCapacity) {
      Bytes().swap(buffer_);
    } else {
      buffer_.clear();
    }
    pos_ = 0;
  }
  return out;
}

}  // namespace punchlab::control
