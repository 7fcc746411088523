// Classifies a lab NAT the way `punchlab classify --real` reports it: our
// discovery client (punchlab-node nat-discover, RFC 5780 style, against our
// stun-server) and Debian's `stun` client (RFC 3489 style, against Debian's
// `stund`) both run from behind the same NAT, at the same time, each against
// a server on the two server addresses.
#pragma once

#include <cstdint>
#include <string>

#include "lab/nat-lab.h"

namespace punchlab::lab {

struct LabBinaries {
  std::string punchlab_node;         // path of our punchlab-node
  std::string stun_client = "stun";  // Debian's stun-client
  std::string stund = "stund";       // Debian's stun-server
};

// Debian's client asks port 3478 unless told otherwise, so stund gets the
// standard ports and our server the next two.
inline constexpr uint16_t kStundPort = 3478;
inline constexpr uint16_t kStundAltPort = 3479;
inline constexpr uint16_t kOurServerPort = 3480;
inline constexpr uint16_t kOurServerAltPort = 3481;
// Debian's client binds this port (and the next); below the kernel's
// ephemeral range, so our client's sockets never collide with it.
inline constexpr uint16_t kStunClientPort = 20000;

// Our client's verdict, in the NAT SPEC's words.
struct OurNatReport {
  bool udp_blocked = false;
  std::string mapped;           // "203.0.113.254:40000"; empty when none
  std::string mapping;          // endpoint-independent / address-dependent /
  std::string filtering;        //   address-and-port-dependent / unknown
  std::string port_assignment;  // preserve / sequential / random / unknown
  std::string hairpin;          // on / off / unknown
  std::string line;             // "mapped=... mapping=... filtering=... ports=... hairpin=..."
};

struct RealClassification {
  RealNatSpec spec;
  std::string ruleset;  // what the router ran (nft -f)
  OurNatReport ours;
  // The verdict line Debian's stun printed, trailing blanks removed, e.g.
  // "Primary: Independent Mapping, Port Dependent Filter, preserves ports, no hairpin".
  std::string stun_client_verdict;
  int stun_client_exit_code = 0;    // Vovida's client exits with its NAT type code
  std::string nat_discover_output;  // raw stdout: one JSON object
  std::string stun_client_output;   // raw stdout
};

// Starts our stun-server and stund in lab.server() (they keep running until
// the lab is torn down) and runs both clients in lab.client(). Throws
// LabError naming the command when a server does not come up or a client
// fails to give a verdict.
RealClassification Classify(NatLab& lab, const LabBinaries& binaries);

// Builds a NatLab for `spec`, classifies it and tears it down.
RealClassification ClassifyReal(const RealNatSpec& spec, const LabBinaries& binaries);

}  // namespace punchlab::lab
