// Control-plane framing over a TCP byte stream: every message is a frame of a
// u32 big-endian payload length followed by the payload. The decoder bounds
// what it buffers: a length above the limit breaks the stream at once instead
// of waiting for (and storing) bytes that will never be accepted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"

namespace punchlab::control {

constexpr size_t kFrameHeaderSize = 4;
// The largest frame either side sends: a netmap of about ten thousand peers.
constexpr size_t kMaxFrameSize = 4 << 20;
// The largest frame the server accepts from a node. Node messages are small
// (a token of at most 2 KiB, at most 32 endpoints), and this bounds what any
// connection, authenticated or not, can make the server buffer.
constexpr size_t kMaxNodeFrameSize = 64 << 10;

// Length prefix + payload. `payload` must not exceed kMaxFrameSize.
Bytes EncodeFrame(ByteView payload);

class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame_size = kMaxFrameSize) : max_(max_frame_size) {}

  // Appends stream bytes. Ignored once the decoder is broken.
  void Feed(ByteView bytes);
  // The next complete frame's payload, or nullopt when none is complete yet
  // or the stream is broken.
  std::optional<Bytes> Next();
  // A length prefix above the limit was seen; no frame will come out again.
  bool broken() const { return broken_; }
  size_t max_frame_size() const { return max_; }
  // Bytes held that do not form a complete frame yet.
  size_t buffered() const { return buffer_.size() - pos_; }
  // Memory the buffer holds, used or not.
  size_t capacity() const { return buffer_.capacity(); }

 private:
  // Capacity kept when the buffer drains; beyond it the buffer is freed.
  static constexpr size_t kKeptCapacity = 16 << 10;
  size_t max_;
  Bytes buffer_;
  size_t pos_ = 0;  // start of the first unconsumed byte in buffer_
  bool broken_ = false;
};

}  // namespace punchlab::control
