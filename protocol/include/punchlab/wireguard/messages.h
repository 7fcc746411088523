// WireGuard's four messages, byte for byte as the paper (section 5.4) and
// wireguard-go lay them out: a type byte, three zero bytes, then fields whose
// integers are little-endian. The first four bytes are how one socket tells
// WireGuard apart from STUN and disco (see IsWireGuardMessage).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/wireguard/primitives.h"

namespace punchlab::wireguard {

enum class MessageType : uint8_t { kInitiation = 1, kResponse = 2, kCookieReply = 3, kTransport = 4 };

constexpr size_t kInitiationSize = 148;
constexpr size_t kResponseSize = 92;
constexpr size_t kCookieReplySize = 64;
constexpr size_t kTransportHeaderSize = 16;
constexpr size_t kKeepaliveSize = kTransportHeaderSize + kAeadTag;  // 32
// MAC1 covers the message up to mac1, MAC2 up to mac2.
constexpr size_t kInitiationMac1Offset = 116;
constexpr size_t kResponseMac1Offset = 60;

// The type of a well-formed message (right type, zero reserved bytes, right
// size; a transport message at least a keepalive), else nullopt.
std::optional<MessageType> ClassifyMessage(ByteView bytes);
inline bool IsWireGuardMessage(ByteView bytes) { return ClassifyMessage(bytes).has_value(); }

struct Initiation {
  uint32_t sender = 0;
  Key32 ephemeral{};
  std::array<uint8_t, 32 + kAeadTag> encrypted_static{};
  std::array<uint8_t, 12 + kAeadTag> encrypted_timestamp{};
  Mac16 mac1{};
  Mac16 mac2{};
};

struct Response {
  uint32_t sender = 0;
  uint32_t receiver = 0;
  Key32 ephemeral{};
  std::array<uint8_t, kAeadTag> encrypted_nothing{};
  Mac16 mac1{};
  Mac16 mac2{};
};

struct CookieReply {
  uint32_t receiver = 0;
  std::array<uint8_t, 24> nonce{};
  std::array<uint8_t, 16 + kAeadTag> encrypted_cookie{};
};

// Transport header; the ciphertext (padded plaintext + tag) follows it.
struct TransportHeader {
  uint32_t receiver = 0;
  uint64_t counter = 0;
};

Bytes Encode(const Initiation& m);
Bytes Encode(const Response& m);
Bytes Encode(const CookieReply& m);
// Header then `ciphertext` (already sealed).
Bytes EncodeTransport(const TransportHeader& h, ByteView ciphertext);

std::optional<Initiation> DecodeInitiation(ByteView bytes);
std::optional<Response> DecodeResponse(ByteView bytes);
std::optional<CookieReply> DecodeCookieReply(ByteView bytes);
// Header; `ciphertext` is set to the rest.
std::optional<TransportHeader> DecodeTransport(ByteView bytes, ByteView& ciphertext);

// The receiver index of a response, cookie reply or transport message (the
// field a device looks its session up by); nullopt for an initiation.
std::optional<uint32_t> ReceiverIndex(ByteView bytes);

}  // namespace punchlab::wireguard
