#include "punchlab/portmap/client.h"

#include <algorithm>
#include <tuple>
#include <utility>

#include "punchlab/portmap/upnp-ssdp.h"

namespace punchlab {
namespace portmap {
namespace {

// RFC 6886 3.6's tolerance for an epoch below the estimate.
constexpr int64_t kEpochSlackMs = 2000;
// Tailscale's probe: how long it keeps reading after the first UPnP answer,
// and how many answers it keeps.
constexpr Duration kUpnpCollect = Duration::Millis(50);
constexpr size_t kMaxUpnpAnswers = 10;

bool Contains(ByteView bytes, const std::string& needle) {
  return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end();
}

}  // namespace

const char* ToString(LossReason r) {
  switch (r) {
    case LossReason::kExpired: return "expired";
    case LossReason::kEpochReset: return "epoch-reset";
    case LossReason::kReleased: return "released";
    case LossReason::kGatewayChanged: return "gateway-changed";
  }
  return "?";
}

Client::Client(RandomSource& rng, ClientConfig config) : rng_(rng), config_(config) {}

bool Client::SetGateway(Timestamp /*now*/, const Endpoint& local, const IpAddress& gateway) {
  if (local_ == local && gateway_ == gateway) return false;
  if (mapping_) Lose(LossReason::kGatewayChanged);
  local_ = local;
  gateway_ = gateway;
  probe_.reset();
  creating_.reset();
  last_probe_.reset();
  pmp_seen_.reset();
  pmp_public_ip_.reset();
  pcp_seen_.reset();
  upnp_seen_.reset();
  upnp_locations_.clear();
  return true;
}

bool Client::SawUpnpRecently(Timestamp now) const {
  return upnp_seen_ && !upnp_locations_.empty() && now - *upnp_seen_ < config_.trust_service;
}

UpnpWanted Client::Wanted(uint16_t previous_port) const {
  return UpnpWanted{*gateway_, mapping_ ? mapping_->internal : *local_, previous_port,
                    upnp_locations_};
}

void Client::UpnpFailed(Timestamp now, std::string reason, std::optional<uint16_t> code) {
  Fail(now, MappingProtocol::kUpnp, std::move(reason), code);
}

bool Client::SawPmpRecently(Timestamp now) const {
  return pmp_seen_ && pmp_public_ip_ && now - *pmp_seen_ < config_.trust_service;
}

bool Client::SawPcpRecently(Timestamp now) const {
  return pcp_seen_ && now - *pcp_seen_ < config_.trust_service;
}

void Client::Send(Bytes payload, MappingProtocol protocol) {
  transmits_.push_back(Transmit{*local_, Endpoint(*gateway_, kServerPort), std::move(payload)});
  if (protocol == MappingProtocol::kPcp) {
    ++stats_.pcp_requests_sent;
  } else {
    ++stats_.pmp_requests_sent;
  }
}

void Client::Probe(Timestamp now) {
  if (!local_ || !gateway_ || probe_) return;
  ++stats_.probes;
  ProbeState p;
  p.deadline = now + config_.probe_timeout;
  // A service seen recently counts without asking again (Tailscale's
  // Probe), except the one holding our mapping: its answer's epoch is the
  // mapping check (see the file comment).
  const bool check_pmp = mapping_ && mapping_->protocol == MappingProtocol::kPmp;
  const bool check_pcp = mapping_ && mapping_->protocol == MappingProtocol::kPcp;
  if (check_pmp || check_pcp) ++stats_.mapping_checks;
  p.result.pmp = config_.pmp && SawPmpRecently(now) && !check_pmp;
  p.result.pcp = config_.pcp && SawPcpRecently(now) && !check_pcp;
  p.result.upnp = config_.upnp && SawUpnpRecently(now);
  p.want_pmp = config_.pmp && !p.result.pmp;
  p.want_pcp = config_.pcp && !p.result.pcp;
  p.want_upnp = config_.upnp && !p.result.upnp;
  probe_ = p;
  if (p.want_pmp) Send(pmp::EncodeExternalAddressRequest(), MappingProtocol::kPmp);
  if (p.want_pcp) {
    pcp::Request announce;
    announce.opcode = pcp::kOpAnnounce;
    announce.client_ip = local_->ip;
    Send(pcp::EncodeRequest(announce), MappingProtocol::kPcp);
  }
  if (p.want_upnp) {
    // Tailscale's order: unicast first, so a host firewall expects the
    // router's unicast answer to the multicast search too.
    const Endpoint unicast(*gateway_, upnp::kSsdpPort);
    const Endpoint multicast(upnp::SsdpMulticastAddress(), upnp::kSsdpPort);
    transmits_.push_back(Transmit{*local_, unicast, upnp::BuildMSearch("ssdp:all")});
    transmits_.push_back(Transmit{*local_, multicast, upnp::BuildMSearch("ssdp:all")});
    transmits_.push_back(Transmit{*local_, multicast, upnp::BuildMSearch(upnp::kIgdSearchTarget)});
    stats_.ssdp_searches_sent += 3;
  }
  FinishProbeIfComplete(now);
}

void Client::FinishProbeIfComplete(Timestamp now) {
  if (!probe_ || probe_->want_pmp || probe_->want_pcp) return;
  // UPnP is waited for only while it is needed: NAT-PMP or PCP will map.
  if (probe_->want_upnp && !probe_->result.pmp && !probe_->result.pcp) return;
  if (!probe_->locations.empty()) {
    probe_->result.upnp = true;
    upnp_seen_ = now;
    upnp_locations_ = std::move(probe_->locations);
  }
  last_probe_ = now;
  events_.push_back(probe_->result);
  probe_.reset();
}

void Client::HandleSsdp(Timestamp now, ByteView payload) {
  // Tailscale reads answers only while its probe's socket is open, and
  // keeps those that name an IGD.
  if (!probe_ || !probe_->want_upnp || !Contains(payload, ":InternetGatewayDevice:")) {
    ++stats_.ssdp_dropped;
    return;
  }
  const std::optional<upnp::SsdpAnswer> answer = upnp::ParseSsdpAnswer(payload);
  if (!answer) {
    ++stats_.dropped_malformed;
    return;
  }
  if (probe_->metas.size() >= kMaxUpnpAnswers) {
    ++stats_.ssdp_dropped;  // "too many UPnP responses: skipping"
    return;
  }
  ++stats_.ssdp_answers;
  probe_->metas.push_back(*answer);
  // processUPnPResponses: USN descending (IGD:2 before IGD:1), then
  // LOCATION and SERVER; one per LOCATION and SERVER.
  std::vector<upnp::SsdpAnswer> metas = probe_->metas;
  std::sort(metas.begin(), metas.end(), [](const upnp::SsdpAnswer& a, const upnp::SsdpAnswer& b) {
    if (a.usn != b.usn) return a.usn > b.usn;
    return std::tie(a.location, a.server) < std::tie(b.location, b.server);
  });
  probe_->locations.clear();
  for (size_t i = 0; i < metas.size(); ++i) {
    if (i > 0 && metas[i].location == metas[i - 1].location && metas[i].server == metas[i - 1].server) {
      continue;
    }
    probe_->locations.push_back(metas[i].location);
  }
  if (!probe_->upnp_until) probe_->upnp_until = now + kUpnpCollect;
}

std::optional<Endpoint> Client::CachedMappingOrStartCreating(Timestamp now) {
  if (mapping_ && now < mapping_->good_until) {
    if (now >= next_renewal_ && !creating_) StartCreating(now);
    return mapping_->external;
  }
  if (!creating_) StartCreating(now);
  return std::nullopt;
}

void Client::StartCreating(Timestamp now) {
  if (!local_ || !gateway_ || creating_) return;
  if (mapping_ && mapping_->protocol == MappingProtocol::kUpnp) {
    // The UPnP machine renews; ask again later unless it hands a mapping back.
    next_renewal_ = now + std::min(config_.renew_retry, (mapping_->good_until - now) / 2);
    events_.push_back(Wanted(mapping_->external.port));
    return;
  }
  const bool recent_pmp = config_.pmp && SawPmpRecently(now);
  const bool recent_pcp = config_.pcp && SawPcpRecently(now);
  const uint16_t previous_port = mapping_ ? mapping_->external.port : 0;
  if ((!config_.pmp && !config_.pcp) ||
      (last_probe_ && now - *last_probe_ < config_.recent_probe && !recent_pmp && !recent_pcp)) {
    if (config_.upnp) {
      events_.push_back(Wanted(previous_port));
    } else {
      Fail(now, MappingProtocol::kPmp, "no-service", std::nullopt);
    }
    return;
  }
  Creating c;
  c.deadline = now + config_.map_timeout;
  c.renewal = mapping_.has_value();
  const bool prefer_pcp = config_.pcp && (!config_.pmp || (!recent_pmp && recent_pcp));
  if (prefer_pcp) {
    c.protocol = MappingProtocol::kPcp;
    // Renewal keeps the mapping's nonce (RFC 6887 11.2), a new mapping draws one.
    if (mapping_ && mapping_->protocol == MappingProtocol::kPcp) {
      c.nonce = mapping_nonce_;
    } else {
      rng_.Fill(c.nonce.data(), c.nonce.size());
    }
    pcp::Request req;
    req.opcode = pcp::kOpMap;
    req.lifetime_seconds = config_.lifetime_seconds;
    req.client_ip = local_->ip;
    pcp::MapData m;
    m.nonce = c.nonce;
    m.protocol = pcp::kProtocolUdp;
    m.internal_port = local_->port;
    m.external_port = previous_port;
    // The previous external address when known, else the wildcard (0.0.0.0).
    if (mapping_) m.external_ip = mapping_->external.ip;
    req.map = m;
    creating_ = c;
    Send(pcp::EncodeRequest(req), MappingProtocol::kPcp);
    return;
  }
  c.protocol = MappingProtocol::kPmp;
  if (recent_pmp) c.external_ip = pmp_public_ip_;
  creating_ = c;
  if (!c.external_ip) Send(pmp::EncodeExternalAddressRequest(), MappingProtocol::kPmp);
  pmp::MapRequest m;
  m.opcode = pmp::kOpMapUdp;
  m.internal_port = local_->port;
  m.suggested_external_port = previous_port;
  m.lifetime_seconds = config_.lifetime_seconds;
  Send(pmp::EncodeMapRequest(m), MappingProtocol::kPmp);
}

void Client::Release(Timestamp now) {
  (void)now;
  creating_.reset();
  if (!mapping_) return;
  if (local_ && gateway_) {
    if (mapping_->protocol == MappingProtocol::kPmp) {
      pmp::MapRequest m;
      m.opcode = pmp::kOpMapUdp;
      m.internal_port = mapping_->internal.port;
      m.suggested_external_port = mapping_->external.port;
      m.lifetime_seconds = 0;
      Send(pmp::EncodeMapRequest(m), MappingProtocol::kPmp);
    } else if (mapping_->protocol == MappingProtocol::kPcp) {
      pcp::Request req;
      req.opcode = pcp::kOpMap;
      req.lifetime_seconds = 0;
      req.client_ip = local_->ip;
      pcp::MapData m;
      m.nonce = mapping_nonce_;
      m.internal_port = mapping_->internal.port;
      m.external_port = mapping_->external.port;
      m.external_ip = mapping_->external.ip;
      req.map = m;
      Send(pcp::EncodeRequest(req), MappingProtocol::kPcp);
    }
  }
  ++stats_.released;
  Lose(LossReason::kReleased);
}

void Client::AdoptMapping(Timestamp now, const Mapping& mapping) {
  (void)now;
  const bool renewal = mapping_.has_value();
  mapping_ = mapping;
  next_renewal_ = mapping.renew_after;
  ++(renewal ? stats_.renewals : stats_.mappings_created);
  events_.push_back(MappingCreated{mapping, renewal});
}

void Client::Fail(Timestamp now, MappingProtocol protocol, std::string reason,
                  std::optional<uint16_t> code) {
  ++stats_.failures;
  if (mapping_) {
    next_renewal_ = now + std::min(config_.renew_retry, (mapping_->good_until - now) / 2);
  }
  events_.push_back(MappingFailed{protocol, std::move(reason), code});
}

void Client::Lose(LossReason reason) {
  if (!mapping_) return;
  events_.push_back(MappingLost{*mapping_, reason});
  mapping_.reset();
}

void Client::NoteEpoch(Timestamp now, MappingProtocol protocol, uint32_t epoch) {
  if (!mapping_ || mapping_->protocol != protocol) return;
  // RFC 6886 3.6 / RFC 6887 8.5: the epoch last heard plus 7/8 of the time
  // since is a conservative estimate; one more than 2 s under it means the
  // server restarted (and lost the mapping), even when its new epoch is
  // not below the old one.
  const int64_t elapsed_ms = (now - mapping_->epoch_at).nanos() / 1000000;
  const int64_t expected_ms =
      int64_t{mapping_->epoch_seconds} * 1000 + std::max<int64_t>(elapsed_ms, 0) * 7 / 8;
  const bool went_back = epoch < mapping_->epoch_seconds;  // Tailscale's rule
  if (!went_back && int64_t{epoch} * 1000 + kEpochSlackMs >= expected_ms) {
    mapping_->epoch_seconds = epoch;
    mapping_->epoch_at = now;
    return;
  }
  ++stats_.epoch_resets;
  Lose(LossReason::kEpochReset);
  if (protocol == MappingProtocol::kPmp) {
    pmp_seen_.reset();
    pmp_public_ip_.reset();
  } else {
    pcp_seen_.reset();
  }
  // The mapping was wanted: make it again once this exchange is over.
  if (!creating_) StartCreating(now);
}

void Client::Grant(Timestamp now, MappingProtocol protocol, const Endpoint& external,
                   uint32_t lifetime_seconds, uint32_t epoch) {
  const bool renewal = creating_->renewal && mapping_.has_value();
  if (protocol == MappingProtocol::kPcp) mapping_nonce_ = creating_->nonce;
  creating_.reset();
  const Duration lease = Duration::Seconds(lifetime_seconds);
  Mapping m;
  m.protocol = protocol;
  m.internal = *local_;
  m.external = external;
  m.renew_after = now + lease / 2;  // Tailscale: "renew in half the time"
  m.good_until = now + lease;
  m.epoch_seconds = epoch;
  m.epoch_at = now;
  mapping_ = m;
  next_renewal_ = m.renew_after;
  ++(renewal ? stats_.renewals : stats_.mappings_created);
  events_.push_back(MappingCreated{m, renewal});
}

bool Client::Claims(const Endpoint& remote, ByteView payload) const {
  if (gateway_ && remote == Endpoint(*gateway_, kServerPort)) return true;
  static constexpr char kHttp[] = "HTTP/";
  return config_.upnp && remote.port == upnp::kSsdpPort && payload.size() >= sizeof kHttp - 1 &&
         std::equal(kHttp, kHttp + sizeof kHttp - 1, payload.begin());
}

void Client::HandleDatagram(Timestamp now, const Endpoint& /*local*/, const Endpoint& remote,
                            ByteView payload) {
  if (config_.upnp && remote.port == upnp::kSsdpPort) {
    HandleSsdp(now, payload);
    return;
  }
  if (!gateway_ || remote != Endpoint(*gateway_, kServerPort)) {
    ++stats_.dropped_wrong_source;
    return;
  }
  if (!payload.empty() && payload[0] == pmp::kVersion) {
    if (auto res = pmp::DecodeResponse(payload)) {
      HandlePmp(now, *res);
      return;
    }
  } else if (!payload.empty() && payload[0] == pcp::kVersion) {
    if (auto res = pcp::DecodeResponse(payload)) {
      HandlePcp(now, *res);
      return;
    }
  }
  ++stats_.dropped_malformed;
}

void Client::HandlePmp(Timestamp now, const pmp::Response& res) {
  const bool ok = res.result == pmp::ResultCode::kSuccess;
  if (!ok) ++stats_.error_answers;
  // A NAT-PMP-only server answers a PCP request with "unsupported version"
  // in NAT-PMP's format (RFC 6887 section 9).
  if (res.result == pmp::ResultCode::kUnsupportedVersion) {
    bool used = false;
    if (probe_ && probe_->want_pcp) {
      probe_->want_pcp = false;
      used = true;
    }
    if (creating_ && creating_->protocol == MappingProtocol::kPcp) {
      creating_.reset();
      Fail(now, MappingProtocol::kPcp, pmp::ToString(res.result), static_cast<uint16_t>(res.result));
      used = true;
    }
    if (!used) ++stats_.dropped_unexpected;
    FinishProbeIfComplete(now);
    return;
  }
  if (res.opcode == pmp::kOpExternalAddress) {
    bool used = false;
    if (ok && res.external_ip.IsUnspecified()) {
      ++stats_.dropped_unexpected;  // "no address yet": nothing to learn
      return;
    }
    if (ok) {
      NoteEpoch(now, MappingProtocol::kPmp, res.epoch_seconds);
      pmp_seen_ = now;
      pmp_public_ip_ = res.external_ip;
    }
    if (probe_ && probe_->want_pmp) {
      probe_->want_pmp = false;
      probe_->result.pmp = ok;
      used = true;
    }
    if (creating_ && creating_->protocol == MappingProtocol::kPmp) {
      used = true;
      if (!ok) {
        creating_.reset();
        Fail(now, MappingProtocol::kPmp, pmp::ToString(res.result), static_cast<uint16_t>(res.result));
      } else {
        creating_->external_ip = res.external_ip;
      }
    }
    if (!used) ++stats_.dropped_unexpected;
    FinishProbeIfComplete(now);
  } else if (res.opcode == pmp::kOpMapUdp) {
    if (!creating_ || creating_->protocol != MappingProtocol::kPmp ||
        (res.has_body && res.internal_port != local_->port)) {
      ++stats_.dropped_unexpected;  // e.g. the answer to a release
      return;
    }
    if (!ok || res.lifetime_seconds == 0) {
      creating_.reset();
      Fail(now, MappingProtocol::kPmp, ok ? "no-lease" : pmp::ToString(res.result),
           static_cast<uint16_t>(res.result));
      return;
    }
    NoteEpoch(now, MappingProtocol::kPmp, res.epoch_seconds);
    if (!creating_) return;  // the epoch check started over
    creating_->map = res;
  } else {
    ++stats_.dropped_unexpected;
    return;
  }
  if (creating_ && creating_->protocol == MappingProtocol::kPmp && creating_->external_ip &&
      creating_->map) {
    const pmp::Response m = *creating_->map;
    Grant(now, MappingProtocol::kPmp, Endpoint(*creating_->external_ip, m.external_port),
          m.lifetime_seconds, m.epoch_seconds);
  }
}

void Client::HandlePcp(Timestamp now, const pcp::Response& res) {
  const bool ok = res.result == pcp::ResultCode::kSuccess;
  if (!ok) ++stats_.error_answers;
  // A PCP-only server refuses a NAT-PMP request in PCP's format (RFC 6887
  // section 9); PCP requests are never answered so, since they are version 2.
  if (res.result == pcp::ResultCode::kUnsuppVersion) {
    bool used = false;
    if (probe_ && probe_->want_pmp) {
      probe_->want_pmp = false;
      used = true;
    }
    if (creating_ && creating_->protocol == MappingProtocol::kPmp) {
      creating_.reset();
      Fail(now, MappingProtocol::kPmp, pcp::ToString(res.result),
           static_cast<uint16_t>(res.result));
      used = true;
    }
    if (!used) ++stats_.dropped_unexpected;
    FinishProbeIfComplete(now);
    return;
  }
  if (res.opcode == pcp::kOpAnnounce) {
    if (!probe_ || !probe_->want_pcp) {
      ++stats_.dropped_unexpected;
      return;
    }
    NoteEpoch(now, MappingProtocol::kPcp, res.epoch_seconds);
    pcp_seen_ = now;
    probe_->want_pcp = false;
    probe_->result.pcp = ok;
    FinishProbeIfComplete(now);
    return;
  }
  if (res.opcode != pcp::kOpMap || !creating_ || creating_->protocol != MappingProtocol::kPcp) {
    ++stats_.dropped_unexpected;
    return;
  }
  if (!res.map || res.map->nonce != creating_->nonce) {
    ++stats_.dropped_nonce_mismatch;
    return;
  }
  if (res.map->protocol != pcp::kProtocolUdp || res.map->internal_port != local_->port) {
    ++stats_.dropped_unexpected;
    return;
  }
  if (!ok || res.lifetime_seconds == 0) {
    creating_.reset();
    Fail(now, MappingProtocol::kPcp, ok ? "no-lease" : pcp::ToString(res.result),
         static_cast<uint16_t>(res.result));
    return;
  }
  NoteEpoch(now, MappingProtocol::kPcp, res.epoch_seconds);
  if (!creating_ || creating_->nonce != res.map->nonce) return;
  pcp_seen_ = now;
  Grant(now, MappingProtocol::kPcp, Endpoint(res.map->external_ip, res.map->external_port),
        res.lifetime_seconds, res.epoch_seconds);
}

void Client::HandleTimeout(Timestamp now) {
  if (probe_ && now >= probe_->deadline) {
    probe_->want_pmp = false;
    probe_->want_pcp = false;
    probe_->want_upnp = false;
  }
  if (probe_ && probe_->upnp_until && now >= *probe_->upnp_until) probe_->want_upnp = false;
  FinishProbeIfComplete(now);
  if (creating_ && now >= creating_->deadline) {
    const MappingProtocol p = creating_->protocol;
    creating_.reset();
    ++stats_.timeouts;
    if (config_.upnp) {
      events_.push_back(Wanted(mapping_ ? mapping_->external.port : uint16_t{0}));
    } else {
      Fail(now, p, "timeout", std::nullopt);
    }
  }
  if (mapping_ && now >= mapping_->good_until) {
    ++stats_.expired;
    Lose(LossReason::kExpired);
  }
  if (mapping_ && now >= next_renewal_ && !creating_) StartCreating(now);
}

std::optional<Transmit> Client::PollTransmit() {
  if (transmits_.empty()) return std::nullopt;
  Transmit t = std::move(transmits_.front());
  transmits_.pop_front();
  return t;
}

std::optional<Timestamp> Client::PollTimeout() const {
  std::optional<Timestamp> t;
  auto consider = [&t](Timestamp at) { t = t ? std::min(*t, at) : at; };
  if (probe_) consider(probe_->deadline);
  if (probe_ && probe_->upnp_until && probe_->want_upnp) consider(*probe_->upnp_until);
  if (creating_) consider(creating_->deadline);
  if (mapping_) {
    consider(mapping_->good_until);
    if (!creating_) consider(next_renewal_);
  }
  return t;
}

std::optional<ClientEvent> Client::PollEvent() {
  if (events_.empty()) return std::nullopt;
  ClientEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace portmap
}  // namespace punchlab
