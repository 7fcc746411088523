#include "run-real/portmap-translation.h"

#include <algorithm>

#include "results/run-options.h"

namespace punchlab::runreal {
namespace {

constexpr Duration kMiniupnpdMinLifetime = Duration::Seconds(120);  // its default

std::string Joined(const std::vector<std::string>& sentences) {
  std::string out;
  for (const std::string& s : sentences) out += (out.empty() ? "" : "; ") + s;
  return out;
}

// What no router running miniupnpd can do, whatever its place in the lab.
std::vector<std::string> UnbuildableKnobs(const nat::PortMappingConfig& c) {
  std::vector<std::string> out;
  if (c.error != nat::PortMappingError::kNone) {
    out.push_back(std::string("port_mapping.error=") + nat::ToString(c.error) +
                  ": miniupnpd has no switch that answers every mapping request with one "
                  "result code");
  }
  if (c.answer_from != nat::AnswerFrom::kGateway) {
    out.push_back(std::string("port_mapping.answer_from=") + nat::ToString(c.answer_from) +
                  ": the lab's gateway is the router's LAN address, and miniupnpd answers "
                  "from the address it was asked at");
  }
  if (c.upnp_lease_error != nat::UpnpLeaseError::kNone) {
    out.push_back(std::string("port_mapping.upnp_lease_error=") + nat::ToString(c.upnp_lease_error) +
                  ": miniupnpd (IGD v2) grants any lease duration up to a week, a permanent "
                  "one included, so it never answers 402 or 725 for one");
  }
  if (c.multicast_only) {
    out.push_back("port_mapping.multicast_only=true: miniupnpd answers an M-SEARCH sent to "
                  "its own address as well as one sent to 239.255.255.250");
  }
  if (c.lease_limit && c.pmp) {
    out.push_back("port_mapping.lease_limit=" + c.lease_limit->ToString() +
                  " with pmp: miniupnpd 2.3.1 grants NAT-PMP lifetimes as asked (its "
                  "min_lifetime/max_lifetime bound PCP only)");
  }
  if (c.lease_limit && c.upnp) {
    // The model caps an IGD lease at lease_limit; miniupnpd's IGD grants up
    // to a week whatever max_lifetime says, so the limit would be silently
    // not enforced.
    out.push_back("port_mapping.lease_limit=" + c.lease_limit->ToString() +
                  " with upnp: miniupnpd 2.3.1 grants UPnP lease durations as asked, up to a "
                  "week (its min_lifetime/max_lifetime bound PCP only)");
  }
  return out;
}

}  // namespace

LabPortMapping TranslatePortMapping(const nat::PortMappingConfig& c,
                                    const std::string& lan_cidr) {
  const std::vector<std::string> refused = UnbuildableKnobs(c);
  if (!refused.empty()) {
    throw results::RunError("the lab cannot build this port mapping: " + Joined(refused));
  }
  LabPortMapping out;
  lab::MiniupnpdConfig& d = out.daemon;
  d.lan_cidr = lan_cidr;
  d.natpmp = c.pmp || c.pcp;
  d.upnp = c.upnp;
  d.drop_pmp = d.natpmp && !c.pmp;
  d.drop_pcp = d.natpmp && !c.pcp;
  // The model's epoch counts from the router's (re)boot.
  d.system_uptime = false;
  if (c.lease_limit) {
    d.max_lifetime = *c.lease_limit;
    d.min_lifetime = std::min(kMiniupnpdMinLifetime, *c.lease_limit);
  }
  if (d.drop_pmp || d.drop_pcp) {
    const char* offered = c.pmp ? "NAT-PMP" : "PCP";
    const char* other = c.pmp ? "PCP" : "NAT-PMP";
    out.differences.push_back(
        std::string("port_mapping: miniupnpd serves NAT-PMP and PCP with one switch, so this "
                    "router, which offers only ") +
        offered + ", drops " + other + " requests unanswered where the model answers them "
        "'unsupported version'; a client's probe waits its timeout for them");
  }
  return out;
}

std::vector<std::string> UnbuildablePortMapping(const scenario::Scenario& s,
                                                const scenario::NatDef& n) {
  if (!n.port_mapping.any()) return {};
  std::vector<std::string> out = UnbuildableKnobs(n.port_mapping);
  if (!n.behind.empty()) {
    out.push_back("port_mapping behind " + n.behind +
                  ": miniupnpd 2.3.1 refuses to map behind a private or reserved WAN address, "
                  "and only a NAT on the internet gets one outside those (11.0.0.0/24)");
  }
  const bool moves = std::any_of(s.events.begin(), s.events.end(), [&](const scenario::Event& e) {
    return e.target_kind == scenario::TargetKind::kNat && e.target == n.name &&
           e.action == scenario::Action::kChangeAddress;
  });
  if (moves) {
    out.push_back("port_mapping with a change-address event: the lab does not move "
                  "miniupnpd's leases to the new address");
  }
  return out;
}

}  // namespace punchlab::runreal
