#include "run-sim/address-plan.h"

#include <string>

#include "results/run-options.h"

namespace punchlab {
namespace runsim {

ns3::Ipv4Address Subnet::Host(uint32_t n) const {
  return ns3::Ipv4Address(network.Get() + n);
}

Subnet AddressPlan::NextPublic() {
  if (next_public_ >= kPublicSubnets) {
    throw results::RunError("the simulation has room for " + std::to_string(kPublicSubnets) +
                            " links on public addresses (nodes, NATs and firewalls on the "
                            "internet, hosts behind firewalls, servers); this scenario needs more");
  }
  const uint32_t base = (198u << 24) | (18u << 16);
  Subnet s;
  s.network = ns3::Ipv4Address(base + 64 * next_public_++);
  s.mask = ns3::Ipv4Mask("255.255.255.192");
  s.size = 64;
  return s;
}

Subnet AddressPlan::NextPrivate() {
  if (next_private_ >= kPrivateSubnets) {
    throw results::RunError("the simulation has room for " + std::to_string(kPrivateSubnets) +
                            " links behind NATs; this scenario needs more");
  }
  Subnet s;
  s.network = ns3::Ipv4Address((10u << 24) + 256 * next_private_++);
  s.mask = ns3::Ipv4Mask("255.255.255.0");
  s.size = 256;
  return s;
}

}  // namespace runsim
}  // namespace punchlab
