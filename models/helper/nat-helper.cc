#include "helper/nat-helper.h"

#include "ns3/abort.h"
#include "ns3/ipv4.h"

namespace ns3 {

NatHelper::NatHelper() : m_nat(punchlab::nat::NatConfig()) {}

void NatHelper::SetNat(const std::string& spec) {
  punchlab::nat::NatSpecResult parsed = punchlab::nat::ParseNatSpec(spec);
  NS_ABORT_MSG_UNLESS(parsed, "NatHelper::SetNat: " << parsed.error);
  m_nat = *parsed.config;
}

void NatHelper::SetNat(const punchlab::nat::NatConfig& config) { m_nat = config; }
void NatHelper::DisableNat() { m_nat.reset(); }

void NatHelper::SetFirewall(const punchlab::nat::FirewallConfig& config) {
  m_firewall = config;
}

void NatHelper::SetSeed(uint64_t seed) { m_seed = seed; }

Ptr<NatMiddlebox> NatHelper::Install(Ptr<Node> node, uint32_t inside, uint32_t outside) const {
  return Install(node, std::vector<uint32_t>{inside}, outside);
}

Ptr<NatMiddlebox> NatHelper::Install(Ptr<Node> node, const std::vector<uint32_t>& inside,
                                     uint32_t outside) const {
  Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
  NS_ABORT_MSG_UNLESS(ipv4, "NatHelper::Install: node " << node->GetId()
                                                        << " has no Internet stack");
  NS_ABORT_MSG_UNLESS(m_nat || m_firewall,
                      "NatHelper::Install: neither a NAT nor a firewall is configured");
  NS_ABORT_MSG_IF(Get(node), "NatHelper::Install: node " << node->GetId()
                                                         << " already has a middlebox");
  NS_ABORT_MSG_UNLESS(outside < ipv4->GetNInterfaces(),
                      "NatHelper::Install: no interface " << outside);

  Ptr<NatMiddlebox> box = CreateObject<NatMiddlebox>();
  box->SetInnerRouting(ipv4->GetRoutingProtocol());
  for (uint32_t i : inside) {
    NS_ABORT_MSG_UNLESS(i < ipv4->GetNInterfaces() && i != outside,
                        "NatHelper::Install: bad inside interface " << i);
    box->AddInsideInterface(i);
  }
  box->AddOutsideInterface(outside);
  if (m_nat) {
    std::vector<Ipv4Address> external;
    for (uint32_t a = 0; a < ipv4->GetNAddresses(outside); ++a) {
      external.push_back(ipv4->GetAddress(outside, a).GetLocal());
    }
    NS_ABORT_MSG_IF(external.empty(),
                    "NatHelper::Install: outside interface " << outside << " has no address");
    box->EnableNat(*m_nat, external,
                   punchlab::DeterministicRandom(m_seed).Fork("nat/node-" +
                                                              std::to_string(node->GetId())));
  }
  if (m_firewall) box->EnableFirewall(*m_firewall);
  ipv4->SetRoutingProtocol(box);
  return box;
}

Ptr<NatMiddlebox> NatHelper::Get(Ptr<Node> node) {
  Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
  return ipv4 ? DynamicCast<NatMiddlebox>(ipv4->GetRoutingProtocol()) : nullptr;
}

}  // namespace ns3
