#include "scenario/meaning/port-mapping.h"

namespace punchlab {
namespace scenario {

const NatDef* PortMappingGateway(const Scenario& scenario, const NodeDef& node) {
  if (node.chain.empty() || node.chain.front().kind != Hop::Kind::kNat) return nullptr;
  return scenario.FindNat(node.chain.front().name);
}

}  // namespace scenario
}  // namespace punchlab
