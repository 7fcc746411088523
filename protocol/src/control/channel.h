// One end of a control connection below the message level: framing, sealing
// with the session's SharedKey, and the per-direction sequence numbers (see
// messages.h). Client and server each keep one per connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/clone-on-copy.h"
#include "punchlab/control/compression.h"
#include "punchlab/control/frame.h"
#include "punchlab/control/key-log.h"
#include "punchlab/control/messages.h"
#include "punchlab/crypto/box.h"
#include "punchlab/random.h"

namespace punchlab::control {

// Why EncodeSealed made no frame.
enum class SealFailure {
  kTooLarge,        // the message or its sealed frame is above the limit
  kUncompressible,  // the compressor failed (compression.h)
};
// "exceeds the frame limit", "could not be compressed".
const char* SealFailureText(SealFailure f);

class Channel {
 public:
  // Frames longer than `max_receive` break the connection.
  explicit Channel(size_t max_receive) : decoder_(max_receive) {}

  // Until a key is set, incoming frames are read as plaintext (the server
  // before the hello) and only EncodePlain may be used.
  void SetKey(SharedKey key) { key_.emplace(std::move(key)); }
  bool has_key() const { return key_.has_value(); }

  // A whole frame ready to write.
  Bytes EncodePlain(const Message& msg);
  // nullopt if the message or the sealed frame would exceed `max_size` (the
  // receiver's limit, which bounds a compressed message's size too) or the
  // compressor failed; then `failure` (when given) says which, and nothing
  // was consumed (no sequence number, no log). With a `compressor` the
  // message is sealed as one zstd frame (compression.h). A sealed frame is
  // reported to `log` (when set): its nonce and the message (the JSON,
  // before compression).
  std::optional<Bytes> EncodeSealed(const Message& msg, RandomSource& rng, size_t max_size,
                                    const KeyLog& log = KeyLog(),
                                    ZstdCompressor* compressor = nullptr,
                                    SealFailure* failure = nullptr);
  std::optional<Bytes> EncodeSealed(const PreparedMessage& msg, RandomSource& rng,
                                    size_t max_size, const KeyLog& log = KeyLog(),
                                    ZstdCompressor* compressor = nullptr,
                                    SealFailure* failure = nullptr);
  // Every sealed frame received from now on must hold one zstd frame of a
  // message of at most `max_receive` bytes: the client, once it asked for
  // compression in its register.
  void ExpectCompressed() { compressed_ = true; }

  struct Incoming {
    enum class Kind { kNone, kMessage, kOversized, kUndecryptable, kMalformed, kOutOfOrder };
    Kind kind = Kind::kNone;
    Message msg;
    std::string error;  // for everything but kNone / kMessage
  };
  void Feed(ByteView bytes) { decoder_.Feed(bytes); }
  // The next message, kNone when no complete frame is buffered, or the first
  // problem found. After a problem the connection is unusable.
  Incoming Next();

 private:
  std::optional<Bytes> Seal(const Bytes& message, RandomSource& rng, size_t max_size,
                            const KeyLog& log, ZstdCompressor* compressor, SealFailure* failure);

  FrameDecoder decoder_;
  // Copied with the session, on purpose: for the machines' Clone() (see
  // ControlServer::Clone).
  CloneOnCopy<std::optional<SharedKey>> key_;
  uint64_t send_seq_ = 0;
  uint64_t recv_seq_ = 0;
  bool compressed_ = false;
};

}  // namespace punchlab::control
