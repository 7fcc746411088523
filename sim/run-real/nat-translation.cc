#include "run-real/nat-translation.h"

#include <algorithm>

namespace punchlab::runreal {
namespace {

using nat::Dependence;
using nat::PortAssignment;

constexpr int64_t kNanosPerSecond = 1000000000;

int64_t Seconds(const char* knob, Duration d, std::vector<std::string>& deviations) {
  const int64_t s = ConntrackSeconds(d);
  if (Duration::Seconds(s) != d) {
    deviations.push_back(std::string(knob) + ": " + d.ToString() + " is rounded to " +
                         std::to_string(s) + "s (conntrack counts whole seconds)");
  }
  return s;
}

// The lab NAT nearest to the knobs, and what it cannot build of them.
lab::NatType NearestType(const nat::NatConfig& c, std::vector<std::string>& dev) {
  if (c.mapping == Dependence::kEndpointIndependent) {
    if (c.filtering == Dependence::kAddressAndPortDependent) {
      if (c.ports == PortAssignment::kRandom) return lab::NatType::kCgnat;
      if (c.ports == PortAssignment::kSequential) {
        dev.push_back("ports: sequential is not built: the lab keeps the inside port");
      }
      return lab::NatType::kPortRestrictedCone;
    }
    if (c.ports != PortAssignment::kPreserve) {
      dev.push_back(std::string("ports: ") + nat::ToString(c.ports) +
                    " is not built with this filtering: the lab's cones keep the inside port");
    }
    return c.filtering == Dependence::kEndpointIndependent ? lab::NatType::kFullCone
                                                           : lab::NatType::kRestrictedCone;
  }
  if (c.mapping == Dependence::kAddressDependent) {
    dev.push_back(
        "mapping: address-dependent cannot be built with nftables; the lab maps "
        "address-and-port-dependently instead");
  }
  if (c.filtering != Dependence::kAddressAndPortDependent) {
    dev.push_back(std::string("filtering: ") + nat::ToString(c.filtering) +
                  " is not built: with this mapping the lab filters by address and port");
  }
  if (c.ports == PortAssignment::kRandom) return lab::NatType::kSymmetric;
  if (c.ports == PortAssignment::kSequential) {
    dev.push_back("ports: sequential is not built: the lab keeps the inside port");
  }
  return lab::NatType::kSymmetricPortPreserving;
}

}  // namespace

int64_t ConntrackSeconds(Duration d) {
  const int64_t s = (d.nanos() + kNanosPerSecond - 1) / kNanosPerSecond;
  return s < 1 ? 1 : s;
}

LabNat TranslateNat(const nat::NatConfig& c, const std::vector<std::string>& external_addresses) {
  LabNat out;
  std::vector<std::string>& dev = out.deviations;
  const lab::NatType type = NearestType(c, dev);
  if (c.port_range != nat::PortRange{}) {
    dev.push_back("port_range: " + std::to_string(c.port_range.first) + "-" +
                  std::to_string(c.port_range.last) +
                  " is not built: the lab's NATs use the kernel's port choice");
  }
  if (external_addresses.size() > 1 && c.pooling == nat::Pooling::kArbitrary) {
    dev.push_back("pooling: arbitrary is not built: the lab's address pool is paired");
  }
  for (std::string& d : lab::LinuxDifferences(type, c.hairpin)) {
    // Linux refreshes on inbound packets too; that is only a difference when
    // the scenario asked for outbound refresh.
    const bool refresh_exact = d.rfind("refresh:", 0) == 0 &&
                               c.refresh == nat::Refresh::kBoth &&
                               !lab::MapsEndpointIndependently(type);
    if (!refresh_exact) dev.push_back(std::move(d));
  }
  out.udp_timeout_s = Seconds("udp_timeout", c.timeouts.udp, dev);
  out.tcp_established_timeout_s =
      Seconds("tcp_established_timeout", c.timeouts.tcp_established, dev);
  out.tcp_transitory_timeout_s = Seconds("tcp_transitory_timeout", c.timeouts.tcp_transitory, dev);
  out.ruleset.type = type;
  out.ruleset.wan_if = "wan";
  out.ruleset.lan_if = "lan";
  out.ruleset.hairpin = c.hairpin;
  out.ruleset.udp_timeout = Duration::Seconds(out.udp_timeout_s);
  // Hairpinned datagrams leave by the LAN, whose address masquerade would
  // pick; a pool needs its addresses named. Otherwise masquerade follows
  // whatever address wan has (a change of address needs no new rules).
  if (c.hairpin || external_addresses.size() > 1) out.ruleset.wan_addresses = external_addresses;
  return out;
}

}  // namespace punchlab::runreal
