#include "run-sim/address-plan.h"

#include <string>

#include "results/run-options.h"

namespace punchlab {
namespace runsim {
namespace {

int PrefixLength(uint32_t size) {
  int bits = 0;
  while ((1u << bits) < size) ++bits;
  return 32 - bits;
}

std::string RoomSentence(uint32_t links, uint32_t size) {
  return "the simulation has room for " + std::to_string(links) +
         " links on public addresses (a /" + std::to_string(PrefixLength(size)) +
         " each in 198.18.0.0/15: nodes, NATs and firewalls on the internet, hosts behind "
         "firewalls, servers)";
}

}  // namespace

ns3::Ipv4Address Subnet::Host(uint32_t n) const {
  return ns3::Ipv4Address(network.Get() + n);
}

AddressPlan::AddressPlan(uint32_t public_links) {
  if (public_links > MaxPublicLinks()) {
    throw results::RunError(RoomSentence(MaxPublicLinks(), kSmallestPublicSubnet) +
                            "; this scenario needs " + std::to_string(public_links));
  }
  while (public_size_ > kSmallestPublicSubnet &&
         static_cast<uint64_t>(public_links) * public_size_ > kPublicAddresses) {
    public_size_ /= 2;
  }
}

Subnet AddressPlan::NextPublic() {
  if (next_public_ >= public_links()) {
    throw results::RunError(RoomSentence(public_links(), public_size_) +
                            "; this scenario needs more");
  }
  const uint32_t base = (198u << 24) | (18u << 16);
  Subnet s;
  s.network = ns3::Ipv4Address(base + public_size_ * next_public_++);
  s.mask = ns3::Ipv4Mask(~(public_size_ - 1));
  s.size = public_size_;
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
