#include "helper/control-helper.h"

#include <functional>
#include <optional>

#include "model/control-client-application.h"
#include "model/control-server-application.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/string.h"
#include "ns3/uinteger.h"

namespace ns3 {

namespace {

template <typename App>
ApplicationContainer InstallEach(const ObjectFactory& factory, NodeContainer nodes,
                                 const std::function<void(App&)>& configure) {
  ApplicationContainer apps;
  for (auto it = nodes.Begin(); it != nodes.End(); ++it) {
    Ptr<App> app = factory.Create<App>();
    if (configure) configure(*app);
    (*it)->AddApplication(app);
    apps.Add(app);
  }
  return apps;
}

}  // namespace

ControlServerHelper::ControlServerHelper() {
  m_factory.SetTypeId(ControlServerApplication::GetTypeId());
}

ControlServerHelper::ControlServerHelper(const Address& address, uint16_t port)
    : ControlServerHelper() {
  m_factory.Set("Address", AddressValue(address));
  m_factory.Set("Port", UintegerValue(port));
}

void ControlServerHelper::AddTrustedIssuer(const punchlab::VerifyKey& key,
                                           std::vector<std::string> domains) {
  m_issuers.push_back({key, std::move(domains)});
}

void ControlServerHelper::SetDerpMap(punchlab::control::DerpMap derpMap) {
  m_derpMap = std::move(derpMap);
}

void ControlServerHelper::SetAttribute(const std::string& name, const AttributeValue& value) {
  m_factory.Set(name, value);
}

ApplicationContainer ControlServerHelper::Install(Ptr<Node> node) const {
  return Install(NodeContainer(node));
}

ApplicationContainer ControlServerHelper::Install(NodeContainer nodes) const {
  return InstallEach<ControlServerApplication>(m_factory, nodes,
                                               [this](ControlServerApplication& app) {
                                                 for (const auto& issuer : m_issuers)
                                                   app.AddTrustedIssuer(issuer.key, issuer.domains);
                                                 app.SetDerpMap(m_derpMap);
                                               });
}

std::string ControlServerHelper::IssueToken(const punchlab::control::IdentityProvider& provider,
                                            const std::string& user, const std::string& domain,
                                            const punchlab::NodePublicKey& nodeKey,
                                            Time expires) {
  std::optional<std::string> token =
      provider.Issue({user, domain, nodeKey, ToPunchlab(expires)});
  NS_ABORT_MSG_UNLESS(
      token, "cannot issue a token for user '" << user << "' of domain '" << domain << "'");
  return *token;
}

ControlClientHelper::ControlClientHelper(const Address& server, uint16_t port,
                                         const punchlab::NodePublicKey& serverKey) {
  m_factory.SetTypeId(ControlClientApplication::GetTypeId());
  m_factory.Set("ServerAddress", AddressValue(server));
  m_factory.Set("ServerPort", UintegerValue(port));
  m_factory.Set("ServerKey", StringValue(serverKey.ToString()));
}

ControlClientHelper::ControlClientHelper(Ptr<ControlServerApplication> server) {
  const punchlab::Endpoint endpoint = server->GetEndpoint();
  m_factory.SetTypeId(ControlClientApplication::GetTypeId());
  if (endpoint.ip.is_v4()) {
    m_factory.Set("ServerAddress", AddressValue(ToNs3Ipv4(endpoint.ip)));
  } else {
    m_factory.Set("ServerAddress", AddressValue(ToNs3Ipv6(endpoint.ip)));
  }
  m_factory.Set("ServerPort", UintegerValue(endpoint.port));
  m_factory.Set("ServerKey", StringValue(server->GetPublicKey().ToString()));
}

void ControlClientHelper::SetAttribute(const std::string& name, const AttributeValue& value) {
  m_factory.Set(name, value);
}

ApplicationContainer ControlClientHelper::Install(Ptr<Node> node) const {
  return Install(NodeContainer(node));
}

ApplicationContainer ControlClientHelper::Install(NodeContainer nodes) const {
  return InstallEach<ControlClientApplication>(m_factory, nodes, {});
}

}  // namespace ns3
