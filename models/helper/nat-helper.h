// Turns a router node into a NAT and/or stateful firewall (NatMiddlebox).
//
//   NatHelper nat;
//   nat.SetNat("symmetric,hairpin=on");             // a SPEC: preset and/or knobs
//   nat.SetSeed(scenarioSeed);
//   Ptr<NatMiddlebox> box = nat.Install(router, insideIf, outsideIf);
//   Simulator::Schedule(Seconds(30), &NatMiddlebox::Reboot, box);
//
// Install after the Internet stack and the node's addresses and routes are in
// place: the middlebox wraps the node's routing protocol as it is then, and
// the NAT's external addresses are the outside interface's addresses (add
// several to that interface for address pooling). NATs nest: install one on
// a home router whose outside link is a carrier NAT's inside link.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/nat-middlebox.h"
#include "ns3/node.h"
#include "ns3/ptr.h"
#include "punchlab/nat/firewall.h"
#include "punchlab/nat/nat-config.h"

namespace ns3 {

class NatHelper {
 public:
  // By default: a NAT with the default knobs (port-restricted-cone), no firewall, seed 1.
  NatHelper();

  // NAT behaviour from a SPEC (see punchlab/nat/nat-config.h); a bad SPEC aborts
  // with the parser's sentence, which names the bad item and the valid ones.
  void SetNat(const std::string& spec);
  void SetNat(const punchlab::nat::NatConfig& config);
  // A firewall-only box.
  void DisableNat();
  void SetFirewall(const punchlab::nat::FirewallConfig& config);
  // Random port assignment draws from a stream forked from `seed` by node id,
  // so two NATs installed with one seed still differ, reproducibly.
  void SetSeed(uint64_t seed);

  // `inside` and `outside` are Ipv4 interface indices of `node`.
  Ptr<NatMiddlebox> Install(Ptr<Node> node, const std::vector<uint32_t>& inside,
                            uint32_t outside) const;
  Ptr<NatMiddlebox> Install(Ptr<Node> node, uint32_t inside, uint32_t outside) const;

  // The middlebox installed on `node`, or null.
  static Ptr<NatMiddlebox> Get(Ptr<Node> node);

 private:
  std::optional<punchlab::nat::NatConfig> m_nat;
  std::optional<punchlab::nat::FirewallConfig> m_firewall;
  uint64_t m_seed = 1;
};

}  // namespace ns3
