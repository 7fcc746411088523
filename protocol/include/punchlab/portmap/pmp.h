// NAT-PMP (RFC 6886) messages: the codec both ends share (the client machine
// in client.h, the NAT model's server in nat/port-mapping-server.h).
//
// Layouts (big-endian; section 3):
//   external address request   0 | op 0                                 2 bytes
//   external address response  0 | 128 | result(2) | epoch(4) | ip(4)  12 bytes
//   map request                0 | op 1/2 | 0(2) | internal port(2) |
//                              suggested external port(2) | lifetime(4) 12 bytes
//   map response               0 | 128+op | result(2) | epoch(4) |
//                              internal port(2) | external port(2) |
//                              lifetime(4)                              16 bytes
//   error header               0 | 128+op | result(2) | epoch(4)        8 bytes
// (section 3.5: a server answers an unsupported version with the 8-byte
// header, result 1.) A map request with lifetime 0 deletes (section 3.4).
#pragma once

#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"

namespace punchlab {
namespace portmap {

// NAT-PMP and PCP share the server port (RFC 6887 section 19.1).
constexpr uint16_t kServerPort = 5351;

namespace pmp {

constexpr uint8_t kVersion = 0;
constexpr uint8_t kResponseBit = 0x80;  // OR'd into the request's opcode
constexpr uint8_t kOpExternalAddress = 0;
constexpr uint8_t kOpMapUdp = 1;
constexpr uint8_t kOpMapTcp = 2;

// Section 3.5.
enum class ResultCode : uint16_t {
  kSuccess = 0,
  kUnsupportedVersion = 1,
  kNotAuthorized = 2,
  kNetworkFailure = 3,
  kOutOfResources = 4,
  kUnsupportedOpcode = 5,
};
// "success", "unsupported-version", ... ; "result-N" for other values.
const char* ToString(ResultCode r);

struct MapRequest {
  uint8_t opcode = kOpMapUdp;  // kOpMapUdp or kOpMapTcp
  uint16_t internal_port = 0;
  uint16_t suggested_external_port = 0;  // 0: any
  uint32_t lifetime_seconds = 0;         // 0: delete
};

// What a server reads. An external address request has no fields.
struct Request {
  uint8_t opcode = kOpExternalAddress;
  MapRequest map;  // for kOpMapUdp / kOpMapTcp
};

struct Response {
  uint8_t opcode = 0;  // the request's opcode (response bit cleared)
  ResultCode result = ResultCode::kSuccess;
  uint32_t epoch_seconds = 0;  // seconds since the server's mapping table started
  // Only in a full-length answer (not the 8-byte error header):
  bool has_body = false;
  IpAddress external_ip;       // opcode 0
  uint16_t internal_port = 0;  // opcode 1/2
  uint16_t external_port = 0;
  uint32_t lifetime_seconds = 0;
};

enum class DecodeError : uint8_t {
  kNone,
  kTooShort,
  kWrongVersion,   // not version 0 (a PCP message, or garbage)
  kNotResponse,    // response decoder got a request (or the reverse)
  kBadLength,      // not the opcode's length
  kUnknownOpcode,  // response to an opcode this codec does not know
};
const char* ToString(DecodeError e);

Bytes EncodeExternalAddressRequest();
Bytes EncodeMapRequest(const MapRequest& m);
// Full-length answers for opcodes 0, 1 and 2; `header_only` writes the 8-byte
// error header (what a server sends for an unsupported version).
Bytes EncodeResponse(const Response& r, bool header_only = false);

// Requests (server side): version and opcode checked; an unknown opcode
// below 128 decodes (opcode set, nothing else) so the server can answer it
// with kUnsupportedOpcode (section 3.5).
std::optional<Request> DecodeRequest(ByteView b, DecodeError* error = nullptr);
// Responses (client side): success answers must have their opcode's exact
// length (as Tailscale's parsePMPResponse); failures may be the 8-byte header
// or full length.
std::optional<Response> DecodeResponse(ByteView b, DecodeError* error = nullptr);

}  // namespace pmp
}  // namespace portmap
}  // namespace punchlab
