#include "punchlab/nat/nat-observability.h"

namespace punchlab {
namespace nat {

bool NatFindings::operator==(const NatFindings& o) const {
  return mapping == o.mapping && filtering == o.filtering &&
         port_assignment == o.port_assignment && hairpin == o.hairpin;
}

std::string NatFindings::ToString() const {
  return "mapping=" + mapping + " filtering=" + filtering + " ports=" + port_assignment +
         " hairpin=" + hairpin;
}

NatFindings ConfiguredFindings(const NatConfig& config) {
  return {ToString(config.mapping), ToString(config.filtering),
          ToString(config.ports), config.hairpin ? "on" : "off"};
}

NatFindings ReportedFindings(const stun::NatReport& report) {
  return {stun::ToString(report.mapping), stun::ToString(report.filtering),
          stun::ToString(report.ports), stun::ToString(report.hairpin)};
}

NatExpectation ExpectedFindings(const NatConfig& config) {
  NatExpectation e{ConfiguredFindings(config), {}};
  const char* configuredMapping = ToString(config.mapping);
  const char* filtering = ToString(config.filtering);

  Dependence shownMapping = config.mapping;
  if (config.ports == PortAssignment::kPreserve &&
      config.mapping != Dependence::kEndpointIndependent) {
    shownMapping = Dependence::kEndpointIndependent;
    e.findings.mapping = ToString(shownMapping);
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

}  // namespace nat
}  // namespace punchlab
