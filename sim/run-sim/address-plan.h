// Where every simulated link gets its addresses. Each link is its own subnet:
// the upper end (the box it hangs off; on an access link to the internet
// nobody) is .1, the lower end (node, box uplink, server) takes .2 onwards.
//
//   public  198.18.0.0/15 (RFC 2544's benchmarking range), one /26 per link:
//           access links to the internet, and links behind firewalls that
//           nothing translates (their hosts must be reachable as they are).
//           A /26 holds a NAT's external addresses (.2 up to .17) and the
//           ones change-address moves it to (.18 onwards, wrapping).
//   private 10.0.0.0/8, one /24 per link: links behind a NAT.
//
// The internet delivers every access link's /26 to its device; a firewall's
// parent (or the internet) gets a route to each subnet behind that firewall
// (see scenario-world.cc). Public addresses are never private in the sense of
// IpAddress::IsPrivate, private ones always are, so nodes rank candidates as
// they would on a real network.
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
};

class AddressPlan {
 public:
  static constexpr uint32_t kPublicSubnets = 2048;   // /26s in 198.18.0.0/15
  static constexpr uint32_t kPrivateSubnets = 65536; // /24s in 10.0.0.0/8

  // Throws results::RunError when the pool is used up (the sentence names the limit).
  Subnet NextPublic();
  Subnet NextPrivate();

 private:
  uint32_t next_public_ = 0;
  uint32_t next_private_ = 0;
};

}  // namespace runsim
}  // namespace punchlab
