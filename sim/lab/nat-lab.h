// The lab one NAT is judged in:
//
//   client 198.51.100.10 -eth0--lan- 198.51.100.1 router 203.0.113.254 -wan--eth0- server 203.0.113.1
//                                                        (203.0.113.253)                 203.0.113.2
//
// The router forwards, NATs with the spec's nftables ruleset (nat-ruleset.h)
// and times UDP conntrack entries out after the spec's timeout (the
// nf_conntrack_udp_timeout sysctls are per network namespace). A cgnat router
// has a pool of two external addresses (203.0.113.253 as well); the others
// have one. The router sends no ICMP redirects, which hairpinned datagrams
// (in and out of the LAN interface) would otherwise provoke. With a latency,
// netem delays every packet leaving either end of the router-server link.
#pragma once

#include <string>
#include <vector>

#include "lab/nat-ruleset.h"
#include "lab/netns-lab.h"
#include "punchlab/time.h"

namespace punchlab::lab {

inline constexpr const char* kClientIp = "198.51.100.10";
inline constexpr const char* kRouterLanIp = "198.51.100.1";
inline constexpr const char* kRouterWanIp = "203.0.113.254";
// The second address of a cgnat router's pool.
inline constexpr const char* kRouterWanPoolIp = "203.0.113.253";
inline constexpr const char* kServerIp = "203.0.113.1";
inline constexpr const char* kServerAltIp = "203.0.113.2";

struct RealNatSpec {
  NatType type = NatType::kPortRestrictedCone;
  // Hairpinning (nat-ruleset.h); the cgnat preset has it on.
  bool hairpin = false;
  // The UDP mapping lifetime: whole seconds, 1 s to 1 day (conntrack counts seconds).
  Duration udp_timeout = Duration::Seconds(30);
  // One-way delay of the router-server link; zero: none. At most 10 s.
  Duration latency = Duration::Zero();
};

// Throws LabError with a sentence saying what to write instead.
void CheckSpec(const RealNatSpec& spec);

// The router's external addresses for `type`, its main one first.
std::vector<std::string> ExternalAddresses(NatType type);

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
