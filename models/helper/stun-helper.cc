#include "helper/stun-helper.h"

#include "model/stun-client-application.h"
#include "model/stun-server-application.h"
#include "ns3/uinteger.h"

namespace ns3 {

namespace {

ApplicationContainer InstallEach(const ObjectFactory& factory, NodeContainer nodes) {
  ApplicationContainer apps;
  for (auto it = nodes.Begin(); it != nodes.End(); ++it) {
    Ptr<Application> app = factory.Create<Application>();
    (*it)->AddApplication(app);
    apps.Add(app);
  }
  return apps;
}

}  // namespace

StunServerHelper::StunServerHelper() { m_factory.SetTypeId(StunServerApplication::GetTypeId()); }

StunServerHelper::StunServerHelper(const Address& primary, uint16_t port) : StunServerHelper() {
  m_factory.Set("PrimaryAddress", AddressValue(primary));
  m_factory.Set("PrimaryPort", UintegerValue(port));
}

void StunServerHelper::SetAlternate(const Address& alternate, uint16_t port) {
  m_factory.Set("AlternateAddress", AddressValue(alternate));
  m_factory.Set("AlternatePort", UintegerValue(port));
}

void StunServerHelper::SetAttribute(const std::string& name, const AttributeValue& value) {
  m_factory.Set(name, value);
}

ApplicationContainer StunServerHelper::Install(Ptr<Node> node) const {
  return InstallEach(m_factory, NodeContainer(node));
}

ApplicationContainer StunServerHelper::Install(NodeContainer nodes) const {
  return InstallEach(m_factory, nodes);
}

StunClientHelper::StunClientHelper(const Address& server, uint16_t port) {
  m_factory.SetTypeId(StunClientApplication::GetTypeId());
  m_factory.Set("ServerAddress", AddressValue(server));
  m_factory.Set("ServerPort", UintegerValue(port));
}

void StunClientHelper::SetAttribute(const std::string& name, const AttributeValue& value) {
  m_factory.Set(name, value);
}

ApplicationContainer StunClientHelper::Install(Ptr<Node> node) const {
  return InstallEach(m_factory, NodeContainer(node));
}

ApplicationContainer StunClientHelper::Install(NodeContainer nodes) const {
  return InstallEach(m_factory, nodes);
}

}  // namespace ns3
