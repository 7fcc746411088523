#include "punchlab/nat/port-mapping-server.h"

#include <algorithm>

namespace punchlab {
namespace nat {

namespace pmp = portmap::pmp;
namespace pcp = portmap::pcp;

namespace {

pmp::ResultCode PmpCode(PortMappingError e) {
  switch (e) {
    case PortMappingError::kNone: return pmp::ResultCode::kSuccess;
    case PortMappingError::kNotAuthorized: return pmp::ResultCode::kNotAuthorized;
    case PortMappingError::kNetworkFailure: return pmp::ResultCode::kNetworkFailure;
    case PortMappingError::kOutOfResources: return pmp::ResultCode::kOutOfResources;
  }
  return pmp::ResultCode::kSuccess;
}

pcp::ResultCode PcpCode(PortMappingError e) {
  switch (e) {
    case PortMappingError::kNone: return pcp::ResultCode::kSuccess;
    case PortMappingError::kNotAuthorized: return pcp::ResultCode::kNotAuthorized;
    case PortMappingError::kNetworkFailure: return pcp::ResultCode::kNetworkFailure;
    case PortMappingError::kOutOfResources: return pcp::ResultCode::kNoResources;
  }
  return pcp::ResultCode::kSuccess;
}

// How long a PCP error answer says the error will last (RFC 6887 7.2: a
// "long" error lasts at least 30 minutes, a "short" one 30 seconds).
constexpr uint32_t kErrorLifetimeSeconds = 30;

}  // namespace

PortMappingServer::PortMappingServer(PortMappingConfig config, NatTable& table, Timestamp boot)
    : config_(config), table_(table), boot_(boot) {}

uint32_t PortMappingServer::Epoch(Timestamp now) const {
  const int64_t s = (now - boot_).nanos() / 1000000000;
  return static_cast<uint32_t>(std::max<int64_t>(s, 0));
}

void PortMappingServer::Reboot(Timestamp now) {
  boot_ = now;
  if (!config_.keep_on_reboot) nonces_.clear();
}

std::optional<Transmit> PortMappingServer::HandleRequest(Timestamp now, const Endpoint& from,
                                                         const IpAddress& gateway,
                                                         const IpAddress& lan_address,
                                                         ByteView request) {
  if (!config_.pmp && !config_.pcp) {
    ++counters_.dropped_not_offered;
    return std::nullopt;
  }
  if (request.size() < 2) {
    ++counters_.dropped_malformed;
    return std::nullopt;
  }
  bool answer = false;
  Bytes payload;
  // Dispatch on the version byte, as a server of both does (RFC 6887 9).
  if (request[0] == pmp::kVersion && config_.pmp) {
    payload = HandlePmp(now, from, request, &answer);
  } else if (request[0] == pcp::kVersion && config_.pcp) {
    payload = HandlePcp(now, from, request, &answer);
  } else if ((request[1] & pmp::kResponseBit) != 0) {
    ++counters_.dropped_malformed;  // a response: never answered
  } else {
    // A version this router does not speak: "unsupported version", in the
    // format of the one it does.
    ++counters_.unsupported_version;
    answer = true;
    if (config_.pmp) {
      pmp::Response r;
      r.opcode = request[1];
      r.result = pmp::ResultCode::kUnsupportedVersion;
      r.epoch_seconds = Epoch(now);
      payload = pmp::EncodeResponse(r, /*header_only=*/true);
    } else {
      pcp::Response r;
      r.opcode = static_cast<uint8_t>(request[1] & ~pcp::kResponseBit);
      r.result = pcp::ResultCode::kUnsuppVersion;
      r.epoch_seconds = Epoch(now);
      payload = pcp::EncodeResponse(r);
    }
  }
  if (!answer) return std::nullopt;
  const IpAddress source = config_.answer_from == AnswerFrom::kGateway ? gateway : lan_address;
  return Transmit{Endpoint(source, portmap::kServerPort), from, std::move(payload)};
}

std::optional<Endpoint> PortMappingServer::Grant(Timestamp now, Protocol protocol,
                                                 const Endpoint& inside, uint16_t suggested,
                                                 uint32_t* lifetime_seconds) {
  if (config_.lease_limit) {
    const int64_t limit = config_.lease_limit->nanos() / 1000000000;
    *lifetime_seconds =
        static_cast<uint32_t>(std::min<int64_t>(*lifetime_seconds, std::max<int64_t>(limit, 1)));
  }
  return table_.MapPort(now, protocol, inside, suggested,
                        now + Duration::Seconds(*lifetime_seconds));
}

Bytes PortMappingServer::HandlePmp(Timestamp now, const Endpoint& from, ByteView request,
                                   bool* answer) {
  ++counters_.pmp_requests;
  pmp::DecodeError error = pmp::DecodeError::kNone;
  auto req = pmp::DecodeRequest(request, &error);
  if (!req) {
    ++counters_.dropped_malformed;
    return {};
  }
  *answer = true;
  pmp::Response res;
  res.opcode = req->opcode;
  res.epoch_seconds = Epoch(now);
  if (req->opcode == pmp::kOpExternalAddress) {
    const auto& external = table_.external_addresses();
    if (!external.empty()) res.external_ip = external.front();
    return pmp::EncodeResponse(res);
  }
  if (req->opcode != pmp::kOpMapUdp && req->opcode != pmp::kOpMapTcp) {
    // Section 3.5: the whole request back, response bit set, result 5. A
    // request shorter than an answer's 8-byte header (version, opcode,
    // result, epoch) is filled up to it, epoch included: an echo without
    // its result code is an answer no client can read (found by the
    // portmap-server fuzz target).
    ++counters_.unsupported;
    Bytes echo = request.ToBytes();
    if (echo.size() < 8) {
      echo.resize(8);
      const uint32_t epoch = Epoch(now);
      for (int i = 0; i < 4; ++i) echo[4 + i] = static_cast<uint8_t>(epoch >> (24 - 8 * i));
    }
    echo[1] = static_cast<uint8_t>(echo[1] | pmp::kResponseBit);
    echo[2] = 0;
    echo[3] = static_cast<uint8_t>(pmp::ResultCode::kUnsupportedOpcode);
    return echo;
  }
  const Protocol protocol = req->opcode == pmp::kOpMapUdp ? Protocol::kUdp : Protocol::kTcp;
  const Endpoint inside(from.ip, req->map.internal_port);
  res.internal_port = req->map.internal_port;
  if (req->map.lifetime_seconds == 0) {  // section 3.4: delete
    if (table_.UnmapPort(now, protocol, inside)) ++counters_.deleted;
    return pmp::EncodeResponse(res);
  }
  if (config_.error != PortMappingError::kNone) {
    ++counters_.refused;
    res.result = PmpCode(config_.error);
    return pmp::EncodeResponse(res);
  }
  uint32_t lifetime = req->map.lifetime_seconds;
  auto external = Grant(now, protocol, inside, req->map.suggested_external_port, &lifetime);
  if (!external) {
    ++counters_.out_of_resources;
    res.result = pmp::ResultCode::kOutOfResources;
    return pmp::EncodeResponse(res);
  }
  ++counters_.granted;
  res.external_port = external->port;
  res.lifetime_seconds = lifetime;
  return pmp::EncodeResponse(res);
}

Bytes PortMappingServer::HandlePcp(Timestamp now, const Endpoint& from, ByteView request,
                                   bool* answer) {
  ++counters_.pcp_requests;
  pcp::DecodeError error = pcp::DecodeError::kNone;
  auto req = pcp::DecodeRequest(request, &error);
  pcp::Response res;
  res.epoch_seconds = Epoch(now);
  if (!req) {
    // Section 8.3: a request that has its header but the wrong size or a
    // broken option is answered; anything shorter (or a response) is not.
    if (error != pcp::DecodeError::kBadLength && error != pcp::DecodeError::kBadOption) {
      ++counters_.dropped_malformed;
      return {};
    }
    ++counters_.unsupported;
    *answer = true;
    res.opcode = static_cast<uint8_t>(request[1] & ~pcp::kResponseBit);
    res.result = error == pcp::DecodeError::kBadOption ? pcp::ResultCode::kMalformedOption
                                                       : pcp::ResultCode::kMalformedRequest;
    res.lifetime_seconds = kErrorLifetimeSeconds;
    return pcp::EncodeResponse(res);
  }
  *answer = true;
  res.opcode = req->opcode;
  res.map = req->map;  // section 7.2: an answer repeats the opcode's data
  if (req->opcode != pcp::kOpAnnounce && req->opcode != pcp::kOpMap) {
    ++counters_.unsupported;
    res.result = pcp::ResultCode::kUnsuppOpcode;
    res.lifetime_seconds = kErrorLifetimeSeconds;
    return pcp::EncodeResponse(res);
  }
  if (req->client_ip != from.ip) {
    ++counters_.address_mismatch;
    res.result = pcp::ResultCode::kAddressMismatch;
    res.lifetime_seconds = kErrorLifetimeSeconds;
    return pcp::EncodeResponse(res);
  }
  if (req->opcode == pcp::kOpAnnounce) return pcp::EncodeResponse(res);

  pcp::MapData& map = *res.map;
  if (map.protocol != pcp::kProtocolUdp && map.protocol != pcp::kProtocolTcp) {
    ++counters_.unsupported;
    res.result = pcp::ResultCode::kUnsuppProtocol;
    res.lifetime_seconds = kErrorLifetimeSeconds;
    return pcp::EncodeResponse(res);
  }
  const Protocol protocol = map.protocol == pcp::kProtocolUdp ? Protocol::kUdp : Protocol::kTcp;
  const Endpoint inside(from.ip, map.internal_port);
  const auto key = std::make_pair(protocol, inside);
  if (req->lifetime_seconds == 0) {  // section 15: delete, with the mapping's nonce
    auto nonce = nonces_.find(key);
    if (nonce != nonces_.end() && nonce->second != map.nonce &&
        table_.PortMapped(protocol, inside)) {
      ++counters_.delete_not_authorized;
      res.result = pcp::ResultCode::kNotAuthorized;
      res.lifetime_seconds = kErrorLifetimeSeconds;
      return pcp::EncodeResponse(res);
    }
    if (table_.UnmapPort(now, protocol, inside)) ++counters_.deleted;
    nonces_.erase(key);
    return pcp::EncodeResponse(res);
  }
  if (config_.error != PortMappingError::kNone) {
    ++counters_.refused;
    res.result = PcpCode(config_.error);
    res.lifetime_seconds = kErrorLifetimeSeconds;
    return pcp::EncodeResponse(res);
  }
  uint32_t lifetime = req->lifetime_seconds;
  auto external = Grant(now, protocol, inside, map.external_port, &lifetime);
  if (!external) {
    ++counters_.out_of_resources;
    res.result = pcp::ResultCode::kNoResources;
    res.lifetime_seconds = kErrorLifetimeSeconds;
    return pcp::EncodeResponse(res);
  }
  ++counters_.granted;
  nonces_[key] = map.nonce;
  res.lifetime_seconds = lifetime;
  map.external_port = external->port;
  map.external_ip = external->ip;
  return pcp::EncodeResponse(res);
}

}  // namespace nat
}  // namespace punchlab
