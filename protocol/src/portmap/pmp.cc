#include "punchlab/portmap/pmp.h"

namespace punchlab {
namespace portmap {
namespace pmp {

namespace {

constexpr size_t kHeaderSize = 8;
constexpr size_t kExternalAddressSize = 12;
constexpr size_t kMapResponseSize = 16;
constexpr size_t kMapRequestSize = 12;

bool IsMapOpcode(uint8_t op) { return op == kOpMapUdp || op == kOpMapTcp; }

template <typename T>
std::optional<T> Fail(DecodeError* out, DecodeError e) {
  if (out != nullptr) *out = e;
  return std::nullopt;
}

}  // namespace

const char* ToString(ResultCode r) {
  switch (r) {
    case ResultCode::kSuccess: return "success";
    case ResultCode::kUnsupportedVersion: return "unsupported-version";
    case ResultCode::kNotAuthorized: return "not-authorized";
    case ResultCode::kNetworkFailure: return "network-failure";
    case ResultCode::kOutOfResources: return "out-of-resources";
    case ResultCode::kUnsupportedOpcode: return "unsupported-opcode";
  }
  return "result-unknown";
}

const char* ToString(DecodeError e) {
  switch (e) {
    case DecodeError::kNone: return "none";
    case DecodeError::kTooShort: return "too-short";
    case DecodeError::kWrongVersion: return "wrong-version";
    case DecodeError::kNotResponse: return "not-response";
    case DecodeError::kBadLength: return "bad-length";
    case DecodeError::kUnknownOpcode: return "unknown-opcode";
  }
  return "?";
}

Bytes EncodeExternalAddressRequest() { return Bytes{kVersion, kOpExternalAddress}; }

Bytes EncodeMapRequest(const MapRequest& m) {
  Bytes out;
  ByteWriter w(out);
  w.U8(kVersion);
  w.U8(m.opcode);
  w.U16(0);  // reserved
  w.U16(m.internal_port);
  w.U16(m.suggested_external_port);
  w.U32(m.lifetime_seconds);
  return out;
}

Bytes EncodeResponse(const Response& r, bool header_only) {
  Bytes out;
  ByteWriter w(out);
  w.U8(kVersion);
  w.U8(static_cast<uint8_t>(r.opcode | kResponseBit));
  w.U16(static_cast<uint16_t>(r.result));
  w.U32(r.epoch_seconds);
  if (header_only) return out;
  if (r.opcode == kOpExternalAddress) {
    const IpAddress ip = r.external_ip.is_v4() ? r.external_ip : IpAddress();
    w.Append(ByteView(ip.bytes().data(), 4));
  } else if (IsMapOpcode(r.opcode)) {
    w.U16(r.internal_port);
    w.U16(r.external_port);
    w.U32(r.lifetime_seconds);
  }
  return out;
}

std::optional<Request> DecodeRequest(ByteView b, DecodeError* error) {
  if (error != nullptr) *error = DecodeError::kNone;
  if (b.size() < 2) return Fail<Request>(error, DecodeError::kTooShort);
  if (b[0] != kVersion) return Fail<Request>(error, DecodeError::kWrongVersion);
  Request req;
  req.opcode = b[1];
  if ((req.opcode & kResponseBit) != 0) return Fail<Request>(error, DecodeError::kNotResponse);
  if (req.opcode == kOpExternalAddress) {
    if (b.size() != 2) return Fail<Request>(error, DecodeError::kBadLength);
    return req;
  }
  if (!IsMapOpcode(req.opcode)) return req;  // the server answers kUnsupportedOpcode
  if (b.size() != kMapRequestSize) return Fail<Request>(error, DecodeError::kBadLength);
  ByteReader r(b.sub(4));
  req.map.opcode = req.opcode;
  r.ReadU16(req.map.internal_port);
  r.ReadU16(req.map.suggested_external_port);
  r.ReadU32(req.map.lifetime_seconds);
  return req;
}

std::optional<Response> DecodeResponse(ByteView b, DecodeError* error) {
  if (error != nullptr) *error = DecodeError::kNone;
  if (b.size() < 2) return Fail<Response>(error, DecodeError::kTooShort);
  if (b[0] != kVersion) return Fail<Response>(error, DecodeError::kWrongVersion);
  if ((b[1] & kResponseBit) == 0) return Fail<Response>(error, DecodeError::kNotResponse);
  if (b.size() < kHeaderSize) return Fail<Response>(error, DecodeError::kTooShort);
  Response res;
  res.opcode = static_cast<uint8_t>(b[1] & ~kResponseBit);
  ByteReader r(b.sub(2));
  uint16_t result = 0;
  r.ReadU16(result);
  res.result = static_cast<ResultCode>(result);
  r.ReadU32(res.epoch_seconds);
  size_t full = 0;
  if (res.opcode == kOpExternalAddress) {
    full = kExternalAddressSize;
  } else if (IsMapOpcode(res.opcode)) {
    full = kMapResponseSize;
  } else if (res.result == ResultCode::kSuccess) {
    return Fail<Response>(error, DecodeError::kUnknownOpcode);
  } else {
    return res;  // e.g. an echoed unknown request with kUnsupportedOpcode
  }
  const bool failure = res.result != ResultCode::kSuccess;
  if (b.size() == kHeaderSize && failure) return res;
  if (b.size() != full) return Fail<Response>(error, DecodeError::kBadLength);
  res.has_body = true;
  if (res.opcode == kOpExternalAddress) {
    res.external_ip = IpAddress::V4(b[8], b[9], b[10], b[11]);
  } else {
    r.ReadU16(res.internal_port);
    r.ReadU16(res.external_port);
    r.ReadU32(res.lifetime_seconds);
  }
  return res;
}

}  // namespace pmp
}  // namespace portmap
}  // namespace punchlab
