// Disco messages: Tailscale's hole-punching messages, wire-compatible.
//
// Packet (see sealer.h for sealing/opening):
//   magic "TS" U+1F4AC (6) || sender disco public key (32) || nonce (24) ||
//   crypto_box(plaintext)
// Plaintext (this file):
//   type (1) || version (1, always 0 when sent) || payload; trailing bytes ignored
//   Ping        0x01: txid (12) || sender node key (32, absent from old clients)
//                     || zero padding (probes the path MTU)
//   Pong        0x02: txid (12) || source seen: 16-byte IP (IPv4 v4-mapped) ||
//                     port u16 BE
//   CallMeMaybe 0x03: N x (16-byte IP || port u16 BE); sent only over DERP
//
// Decoding is as lax as Tailscale's, so newer peers stay readable: the version
// byte is not checked for Ping and Pong, and extra bytes are ignored.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <variant>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/crypto/box.h"
#include "punchlab/crypto/keys.h"
#include "punchlab/endpoint.h"

namespace punchlab {
namespace disco {

constexpr std::array<uint8_t, 6> kMagic = {0x54, 0x53, 0xf0, 0x9f, 0x92, 0xac};
constexpr size_t kMagicSize = kMagic.size();
// magic || sender key || nonce: what precedes the box.
constexpr size_t kHeaderSize = kMagicSize + kCurve25519KeySize + kBoxNonceSize;  // 62
// type || version
constexpr size_t kMessageHeaderSize = 2;
// The shortest packet that can carry a message: header, MAC, type and version.
constexpr size_t kMinPacketSize = kHeaderSize + kBoxOverhead + kMessageHeaderSize;  // 80

constexpr size_t kTxIdSize = 12;
using TxId = std::array<uint8_t, kTxIdSize>;

constexpr size_t kEndpointWireSize = 16 + 2;
constexpr size_t kPingPayloadSize = kTxIdSize + kCurve25519KeySize;  // 44, without padding
constexpr size_t kPongPayloadSize = kTxIdSize + kEndpointWireSize;   // 30

enum class MessageType : uint8_t {
  kPing = 0x01,
  kPong = 0x02,
  kCallMeMaybe = 0x03,
};

struct Ping {
  TxId txid{};
  // The sender's node key. All-zero means absent: old Tailscale clients do not
  // send it, and a zero key is not written on encode.
  NodePublicKey node_key;
  // Zero bytes appended after the key (path MTU probing); on decode, whatever
  // follows txid and key.
  size_t padding = 0;

  bool operator==(const Ping& o) const {
    return txid == o.txid && node_key == o.node_key && padding == o.padding;
  }
};

struct Pong {
  TxId txid{};
  // Where the ping came from as the ponging peer saw it (after any NAT): it
  // works as a STUN answer for the pinger.
  Endpoint source;

  bool operator==(const Pong& o) const { return txid == o.txid && source == o.source; }
};

struct CallMeMaybe {
  // The sender's own endpoints, which it has just pinged us from.
  std::vector<Endpoint> endpoints;

  bool operator==(const CallMeMaybe& o) const { return endpoints == o.endpoints; }
};

using Message = std::variant<Ping, Pong, CallMeMaybe>;

MessageType TypeOf(const Message& m);
const char* MessageTypeName(MessageType t);

// Magic present and long enough for the header, which is all a socket needs
// to tell disco from STUN and data (Tailscale's own test has the same bound).
// A packet that passes may still be too short to open.
bool LooksLikeDisco(ByteView packet);

// type || version 0 || payload.
Bytes EncodeMessage(const Message& m);

enum class DecodeError : uint8_t {
  kNone,
  kTooShort,     // no room for type and version
  kUnknownType,  // a type this version does not know (dropped, as Tailscale does)
  kBadPayload,   // a Ping shorter than its txid, a Pong shorter than 30 bytes
};
const char* DecodeErrorName(DecodeError e);

struct DecodeResult {
  DecodeError error = DecodeError::kNone;
  Message message;  // meaningful only when error == kNone
  bool ok() const { return error == DecodeError::kNone; }
};

// Never throws, never reads past `plaintext`. A CallMeMaybe whose version is
// not 0 or whose payload is not a whole number of endpoints decodes as an
// empty list, as in Tailscale (a future layout must not be misread).
DecodeResult DecodeMessage(ByteView plaintext);

}  // namespace disco
}  // namespace punchlab
