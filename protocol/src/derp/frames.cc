#include "punchlab/derp/frames.h"

#include <algorithm>
#include <cassert>
#include <limits>

#include "punchlab/crypto/box.h"

namespace punchlab {
namespace derp {
namespace {

bool ReadKey(ByteReader& r, NodePublicKey& out) {
  ByteView raw;
  if (!r.ReadBytes(kKeySize, raw)) return false;
  out = *NodePublicKey::FromBytes(raw);
  return true;
}

bool ReadPingData(ByteView payload, PingData& out) {
  ByteReader r(payload);
  return r.ReadInto(out.data(), out.size());
}

uint32_t ToWireMillis(Duration d) {
  const int64_t ms = d.nanos() / 1000000;
  if (ms <= 0) return 0;
  if (ms > std::numeric_limits<uint32_t>::max()) return std::numeric_limits<uint32_t>::max();
  return static_cast<uint32_t>(ms);
}

}  // namespace

std::string FrameTypeName(FrameType type) {
  switch (type) {
    case FrameType::kServerKey: return "ServerKey";
    case FrameType::kClientInfo: return "ClientInfo";
    case FrameType::kServerInfo: return "ServerInfo";
    case FrameType::kSendPacket: return "SendPacket";
    case FrameType::kRecvPacket: return "RecvPacket";
    case FrameType::kKeepAlive: return "KeepAlive";
    case FrameType::kNotePreferred: return "NotePreferred";
    case FrameType::kPeerGone: return "PeerGone";
    case FrameType::kPeerPresent: return "PeerPresent";
    case FrameType::kForwardPacket: return "ForwardPacket";
    case FrameType::kPing: return "Ping";
    case FrameType::kPong: return "Pong";
    case FrameType::kWatchConns: return "WatchConns";
    case FrameType::kHealth: return "Health";
    case FrameType::kRestarting: return "Restarting";
  }
  const uint8_t b = static_cast<uint8_t>(type);
  return "0x" + ToHex(ByteView(&b, 1));
}

const char* PeerGoneReasonName(PeerGoneReason reason) {
  switch (reason) {
    case PeerGoneReason::kDisconnected: return "disconnected";
    case PeerGoneReason::kNotHere: return "not here";
  }
  return "unknown";
}

void AppendFrame(Bytes& out, FrameType type, ByteView payload) {
  assert(payload.size() <= std::numeric_limits<uint32_t>::max());
  ByteWriter w(out);
  w.U8(static_cast<uint8_t>(type));
  w.U32(static_cast<uint32_t>(payload.size()));
  w.Append(payload);
}

void ServerKeyFrame::EncodePayload(ByteWriter& w) const {
  w.Append(ByteView(kMagic.data(), kMagic.size()));
  w.Append(key.view());
}

std::optional<ServerKeyFrame> ServerKeyFrame::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  ByteView magic;
  ServerKeyFrame f;
  if (!r.ReadBytes(kMagic.size(), magic) || magic != ByteView(kMagic.data(), kMagic.size()) ||
      !ReadKey(r, f.key)) {
    return std::nullopt;
  }
  return f;
}

void ClientInfoFrame::EncodePayload(ByteWriter& w) const {
  w.Append(key.view());
  w.Append(sealed);
}

std::optional<ClientInfoFrame> ClientInfoFrame::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  ClientInfoFrame f;
  // The nonce at least must be there; whether the box opens is the server's call.
  if (!ReadKey(r, f.key) || r.remaining() < kBoxNonceSize) return std::nullopt;
  f.sealed = r.Rest().ToBytes();
  return f;
}

void ServerInfoFrame::EncodePayload(ByteWriter& w) const { w.Append(sealed); }

std::optional<ServerInfoFrame> ServerInfoFrame::DecodePayload(ByteView payload) {
  if (payload.size() < kBoxNonceSize) return std::nullopt;
  return ServerInfoFrame{payload.ToBytes()};
}

void SendPacketFrame::EncodePayload(ByteWriter& w) const {
  w.Append(destination.view());
  w.Append(packet);
}

std::optional<SendPacketFrame> SendPacketFrame::DecodePayload(ByteView payload) {
  auto v = SendPacketView::DecodePayload(payload);
  if (!v) return std::nullopt;
  return SendPacketFrame{v->destination, v->packet.ToBytes()};
}

std::optional<SendPacketView> SendPacketView::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  SendPacketView f;
  if (!ReadKey(r, f.destination) || r.remaining() > kMaxPacketSize) return std::nullopt;
  f.packet = r.Rest();
  return f;
}

namespace {

// Header, key and packet of a Send/RecvPacket frame. (No reserve(): exact
// reservations would defeat the vector's geometric growth over many appends.)
void AppendKeyedPacket(Bytes& out, FrameType type, const NodePublicKey& key, ByteView packet) {
  assert(packet.size() <= kMaxPacketSize);
  // Header and key are put together here and appended in one go: this runs
  // once per relayed packet.
  uint8_t head[kFrameHeaderSize + kKeySize];
  const auto length = static_cast<uint32_t>(kKeySize + packet.size());
  head[0] = static_cast<uint8_t>(type);
  head[1] = static_cast<uint8_t>(length >> 24);
  head[2] = static_cast<uint8_t>(length >> 16);
  head[3] = static_cast<uint8_t>(length >> 8);
  head[4] = static_cast<uint8_t>(length);
  std::copy(key.raw().begin(), key.raw().end(), head + kFrameHeaderSize);
  out.insert(out.end(), head, head + sizeof head);
  out.insert(out.end(), packet.begin(), packet.end());
}

}  // namespace

void AppendRecvPacket(Bytes& out, const NodePublicKey& source, ByteView packet) {
  AppendKeyedPacket(out, FrameType::kRecvPacket, source, packet);
}

void AppendSendPacket(Bytes& out, const NodePublicKey& destination, ByteView packet) {
  AppendKeyedPacket(out, FrameType::kSendPacket, destination, packet);
}

void RecvPacketFrame::EncodePayload(ByteWriter& w) const {
  w.Append(source.view());
  w.Append(packet);
}

std::optional<RecvPacketFrame> RecvPacketFrame::DecodePayload(ByteView payload) {
  auto v = RecvPacketView::DecodePayload(payload);
  if (!v) return std::nullopt;
  return RecvPacketFrame{v->source, v->packet.ToBytes()};
}

std::optional<RecvPacketView> RecvPacketView::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  RecvPacketView f;
  if (!ReadKey(r, f.source) || r.remaining() > kMaxPacketSize) return std::nullopt;
  f.packet = r.Rest();
  return f;
}

std::optional<KeepAliveFrame> KeepAliveFrame::DecodePayload(ByteView payload) {
  if (!payload.empty()) return std::nullopt;
  return KeepAliveFrame{};
}

void NotePreferredFrame::EncodePayload(ByteWriter& w) const { w.U8(preferred ? 1 : 0); }

std::optional<NotePreferredFrame> NotePreferredFrame::DecodePayload(ByteView payload) {
  if (payload.size() != 1) return std::nullopt;
  return NotePreferredFrame{payload[0] != 0};
}

void PeerGoneFrame::EncodePayload(ByteWriter& w) const {
  w.Append(key.view());
  w.U8(static_cast<uint8_t>(reason));
}

std::optional<PeerGoneFrame> PeerGoneFrame::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  PeerGoneFrame f;
  if (!ReadKey(r, f.key)) return std::nullopt;
  uint8_t reason = 0;
  if (r.ReadU8(reason)) {
    // Unknown future reasons still mean the peer is unreachable here.
    f.reason = reason == 1 ? PeerGoneReason::kNotHere : PeerGoneReason::kDisconnected;
  }
  return f;
}

void PeerPresentFrame::EncodePayload(ByteWriter& w) const {
  w.Append(key.view());
  if (endpoint) {
    const auto ip = endpoint->ip.ToV6Mapped();
    w.Append(ByteView(ip.data(), ip.size()));
    w.U16(endpoint->port);
    if (flags) w.U8(*flags);
  }
}

std::optional<PeerPresentFrame> PeerPresentFrame::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  PeerPresentFrame f;
  if (!ReadKey(r, f.key)) return std::nullopt;
  std::array<uint8_t, 16> ip{};
  uint16_t port = 0;
  if (r.remaining() >= ip.size() + 2 && r.ReadInto(ip.data(), ip.size()) && r.ReadU16(port)) {
    f.endpoint = Endpoint(IpAddress::FromV6Mapped(ip), port);
    uint8_t flags = 0;
    if (r.ReadU8(flags)) f.flags = flags;
  }
  return f;
}

void ForwardPacketFrame::EncodePayload(ByteWriter& w) const {
  w.Append(source.view());
  w.Append(destination.view());
  w.Append(packet);
}

std::optional<ForwardPacketFrame> ForwardPacketFrame::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  ForwardPacketFrame f;
  if (!ReadKey(r, f.source) || !ReadKey(r, f.destination) || r.remaining() > kMaxPacketSize) {
    return std::nullopt;
  }
  f.packet = r.Rest().ToBytes();
  return f;
}

void PingFrame::EncodePayload(ByteWriter& w) const { w.Append(ByteView(data.data(), data.size())); }

std::optional<PingFrame> PingFrame::DecodePayload(ByteView payload) {
  PingFrame f;
  if (!ReadPingData(payload, f.data)) return std::nullopt;
  return f;
}

void PongFrame::EncodePayload(ByteWriter& w) const { w.Append(ByteView(data.data(), data.size())); }

std::optional<PongFrame> PongFrame::DecodePayload(ByteView payload) {
  PongFrame f;
  if (!ReadPingData(payload, f.data)) return std::nullopt;
  return f;
}

void HealthFrame::EncodePayload(ByteWriter& w) const {
  w.Append(ByteView(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

std::optional<HealthFrame> HealthFrame::DecodePayload(ByteView payload) {
  return HealthFrame{std::string(payload.begin(), payload.end())};
}

void RestartingFrame::EncodePayload(ByteWriter& w) const {
  w.U32(ToWireMillis(reconnect_in));
  w.U32(ToWireMillis(try_for));
}

std::optional<RestartingFrame> RestartingFrame::DecodePayload(ByteView payload) {
  ByteReader r(payload);
  uint32_t reconnect_ms = 0;
  uint32_t try_ms = 0;
  if (!r.ReadU32(reconnect_ms) || !r.ReadU32(try_ms)) return std::nullopt;
  return RestartingFrame{Duration::Millis(reconnect_ms), Duration::Millis(try_ms)};
}

}  // namespace derp
}  // namespace punchlab
