// The lab one NAT is judged in:
//
//   client 198.51.100.10 -eth0--lan- 198.51.100.1 router 203.0.113.254 -wan--eth0- server 203.0.113.1
//                                                        (203.0.113.253)                 203.0.113.2
//
// The router forwards, NATs with the nftables ruleset of the spec's knobs
// (nat-ruleset.h) and times UDP conntrack entries out after the spec's
// udp_timeout (the nf_conntrack_udp_timeout sysctls are per network
// namespace). With external_ips > 1 the router has a pool of addresses
// (203.0.113.253 and down as well). The router sends no ICMP redirects, which hairpinned datagrams
// (in and out of the LAN interface) would otherwise provoke. With a latency,
// netem delays every packet leaving either end of the router-server link.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "lab/nat-ruleset.h"
#include "lab/netns-lab.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/time.h"

namespace punchlab::lab {

inline constexpr const char* kClientIp = "198.51.100.10";
inline constexpr const char* kRouterLanIp = "198.51.100.1";
inline constexpr const char* kRouterWanIp = "203.0.113.254";
inline constexpr const char* kServerIp = "203.0.113.1";
inline constexpr const char* kServerAltIp = "203.0.113.2";

// A pool holds at most this many addresses (as a scenario NAT's external_ips).
inline constexpr size_t kMaxExternalIps = 16;

struct RealNatSpec {
  // The NAT's knobs; UnbuildableKnobs (nat-ruleset.h) must have nothing to say.
  nat::NatConfig nat;
  // How many external addresses the router has: 1 to kMaxExternalIps.
  size_t external_ips = 1;
  // One-way delay of the router-server link; zero: none. At most 10 s.
  Duration latency = Duration::Zero();
};

// Throws LabError with a sentence saying what to write instead.
void CheckSpec(const RealNatSpec& spec);

// The router's `count` external addresses, its main one (kRouterWanIp) first.
std::vector<std::string> ExternalAddresses(size_t count);

class NatLab {
 public:
  // Builds the whole lab; throws LabError (and removes what it built) on failure.
  explicit NatLab(const RealNatSpec& spec);

  const RealNatSpec& spec() const { return spec_; }
  Lab& lab() { return lab_; }
  const Namespace& client() const { return client_; }
  const Namespace& router() const { return router_; }
  const Namespace& server() const { return server_; }
  // What was loaded into the router with nft -f.
  const std::string& ruleset() const { return ruleset_; }

 private:
  RealNatSpec spec_;
  Lab lab_;
  Namespace client_;
  Namespace router_;
  Namespace server_;
  std::string ruleset_;
};

}  // namespace punchlab::lab
