#include "punchlab/derp/frame-reader.h"

namespace punchlab {
namespace derp {

void FrameReader::Feed(ByteView bytes) {
  if (failed() || bytes.empty()) return;
  // Drop consumed bytes before growing, so the buffer stays about one frame long.
  if (pos_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(pos_));
    pos_ = 0;
  }
  buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

std::optional<Frame> FrameReader::Next() {
  auto view = NextView();
  if (!view) return std::nullopt;
  return Frame{view->type, view->payload.ToBytes()};
}

std::optional<FrameView> FrameReader::NextView() {
  if (failed()) return std::nullopt;
  ByteReader r(ByteView(buffer_).sub(pos_));
  uint8_t type = 0;
  uint32_t length = 0;
  if (!r.ReadU8(type) || !r.ReadU32(length)) return std::nullopt;
  if (length > max_payload_) {
    error_ = "frame " + FrameTypeName(static_cast<FrameType>(type)) + " announces " +
             std::to_string(length) + " bytes, over the limit of " + std::to_string(max_payload_);
    buffer_.clear();
    pos_ = 0;
    return std::nullopt;
  }
  ByteView payload;
  if (!r.ReadBytes(length, payload)) return std::nullopt;
  FrameView frame{static_cast<FrameType>(type), payload};
  pos_ += kFrameHeaderSize + length;
  return frame;
}

}  // namespace derp
}  // namespace punchlab
