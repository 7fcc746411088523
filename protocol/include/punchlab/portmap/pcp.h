// PCP (RFC 6887) messages: the common header, ANNOUNCE and MAP. The codec
// both ends share (client.h; nat/port-mapping-server.h).
//
// Layouts (big-endian):
//   request header (7.1)   version 2 | R=0,opcode(7) | reserved(2) |
//                          requested lifetime(4) | client IP(16)      24 bytes
//   response header (7.2)  version 2 | R=1,opcode | reserved(1) | result(1) |
//                          lifetime(4) | epoch(4) | reserved(12)     24 bytes
//   MAP data (11.1)        nonce(12) | protocol(1) | reserved(3) |
//                          internal port(2) | suggested/assigned external
//                          port(2) | suggested/assigned external IP(16)
//                                                                     36 bytes
//   options (7.3)          code(1) | reserved(1) | length(2) | data, padded to 4
// IPv4 addresses travel as IPv4-mapped IPv6 (::ffff:a.b.c.d). A message is a
// multiple of 4 bytes and at most 1100 (section 7). ANNOUNCE has no opcode
// data. A MAP request with lifetime 0 deletes (section 15).
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"

namespace punchlab {
namespace portmap {
namespace pcp {

constexpr uint8_t kVersion = 2;
constexpr uint8_t kResponseBit = 0x80;
constexpr uint8_t kOpAnnounce = 0;
constexpr uint8_t kOpMap = 1;
constexpr uint8_t kOpPeer = 2;
constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;
constexpr size_t kHeaderSize = 24;
constexpr size_t kMapDataSize = 36;
constexpr size_t kMaxMessageSize = 1100;

// Section 7.4.
enum class ResultCode : uint8_t {
  kSuccess = 0,
  kUnsuppVersion = 1,
  kNotAuthorized = 2,
  kMalformedRequest = 3,
  kUnsuppOpcode = 4,
  kUnsuppOption = 5,
  kMalformedOption = 6,
  kNetworkFailure = 7,
  kNoResources = 8,
  kUnsuppProtocol = 9,
  kUserExQuota = 10,
  kCannotProvideExternal = 11,
  kAddressMismatch = 12,
  kExcessiveRemotePeers = 13,
};
// "success", "not-authorized", ... (the RFC's names, lower case, '-'); "result-unknown".
const char* ToString(ResultCode r);

using Nonce = std::array<uint8_t, 12>;

struct MapData {
  Nonce nonce{};
  uint8_t protocol = kProtocolUdp;  // IANA protocol number; 0: all
  uint16_t internal_port = 0;
  uint16_t external_port = 0;  // suggested (request) or assigned (response)
  IpAddress external_ip;       // v4-mapped on the wire; IPv4 here when it is one
};

struct Request {
  uint8_t opcode = kOpAnnounce;
  uint32_t lifetime_seconds = 0;
  IpAddress client_ip;           // the client's own address as it believes it to be
  std::optional<MapData> map;    // opcode MAP
};

struct Response {
  uint8_t opcode = kOpAnnounce;  // response bit cleared
  ResultCode result = ResultCode::kSuccess;
  uint32_t lifetime_seconds = 0;
  uint32_t epoch_seconds = 0;
  std::optional<MapData> map;    // MAP answers (success or not: section 7.2 copies it)
};

enum class DecodeError : uint8_t {
  kNone,
  kTooShort,       // under the 24-byte header, or the opcode's data
  kWrongVersion,   // not version 2
  kWrongDirection, // R bit not as expected
  kBadLength,      // not a multiple of 4, or over 1100 bytes
  kBadOption,      // an option runs past the message
};
const char* ToString(DecodeError e);

Bytes EncodeRequest(const Request& r);
Bytes EncodeResponse(const Response& r);

// Options are checked for framing and otherwise skipped (no option is sent or
// understood here). An unknown opcode decodes with no data.
std::optional<Request> DecodeRequest(ByteView b, DecodeError* error = nullptr);
std::optional<Response> DecodeResponse(ByteView b, DecodeError* error = nullptr);

}  // namespace pcp
}  // namespace portmap
}  // namespace punchlab
