// Where every simulated link gets its addresses. Each link is its own subnet:
// the upper end (the box it hangs off; on an access link to the internet
// nobody) is .1, the lower end (node, box uplink, server) takes .2 onwards.
//
//   public  198.18.0.0/15 (RFC 2544's benchmarking range: 131,072 addresses),
//           one subnet per link: access links to the internet, and links
//           behind firewalls that nothing translates (their hosts must be
//           reachable as they are). Every public subnet of a world has one
//           size, the largest of /26 ... /30 that gives each of the world's
//           public links its own: a /26 up to 2,048 public links (what every
//           scenario had before this grew; their addresses are unchanged),
//           a /27 up to 4,096, /28 up to 8,192, /29 up to 16,384 and /30 up
//           to 32,768. A NAT's external addresses start at .2; the ones
//           change-address moves it to follow (wrapping within the subnet).
//           A /26 holds 16 external addresses (external_ips' maximum) and
//           their changes; in a smaller subnet a link that needs more than it
//           holds is refused before the run, with the reason.
//   private 10.0.0.0/8, one /24 per link: links behind a NAT (65,536).
//
// The internet delivers every access link's subnet to its device; a
// firewall's parent (or the internet) gets a route to each subnet behind that
// firewall (see scenario-world.cc). Public addresses are never private in the
// sense of IpAddress::IsPrivate, private ones always are, so nodes rank
// candidates as they would on a real network.
#pragma once

#include <cstdint>

#include "ns3/ipv4-address.h"

namespace punchlab {
namespace runsim {

struct Subnet {
  ns3::Ipv4Address network;
  ns3::Ipv4Mask mask;
  uint32_t size = 0;  // addresses in the subnet, network and broadcast included

  ns3::Ipv4Address Host(uint32_t n) const;  // network + n; n in [1, size - 2]
  ns3::Ipv4Address Upper() const { return Host(1); }
  ns3::Ipv4Address Lower() const { return Host(2); }
  // Hosts .2 .. size-2: the lower end's addresses (.1 is the upper end's).
  uint32_t Usable() const { return size - 3; }
};

class AddressPlan {
 public:
  static constexpr uint32_t kPublicAddresses = 131072;  // 198.18.0.0/15
  static constexpr uint32_t kLargestPublicSubnet = 64;  // /26
  static constexpr uint32_t kSmallestPublicSubnet = 4;  // /30
  static constexpr uint32_t kPrivateSubnets = 65536;    // /24s in 10.0.0.0/8
  static constexpr uint32_t MaxPublicLinks() { return kPublicAddresses / kSmallestPublicSubnet; }

  // `public_links`: how many links the world puts on public addresses; it
  // sizes every public subnet. Throws results::RunError when even /30s are
  // too few (the sentence names the limit).
  explicit AddressPlan(uint32_t public_links = 0);

  uint32_t public_subnet_size() const { return public_size_; }
  uint32_t public_links() const { return kPublicAddresses / public_size_; }

  // Throws results::RunError when the pool is used up (the sentence names the limit).
  Subnet NextPublic();
  Subnet NextPrivate();

 private:
  uint32_t public_size_ = kLargestPublicSubnet;
  uint32_t next_public_ = 0;
  uint32_t next_private_ = 0;
};

}  // namespace runsim
}  // namespace punchlab
