#include "punchlab/control/frame.h"

#include <algorithm>
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
  const size_t needed = buffer_.size() + bytes.size();
  if (needed > buffer_.capacity()) {
    // Grow by doubling, as insert would, but never past the end of the frame
    // being received: a node that has a big frame (a netmap) nearly whole
    // then holds that frame's size, not up to twice it. (Reserving the whole
    // frame at its length prefix would let a peer make us hold the limit for
    // four bytes sent.) The prefix may straddle the old and the new bytes.
    size_t target = std::max(needed, 2 * buffer_.capacity());
    if (needed >= kFrameHeaderSize) {
      uint8_t prefix[kFrameHeaderSize];
      for (size_t i = 0; i < kFrameHeaderSize; ++i) {
        prefix[i] = i < buffer_.size() ? buffer_[i] : bytes[i - buffer_.size()];
      }
      uint32_t length = 0;
      ByteReader(ByteView(prefix, kFrameHeaderSize)).ReadU32(length);
      const size_t frame_end = kFrameHeaderSize + size_t{length};
      if (length <= max_ && frame_end >= needed) target = std::min(target, frame_end);
    }
    buffer_.reserve(target);
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
  if (pos_ < buffer_.size() && buffer_.capacity() > kKeptCapacity &&
      buffer_.size() - pos_ < buffer_.capacity() / 2) {
    // A big frame went and the start of a smaller one stays: keep only that.
    Bytes(buffer_.begin() + static_cast<std::ptrdiff_t>(pos_), buffer_.end()).swap(buffer_);
    pos_ = 0;
  } else if (pos_ == buffer_.size()) {
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
