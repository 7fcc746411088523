#include "helper/derp-helper.h"

#include "model/derp-client-application.h"
#include "model/derp-server-application.h"
#include "ns3/abort.h"
#include "ns3/string.h"
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

DerpServerHelper::DerpServerHelper() { m_factory.SetTypeId(DerpServerApplication::GetTypeId()); }

DerpServerHelper::DerpServerHelper(const Address& address, uint16_t port) : DerpServerHelper() {
  m_factory.Set("Address", AddressValue(address));
  m_factory.Set("Port", UintegerValue(port));
}

void DerpServerHelper::SetAttribute(const std::string& name, const AttributeValue& value) {
  m_factory.Set(name, value);
}

ApplicationContainer DerpServerHelper::Install(Ptr<Node> node) const {
  return InstallEach(m_factory, NodeContainer(node));
}

ApplicationContainer DerpServerHelper::Install(NodeContainer nodes) const {
  return InstallEach(m_factory, nodes);
}

punchlab::control::DerpRegion DerpServerHelper::MakeRegion(punchlab::control::RegionId id,
                                                           const std::string& name,
                                                           const ApplicationContainer& servers) {
  punchlab::control::DerpRegion region;
  region.id = id;
  region.name = name;
  for (uint32_t i = 0; i < servers.GetN(); ++i) {
    Ptr<DerpServerApplication> server = DynamicCast<DerpServerApplication>(servers.Get(i));
    NS_ABORT_MSG_IF(!server, "MakeRegion: application " << i << " is not a DERP server");
    punchlab::control::DerpNode node;
    node.name = std::to_string(id) + static_cast<char>('a' + i % 26);
    node.derp = server->GetDerpEndpoint();
    node.stun_port = server->GetStunEndpoint().port;
    node.public_key = server->GetPublicKey();  // pinned: nodes refuse another key
    // Over the modelled TLS handshake (model/tls-model.h), its certificate
    // pinned, as the lab's map does.
    node.cert_name = server->GetCertificatePin();
    node.plain_http = node.cert_name.empty();
    region.nodes.push_back(node);
  }
  return region;
}

DerpClientHelper::DerpClientHelper(const Address& server, uint16_t port) {
  m_factory.SetTypeId(DerpClientApplication::GetTypeId());
  m_factory.Set("ServerAddress", AddressValue(server));
  m_factory.Set("ServerPort", UintegerValue(port));
}

void DerpClientHelper::SetServerKey(const punchlab::NodePublicKey& key) {
  m_factory.Set("ServerKey", StringValue(key.ToString()));
}

void DerpClientHelper::SetAttribute(const std::string& name, const AttributeValue& value) {
  m_factory.Set(name, value);
}

ApplicationContainer DerpClientHelper::Install(Ptr<Node> node) const {
  return InstallEach(m_factory, NodeContainer(node));
}

ApplicationContainer DerpClientHelper::Install(NodeContainer nodes) const {
  return InstallEach(m_factory, nodes);
}

}  // namespace ns3
