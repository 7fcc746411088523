#include "punchlab/node/events.h"

#include <string>
#include <type_traits>

namespace punchlab {
namespace node {

Path Path::Direct(const Endpoint& ep) {
  Path p;
  p.kind = Kind::kDirect;
  p.endpoint = ep;
  return p;
}

Path Path::Derp(RegionId region) {
  Path p;
  p.kind = Kind::kDerp;
  p.region = region;
  return p;
}

std::string Path::ToString() const {
  switch (kind) {
    case Kind::kNone: return "none";
    case Kind::kDirect: return "direct " + endpoint.ToString();
    case Kind::kDerp: return "derp " + std::to_string(region);
  }
  return "unknown";
}

bool Path::operator==(const Path& o) const {
  if (kind != o.kind) return false;
  switch (kind) {
    case Kind::kNone: return true;
    case Kind::kDirect: return endpoint == o.endpoint;
    case Kind::kDerp: return region == o.region;
  }
  return false;
}

bool Path::operator<(const Path& o) const {
  if (kind != o.kind) return kind < o.kind;
  switch (kind) {
    case Kind::kNone: return false;
    case Kind::kDirect: return endpoint < o.endpoint;
    case Kind::kDerp: return region < o.region;
  }
  return false;
}

const char* PathChangeReasonName(PathChangeReason r) {
  switch (r) {
    case PathChangeReason::kPong: return "pong";
    case PathChangeReason::kCallMeMaybe: return "call-me-maybe";
    case PathChangeReason::kBetterPath: return "better path";
    case PathChangeReason::kTrustExpired: return "trust expired";
    case PathChangeReason::kPeerRestarted: return "peer restarted";
    case PathChangeReason::kLocalChange: return "local endpoints changed";
    case PathChangeReason::kDerpRegion: return "derp region";
  }
  return "unknown";
}

void RttStats::Add(Duration rtt) {
  if (samples == 0 || rtt < min) min = rtt;
  if (samples == 0 || rtt > max) max = rtt;
  last = rtt;
  total += rtt;
  ++samples;
}

namespace {

std::string Join(const std::vector<Endpoint>& eps) {
  std::string out = "[";
  for (size_t i = 0; i < eps.size(); ++i) {
    if (i > 0) out += " ";
    out += eps[i].ToString();
  }
  return out + "]";
}

std::string Line(const Registered& e) {
  return "registered " + e.address.ToString() + " as " + e.user + "@" + e.domain;
}
std::string Line(const RegistrationRefused& e) { return "registration refused: " + e.reason; }
std::string Line(const ControlDisconnected& e) {
  return "control disconnected: " + e.reason + (e.will_reconnect ? " (reconnecting)" : "");
}
std::string Line(const PeerAdded& e) {
  return "peer added " + e.peer.ShortString() + " disco " + e.disco_key.ShortString() +
         " home " + std::to_string(e.home_region) + " endpoints " + Join(e.endpoints) + " via " +
         e.path.ToString();
}
std::string Line(const PeerRemoved& e) { return "peer removed " + e.peer.ShortString(); }
std::string Line(const PeerRestarted& e) {
  return "peer restarted " + e.peer.ShortString() + " disco " + e.old_disco_key.ShortString() +
         " -> " + e.new_disco_key.ShortString();
}
std::string Line(const EndpointsChanged& e) { return "endpoints " + Join(e.endpoints); }
std::string Line(const NetcheckDone& e) {
  const netcheck::Report& r = e.report;
  std::string out = "netcheck #" + std::to_string(r.sequence) + ":";
  if (r.udp_blocked) return out + " udp blocked";
  if (r.global_v4) out += " v4 " + r.global_v4->ToString();
  if (r.global_v6) out += " v6 " + r.global_v6->ToString();
  if (r.mapping_varies_by_dest_ip) {
    out += *r.mapping_varies_by_dest_ip ? " hard-nat" : " easy-nat";
  }
  for (const auto& [id, latency] : r.region_latency) {
    out += " r" + std::to_string(id) + "=" + latency.ToString();
  }
  return out + " home " + std::to_string(r.home_region);
}
std::string Line(const HomeRegionChanged& e) {
  return "home region " + std::to_string(e.from) + " -> " + std::to_string(e.to) + " (" +
         e.reason + ")";
}
std::string Line(const DerpConnected& e) { return "derp " + std::to_string(e.region) + " connected"; }
std::string Line(const Up& e) {
  if (e.home_region == kNoRegion) return "up: registered, no derp region to connect to";
  return "up: registered, home derp " + std::to_string(e.home_region) + " connected";
}
std::string Line(const DerpDisconnected& e) {
  return "derp " + std::to_string(e.region) + " disconnected: " + e.reason;
}
std::string Line(const PathChanged& e) {
  std::string out = "path " + e.peer.ShortString() + " " + e.from.ToString() + " -> " +
                    e.to.ToString() + " (" + PathChangeReasonName(e.reason);
  if (!e.detail.empty()) out += ": " + e.detail;
  return out + ")";
}
std::string Line(const DataReceived& e) {
  return "data " + e.peer.ShortString() + " " + std::to_string(e.data.size()) + "B via " +
         e.path.ToString();
}
std::string Line(const RttMeasured& e) {
  return "rtt " + e.peer.ShortString() + " " + e.path.ToString() + " " + e.rtt.ToString();
}

std::string TxidText(const std::optional<disco::TxId>& txid) {
  if (!txid) return "";
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = " txid ";
  for (uint8_t b : *txid) {
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}
std::string Line(const DiscoSent& e) {
  return std::string("disco ") + disco::MessageTypeName(e.type) + " -> " + e.peer.ShortString() +
         " via " + e.via.ToString() + TxidText(e.txid) + " (" + e.why + ")";
}
std::string Line(const DiscoReceived& e) {
  return std::string("disco ") + disco::MessageTypeName(e.type) + " <- " + e.peer.ShortString() +
         " via " + e.via.ToString() + TxidText(e.txid) + " (" + e.why + ")";
}
std::string Line(const CandidateLearned& e) {
  return "candidate " + e.peer.ShortString() + " " + e.endpoint.ToString() + " (" + e.source + ")";
}
std::string Line(const WireGuardHandshake& e) {
  return "wireguard handshake " + e.peer.ShortString() + (e.initiator ? " initiated" : " answered") +
         " over " + e.via.ToString();
}
std::string Line(const TrustChanged& e) {
  return "trust " + e.peer.ShortString() + " " + e.endpoint.ToString() +
         (e.trusted ? " trusted" : " untrusted") + " (" + e.why + ")";
}

std::string Line(const PortMappingCreated& e) {
  return std::string("portmap ") + portmap::ToString(e.mapping.protocol) + " " +
         (e.renewal ? "renewed " : "mapped ") + e.mapping.internal.ToString() + " -> " +
         e.mapping.external.ToString() + " until " +
         std::to_string(e.mapping.good_until.seconds()) + "s";
}
std::string Line(const PortMappingLost& e) {
  return std::string("portmap ") + portmap::ToString(e.mapping.protocol) + " lost " +
         e.mapping.external.ToString() + " (" + portmap::ToString(e.reason) + ")";
}
std::string Line(const PortMappingFailed& e) {
  return std::string("portmap ") + portmap::ToString(e.protocol) + " failed (" + e.reason + ")";
}
std::string Line(const PortMappingProbed& e) {
  std::string found;
  if (e.pmp) found += " pmp";
  if (e.pcp) found += " pcp";
  if (e.upnp) found += " upnp";
  return "portmap probe:" + (found.empty() ? std::string(" nothing") : found);
}

}  // namespace

std::string Describe(const EventBody& body) {
  return std::visit([](const auto& e) { return Line(e); }, body);
}

}  // namespace node
}  // namespace punchlab
