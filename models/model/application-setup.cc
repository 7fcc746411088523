#include "model/application-setup.h"

#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/ipv4.h"
#include "ns3/node.h"

namespace ns3 {

std::string ApplicationRandomLabel(const Application& app, const std::string& kind) {
  Ptr<Node> node = app.GetNode();
  NS_ABORT_MSG_IF(!node, "a " << kind << " application is not installed on a node");
  uint32_t i = 0;
  while (i < node->GetNApplications() && PeekPointer(node->GetApplication(i)) != &app) ++i;
  NS_ABORT_MSG_IF(i == node->GetNApplications(),
                  "a " << kind << " application is not on its own node");
  return "node/" + std::to_string(node->GetId()) + "/app/" + std::to_string(i) + "/" + kind;
}

punchlab::DeterministicRandom ForkApplicationRandom(uint64_t seed, const Application& app,
                                                    const std::string& kind) {
  return punchlab::DeterministicRandom(seed).Fork(ApplicationRandomLabel(app, kind));
}

punchlab::IpAddress ResolveServiceAddress(const Application& app, const Address& configured) {
  if (!configured.IsInvalid()) return ToPunchlabIp(configured);
  Ptr<Node> node = app.GetNode();
  NS_ABORT_MSG_IF(!node, app.GetInstanceTypeId().GetName() << " is not installed on a node");
  Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
  NS_ABORT_MSG_IF(!ipv4 || ipv4->GetNInterfaces() < 2, app.GetInstanceTypeId().GetName()
                                                           << ": node " << node->GetId()
                                                           << " has no IPv4 address; set Address");
  return ToPunchlab(ipv4->GetAddress(1, 0).GetLocal());
}

}  // namespace ns3
