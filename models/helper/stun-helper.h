// Helpers that install the STUN applications, in ns-3's UdpEcho*Helper style:
// one helper per application, attributes set once, Install() per node.
#pragma once

#include <string>

#include "ns3/address.h"
#include "ns3/application-container.h"
#include "ns3/node-container.h"
#include "ns3/object-factory.h"

namespace ns3 {

// Installs StunServerApplication. With an alternate address the server does
// RFC 5780 behaviour discovery (four sockets, CHANGE-REQUEST honoured).
class StunServerHelper {
 public:
  // Primary address unset: the node's first IPv4 interface address.
  StunServerHelper();
  StunServerHelper(const Address& primary, uint16_t port = 3478);
  void SetAlternate(const Address& alternate, uint16_t port = 3479);
  void SetAttribute(const std::string& name, const AttributeValue& value);
  ApplicationContainer Install(Ptr<Node> node) const;
  ApplicationContainer Install(NodeContainer nodes) const;

 private:
  ObjectFactory m_factory;
};

// Installs StunClientApplication aimed at one server.
class StunClientHelper {
 public:
  StunClientHelper(const Address& server, uint16_t port = 3478);
  void SetAttribute(const std::string& name, const AttributeValue& value);
  ApplicationContainer Install(Ptr<Node> node) const;
  ApplicationContainer Install(NodeContainer nodes) const;

 private:
  ObjectFactory m_factory;
};

}  // namespace ns3
