#include "control/channel.h"

namespace punchlab::control {

const char* SealFailureText(SealFailure f) {
  return f == SealFailure::kUncompressible ? "could not be compressed" : "exceeds the frame limit";
}

Bytes Channel::EncodePlain(const Message& msg) { return EncodeFrame(EncodeMessage(msg, send_seq_++)); }

std::optional<Bytes> Channel::EncodeSealed(const Message& msg, RandomSource& rng,
                                          size_t max_size, const KeyLog& log,
                                          ZstdCompressor* compressor, SealFailure* failure) {
  return Seal(EncodeMessage(msg, send_seq_), rng, max_size, log, compressor, failure);
}

std::optional<Bytes> Channel::EncodeSealed(const PreparedMessage& msg, RandomSource& rng,
                                          size_t max_size, const KeyLog& log,
                                          ZstdCompressor* compressor, SealFailure* failure) {
  return Seal(EncodePrepared(msg, send_seq_), rng, max_size, log, compressor, failure);
}

std::optional<Bytes> Channel::Seal(const Bytes& message, RandomSource& rng, size_t max_size,
                                   const KeyLog& log, ZstdCompressor* compressor,
                                   SealFailure* failure) {
  auto fail = [failure](SealFailure why) -> std::optional<Bytes> {
    if (failure) *failure = why;
    return std::nullopt;
  };
  Bytes sealed;
  if (compressor) {
    // The receiver refuses to expand a frame past its limit.
    if (message.size() > max_size) return fail(SealFailure::kTooLarge);
    std::optional<Bytes> compressed = compressor->Compress(message);
    if (!compressed) return fail(SealFailure::kUncompressible);
    sealed = key_->Seal(rng, *compressed);
  } else {
    sealed = key_->Seal(rng, message);
  }
  if (sealed.size() > max_size) return fail(SealFailure::kTooLarge);
  ++send_seq_;
  if (log) log(ByteView(sealed.data(), kBoxNonceSize), message);
  return EncodeFrame(sealed);
}

Channel::Incoming Channel::Next() {
  using Kind = Incoming::Kind;
  Incoming in;
  auto frame = decoder_.Next();
  if (!frame) {
    if (decoder_.broken()) {
      in.kind = Kind::kOversized;
      in.error = "frame length exceeds " + std::to_string(decoder_.max_frame_size()) + " bytes";
    }
    return in;
  }
  std::optional<Bytes> plain;
  if (key_) {
    plain = key_->Open(*frame);
    if (!plain) {
      in.kind = Kind::kUndecryptable;
      in.error = "frame does not open with the session key";
      return in;
    }
  } else {
    plain = std::move(frame);
  }
  if (compressed_) {
    bool too_large = false;
    plain = ZstdDecompress(*plain, decoder_.max_frame_size(), in.error, too_large);
    if (!plain) {
      in.kind = too_large ? Kind::kOversized : Kind::kMalformed;
      return in;
    }
  }
  auto decoded = DecodeMessage(*plain, in.error);
  if (!decoded) {
    in.kind = Kind::kMalformed;
    return in;
  }
  if (decoded->seq != recv_seq_) {
    in.kind = Kind::kOutOfOrder;
    in.error = "message seq " + std::to_string(decoded->seq) + " where " +
               std::to_string(recv_seq_) + " was due";
    return in;
  }
  ++recv_seq_;
  in.kind = Kind::kMessage;
  in.msg = std::move(decoded->msg);
  return in;
}

}  // namespace punchlab::control
