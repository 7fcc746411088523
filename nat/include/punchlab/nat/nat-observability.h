// What NAT behaviour discovery can see of a configured NAT, and how a report
// compares with it: the judgement behind `punchlab classify`.
//
// The observer is NatDiscovery (protocol/include/punchlab/stun/nat-discovery.h)
// on one inside host, with a main socket and extra sockets, against an RFC 5780
// server, through a NAT with one external address (ClassifyTopology). Two
// configured knobs cannot show through it as configured, whatever the probe:
//
//  * Mapping under port preservation. A port-preserving NAT gives every
//    mapping of one inside socket the socket's own port, so all of them share
//    one binding (port-pool.h; Linux masquerade does the same):
//    every destination sees the same external endpoint and the binding filters
//    for all of them together. No outside observer can tell that from
//    endpoint-independent mapping, so it shows as endpoint-independent.
//  * Hairpinning behind a NAT whose mapping (as it shows) depends on the
//    destination, unless filtering is endpoint-independent. The request the
//    client sends to its own mapped address M leaves through a new mapping
//    M' (the destination is new), and RFC 4787 REQ-9 has the NAT judge the
//    looped-back packet from M' by M's filter. M never sent anything to M'
//    (anything sent there would itself go out through M'), so an address- or
//    address-and-port-dependent filter drops it: hairpinning shows as off.
//
// Everything else shows as configured, given room for the probe: a port range
// with a few dozen free ports, and a UDP timeout of a few seconds or more
// (the probes' retransmissions, up to 1.6 s apart, keep the mappings alive; one
// that expires mid-run comes back on a new port).
#pragma once

#include <string>
#include <vector>

#include "punchlab/nat/nat-config.h"
#include "punchlab/stun/nat-discovery.h"

namespace punchlab {
namespace nat {

// The four behaviours in the NAT SPEC's words ("unknown" where a report has
// no verdict). Keys are the JSON keys of `punchlab classify`.
struct NatFindings {
  std::string mapping;
  std::string filtering;
  std::string port_assignment;
  std::string hairpin;

  bool operator==(const NatFindings& o) const;
  bool operator!=(const NatFindings& o) const { return !(*this == o); }
  // "mapping=... filtering=... ports=... hairpin=...", as SPEC knobs.
  std::string ToString() const;
};

// The configuration's own knobs.
NatFindings ConfiguredFindings(const NatConfig& config);
// What a discovery run reported.
NatFindings ReportedFindings(const stun::NatReport& report);

struct NatExpectation {
  NatFindings findings;  // what discovery should report
  // One sentence per knob that shows differently from its configuration, why.
  std::vector<std::string> notes;
};
NatExpectation ExpectedFindings(const NatConfig& config);

struct FindingDifference {
  std::string knob;  // "mapping", "filtering", "port_assignment" or "hairpin"
  std::string expected;
  std::string found;
};
// The knobs where `found` differs from `expected`, in the order above.
std::vector<FindingDifference> CompareFindings(const NatFindings& expected,
                                               const NatFindings& found);

}  // namespace nat
}  // namespace punchlab
