#include "punchlab/stun/server.h"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

namespace punchlab {
namespace stun {
namespace {

// In 32 bits: 65535 rounds to 65536.
uint32_t RoundUpTo4(uint16_t n) { return (uint32_t{n} + 3) & ~uint32_t{3}; }

}  // namespace

StunServer::StunServer(StunServerConfig config) : config_(std::move(config)) {
  if (config_.rate_limit) rate_limiter_.emplace(*config_.rate_limit);
  if (config_.padding_mtu > kMaxPaddingMtu) {
    throw std::invalid_argument("STUN padding MTU " + std::to_string(config_.padding_mtu) +
                                " exceeds " + std::to_string(kMaxPaddingMtu));
  }
  if (config_.alternate) {
    const Endpoint& p = config_.primary;
    const Endpoint& a = *config_.alternate;
    if (p.ip.family() != a.ip.family() || p.ip == a.ip || p.port == a.port) {
      throw std::invalid_argument("STUN alternate " + a.ToString() + " must differ from primary " +
                                  p.ToString() + " in both IP and port, in the same family");
    }
  }
}

std::vector<Endpoint> StunServer::LocalEndpoints() const {
  const Endpoint& p = config_.primary;
  if (!config_.alternate) return {p};
  const Endpoint& a = *config_.alternate;
  return {p, Endpoint(p.ip, a.port), Endpoint(a.ip, p.port), a};
}

std::optional<Endpoint> StunServer::Swap(const Endpoint& local, bool change_ip,
                                         bool change_port) const {
  if (!config_.alternate) {
    if (change_ip || change_port) return std::nullopt;
    return local;
  }
  const Endpoint& p = config_.primary;
  const Endpoint& a = *config_.alternate;
  const bool ip_known = local.ip == p.ip || local.ip == a.ip;
  const bool port_known = local.port == p.port || local.port == a.port;
  if (!ip_known || !port_known) {
    if (change_ip || change_port) return std::nullopt;
    return local;
  }
  Endpoint out = local;
  if (change_ip) out.ip = local.ip == p.ip ? a.ip : p.ip;
  if (change_port) out.port = local.port == p.port ? a.port : p.port;
  return out;
}

void StunServer::HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                                ByteView payload) {
  if (rate_limiter_ && !rate_limiter_->Allow(now, remote.ip)) {
    ++stats_.dropped_rate_limited;
    return;
  }
  DecodeResult decoded = DecodeMessage(payload);
  if (!decoded) {
    ++stats_.dropped_malformed;
    ++stats_.malformed_by_reason[static_cast<size_t>(decoded.error)];
    return;
  }
  const Message& req = *decoded.message;
  if (req.method != kMethodBinding || req.cls != MessageClass::kRequest) {
    ++stats_.dropped_not_request;
    return;
  }
  ++stats_.requests;
  if (req.classic()) ++stats_.classic_requests;
  Answer(local, remote, req);
}

void StunServer::Answer(const Endpoint& local, const Endpoint& remote, const Message& req) {
  const ChangeRequest change = req.change_request.value_or(ChangeRequest{});
  const std::optional<Endpoint> source = Swap(local, change.change_ip, change.change_port);
  const std::optional<Endpoint> other =
      config_.alternate ? Swap(local, true, true) : std::optional<Endpoint>();

  Message resp;
  resp.method = kMethodBinding;
  resp.cls = MessageClass::kSuccessResponse;
  resp.transaction_id = req.transaction_id;

  if (req.classic()) {
    if (!req.unknown_required.empty() || !source || req.response_port || req.padding) {
      ++stats_.dropped_classic_unsupported;
      return;
    }
    resp.mapped_address = remote;
    resp.source_address = *source;
    resp.changed_address = other;
    if (*source != local) ++stats_.changed_responses;
    Emit(*source, remote, std::move(resp));
    return;
  }

  if (!req.unknown_required.empty()) {
    SendError(local, remote, req, error::kUnknownAttribute, "Unknown Attribute",
              req.unknown_required);
    return;
  }
  if (req.response_port && req.padding) {
    SendError(local, remote, req, error::kBadRequest,
              "Bad Request: RESPONSE-PORT together with PADDING", {});
    return;
  }
  if (req.change_request && !config_.alternate) {
    SendError(local, remote, req, error::kUnknownAttribute, "Unknown Attribute",
              {attr::kChangeRequest});
    return;
  }
  if (req.response_port == uint16_t{0}) {
    SendError(local, remote, req, error::kBadRequest, "Bad Request: RESPONSE-PORT 0", {});
    return;
  }
  if (!source) {
    SendError(local, remote, req, error::kBadRequest,
              "Bad Request: cannot change address, request arrived on " + local.ToString(), {});
    return;
  }
  resp.xor_mapped_address = remote;
  resp.mapped_address = remote;
  // A host on a wildcard bind may not know its own address: say nothing then.
  if (!source->ip.IsUnspecified()) resp.response_origin = *source;
  resp.other_address = other;
  if (req.padding) {
    // At most RoundUpTo4(kMaxPaddingMtu), so it fits 16 bits.
    resp.padding = static_cast<uint16_t>(
        std::min(RoundUpTo4(config_.padding_mtu), RoundUpTo4(*req.padding)));
    ++stats_.padded_responses;
  }
  if (*source != local) ++stats_.changed_responses;
  Endpoint destination = remote;
  if (req.response_port) {
    destination.port = *req.response_port;
    ++stats_.redirected_responses;
  }
  Emit(*source, destination, std::move(resp));
}

void StunServer::SendError(const Endpoint& local, const Endpoint& remote, const Message& req,
                           uint16_t code, const std::string& reason,
                           std::vector<uint16_t> unknown) {
  Message resp;
  resp.method = kMethodBinding;
  resp.cls = MessageClass::kErrorResponse;
  resp.transaction_id = req.transaction_id;
  resp.error_code = ErrorCode{code, reason};
  resp.unknown_attributes = std::move(unknown);
  Emit(local, remote, std::move(resp));
}

void StunServer::Emit(const Endpoint& source, const Endpoint& destination, Message response) {
  if (!response.classic()) {
    if (!config_.software.empty()) response.software = config_.software;
    response.fingerprint = config_.fingerprint;
  }
  if (response.cls == MessageClass::kErrorResponse) {
    ++stats_.error_responses;
  } else {
    ++stats_.success_responses;
  }
  transmits_.push_back(Transmit{source, destination, EncodeMessage(response)});
}

void StunServer::HandleTimeout(Timestamp /*now*/) {}

std::optional<Transmit> StunServer::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<Timestamp> StunServer::PollTimeout() const { return std::nullopt; }

}  // namespace stun
}  // namespace punchlab
