#include "model/control-server-application.h"

#include <variant>

#include "model/application-setup.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("ControlServerApplication");
NS_OBJECT_ENSURE_REGISTERED(ControlServerApplication);

namespace {
constexpr const char* kKind = "control-server";
}  // namespace

TypeId ControlServerApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::ControlServerApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<ControlServerApplication>()
          .AddAttribute("Address",
                        "IP to listen on (Ipv4Address or Ipv6Address). Unset: the node's first "
                        "IPv4 interface address.",
                        AddressValue(), MakeAddressAccessor(&ControlServerApplication::m_address),
                        MakeAddressChecker())
          .AddAttribute("Port", "TCP port.", UintegerValue(8080),
                        MakeUintegerAccessor(&ControlServerApplication::m_port),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("Seed",
                        "Run seed; the server key and challenges are drawn from "
                        "streams forked from it per node and application.",
                        UintegerValue(1), MakeUintegerAccessor(&ControlServerApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddAttribute("HandshakeTimeout", "From accept to a successful registration.",
                        TimeValue(Seconds(10)),
                        MakeTimeAccessor(&ControlServerApplication::m_handshakeTimeout),
                        MakeTimeChecker(NanoSeconds(1)))
          .AddAttribute("IdleTimeout", "Nothing received from a node for this long: it is gone.",
                        TimeValue(Seconds(60)),
                        MakeTimeAccessor(&ControlServerApplication::m_idleTimeout),
                        MakeTimeChecker(NanoSeconds(1)))
          .AddAttribute("BatchDelay",
                        "How long a domain's changes wait to go out together, one message per "
                        "member (0: each input's changes at once).",
                        TimeValue(Seconds(0)),
                        MakeTimeAccessor(&ControlServerApplication::m_batchDelay),
                        MakeTimeChecker(Seconds(0)))
          .AddTraceSource("NodeRegistered", "A node registered (node, domain).",
                          MakeTraceSourceAccessor(&ControlServerApplication::m_registeredTrace),
                          "ns3::ControlServerApplication::NodeRegisteredTracedCallback")
          .AddTraceSource("NodeRemoved", "A node left the netmaps (key, domain, reason).",
                          MakeTraceSourceAccessor(&ControlServerApplication::m_removedTrace),
                          "ns3::ControlServerApplication::NodeRemovedTracedCallback")
          .AddTraceSource("NodeRefused", "A registration was refused (conn, reason).",
                          MakeTraceSourceAccessor(&ControlServerApplication::m_refusedTrace),
                          "ns3::ControlServerApplication::ConnectionTracedCallback")
          .AddTraceSource("ConnectionClosed", "A connection ended (conn, reason).",
                          MakeTraceSourceAccessor(&ControlServerApplication::m_closedTrace),
                          "ns3::ControlServerApplication::ConnectionTracedCallback");
  return tid;
}

ControlServerApplication::ControlServerApplication() = default;
ControlServerApplication::~ControlServerApplication() = default;

void ControlServerApplication::AddTrustedIssuer(const punchlab::VerifyKey& key,
                                                std::vector<std::string> domains) {
  NS_ABORT_MSG_IF(m_server, "AddTrustedIssuer after the control server started");
  m_issuers.push_back({key, std::move(domains)});
}

void ControlServerApplication::SetAccessRules(punchlab::control::AccessRules rules) {
  NS_ABORT_MSG_IF(m_server, "SetAccessRules after the control server started");
  m_accessRules = std::move(rules);
}

void ControlServerApplication::SetKeyLog(punchlab::control::KeyLog keyLog) {
  m_keyLog = std::move(keyLog);
}

void ControlServerApplication::SetDerpMap(punchlab::control::DerpMap derpMap) {
  m_derpMap = derpMap;
  if (m_host) {
    m_server->SetDerpMap(ToPunchlab(Simulator::Now()), std::move(derpMap));
    m_host->Drain();
  }
}

punchlab::NodePrivateKey ControlServerApplication::MakeKey() const {
  punchlab::DeterministicRandom random =
      ForkApplicationRandom(m_seed, *this, std::string(kKind) + "/key");
  return punchlab::NodePrivateKey::Generate(random);
}

punchlab::NodePublicKey ControlServerApplication::GetPublicKey() const {
  return MakeKey().Public();
}

punchlab::Endpoint ControlServerApplication::GetEndpoint() const {
  return punchlab::Endpoint(ResolveServiceAddress(*this, m_address), m_port);
}

const punchlab::control::ServerStats& ControlServerApplication::GetStats() const {
  static const punchlab::control::ServerStats kNone;
  return m_server ? m_server->stats() : kNone;
}

MachineHostCounters ControlServerApplication::GetTcpCounters() const {
  return m_host ? m_host->GetCounters() : m_tcpCounters;
}

size_t ControlServerApplication::GetNodeCount() const {
  return m_server ? m_server->node_count() : 0;
}

std::optional<punchlab::control::NodeInfo> ControlServerApplication::FindNode(
    const punchlab::NodePublicKey& key) const {
  if (!m_server) return std::nullopt;
  return m_server->FindNode(key);
}

void ControlServerApplication::StartApplication() {
  NS_ABORT_MSG_IF(m_issuers.empty(),
                  "ControlServerApplication: no trusted issuer; call AddTrustedIssuer");
  punchlab::control::ControlServerConfig config;
  config.trusted_issuers = m_issuers;
  config.derp_map = m_derpMap;
  config.access_rules = m_accessRules;
  config.handshake_timeout = punchlab::Duration::Nanos(m_handshakeTimeout.GetNanoSeconds());
  config.idle_timeout = punchlab::Duration::Nanos(m_idleTimeout.GetNanoSeconds());
  config.key_log = m_keyLog;
  config.batch_delay = punchlab::Duration::Nanos(m_batchDelay.GetNanoSeconds());
  m_random =
      std::make_unique<punchlab::DeterministicRandom>(ForkApplicationRandom(m_seed, *this, kKind));
  m_server =
      std::make_unique<punchlab::control::ControlServer>(MakeKey(), std::move(config), *m_random);
  m_host = CreateObject<MachineHost>(GetNode(), m_server.get());
  m_host->SetEventCallback(MakeCallback(&ControlServerApplication::OnEvents, this));
  const punchlab::Endpoint local = m_host->Listen(GetEndpoint());
  NS_LOG_INFO("control server " << m_server->public_key().ShortString() << " on node "
                                << GetNode()->GetId() << " listening on " << local.ToString());
}

void ControlServerApplication::OnEvents() {
  namespace control = punchlab::control;
  const uint32_t node = GetNode()->GetId();
  while (std::optional<control::ServerEvent> event = m_server->PollEvent()) {
    if (const auto* registered = std::get_if<control::NodeRegistered>(&*event)) {
      NS_LOG_INFO("node " << node << " registered " << registered->node.node_key.ShortString()
                          << " as " << registered->node.user << " in " << registered->domain
                          << ", address " << registered->node.address.ToString());
      m_registeredTrace(registered->node, registered->domain);
    } else if (const auto* removed = std::get_if<control::NodeRemoved>(&*event)) {
      NS_LOG_INFO("node " << node << " removed " << removed->node_key.ShortString() << " from "
                          << removed->domain << ": " << removed->reason);
      m_removedTrace(removed->node_key, removed->domain, removed->reason);
    } else if (const auto* refused = std::get_if<control::NodeRefused>(&*event)) {
      NS_LOG_INFO("node " << node << " refused conn " << refused->conn << ": " << refused->reason);
      m_refusedTrace(refused->conn, refused->reason);
    } else if (const auto* closed = std::get_if<control::ConnectionClosed>(&*event)) {
      NS_LOG_INFO("node " << node << " conn " << closed->conn << " closed: " << closed->reason);
      m_closedTrace(closed->conn, closed->reason);
    }
  }
}

void ControlServerApplication::StopApplication() {
  if (!m_host) return;
  m_tcpCounters = m_host->GetCounters();
  m_host->Close();
  m_host = nullptr;
}

// Teardown, not a stop: nothing is sent (see MachineHost::DoDispose).
void ControlServerApplication::DoDispose() {
  if (m_host) {
    m_tcpCounters = m_host->GetCounters();
    m_host->Dispose();
    m_host = nullptr;
  }
  Application::DoDispose();
}

}  // namespace ns3
