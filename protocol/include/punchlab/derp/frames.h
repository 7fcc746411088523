// DERP v2 frames (Tailscale's relay protocol), as plain functions over bytes.
//
// On the wire every frame is: type u8, payload length u32 big-endian, payload.
// Each typed frame below is a struct with its FrameType (kType), an encoder for
// its payload and a decoder that never reads out of bounds; Encode(frame)
// produces header + payload, Decode<T>(raw) checks the type and parses.
// Wire facts: docs/PROTOCOL.md "DERP".
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab {
namespace derp {

constexpr int kProtocolVersion = 2;
// "DERP" followed by U+1F511 (key) in UTF-8; opens the ServerKey frame.
constexpr std::array<uint8_t, 8> kMagic = {0x44, 0x45, 0x52, 0x50, 0xf0, 0x9f, 0x94, 0x91};
constexpr size_t kFrameHeaderSize = 5;
constexpr size_t kKeySize = 32;
// Largest relayed packet (the bytes after the key(s) in Send/Recv/ForwardPacket).
constexpr size_t kMaxPacketSize = 64 * 1024;
// Largest frame payload a reader accepts: a ForwardPacket with a full-size
// packet. A header announcing more is a protocol error, not a reason to buffer.
constexpr size_t kMaxFramePayload = kMaxPacketSize + 2 * kKeySize;

// Any byte value may arrive; the named ones are those DERP v2 defines.
enum class FrameType : uint8_t {
  kServerKey = 0x01,
  kClientInfo = 0x02,
  kServerInfo = 0x03,
  kSendPacket = 0x04,
  kRecvPacket = 0x05,
  kKeepAlive = 0x06,
  kNotePreferred = 0x07,
  kPeerGone = 0x08,
  kPeerPresent = 0x09,
  kForwardPacket = 0x0a,
  kWatchConns = 0x10,  // mesh/trusted client -> server: send me PeerPresent/PeerGone for all
  kPing = 0x12,
  kPong = 0x13,
  kHealth = 0x14,
  kRestarting = 0x15,
};

// "SendPacket", ..., or "0x42" for a type DERP v2 does not define.
std::string FrameTypeName(FrameType type);

// A frame as read off the stream, payload not yet interpreted.
struct Frame {
  FrameType type = FrameType::kKeepAlive;
  Bytes payload;
};

// A frame parsed in place: `payload` points into the reader's buffer and is
// valid until that reader is fed or advanced again. Saves the relay a copy.
struct FrameView {
  FrameType type = FrameType::kKeepAlive;
  ByteView payload;
};

enum class PeerGoneReason : uint8_t { kDisconnected = 0, kNotHere = 1 };
const char* PeerGoneReasonName(PeerGoneReason reason);

using PingData = std::array<uint8_t, 8>;

// Server -> client, first frame after the HTTP upgrade: magic + server key.
struct ServerKeyFrame {
  static constexpr FrameType kType = FrameType::kServerKey;
  NodePublicKey key;
  void EncodePayload(ByteWriter& w) const;
  // Requires the magic; trailing bytes (reserved for future use) are ignored.
  static std::optional<ServerKeyFrame> DecodePayload(ByteView payload);
};

// Client -> server: the client's node key, then nonce || box(JSON) sealed
// from that key to the server key (exactly SharedKey::Seal's output).
struct ClientInfoFrame {
  static constexpr FrameType kType = FrameType::kClientInfo;
  NodePublicKey key;
  Bytes sealed;  // nonce (24) || box
  void EncodePayload(ByteWriter& w) const;
  static std::optional<ClientInfoFrame> DecodePayload(ByteView payload);
};

// Server -> client: nonce || box(JSON {"version":2}) from server to client key.
struct ServerInfoFrame {
  static constexpr FrameType kType = FrameType::kServerInfo;
  Bytes sealed;
  void EncodePayload(ByteWriter& w) const;
  static std::optional<ServerInfoFrame> DecodePayload(ByteView payload);
};

// Client -> server: relay `packet` to the client holding `destination`.
struct SendPacketFrame {
  static constexpr FrameType kType = FrameType::kSendPacket;
  NodePublicKey destination;
  Bytes packet;
  void EncodePayload(ByteWriter& w) const;
  // Rejects packets over kMaxPacketSize.
  static std::optional<SendPacketFrame> DecodePayload(ByteView payload);
};

// SendPacket decoded without copying: `packet` points into the payload it was
// decoded from. Same checks as SendPacketFrame::DecodePayload.
struct SendPacketView {
  NodePublicKey destination;
  ByteView packet;
  static std::optional<SendPacketView> DecodePayload(ByteView payload);
};

// Server -> client: `packet` relayed from `source`.
struct RecvPacketFrame {
  static constexpr FrameType kType = FrameType::kRecvPacket;
  NodePublicKey source;
  Bytes packet;
  void EncodePayload(ByteWriter& w) const;
  static std::optional<RecvPacketFrame> DecodePayload(ByteView payload);
};

// RecvPacket decoded without copying, as SendPacketView.
struct RecvPacketView {
  NodePublicKey source;
  ByteView packet;
  static std::optional<RecvPacketView> DecodePayload(ByteView payload);
};

// Server -> client, empty: keeps NATs and idle timers on the path open.
struct KeepAliveFrame {
  static constexpr FrameType kType = FrameType::kKeepAlive;
  void EncodePayload(ByteWriter&) const {}
  static std::optional<KeepAliveFrame> DecodePayload(ByteView payload);  // must be empty
};

// Client -> server: whether this server is the client's home region.
struct NotePreferredFrame {
  static constexpr FrameType kType = FrameType::kNotePreferred;
  bool preferred = false;
  void EncodePayload(ByteWriter& w) const;
  static std::optional<NotePreferredFrame> DecodePayload(ByteView payload);  // exactly 1 byte
};

// Server -> client: `key` left (disconnected) or was never here (not here).
struct PeerGoneFrame {
  static constexpr FrameType kType = FrameType::kPeerGone;
  NodePublicKey key;
  PeerGoneReason reason = PeerGoneReason::kDisconnected;
  void EncodePayload(ByteWriter& w) const;
  // The reason byte is optional (older servers omit it: disconnected).
  static std::optional<PeerGoneFrame> DecodePayload(ByteView payload);
};

// Server -> client (to watchers): `key` is connected, optionally with its
// address (16-byte IP, IPv4 v4-mapped, + port u16) and then a flags byte
// (Tailscale's PeerPresentFlags: 1 regular, 2 mesh peer, 4 prober, 8 not
// ideal node), as derpserver writes it. Older servers stop after the key or
// the address; further trailing bytes are ignored. Flags are only written
// after an endpoint (the wire has no place for them otherwise).
struct PeerPresentFrame {
  static constexpr FrameType kType = FrameType::kPeerPresent;
  NodePublicKey key;
  std::optional<Endpoint> endpoint;
  std::optional<uint8_t> flags{};
  void EncodePayload(ByteWriter& w) const;
  static std::optional<PeerPresentFrame> DecodePayload(ByteView payload);
};

// Mesh peer -> server: relay `packet` from `source` to `destination`.
struct ForwardPacketFrame {
  static constexpr FrameType kType = FrameType::kForwardPacket;
  NodePublicKey source;
  NodePublicKey destination;
  Bytes packet;
  void EncodePayload(ByteWriter& w) const;
  static std::optional<ForwardPacketFrame> DecodePayload(ByteView payload);
};

// Either direction; answered by a Pong with the same 8 bytes.
struct PingFrame {
  static constexpr FrameType kType = FrameType::kPing;
  PingData data{};
  void EncodePayload(ByteWriter& w) const;
  static std::optional<PingFrame> DecodePayload(ByteView payload);  // >= 8, rest ignored
};

struct PongFrame {
  static constexpr FrameType kType = FrameType::kPong;
  PingData data{};
  void EncodePayload(ByteWriter& w) const;
  static std::optional<PongFrame> DecodePayload(ByteView payload);  // >= 8, rest ignored
};

// Server -> client: why the connection is unhealthy; empty clears it.
struct HealthFrame {
  static constexpr FrameType kType = FrameType::kHealth;
  std::string text;
  void EncodePayload(ByteWriter& w) const;
  static std::optional<HealthFrame> DecodePayload(ByteView payload);
};

// Server -> client: the server is restarting; reconnect after `reconnect_in`
// and keep trying for `try_for` (both whole milliseconds on the wire).
struct RestartingFrame {
  static constexpr FrameType kType = FrameType::kRestarting;
  Duration reconnect_in;
  Duration try_for;
  void EncodePayload(ByteWriter& w) const;
  static std::optional<RestartingFrame> DecodePayload(ByteView payload);  // >= 8
};

// Appends header + payload of a raw frame. The payload must fit a u32.
void AppendFrame(Bytes& out, FrameType type, ByteView payload);

// Appends a whole RecvPacket frame; the relay's hot path, so no temporary:
// the packet is copied once, straight into `out`.
void AppendRecvPacket(Bytes& out, const NodePublicKey& source, ByteView packet);
// The same for the client's SendPacket.
void AppendSendPacket(Bytes& out, const NodePublicKey& destination, ByteView packet);

// Appends header + payload of a typed frame.
template <typename T>
void AppendFrame(Bytes& out, const T& frame) {
  Bytes payload;
  ByteWriter w(payload);
  frame.EncodePayload(w);
  AppendFrame(out, T::kType, payload);
}

template <typename T>
Bytes Encode(const T& frame) {
  Bytes out;
  AppendFrame(out, frame);
  return out;
}

// The typed frame if `raw` has T's type and a well-formed payload.
template <typename T>
std::optional<T> Decode(const Frame& raw) {
  if (raw.type != T::kType) return std::nullopt;
  return T::DecodePayload(raw.payload);
}

template <typename T>
std::optional<T> Decode(const FrameView& raw) {
  if (raw.type != T::kType) return std::nullopt;
  return T::DecodePayload(raw.payload);
}

}  // namespace derp
}  // namespace punchlab
