#include "punchlab/stun/message.h"

#include <zlib.h>

#include <cassert>
#include <string_view>
#include <utility>

namespace punchlab {
namespace stun {
namespace {

constexpr uint8_t kFamilyV4 = 0x01;
constexpr uint8_t kFamilyV6 = 0x02;
constexpr uint32_t kChangeIpFlag = 0x04;
constexpr uint32_t kChangePortFlag = 0x02;
// RFC 5389 15.3/15.6/15.10: "fewer than 128 characters (which can be as long
// as 763 bytes)". The encoder's precondition (it asserts), so the decoder
// refuses longer text too: what it decodes can always be written again.
constexpr size_t kMaxTextBytes = 763;

bool HasCookie(const std::array<uint8_t, 16>& wire) {
  return wire[0] == 0x21 && wire[1] == 0x12 && wire[2] == 0xA4 && wire[3] == 0x42;
}

uint32_t Crc32(const uint8_t* data, size_t n) {
  return static_cast<uint32_t>(crc32(0L, data, static_cast<uInt>(n)));
}

std::string Hex16(uint16_t v) {
  static const char* kDigits = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 12; shift >= 0; shift -= 4) s.push_back(kDigits[(v >> shift) & 0xF]);
  return s;
}

std::string TooLong(const char* what, size_t bytes) {
  return "has " + std::string(what) + " of " + std::to_string(bytes) + " bytes, at most " +
         std::to_string(kMaxTextBytes);
}

// Every byte of a STUN text attribute is kept, except the NULs classic
// servers pad strings with (stund sends "Vovida.org 0.97\0").
std::string Text(ByteView v) {
  size_t n = v.size();
  while (n > 0 && v[n - 1] == 0) --n;
  return std::string(reinterpret_cast<const char*>(v.data()), n);
}

// XOR key: the 16 id bytes (cookie || 96-bit id for modern messages, the
// 128-bit id for classic ones, which is how stund XORs in classic replies).
std::optional<Endpoint> ParseAddress(ByteView v, bool xored, const std::array<uint8_t, 16>& key,
                                     std::string& why) {
  if (v.size() < 4) {
    why = "is " + std::to_string(v.size()) + " bytes, an address needs at least 4";
    return std::nullopt;
  }
  const uint8_t family = v[1];
  uint16_t port = static_cast<uint16_t>((v[2] << 8) | v[3]);
  if (xored) port = static_cast<uint16_t>(port ^ ((key[0] << 8) | key[1]));
  if (family == kFamilyV4) {
    if (v.size() != 8) {
      why = "is " + std::to_string(v.size()) + " bytes, an IPv4 address takes 8";
      return std::nullopt;
    }
    uint8_t b[4];
    for (size_t i = 0; i < 4; ++i) b[i] = static_cast<uint8_t>(v[4 + i] ^ (xored ? key[i] : 0));
    return Endpoint(IpAddress::V4(b[0], b[1], b[2], b[3]), port);
  }
  if (family == kFamilyV6) {
    if (v.size() != 20) {
      why = "is " + std::to_string(v.size()) + " bytes, an IPv6 address takes 20";
      return std::nullopt;
    }
    std::array<uint8_t, 16> b{};
    for (size_t i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(v[4 + i] ^ (xored ? key[i] : 0));
    return Endpoint(IpAddress::V6(b), port);
  }
  why = "has address family " + std::to_string(family) + ", expected 1 (IPv4) or 2 (IPv6)";
  return std::nullopt;
}

const char* AttributeName(uint16_t type) {
  switch (type) {
    case attr::kMappedAddress: return "MAPPED-ADDRESS";
    case attr::kResponseAddress: return "RESPONSE-ADDRESS";
    case attr::kChangeRequest: return "CHANGE-REQUEST";
    case attr::kSourceAddress: return "SOURCE-ADDRESS";
    case attr::kChangedAddress: return "CHANGED-ADDRESS";
    case attr::kUsername: return "USERNAME";
    case attr::kMessageIntegrity: return "MESSAGE-INTEGRITY";
    case attr::kErrorCode: return "ERROR-CODE";
    case attr::kUnknownAttributes: return "UNKNOWN-ATTRIBUTES";
    case attr::kReflectedFrom: return "REFLECTED-FROM";
    case attr::kXorMappedAddress: return "XOR-MAPPED-ADDRESS";
    case attr::kPadding: return "PADDING";
    case attr::kResponsePort: return "RESPONSE-PORT";
    case attr::kXorMappedAddressAlt: return "XOR-MAPPED-ADDRESS (0x8020)";
    case attr::kSoftware: return "SOFTWARE";
    case attr::kFingerprint: return "FINGERPRINT";
    case attr::kResponseOrigin: return "RESPONSE-ORIGIN";
    case attr::kOtherAddress: return "OTHER-ADDRESS";
    default: return "attribute";
  }
}

DecodeResult Fail(DecodeError e, std::string reason) {
  DecodeResult r;
  r.error = e;
  r.reason = std::move(reason);
  return r;
}

class AttributeWriter {
 public:
  explicit AttributeWriter(Bytes& out) : w_(out) {}

  void Raw(uint16_t type, ByteView value) {
    assert(value.size() <= 0xFFFF);
    w_.U16(type);
    w_.U16(static_cast<uint16_t>(value.size()));
    w_.Append(value);
    w_.Zeros((4 - value.size() % 4) % 4);
  }

  void Address(uint16_t type, const Endpoint& ep, bool xored, const std::array<uint8_t, 16>& key) {
    Bytes v;
    ByteWriter vw(v);
    vw.U8(0);
    vw.U8(ep.ip.is_v4() ? kFamilyV4 : kFamilyV6);
    uint16_t port = ep.port;
    if (xored) port = static_cast<uint16_t>(port ^ ((key[0] << 8) | key[1]));
    vw.U16(port);
    for (size_t i = 0; i < ep.ip.size(); ++i) {
      vw.U8(static_cast<uint8_t>(ep.ip.bytes()[i] ^ (xored ? key[i] : 0)));
    }
    Raw(type, v);
  }

  void Text(uint16_t type, const std::string& s) {
    assert(s.size() <= kMaxTextBytes);
    Raw(type, ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
  }

 private:
  ByteWriter w_;
};

}  // namespace

TransactionId TransactionId::Random(RandomSource& rng) {
  std::array<uint8_t, 16> w{0x21, 0x12, 0xA4, 0x42};
  rng.Fill(w.data() + 4, 12);
  return TransactionId(w);
}

TransactionId TransactionId::RandomClassic(RandomSource& rng) {
  std::array<uint8_t, 16> w{};
  do {
    rng.Fill(w.data(), w.size());
  } while (HasCookie(w));
  return TransactionId(w);
}

bool TransactionId::classic() const { return !HasCookie(wire_); }

std::string TransactionId::ToString() const { return ToHex(ByteView(wire_.data(), wire_.size())); }

std::optional<Endpoint> Message::MappedEndpoint() const {
  return xor_mapped_address ? xor_mapped_address : mapped_address;
}

std::optional<Endpoint> Message::ResponseOrigin() const {
  return response_origin ? response_origin : source_address;
}

std::optional<Endpoint> Message::OtherAddress() const {
  return other_address ? other_address : changed_address;
}

uint16_t MessageType(uint16_t method, MessageClass cls) {
  const auto c = static_cast<uint16_t>(cls);
  return static_cast<uint16_t>((method & 0x000F) | ((method & 0x0070) << 1) |
                               ((method & 0x0F80) << 2) | ((c & 1) << 4) | ((c & 2) << 7));
}

const char* ToString(DecodeError e) {
  switch (e) {
    case DecodeError::kNone: return "none";
    case DecodeError::kTooShort: return "too-short";
    case DecodeError::kNotStun: return "not-stun";
    case DecodeError::kBadLength: return "bad-length";
    case DecodeError::kNotClassic: return "not-classic";
    case DecodeError::kAttributeOverrun: return "attribute-overrun";
    case DecodeError::kBadAttribute: return "bad-attribute";
    case DecodeError::kFingerprintNotLast: return "fingerprint-not-last";
    case DecodeError::kFingerprintMismatch: return "fingerprint-mismatch";
  }
  return "unknown";
}

DecodeResult DecodeMessage(ByteView d) {
  if (d.size() < kHeaderSize) {
    return Fail(DecodeError::kTooShort,
                "datagram is " + std::to_string(d.size()) + " bytes, a STUN header needs 20");
  }
  ByteReader r(d);
  uint16_t type = 0;
  uint16_t length = 0;
  r.ReadU16(type);
  r.ReadU16(length);
  if (type & 0xC000) {
    return Fail(DecodeError::kNotStun, "message type " + Hex16(type) + " has a top bit set");
  }
  if (length % 4 != 0) {
    return Fail(DecodeError::kBadLength,
                "length field " + std::to_string(length) + " is not a multiple of 4");
  }
  if (kHeaderSize + length != d.size()) {
    return Fail(DecodeError::kBadLength, "length field says " + std::to_string(length) +
                                             " attribute bytes, the datagram carries " +
                                             std::to_string(d.size() - kHeaderSize));
  }
  std::array<uint8_t, 16> wire{};
  r.ReadInto(wire.data(), wire.size());

  Message m;
  m.transaction_id = TransactionId(wire);
  m.method = static_cast<uint16_t>(((type & 0x3E00) >> 2) | ((type & 0x00E0) >> 1) | (type & 0x000F));
  m.cls = static_cast<MessageClass>(((type >> 7) & 2) | ((type >> 4) & 1));
  if (m.classic() && (m.method != kMethodBinding || m.cls == MessageClass::kIndication)) {
    return Fail(DecodeError::kNotClassic,
                "no magic cookie, and type " + Hex16(type) +
                    " is not an RFC 3489 binding request, response or error");
  }

  bool xor_from_alt = false;
  bool after_integrity = false;
  bool saw_fingerprint = false;
  while (r.remaining() > 0) {
    const size_t at = r.position();
    uint16_t at_type = 0;
    uint16_t at_len = 0;
    // remaining() is a multiple of 4 here, so the 4-byte header is present.
    r.ReadU16(at_type);
    r.ReadU16(at_len);
    const size_t padded = (static_cast<size_t>(at_len) + 3) & ~static_cast<size_t>(3);
    const std::string where = std::string(AttributeName(at_type)) + " (" + Hex16(at_type) +
                              ") at offset " + std::to_string(at);
    if (padded > r.remaining()) {
      return Fail(DecodeError::kAttributeOverrun,
                  where + " declares " + std::to_string(at_len) + " bytes, only " +
                      std::to_string(r.remaining()) + " remain");
    }
    ByteView v;
    r.ReadBytes(at_len, v);
    r.Skip(padded - at_len);
    if (saw_fingerprint) {
      return Fail(DecodeError::kFingerprintNotLast, where + " follows FINGERPRINT");
    }
    std::string why;
    auto bad = [&](const std::string& what) {
      return Fail(DecodeError::kBadAttribute, where + " " + what);
    };

    if (at_type == attr::kFingerprint) {
      if (v.size() != 4) return bad("is " + std::to_string(v.size()) + " bytes, expected 4");
      const uint32_t got = static_cast<uint32_t>((v[0] << 24) | (v[1] << 16) | (v[2] << 8) | v[3]);
      const uint32_t want = Crc32(d.data(), at) ^ kFingerprintXor;
      if (got != want) {
        return Fail(DecodeError::kFingerprintMismatch,
                    "FINGERPRINT is 0x" + ToHex(v) + ", the message's CRC-32 says " +
                        Hex16(static_cast<uint16_t>(want >> 16)) +
                        Hex16(static_cast<uint16_t>(want)).substr(2));
      }
      m.fingerprint = true;
      saw_fingerprint = true;
      continue;
    }
    // RFC 5389 15.4: everything after MESSAGE-INTEGRITY except FINGERPRINT is ignored.
    if (after_integrity) continue;

    switch (at_type) {
      case attr::kMappedAddress:
      case attr::kXorMappedAddress:
      case attr::kXorMappedAddressAlt:
      case attr::kResponseOrigin:
      case attr::kOtherAddress:
      case attr::kSourceAddress:
      case attr::kChangedAddress: {
        const bool xored = at_type == attr::kXorMappedAddress || at_type == attr::kXorMappedAddressAlt;
        auto ep = ParseAddress(v, xored, wire, why);
        if (!ep) return bad(why);
        std::optional<Endpoint>* slot = nullptr;
        switch (at_type) {
          case attr::kMappedAddress: slot = &m.mapped_address; break;
          case attr::kResponseOrigin: slot = &m.response_origin; break;
          case attr::kOtherAddress: slot = &m.other_address; break;
          case attr::kSourceAddress: slot = &m.source_address; break;
          case attr::kChangedAddress: slot = &m.changed_address; break;
          default: slot = &m.xor_mapped_address; break;
        }
        if (at_type == attr::kXorMappedAddress && xor_from_alt) {
          // The standard code point beats Tailscale's 0x8020 in any order.
          m.xor_mapped_address = ep;
          xor_from_alt = false;
        } else if (!*slot) {
          *slot = ep;
          xor_from_alt = at_type == attr::kXorMappedAddressAlt;
        }
        break;
      }
      case attr::kChangeRequest: {
        if (v.size() != 4) return bad("is " + std::to_string(v.size()) + " bytes, expected 4");
        if (!m.change_request) {
          const uint32_t flags = static_cast<uint32_t>(v[3]);
          m.change_request = ChangeRequest{(flags & kChangeIpFlag) != 0, (flags & kChangePortFlag) != 0};
        }
        break;
      }
      case attr::kResponsePort: {
        // Exactly 4: the port, then 2 bytes of padding inside the value.
        if (v.size() != 4) return bad("is " + std::to_string(v.size()) + " bytes, expected 4");
        if (!m.response_port) m.response_port = static_cast<uint16_t>((v[0] << 8) | v[1]);
        break;
      }
      case attr::kPadding:
        if (!m.padding) m.padding = static_cast<uint16_t>(v.size());
        break;
      case attr::kErrorCode: {
        if (v.size() < 4) return bad("is " + std::to_string(v.size()) + " bytes, needs at least 4");
        const int klass = v[2] & 0x07;
        const int number = v[3];
        if (klass < 3 || klass > 6 || number > 99) {
          return bad("has class " + std::to_string(klass) + " number " + std::to_string(number) +
                     ", expected class 3-6 and number 0-99");
        }
        std::string reason = Text(v.sub(4));
        if (reason.size() > kMaxTextBytes) return bad(TooLong("reason", reason.size()));
        if (!m.error_code) {
          m.error_code = ErrorCode{static_cast<uint16_t>(klass * 100 + number), std::move(reason)};
        }
        break;
      }
      case attr::kUnknownAttributes: {
        if (v.size() % 2 != 0) return bad("has odd length " + std::to_string(v.size()));
        if (m.unknown_attributes.empty()) {
          for (size_t i = 0; i + 1 < v.size(); i += 2) {
            m.unknown_attributes.push_back(static_cast<uint16_t>((v[i] << 8) | v[i + 1]));
          }
        }
        break;
      }
      case attr::kSoftware: {
        std::string text = Text(v);
        if (text.size() > kMaxTextBytes) return bad(TooLong("text", text.size()));
        if (!m.software) m.software = std::move(text);
        break;
      }
      case attr::kUsername:
        if (v.size() > kMaxTextBytes) return bad(TooLong("text", v.size()));
        if (!m.username) m.username = std::string(reinterpret_cast<const char*>(v.data()), v.size());
        break;
      case attr::kMessageIntegrity: {
        if (v.size() != 20) return bad("is " + std::to_string(v.size()) + " bytes, expected 20");
        std::array<uint8_t, 20> mac{};
        for (size_t i = 0; i < mac.size(); ++i) mac[i] = v[i];
        m.message_integrity = mac;
        after_integrity = true;
        break;
      }
      case attr::kResponseAddress:
      case attr::kReflectedFrom:
        m.other_attributes.push_back(RawAttribute{at_type, v.ToBytes()});
        break;
      default:
        m.other_attributes.push_back(RawAttribute{at_type, v.ToBytes()});
        if (attr::IsComprehensionRequired(at_type)) m.unknown_required.push_back(at_type);
        break;
    }
  }
  DecodeResult ok;
  ok.message = std::move(m);
  return ok;
}

Bytes EncodeMessage(const Message& m) {
  Bytes out;
  out.reserve(128);
  ByteWriter w(out);
  w.U16(MessageType(m.method, m.cls));
  w.U16(0);  // patched below
  const auto& key = m.transaction_id.wire();
  w.Append(ByteView(key.data(), key.size()));

  AttributeWriter a(out);
  if (m.xor_mapped_address) a.Address(attr::kXorMappedAddress, *m.xor_mapped_address, true, key);
  if (m.mapped_address) a.Address(attr::kMappedAddress, *m.mapped_address, false, key);
  if (m.response_origin) a.Address(attr::kResponseOrigin, *m.response_origin, false, key);
  if (m.other_address) a.Address(attr::kOtherAddress, *m.other_address, false, key);
  if (m.source_address) a.Address(attr::kSourceAddress, *m.source_address, false, key);
  if (m.changed_address) a.Address(attr::kChangedAddress, *m.changed_address, false, key);
  if (m.change_request) {
    const uint8_t flags = static_cast<uint8_t>((m.change_request->change_ip ? kChangeIpFlag : 0) |
                                               (m.change_request->change_port ? kChangePortFlag : 0));
    const uint8_t v[4] = {0, 0, 0, flags};
    a.Raw(attr::kChangeRequest, ByteView(v, 4));
  }
  if (m.response_port) {
    const uint8_t v[4] = {static_cast<uint8_t>(*m.response_port >> 8),
                          static_cast<uint8_t>(*m.response_port), 0, 0};
    a.Raw(attr::kResponsePort, ByteView(v, 4));
  }
  if (m.username) a.Text(attr::kUsername, *m.username);
  if (m.error_code) {
    assert(m.error_code->code >= 300 && m.error_code->code <= 699);
    assert(m.error_code->reason.size() <= kMaxTextBytes);
    Bytes v = {0, 0, static_cast<uint8_t>(m.error_code->code / 100),
               static_cast<uint8_t>(m.error_code->code % 100)};
    v.insert(v.end(), m.error_code->reason.begin(), m.error_code->reason.end());
    a.Raw(attr::kErrorCode, v);
  }
  if (!m.unknown_attributes.empty()) {
    Bytes v;
    ByteWriter vw(v);
    for (uint16_t t : m.unknown_attributes) vw.U16(t);
    a.Raw(attr::kUnknownAttributes, v);
  }
  if (m.software) a.Text(attr::kSoftware, *m.software);
  if (m.padding) a.Raw(attr::kPadding, Bytes(*m.padding));
  for (const RawAttribute& raw : m.other_attributes) a.Raw(raw.type, raw.value);

  if (m.fingerprint) {
    // The length field must already count FINGERPRINT when the CRC is taken.
    assert(out.size() + 8 - kHeaderSize <= 0xFFFF);
    w.PatchU16(2, static_cast<uint16_t>(out.size() + 8 - kHeaderSize));
    const uint32_t crc = Crc32(out.data(), out.size()) ^ kFingerprintXor;
    w.U16(attr::kFingerprint);
    w.U16(4);
    w.U32(crc);
  }
  assert(out.size() - kHeaderSize <= 0xFFFF);
  w.PatchU16(2, static_cast<uint16_t>(out.size() - kHeaderSize));
  return out;
}

bool LooksLikeStun(ByteView d) {
  if (d.size() < kHeaderSize || (d[0] & 0xC0) != 0) return false;
  const size_t length = static_cast<size_t>((d[2] << 8) | d[3]);
  return length % 4 == 0 && kHeaderSize + length <= d.size() && d[4] == 0x21 && d[5] == 0x12 &&
         d[6] == 0xA4 && d[7] == 0x42;
}

}  // namespace stun
}  // namespace punchlab

size_t std::hash<punchlab::stun::TransactionId>::operator()(
    const punchlab::stun::TransactionId& id) const noexcept {
  const auto& w = id.wire();
  return std::hash<std::string_view>()(
      std::string_view(reinterpret_cast<const char*>(w.data()), w.size()));
}
