// Helpers that install the DERP applications, in ns-3's UdpEcho*Helper style
// (like stun-helper.h): attributes set once, Install() per node.
#pragma once

#include <string>

#include "ns3/address.h"
#include "ns3/application-container.h"
#include "ns3/node-container.h"
#include "ns3/object-factory.h"
#include "punchlab/control/derp-map.h"
#include "punchlab/crypto/keys.h"

namespace ns3 {

// Installs DerpServerApplication: the DERP relay on TCP and STUN on UDP.
class DerpServerHelper {
 public:
  // Address unset: each node's first IPv4 interface address.
  DerpServerHelper();
  explicit DerpServerHelper(const Address& address, uint16_t port = 443);
  void SetAttribute(const std::string& name, const AttributeValue& value);
  ApplicationContainer Install(Ptr<Node> node) const;
  ApplicationContainer Install(NodeContainer nodes) const;

  // A DERP map region whose nodes are the DerpServerApplications in
  // `servers` (installed, not necessarily started), named "<id>a", "<id>b",
  // ... in order, as Tailscale names them.
  static punchlab::control::DerpRegion MakeRegion(punchlab::control::RegionId id,
                                                  const std::string& name,
                                                  const ApplicationContainer& servers);

 private:
  ObjectFactory m_factory;
};

// Installs DerpClientApplication aimed at one server.
class DerpClientHelper {
 public:
  DerpClientHelper(const Address& server, uint16_t port = 443);
  // Refuse a server presenting any other key.
  void SetServerKey(const punchlab::NodePublicKey& key);
  void SetAttribute(const std::string& name, const AttributeValue& value);
  ApplicationContainer Install(Ptr<Node> node) const;
  ApplicationContainer Install(NodeContainer nodes) const;

 private:
  ObjectFactory m_factory;
};

}  // namespace ns3
