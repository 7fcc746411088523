#include "punchlab/disco/message.h"

#include <algorithm>
#include <utility>

namespace punchlab {
namespace disco {

namespace {

constexpr uint8_t kVersion0 = 0;

void WriteEndpoint(ByteWriter& w, const Endpoint& ep) {
  const std::array<uint8_t, 16> ip = ep.ip.ToV6Mapped();
  w.Append(ByteView(ip.data(), ip.size()));
  w.U16(ep.port);
}

// The caller guarantees 18 readable bytes.
Endpoint ReadEndpoint(ByteReader& r) {
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  r.ReadInto(ip.data(), ip.size());
  r.ReadU16(port);
  return Endpoint(IpAddress::FromV6Mapped(ip), port);
}

DecodeResult Fail(DecodeError e) {
  DecodeResult r;
  r.error = e;
  return r;
}

DecodeResult DecodePing(ByteReader& r) {
  Ping ping;
  if (!r.ReadInto(ping.txid.data(), ping.txid.size())) return Fail(DecodeError::kBadPayload);
  if (r.remaining() >= kCurve25519KeySize) {
    ByteView key;
    r.ReadBytes(kCurve25519KeySize, key);
    ping.node_key = *NodePublicKey::FromBytes(key);
  }
  ping.padding = r.remaining();
  DecodeResult out;
  out.message = ping;
  return out;
}

DecodeResult DecodePong(ByteReader& r) {
  if (r.remaining() < kPongPayloadSize) return Fail(DecodeError::kBadPayload);
  Pong pong;
  r.ReadInto(pong.txid.data(), pong.txid.size());
  pong.source = ReadEndpoint(r);
  DecodeResult out;
  out.message = pong;
  return out;
}

DecodeResult DecodeCallMeMaybe(uint8_t version, ByteReader& r) {
  CallMeMaybe cmm;
  if (version == kVersion0 && r.remaining() % kEndpointWireSize == 0) {
    cmm.endpoints.reserve(r.remaining() / kEndpointWireSize);
    while (r.remaining() > 0) cmm.endpoints.push_back(ReadEndpoint(r));
  }
  DecodeResult out;
  out.message = std::move(cmm);
  return out;
}

}  // namespace

MessageType TypeOf(const Message& m) {
  if (std::holds_alternative<Ping>(m)) return MessageType::kPing;
  if (std::holds_alternative<Pong>(m)) return MessageType::kPong;
  return MessageType::kCallMeMaybe;
}

const char* MessageTypeName(MessageType t) {
  switch (t) {
    case MessageType::kPing: return "ping";
    case MessageType::kPong: return "pong";
    case MessageType::kCallMeMaybe: return "call-me-maybe";
  }
  return "unknown";
}

const char* DecodeErrorName(DecodeError e) {
  switch (e) {
    case DecodeError::kNone: return "none";
    case DecodeError::kTooShort: return "too short";
    case DecodeError::kUnknownType: return "unknown type";
    case DecodeError::kBadPayload: return "bad payload";
  }
  return "unknown";
}

bool LooksLikeDisco(ByteView packet) {
  return packet.size() >= kHeaderSize &&
         std::equal(kMagic.begin(), kMagic.end(), packet.begin());
}

Bytes EncodeMessage(const Message& m) {
  Bytes out;
  ByteWriter w(out);
  w.U8(static_cast<uint8_t>(TypeOf(m)));
  w.U8(kVersion0);
  if (const auto* ping = std::get_if<Ping>(&m)) {
    w.Append(ByteView(ping->txid.data(), ping->txid.size()));
    if (!ping->node_key.IsZero()) w.Append(ping->node_key.view());
    w.Zeros(ping->padding);
  } else if (const auto* pong = std::get_if<Pong>(&m)) {
    w.Append(ByteView(pong->txid.data(), pong->txid.size()));
    WriteEndpoint(w, pong->source);
  } else {
    for (const Endpoint& ep : std::get<CallMeMaybe>(m).endpoints) WriteEndpoint(w, ep);
  }
  return out;
}

DecodeResult DecodeMessage(ByteView plaintext) {
  ByteReader r(plaintext);
  uint8_t type = 0;
  uint8_t version = 0;
  if (!r.ReadU8(type) || !r.ReadU8(version)) return Fail(DecodeError::kTooShort);
  switch (static_cast<MessageType>(type)) {
    case MessageType::kPing: return DecodePing(r);
    case MessageType::kPong: return DecodePong(r);
    case MessageType::kCallMeMaybe: return DecodeCallMeMaybe(version, r);
  }
  return Fail(DecodeError::kUnknownType);
}

}  // namespace disco
}  // namespace punchlab
