#include "punchlab/portmap/upnp-mapper.h"

#include <utility>

#include "punchlab/portmap/upnp-soap.h"

namespace punchlab {
namespace portmap {
namespace {

constexpr const char* kDescription = "tailscale-portmap";  // Tailscale's tsPortMappingDesc

bool IsIpV2(const std::string& service_type) {
  return service_type.find(":service:WANIPConnection:2") != std::string::npos;
}

}  // namespace

UpnpMapper::UpnpMapper(RandomSource& rng, UpnpMapperConfig config) : rng_(rng), config_(config) {}

void UpnpMapper::Map(Timestamp now, const UpnpWanted& want) {
  if (attempt_) return;
  ++stats_.attempts;
  Attempt a;
  a.want = want;
  a.locations.assign(want.locations.begin(), want.locations.end());
  attempt_ = std::move(a);
  if (cached_) {
    attempt_->cached_first = true;
    attempt_->service = cached_;
    StartAdd(now, config_.lifetime_seconds);
    return;
  }
  NextCandidate(now, "no-igd");
}

void UpnpMapper::Forget() {
  cached_.reset();
  attempt_.reset();
  for (const auto& [conn, ex] : exchanges_) {
    if (ex.step != Step::kRelease) Close(conn, "gateway changed");
  }
  for (auto it = exchanges_.begin(); it != exchanges_.end();) {
    it = it->second.step == Step::kRelease ? std::next(it) : exchanges_.erase(it);
  }
}

void UpnpMapper::Open(Timestamp now, Step step, const upnp::Url& url, Bytes request) {
  // Every URL here was checked to be an address (NextCandidate's LOCATION,
  // OnResponse's control URL).
  const std::optional<Endpoint> remote = url.ToEndpoint();
  const ConnectionId conn = next_conn_++;
  ++stats_.connects;
  Exchange ex;
  ex.step = step;
  ex.remote = remote.value_or(Endpoint());
  ex.request = std::move(request);
  ex.deadline = now + config_.exchange_timeout;
  ex.url = url;
  exchanges_.emplace(conn, std::move(ex));
  actions_.push_back(StreamAction::Connect(conn, remote.value_or(Endpoint())));
}

void UpnpMapper::NextCandidate(Timestamp now, std::string reason, std::optional<uint16_t> code) {
  if (!attempt_) return;
  Attempt& a = *attempt_;
  a.last_reason = std::move(reason);
  a.last_code = code;
  a.cached_first = false;
  a.service.reset();
  while (!a.locations.empty()) {
    const std::string location = a.locations.front();
    a.locations.pop_front();
    std::optional<upnp::Url> url = upnp::ParseUrl(location);
    if (!url || !url->ToEndpoint()) {
      ++stats_.bad_answers;
      a.last_reason = "bad-location";
      continue;  // Tailscale: "unexpected host"
    }
    if (url->ToEndpoint()->ip != a.want.gateway) {
      // tailscale#5502: "does not match gateway IP; repointing at gateway
      // which is assumed to be floating".
      ++stats_.repointed;
      url->host = a.want.gateway.ToString();
    }
    Open(now, Step::kDescription, *url, upnp::BuildGet(*url));
    return;
  }
  ++stats_.failed;
  events_.push_back(UpnpFailed{a.last_reason, a.last_code});
  attempt_.reset();
}

void UpnpMapper::StartAdd(Timestamp now, uint32_t lease_seconds) {
  Attempt& a = *attempt_;
  if (lease_seconds != 0) {
    a.asked_port = a.want.previous_external_port;
    // Tailscale: never the wildcard, nor a privileged port.
    if (a.asked_port < 1024) a.asked_port = static_cast<uint16_t>(1024 + rng_.Uniform(65535 - 1024));
  }
  upnp::PortMappingRequest m;
  m.external_port = a.asked_port;
  m.protocol = "UDP";
  m.internal_port = a.want.internal.port;
  m.internal_client = a.want.internal.ip.ToString();
  m.description = kDescription;
  m.lease_seconds = lease_seconds;
  const bool any = IsIpV2(a.service->service_type);
  const std::string body = any ? upnp::BuildAddAnyPortMapping(a.service->service_type, m)
                               : upnp::BuildAddPortMapping(a.service->service_type, m);
  ++stats_.add_requests;
  Open(now, lease_seconds == 0 ? Step::kAddPermanent : Step::kAdd, a.service->control_url,
       upnp::BuildSoapPost(a.service->control_url, a.service->service_type,
                           any ? upnp::kAddAnyPortMapping : upnp::kAddPortMapping, body));
}

void UpnpMapper::Release(Timestamp now, const Mapping& mapping) {
  if (!cached_ || mapping.protocol != MappingProtocol::kUpnp) return;
  ++stats_.releases;
  const std::string body =
      upnp::BuildDeletePortMapping(cached_->service_type, "", mapping.external.port, "UDP");
  Open(now, Step::kRelease, cached_->control_url,
       upnp::BuildSoapPost(cached_->control_url, cached_->service_type, upnp::kDeletePortMapping,
                           body));
}

void UpnpMapper::Close(ConnectionId conn, const char* why) {
  actions_.push_back(StreamAction::Close(conn, why));
}

void UpnpMapper::HandleConnected(Timestamp /*now*/, ConnectionId conn, const Endpoint& /*remote*/) {
  auto it = exchanges_.find(conn);
  if (it == exchanges_.end()) return;
  actions_.push_back(StreamAction::Write(conn, it->second.request));
}

void UpnpMapper::HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) {
  auto it = exchanges_.find(conn);
  if (it == exchanges_.end()) return;
  if (it->second.reader.Feed(bytes) == upnp::HttpResponseReader::State::kNeedMore) return;
  Exchange ex = std::move(it->second);
  exchanges_.erase(it);
  Close(conn, "answered");
  OnResponse(now, conn, std::move(ex));
}

void UpnpMapper::HandleClosed(Timestamp now, ConnectionId conn) {
  auto it = exchanges_.find(conn);
  if (it == exchanges_.end()) return;
  Exchange ex = std::move(it->second);
  exchanges_.erase(it);
  ex.reader.Close();  // a body that runs to the close ends here; else an error
  OnResponse(now, conn, std::move(ex));
}

void UpnpMapper::HandleTimeout(Timestamp now) {
  for (auto it = exchanges_.begin(); it != exchanges_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    const Step step = it->second.step;
    Close(it->first, "timeout");
    it = exchanges_.erase(it);
    if (step == Step::kRelease) continue;
    ++stats_.timeouts;
    NextCandidate(now, "timeout");
  }
}

void UpnpMapper::OnResponse(Timestamp now, ConnectionId /*conn*/, Exchange ex) {
  if (ex.step == Step::kRelease || !attempt_) return;  // nothing awaits it
  Attempt& a = *attempt_;
  if (ex.reader.state() != upnp::HttpResponseReader::State::kDone) {
    ++stats_.bad_answers;
    NextCandidate(now, "http");
    return;
  }
  const int status = ex.reader.status();
  if (ex.step == Step::kDescription) {
    if (status != 200) {
      ++stats_.bad_answers;
      NextCandidate(now, "http-" + std::to_string(status));
      return;
    }
    upnp::ParseError e{};
    std::optional<upnp::IgdService> service = upnp::ParseDescription(ex.reader.body(), ex.url, &e);
    if (!service) {
      ++stats_.bad_answers;
      NextCandidate(now, std::string("description: ") + upnp::ToString(e));
      return;
    }
    // The SOAP calls go to the control URL: it must be an address this
    // node can call from the gateway's LAN (no resolver here; and an IGD
    // grants mappings only to the caller's own address, so an IPv4 client
    // cannot call over IPv6). Else it fails now, as a LOCATION would.
    const std::optional<Endpoint> control = service->control_url.ToEndpoint();
    if (!control || control->ip.family() != a.want.gateway.family()) {
      ++stats_.bad_answers;
      NextCandidate(now, "bad-location");
      return;
    }
    ++stats_.descriptions;
    a.service = std::move(service);
    StartAdd(now, config_.lifetime_seconds);
    return;
  }
  // SOAP: a response (200) or a fault (500, or whatever status carries one).
  upnp::ParseError e{};
  const std::optional<upnp::SoapResult> result = upnp::ParseSoapBody(ex.reader.body(), &e);
  if (!result) {
    ++stats_.bad_answers;
    NextCandidate(now, status == 200 ? std::string("soap: ") + upnp::ToString(e)
                                     : "http-" + std::to_string(status));
    return;
  }
  if (const auto* fault = std::get_if<upnp::SoapFault>(&*result)) {
    ++stats_.faults;
    if (ex.step == Step::kAdd && (fault->code == 402 || fault->code == 725)) {
      ++stats_.permanent_retries;
      StartAdd(now, 0);  // permanent, the same port
      return;
    }
    NextCandidate(now, "fault", fault->code);
    return;
  }
  const upnp::SoapResponse& response = std::get<upnp::SoapResponse>(*result);
  if (ex.step == Step::kAdd || ex.step == Step::kAddPermanent) {
    if (IsIpV2(a.service->service_type)) {
      const std::optional<uint16_t> port = upnp::ReservedPortOf(response, &e);
      if (!port) {
        ++stats_.bad_answers;
        NextCandidate(now, std::string("soap: ") + upnp::ToString(e));
        return;
      }
      a.reserved_port = *port;
    } else if (response.action != upnp::kAddPortMapping) {
      ++stats_.bad_answers;
      NextCandidate(now, "soap: wrong action");
      return;
    } else {
      a.reserved_port = a.asked_port;
    }
    Open(now, Step::kExternalIp, a.service->control_url,
         upnp::BuildSoapPost(a.service->control_url, a.service->service_type,
                             upnp::kGetExternalIpAddress,
                             upnp::BuildGetExternalIpAddress(a.service->service_type)));
    return;
  }
  // kExternalIp
  const std::optional<IpAddress> ip = upnp::ExternalIpAddressOf(response, &e);
  if (!ip || ip->IsUnspecified() || ip->IsLoopback()) {
    ++stats_.bad_answers;
    NextCandidate(now, ip ? "unusable external address " + ip->ToString()
                          : std::string("soap: ") + upnp::ToString(e));
    return;
  }
  const Duration lease = Duration::Seconds(config_.lifetime_seconds);
  Mapping m;
  m.protocol = MappingProtocol::kUpnp;
  m.internal = a.want.internal;
  m.external = Endpoint(*ip, a.reserved_port);
  m.renew_after = now + lease / 2;
  m.good_until = now + lease;
  m.epoch_at = now;
  cached_ = a.service;
  ++stats_.mapped;
  events_.push_back(UpnpMapped{m});
  attempt_.reset();
}

std::optional<StreamAction> UpnpMapper::PollStreamAction() {
  if (actions_.empty()) return std::nullopt;
  StreamAction a = std::move(actions_.front());
  actions_.pop_front();
  return a;
}

std::optional<Timestamp> UpnpMapper::PollTimeout() const {
  std::optional<Timestamp> t;
  for (const auto& [conn, ex] : exchanges_) {
    if (!t || ex.deadline < *t) t = ex.deadline;
  }
  return t;
}

std::optional<UpnpMapperEvent> UpnpMapper::PollEvent() {
  if (events_.empty()) return std::nullopt;
  UpnpMapperEvent e = std::move(events_.front());
  events_.pop_front();
  return e;
}

}  // namespace portmap
}  // namespace punchlab
