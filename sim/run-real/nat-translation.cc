#include "run-real/nat-translation.h"

namespace punchlab::runreal {
namespace {

using nat::Dependence;
using nat::PortAssignment;

constexpr int64_t kNanosPerSecond = 1000000000;

lab::NatType ConeFor(Dependence filtering) {
  switch (filtering) {
    case Dependence::kEndpointIndependent: return lab::NatType::kFullCone;
    case Dependence::kAddressDependent: return lab::NatType::kRestrictedCone;
    case Dependence::kAddressAndPortDependent: return lab::NatType::kPortRestrictedCone;
  }
  return lab::NatType::kPortRestrictedCone;
}

bool IsCone(lab::NatType t) {
  return t == lab::NatType::kFullCone || t == lab::NatType::kRestrictedCone;
}

int64_t Seconds(const char* knob, Duration d, std::vector<std::string>& deviations) {
  const int64_t s = ConntrackSeconds(d);
  if (Duration::Seconds(s) != d) {
    deviations.push_back(std::string(knob) + ": " + d.ToString() + " is rounded to " +
                         std::to_string(s) + "s (conntrack counts whole seconds)");
  }
  return s;
}

}  // namespace

int64_t ConntrackSeconds(Duration d) {
  const int64_t s = (d.nanos() + kNanosPerSecond - 1) / kNanosPerSecond;
  return s < 1 ? 1 : s;
}

LabNat TranslateNat(const nat::NatConfig& c, uint32_t external_ips) {
  LabNat out;
  std::vector<std::string>& dev = out.deviations;
  lab::NatType type;
  if (c.mapping == Dependence::kEndpointIndependent) {
    type = ConeFor(c.filtering);
    if (c.ports != PortAssignment::kPreserve) {
      dev.push_back(std::string("ports: ") + nat::ToString(c.ports) +
                    " is not built: the lab's endpoint-independent NATs are Linux masquerade, "
                    "which keeps the inside port while it is free");
    }
  } else {
    if (c.mapping == Dependence::kAddressDependent) {
      dev.push_back(
          "mapping: address-dependent cannot be built with nftables; the lab maps "
          "address-and-port-dependently instead");
    }
    if (c.ports == PortAssignment::kRandom) {
      type = lab::NatType::kSymmetric;
    } else {
      // Linux has no "new mapping per destination that keeps the port": plain
      // masquerade gives every destination the inside port while it is free.
      type = lab::NatType::kPortRestrictedCone;
      dev.push_back(std::string("mapping: ") + nat::ToString(c.mapping) + " with ports: " +
                    nat::ToString(c.ports) +
                    " is built as Linux masquerade, which keeps the inside port for every "
                    "destination while it is free: endpoint-independent in practice");
    }
    if (c.filtering != Dependence::kAddressAndPortDependent) {
      dev.push_back(std::string("filtering: ") + nat::ToString(c.filtering) +
                    " is not built: with this mapping the lab filters by address and port");
    }
  }
  if (c.port_range != nat::PortRange{}) {
    dev.push_back("port_range: " + std::to_string(c.port_range.first) + "-" +
                  std::to_string(c.port_range.last) +
                  " is not built: the lab's NATs use the kernel's port choice");
  }
  if (c.hairpin) dev.push_back("hairpin: true is not built: no lab NAT hairpins");
  if (external_ips > 1) {
    dev.push_back("external_ips: " + std::to_string(external_ips) +
                  " is not built: the lab's NATs have one external address (so pooling does "
                  "not apply)");
  }
  if (c.refresh == nat::Refresh::kOutbound) {
    dev.push_back(
        "refresh: outbound is not built exactly: conntrack also refreshes a live mapping on "
        "inbound packets");
  } else if (IsCone(type)) {
    dev.push_back(
        "refresh: both holds for established flows only: the cone's endpoint-independent "
        "entries are refreshed by outbound packets");
  }
  out.udp_timeout_s = Seconds("udp_timeout", c.timeouts.udp, dev);
  out.tcp_established_timeout_s =
      Seconds("tcp_established_timeout", c.timeouts.tcp_established, dev);
  out.tcp_transitory_timeout_s = Seconds("tcp_transitory_timeout", c.timeouts.tcp_transitory, dev);
  out.ruleset.type = type;
  out.ruleset.wan_if = "wan";
  out.ruleset.udp_timeout = Duration::Seconds(out.udp_timeout_s);
  return out;
}

}  // namespace punchlab::runreal
