// Incremental DERP frame parser over a byte stream: feed whatever each read
// returned (a frame split across reads, several frames in one read) and take
// complete frames out in order.
//
// A header announcing more than the reader's limit fails the stream at once,
// before any of that payload is buffered: a peer cannot make us hold more
// than one maximal frame. A failed reader stays failed; the caller closes the
// connection with error() as the logged reason.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/derp/frames.h"

namespace punchlab {
namespace derp {

class FrameReader {
 public:
  explicit FrameReader(size_t max_payload = kMaxFramePayload) : max_payload_(max_payload) {}

  // Appends bytes from the stream. Ignored once failed.
  void Feed(ByteView bytes);
  // The next complete frame; nullopt when more bytes are needed or failed().
  std::optional<Frame> Next();
  // Same, parsed in place: the view is valid until the next Feed/Next/NextView.
  std::optional<FrameView> NextView();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes held that do not yet form a complete frame.
  size_t buffered() const { return buffer_.size() - pos_; }

 private:
  size_t max_payload_;
  Bytes buffer_;
  size_t pos_ = 0;  // start of the first unconsumed byte in buffer_
  std::string error_;
};

}  // namespace derp
}  // namespace punchlab
