#include "punchlab/portmap/pcp.h"

namespace punchlab {
namespace portmap {
namespace pcp {

namespace {

template <typename T>
std::optional<T> Fail(DecodeError* out, DecodeError e) {
  if (out != nullptr) *out = e;
  return std::nullopt;
}

void WriteIp(ByteWriter& w, const IpAddress& ip) {
  const auto v6 = ip.ToV6Mapped();
  w.Append(ByteView(v6.data(), v6.size()));
}

IpAddress ReadIp(ByteReader& r) {
  std::array<uint8_t, 16> b{};
  r.ReadInto(b.data(), b.size());
  return IpAddress::FromV6Mapped(b);
}

void WriteMap(ByteWriter& w, const MapData& m) {
  w.Append(ByteView(m.nonce.data(), m.nonce.size()));
  w.U8(m.protocol);
  w.Zeros(3);
  w.U16(m.internal_port);
  w.U16(m.external_port);
  WriteIp(w, m.external_ip);
}

MapData ReadMap(ByteReader& r) {
  MapData m;
  r.ReadInto(m.nonce.data(), m.nonce.size());
  r.ReadU8(m.protocol);
  r.Skip(3);
  r.ReadU16(m.internal_port);
  r.ReadU16(m.external_port);
  m.external_ip = ReadIp(r);
  return m;
}

// Size, version and direction checks shared by both directions.
bool CheckFrame(ByteView b, bool want_response, DecodeError* error) {
  DecodeError e = DecodeError::kNone;
  if (b.size() < kHeaderSize) {
    e = DecodeError::kTooShort;
  } else if (b[0] != kVersion) {
    e = DecodeError::kWrongVersion;
  } else if (((b[1] & kResponseBit) != 0) != want_response) {
    e = DecodeError::kWrongDirection;
  } else if (b.size() % 4 != 0 || b.size() > kMaxMessageSize) {
    e = DecodeError::kBadLength;
  }
  if (e == DecodeError::kNone) return true;
  if (error != nullptr) *error = e;
  return false;
}

// Options (7.3): code, reserved, length, data padded to 4 bytes.
bool SkipOptions(ByteReader& r) {
  while (r.remaining() > 0) {
    uint8_t code = 0;
    uint8_t reserved = 0;
    uint16_t length = 0;
    if (!r.ReadU8(code) || !r.ReadU8(reserved) || !r.ReadU16(length)) return false;
    const size_t padded = (static_cast<size_t>(length) + 3) / 4 * 4;
    if (!r.Skip(padded)) return false;
  }
  return true;
}

}  // namespace

const char* ToString(ResultCode r) {
  switch (r) {
    case ResultCode::kSuccess: return "success";
    case ResultCode::kUnsuppVersion: return "unsupp-version";
    case ResultCode::kNotAuthorized: return "not-authorized";
    case ResultCode::kMalformedRequest: return "malformed-request";
    case ResultCode::kUnsuppOpcode: return "unsupp-opcode";
    case ResultCode::kUnsuppOption: return "unsupp-option";
    case ResultCode::kMalformedOption: return "malformed-option";
    case ResultCode::kNetworkFailure: return "network-failure";
    case ResultCode::kNoResources: return "no-resources";
    case ResultCode::kUnsuppProtocol: return "unsupp-protocol";
    case ResultCode::kUserExQuota: return "user-ex-quota";
    case ResultCode::kCannotProvideExternal: return "cannot-provide-external";
    case ResultCode::kAddressMismatch: return "address-mismatch";
    case ResultCode::kExcessiveRemotePeers: return "excessive-remote-peers";
  }
  return "result-unknown";
}

const char* ToString(DecodeError e) {
  switch (e) {
    case DecodeError::kNone: return "none";
    case DecodeError::kTooShort: return "too-short";
    case DecodeError::kWrongVersion: return "wrong-version";
    case DecodeError::kWrongDirection: return "wrong-direction";
    case DecodeError::kBadLength: return "bad-length";
    case DecodeError::kBadOption: return "bad-option";
  }
  return "?";
}

Bytes EncodeRequest(const Request& req) {
  Bytes out;
  ByteWriter w(out);
  w.U8(kVersion);
  w.U8(static_cast<uint8_t>(req.opcode & ~kResponseBit));
  w.U16(0);
  w.U32(req.lifetime_seconds);
  WriteIp(w, req.client_ip);
  if (req.map) WriteMap(w, *req.map);
  return out;
}

Bytes EncodeResponse(const Response& res) {
  Bytes out;
  ByteWriter w(out);
  w.U8(kVersion);
  w.U8(static_cast<uint8_t>(res.opcode | kResponseBit));
  w.U8(0);
  w.U8(static_cast<uint8_t>(res.result));
  w.U32(res.lifetime_seconds);
  w.U32(res.epoch_seconds);
  w.Zeros(12);
  if (res.map) WriteMap(w, *res.map);
  return out;
}

std::optional<Request> DecodeRequest(ByteView b, DecodeError* error) {
  if (error != nullptr) *error = DecodeError::kNone;
  if (!CheckFrame(b, false, error)) return std::nullopt;
  Request req;
  ByteReader r(b);
  uint8_t version = 0;
  r.ReadU8(version);
  r.ReadU8(req.opcode);
  r.Skip(2);
  r.ReadU32(req.lifetime_seconds);
  req.client_ip = ReadIp(r);
  if (req.opcode == kOpMap) {
    if (r.remaining() < kMapDataSize) return Fail<Request>(error, DecodeError::kTooShort);
    req.map = ReadMap(r);
  } else if (req.opcode != kOpAnnounce) {
    return req;  // unknown or PEER: the server answers kUnsuppOpcode
  }
  if (!SkipOptions(r)) return Fail<Request>(error, DecodeError::kBadOption);
  return req;
}

std::optional<Response> DecodeResponse(ByteView b, DecodeError* error) {
  if (error != nullptr) *error = DecodeError::kNone;
  if (!CheckFrame(b, true, error)) return std::nullopt;
  Response res;
  ByteReader r(b);
  uint8_t version = 0;
  uint8_t op = 0;
  uint8_t result = 0;
  r.ReadU8(version);
  r.ReadU8(op);
  res.opcode = static_cast<uint8_t>(op & ~kResponseBit);
  r.Skip(1);
  r.ReadU8(result);
  res.result = static_cast<ResultCode>(result);
  r.ReadU32(res.lifetime_seconds);
  r.ReadU32(res.epoch_seconds);
  r.Skip(12);
  if (res.opcode == kOpMap) {
    // A failure may come without the data (a server that could not parse it).
    if (r.remaining() < kMapDataSize) {
      if (res.result == ResultCode::kSuccess || r.remaining() != 0) {
        return Fail<Response>(error, DecodeError::kTooShort);
      }
      return res;
    }
    res.map = ReadMap(r);
  } else if (res.opcode != kOpAnnounce) {
    return res;
  }
  if (!SkipOptions(r)) return Fail<Response>(error, DecodeError::kBadOption);
  return res;
}

}  // namespace pcp
}  // namespace portmap
}  // namespace punchlab
