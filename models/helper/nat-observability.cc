#include "helper/nat-observability.h"

namespace ns3 {

using punchlab::nat::Dependence;
using punchlab::nat::NatConfig;
using punchlab::nat::PortAssignment;

bool NatFindings::operator==(const NatFindings& o) const {
  return mapping == o.mapping && filtering == o.filtering &&
         port_assignment == o.port_assignment && hairpin == o.hairpin;
}

std::string NatFindings::ToString() const {
  return "mapping=" + mapping + " filtering=" + filtering + " ports=" + port_assignment +
         " hairpin=" + hairpin;
}

NatFindings ConfiguredFindings(const NatConfig& config) {
  return {punchlab::nat::ToString(config.mapping), punchlab::nat::ToString(config.filtering),
          punchlab::nat::ToString(config.ports), config.hairpin ? "on" : "off"};
}

NatFindings ReportedFindings(const punchlab::stun::NatReport& report) {
  return {punchlab::stun::ToString(report.mapping), punchlab::stun::ToString(report.filtering),
          punchlab::stun::ToString(report.ports), punchlab::stun::ToString(report.hairpin)};
}

NatExpectation ExpectedFindings(const NatConfig& config) {
  NatExpectation e{ConfiguredFindings(config), {}};
  const char* configuredMapping = punchlab::nat::ToString(config.mapping);
  const char* filtering = punchlab::nat::ToString(config.filtering);

  Dependence shownMapping = config.mapping;
  if (config.ports == PortAssignment::kPreserve &&
      config.mapping != Dependence::kEndpointIndependent) {
    shownMapping = Dependence::kEndpointIndependent;
    e.findings.mapping = punchlab::nat::ToString(shownMapping);
    e.notes.push_back(std::string("mapping is ") + configuredMapping +
                      ", but port preservation gives every mapping of a socket the same "
                      "external port, so every destination sees one external endpoint: it "
                      "shows as endpoint-independent");
  }
  if (config.hairpin && shownMapping != Dependence::kEndpointIndependent &&
      config.filtering != Dependence::kEndpointIndependent) {
    e.findings.hairpin = "off";
    e.notes.push_back(std::string("hairpinning is on, but the request to the client's own "
                                  "mapped address loops back from the new mapping the ") +
                      configuredMapping +
                      " NAT makes for that destination, which the client's mapping never "
                      "sent to, and " + filtering +
                      " filtering drops it: it shows as off");
  }
  return e;
}

std::vector<FindingDifference> CompareFindings(const NatFindings& expected,
                                               const NatFindings& found) {
  std::vector<FindingDifference> out;
  auto check = [&](const char* knob, const std::string& want, const std::string& got) {
    if (want != got) out.push_back({knob, want, got});
  };
  check("mapping", expected.mapping, found.mapping);
  check("filtering", expected.filtering, found.filtering);
  check("port_assignment", expected.port_assignment, found.port_assignment);
  check("hairpin", expected.hairpin, found.hairpin);
  return out;
}

}  // namespace ns3
