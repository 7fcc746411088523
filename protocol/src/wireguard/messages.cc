#include "punchlab/wireguard/messages.h"

#include <cstring>

namespace punchlab::wireguard {
namespace {

void PutType(Bytes& out, MessageType t) {
  out.push_back(static_cast<uint8_t>(t));
  out.insert(out.end(), 3, 0);
}
void PutU32(Bytes& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void PutU64(Bytes& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
template <size_t N>
void Put(Bytes& out, const std::array<uint8_t, N>& a) {
  out.insert(out.end(), a.begin(), a.end());
}

// Reads fields in order from a message already checked for its size.
class Fields {
 public:
  explicit Fields(ByteView b) : b_(b), pos_(4) {}
  uint32_t U32() {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v |= static_cast<uint32_t>(b_[pos_ + i]) << (8 * i);
    pos_ += 4;
    return v;
  }
  uint64_t U64() {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v |= static_cast<uint64_t>(b_[pos_ + i]) << (8 * i);
    pos_ += 8;
    return v;
  }
  template <size_t N>
  void Get(std::array<uint8_t, N>& a) {
    std::memcpy(a.data(), b_.data() + pos_, N);
    pos_ += N;
  }
  size_t pos() const { return pos_; }

 private:
  ByteView b_;
  size_t pos_;
};

}  // namespace

std::optional<MessageType> ClassifyMessage(ByteView b) {
  if (b.size() < 4 || b[1] != 0 || b[2] != 0 || b[3] != 0) return std::nullopt;
  switch (b[0]) {
    case 1: return b.size() == kInitiationSize ? std::optional(MessageType::kInitiation) : std::nullopt;
    case 2: return b.size() == kResponseSize ? std::optional(MessageType::kResponse) : std::nullopt;
    case 3: return b.size() == kCookieReplySize ? std::optional(MessageType::kCookieReply) : std::nullopt;
    case 4: return b.size() >= kKeepaliveSize ? std::optional(MessageType::kTransport) : std::nullopt;
    default: return std::nullopt;
  }
}

Bytes Encode(const Initiation& m) {
  Bytes out;
  out.reserve(kInitiationSize);
  PutType(out, MessageType::kInitiation);
  PutU32(out, m.sender);
  Put(out, m.ephemeral);
  Put(out, m.encrypted_static);
  Put(out, m.encrypted_timestamp);
  Put(out, m.mac1);
  Put(out, m.mac2);
  return out;
}

Bytes Encode(const Response& m) {
  Bytes out;
  out.reserve(kResponseSize);
  PutType(out, MessageType::kResponse);
  PutU32(out, m.sender);
  PutU32(out, m.receiver);
  Put(out, m.ephemeral);
  Put(out, m.encrypted_nothing);
  Put(out, m.mac1);
  Put(out, m.mac2);
  return out;
}

Bytes Encode(const CookieReply& m) {
  Bytes out;
  out.reserve(kCookieReplySize);
  PutType(out, MessageType::kCookieReply);
  PutU32(out, m.receiver);
  Put(out, m.nonce);
  Put(out, m.encrypted_cookie);
  return out;
}

Bytes EncodeTransport(const TransportHeader& h, ByteView ciphertext) {
  Bytes out;
  out.reserve(kTransportHeaderSize + ciphertext.size());
  PutType(out, MessageType::kTransport);
  PutU32(out, h.receiver);
  PutU64(out, h.counter);
  out.insert(out.end(), ciphertext.begin(), ciphertext.end());
  return out;
}

std::optional<Initiation> DecodeInitiation(ByteView b) {
  if (ClassifyMessage(b) != MessageType::kInitiation) return std::nullopt;
  Fields f(b);
  Initiation m;
  m.sender = f.U32();
  f.Get(m.ephemeral);
  f.Get(m.encrypted_static);
  f.Get(m.encrypted_timestamp);
  f.Get(m.mac1);
  f.Get(m.mac2);
  return m;
}

std::optional<Response> DecodeResponse(ByteView b) {
  if (ClassifyMessage(b) != MessageType::kResponse) return std::nullopt;
  Fields f(b);
  Response m;
  m.sender = f.U32();
  m.receiver = f.U32();
  f.Get(m.ephemeral);
  f.Get(m.encrypted_nothing);
  f.Get(m.mac1);
  f.Get(m.mac2);
  return m;
}

std::optional<CookieReply> DecodeCookieReply(ByteView b) {
  if (ClassifyMessage(b) != MessageType::kCookieReply) return std::nullopt;
  Fields f(b);
  CookieReply m;
  m.receiver = f.U32();
  f.Get(m.nonce);
  f.Get(m.encrypted_cookie);
  return m;
}

std::optional<TransportHeader> DecodeTransport(ByteView b, ByteView& ciphertext) {
  if (ClassifyMessage(b) != MessageType::kTransport) return std::nullopt;
  Fields f(b);
  TransportHeader h;
  h.receiver = f.U32();
  h.counter = f.U64();
  ciphertext = b.sub(f.pos());
  return h;
}

std::optional<uint32_t> ReceiverIndex(ByteView b) {
  const auto type = ClassifyMessage(b);
  if (!type || *type == MessageType::kInitiation) return std::nullopt;
  const size_t at = *type == MessageType::kResponse ? 8 : 4;
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v |= static_cast<uint32_t>(b[at + i]) << (8 * i);
  return v;
}

}  // namespace punchlab::wireguard
