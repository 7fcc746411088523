// STUN message codec: RFC 5389/8489 binding messages with the RFC 5780
// behaviour-discovery attributes, and the classic RFC 3489 form that old peers
// (Debian's `stun` client and `stund`, Vovida 0.97) still speak.
//
// Plain functions over bytes: DecodeMessage() never reads outside its input and
// rejects anything malformed with a DecodeError and a one-sentence reason;
// EncodeMessage() writes what a Message says, in a fixed attribute order.
//
// Classic vs modern. RFC 5389 turned the first 4 bytes of RFC 3489's 128-bit
// transaction id into the magic cookie. TransactionId therefore keeps all 16
// bytes that follow the length field: a modern id is cookie + 12 random bytes,
// a classic id is 16 bytes without the cookie. Echoing an id, in either form,
// is copying those 16 bytes; the IPv6 XOR key (cookie || 96-bit id) is those
// same 16 bytes. A message without the cookie decodes only if it is a classic
// Binding request / success / error (the only methods RFC 3489 sent over UDP).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/random.h"

namespace punchlab {
namespace stun {

constexpr uint32_t kMagicCookie = 0x2112A442;
constexpr uint32_t kFingerprintXor = 0x5354554e;
constexpr size_t kHeaderSize = 20;
constexpr uint16_t kDefaultPort = 3478;

constexpr uint16_t kMethodBinding = 0x001;

// Attribute types. Below 0x8000: comprehension-required (an agent that does
// not understand one must reject the message: a server answers 420 with
// UNKNOWN-ATTRIBUTES); 0x8000 and above: comprehension-optional (ignored, kept).
namespace attr {
constexpr uint16_t kMappedAddress = 0x0001;
constexpr uint16_t kResponseAddress = 0x0002;  // RFC 3489 only; parsed, never honoured
constexpr uint16_t kChangeRequest = 0x0003;    // RFC 3489, revived by RFC 5780
constexpr uint16_t kSourceAddress = 0x0004;    // RFC 3489 (RESPONSE-ORIGIN's ancestor)
constexpr uint16_t kChangedAddress = 0x0005;   // RFC 3489 (OTHER-ADDRESS's ancestor)
constexpr uint16_t kUsername = 0x0006;
constexpr uint16_t kMessageIntegrity = 0x0008;
constexpr uint16_t kErrorCode = 0x0009;
constexpr uint16_t kUnknownAttributes = 0x000A;
constexpr uint16_t kReflectedFrom = 0x000B;  // RFC 3489 only; parsed, ignored
constexpr uint16_t kXorMappedAddress = 0x0020;
constexpr uint16_t kPadding = 0x0026;       // RFC 5780 7.6
constexpr uint16_t kResponsePort = 0x0027;  // RFC 5780 7.5
// Pre-RFC 5389 drafts' XOR-MAPPED-ADDRESS; Tailscale and Vovida stund still
// send or accept it. Decoded into Message::xor_mapped_address.
constexpr uint16_t kXorMappedAddressAlt = 0x8020;
constexpr uint16_t kSoftware = 0x8022;
constexpr uint16_t kFingerprint = 0x8028;
constexpr uint16_t kResponseOrigin = 0x802B;
constexpr uint16_t kOtherAddress = 0x802C;

constexpr bool IsComprehensionRequired(uint16_t type) { return type < 0x8000; }
}  // namespace attr

enum class MessageClass : uint8_t {
  kRequest = 0,
  kIndication = 1,
  kSuccessResponse = 2,
  kErrorResponse = 3,
};

// The 16 bytes after the length field (see the file comment).
class TransactionId {
 public:
  TransactionId() = default;  // all zeros: a classic id, matches nothing real
  explicit TransactionId(const std::array<uint8_t, 16>& wire) : wire_(wire) {}
  // Modern: magic cookie + 12 bytes from `rng`.
  static TransactionId Random(RandomSource& rng);
  // Classic RFC 3489: 16 bytes from `rng`, redrawn in the 2^-32 case that
  // they start with the magic cookie (which would make them modern).
  static TransactionId RandomClassic(RandomSource& rng);

  const std::array<uint8_t, 16>& wire() const { return wire_; }
  // True when the first 4 bytes are not the magic cookie.
  bool classic() const;
  std::string ToString() const;  // 32 lowercase hex digits, for logs

  bool operator==(const TransactionId& o) const { return wire_ == o.wire_; }
  bool operator!=(const TransactionId& o) const { return wire_ != o.wire_; }
  bool operator<(const TransactionId& o) const { return wire_ < o.wire_; }

 private:
  std::array<uint8_t, 16> wire_{};
};

// RFC 5780 / RFC 3489 CHANGE-REQUEST flags.
struct ChangeRequest {
  bool change_ip = false;
  bool change_port = false;
  bool operator==(const ChangeRequest& o) const {
    return change_ip == o.change_ip && change_port == o.change_port;
  }
};

// ERROR-CODE: code 300..699 (class 3..6, number 0..99), UTF-8 reason phrase.
struct ErrorCode {
  uint16_t code = 0;
  std::string reason;
  bool operator==(const ErrorCode& o) const { return code == o.code && reason == o.reason; }
};

namespace error {
constexpr uint16_t kTryAlternate = 300;
constexpr uint16_t kBadRequest = 400;
constexpr uint16_t kUnauthorized = 401;
constexpr uint16_t kUnknownAttribute = 420;
constexpr uint16_t kServerError = 500;
}  // namespace error

// An attribute the codec does not model, kept verbatim (value without padding).
struct RawAttribute {
  uint16_t type = 0;
  Bytes value;
  bool operator==(const RawAttribute& o) const { return type == o.type && value == o.value; }
};

// One STUN message. For decoding, each optional field is set when its
// attribute was present (the first occurrence wins, as RFC 5389 says);
// for encoding, each set field is written.
struct Message {
  uint16_t method = kMethodBinding;
  MessageClass cls = MessageClass::kRequest;
  TransactionId transaction_id;

  // XOR-MAPPED-ADDRESS (0x0020, or 0x8020 when 0x0020 is absent).
  std::optional<Endpoint> xor_mapped_address;
  std::optional<Endpoint> mapped_address;
  std::optional<Endpoint> response_origin;  // RFC 5780
  std::optional<Endpoint> other_address;    // RFC 5780
  std::optional<Endpoint> source_address;   // RFC 3489
  std::optional<Endpoint> changed_address;  // RFC 3489
  std::optional<ChangeRequest> change_request;
  // RESPONSE-PORT (RFC 5780 7.5): a 16-bit port followed by 2 bytes of padding.
  std::optional<uint16_t> response_port;
  // PADDING (RFC 5780 7.6): the value's length in bytes. Its content is
  // free-form and meaningless, so decoding keeps only the length and encoding
  // writes that many zero bytes.
  std::optional<uint16_t> padding;
  // Text: at most 763 bytes (RFC 5389's limit) each, here and in an error's
  // reason; the decoder refuses longer (kBadAttribute), the encoder asserts.
  std::optional<std::string> software;
  std::optional<std::string> username;
  std::optional<ErrorCode> error_code;
  // UNKNOWN-ATTRIBUTES: the types an error response says were not understood.
  std::vector<uint16_t> unknown_attributes;
  // Decode: the 20-byte HMAC as received, NOT verified (punchlab uses no
  // long- or short-term credentials). Encode: ignored, since writing it
  // would need a key the codec does not have.
  std::optional<std::array<uint8_t, 20>> message_integrity;
  // Decode: FINGERPRINT was present (and, since the message decoded, correct).
  // Encode: append FINGERPRINT as the last attribute.
  bool fingerprint = false;

  // Attributes the codec does not model: unknown types of either kind, and the
  // RFC 3489 relics RESPONSE-ADDRESS / REFLECTED-FROM. Encoded after the
  // modelled ones, in order.
  std::vector<RawAttribute> other_attributes;
  // Decode only: comprehension-required types among other_attributes that
  // punchlab does not understand. A server answers such a request with 420.
  std::vector<uint16_t> unknown_required;

  bool classic() const { return transaction_id.classic(); }
  // The address the server saw: XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS.
  std::optional<Endpoint> MappedEndpoint() const;
  // RESPONSE-ORIGIN, else (classic) SOURCE-ADDRESS.
  std::optional<Endpoint> ResponseOrigin() const;
  // OTHER-ADDRESS, else (classic) CHANGED-ADDRESS.
  std::optional<Endpoint> OtherAddress() const;
};

// Wire message type: method bits interleaved with the two class bits.
uint16_t MessageType(uint16_t method, MessageClass cls);

enum class DecodeError : uint8_t {
  kNone = 0,
  kTooShort,             // fewer than 20 bytes
  kNotStun,              // top two type bits set
  kBadLength,            // length not a multiple of 4 or not the datagram's size
  kNotClassic,           // no magic cookie, and not an RFC 3489 binding message
  kAttributeOverrun,     // an attribute (or its padding) runs past the end
  kBadAttribute,         // a known attribute with an impossible value
  kFingerprintNotLast,   // an attribute follows FINGERPRINT
  kFingerprintMismatch,  // CRC-32 does not match
};
const char* ToString(DecodeError e);

struct DecodeResult {
  std::optional<Message> message;
  DecodeError error = DecodeError::kNone;
  std::string reason;  // empty on success; otherwise says which field failed and why
  explicit operator bool() const { return message.has_value(); }
};

DecodeResult DecodeMessage(ByteView datagram);

// Writes the header, the set fields (XOR-MAPPED-ADDRESS, MAPPED-ADDRESS,
// RESPONSE-ORIGIN, OTHER-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS,
// CHANGE-REQUEST, RESPONSE-PORT, USERNAME, ERROR-CODE, UNKNOWN-ATTRIBUTES,
// SOFTWARE, PADDING), other_attributes, then FINGERPRINT if asked. Attribute
// padding and PADDING's value are zeros. Text over 763 bytes, and messages
// longer than the 16-bit length field, are the caller's bug (asserted); a
// decoded message is never either.
Bytes EncodeMessage(const Message& m);

// Cheap demultiplexing test for a socket shared with disco and data (see
// PROTOCOL.md): at least a header, top two bits zero, length a multiple of 4
// and within the datagram (trailing bytes allowed, as Tailscale's stun.Is
// does: the client trims them), magic cookie present. Classic messages are not recognised;
// a host that must serve classic clients gives STUN its own socket.
bool LooksLikeStun(ByteView datagram);

}  // namespace stun
}  // namespace punchlab

template <>
struct std::hash<punchlab::stun::TransactionId> {
  size_t operator()(const punchlab::stun::TransactionId& id) const noexcept;
};
