// Incremental DERP frame parser over a byte stream: feed whatever each read
// returned (a frame split across reads, several frames in one read) and take
// complete frames out in order.
//
// Two ways in. Feed() copies the bytes into the reader. Borrow() does not: the
// frames that lie whole inside the borrowed bytes are parsed where they are
// (a relay's hot path: no copy of the bytes it read), and only a frame that
// began in an earlier read is completed in the reader's own buffer, with just
// the bytes it lacks. Before the borrowed bytes go away the caller calls
// Keep(), which copies what is left of them (at most one partial frame) into
// the reader. A reader destroyed or replaced in between needs neither.
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

  // Appends bytes from the stream (a copy). Ignored once failed.
  void Feed(ByteView bytes);
  // Appends bytes from the stream without copying them; they must stay valid
  // until Keep() (see above). Ignored once failed.
  void Borrow(ByteView bytes);
  // Copies the unparsed rest of the borrowed bytes into the reader.
  void Keep();

  // The next complete frame; nullopt when more bytes are needed or failed().
  std::optional<Frame> Next();
  // Same, parsed in place: the view is valid until the next Feed/Borrow/Keep/
  // Next/NextView (and, when it lies in borrowed bytes, as long as they are).
  std::optional<FrameView> NextView();

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  // Bytes held (own and borrowed) that do not yet form a complete frame.
  size_t buffered() const { return buffer_.size() - pos_ + borrowed_.size(); }

 private:
  // Moves up to `want` bytes from the front of borrowed_ to the end of buffer_.
  void TakeBorrowed(size_t want);
  // Parses the frame header at the front of `bytes`; false when incomplete.
  // Fails the reader when the length is over the limit.
  bool ReadHeader(ByteView bytes, FrameType& type, size_t& frame_size);
  void Fail(FrameType type, uint32_t length);

  size_t max_payload_;
  Bytes buffer_;    // own bytes: the start of a frame that spans reads
  size_t pos_ = 0;  // start of the first unconsumed byte in buffer_
  ByteView borrowed_;  // unparsed borrowed bytes, after those in buffer_
  std::string error_;
};

}  // namespace derp
}  // namespace punchlab
