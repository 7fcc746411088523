// Helpers that install the control-plane applications (like stun-helper.h:
// attributes set once, Install() per node), and identity tokens on the
// simulation clock.
#pragma once

#include <string>
#include <vector>

#include "ns3/address.h"
#include "ns3/application-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"
#include "ns3/object-factory.h"
#include "punchlab/control/derp-map.h"
#include "punchlab/control/identity.h"
#include "punchlab/crypto/keys.h"

namespace ns3 {

class ControlServerApplication;

// Installs ControlServerApplication with the trusted issuers and DERP map
// given here.
class ControlServerHelper {
 public:
  // Address unset: each node's first IPv4 interface address.
  ControlServerHelper();
  explicit ControlServerHelper(const Address& address, uint16_t port = 8080);
  void AddTrustedIssuer(const punchlab::VerifyKey& key, std::vector<std::string> domains);
  void SetDerpMap(punchlab::control::DerpMap derpMap);
  void SetAttribute(const std::string& name, const AttributeValue& value);
  ApplicationContainer Install(Ptr<Node> node) const;
  ApplicationContainer Install(NodeContainer nodes) const;

  // A token from `provider` for the node with key `nodeKey` (an app's
  // GetPublicKey(), known once it is added to its node with its Seed set)
  // registering as `user` of `domain`, valid until `expires` (simulation
  // time): the control server's clock is the simulation clock.
  // Aborts when user, domain or key is not valid (control/identity.h).
  static std::string IssueToken(const punchlab::control::IdentityProvider& provider,
                                const std::string& user, const std::string& domain,
                                const punchlab::NodePublicKey& nodeKey, Time expires);

 private:
  ObjectFactory m_factory;
  std::vector<punchlab::control::TrustedIssuer> m_issuers;
  punchlab::control::DerpMap m_derpMap;
};

// Installs ControlClientApplication aimed at one control server. Each node
// still needs its own Token (SetAttribute per install, or on the application).
class ControlClientHelper {
 public:
  ControlClientHelper(const Address& server, uint16_t port,
                      const punchlab::NodePublicKey& serverKey);
  // Aimed at an installed server application: its address, port and key.
  explicit ControlClientHelper(Ptr<ControlServerApplication> server);
  void SetAttribute(const std::string& name, const AttributeValue& value);
  ApplicationContainer Install(Ptr<Node> node) const;
  ApplicationContainer Install(NodeContainer nodes) const;

 private:
  ObjectFactory m_factory;
};

}  // namespace ns3
