#include "model/control-client-application.h"

#include <variant>

#include "model/application-setup.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("ControlClientApplication");
NS_OBJECT_ENSURE_REGISTERED(ControlClientApplication);

namespace {
constexpr const char* kKind = "control-client";
}  // namespace

TypeId ControlClientApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::ControlClientApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<ControlClientApplication>()
          .AddAttribute(
              "ServerAddress", "Control server IP (Ipv4Address or Ipv6Address).", AddressValue(),
              MakeAddressAccessor(&ControlClientApplication::m_serverAddress), MakeAddressChecker())
          .AddAttribute("ServerPort", "Control server TCP port.", UintegerValue(8080),
                        MakeUintegerAccessor(&ControlClientApplication::m_serverPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("ServerKey", "The control server's key (\"nodekey:<hex>\"); required.",
                        StringValue(""), MakeStringAccessor(&ControlClientApplication::m_serverKey),
                        MakeStringChecker())
          .AddAttribute("Token", "Identity token to register with (from an IdentityProvider).",
                        StringValue(""), MakeStringAccessor(&ControlClientApplication::m_token),
                        MakeStringChecker())
          .AddAttribute("HomeRegion", "Home DERP region id; 0: none.", UintegerValue(0),
                        MakeUintegerAccessor(&ControlClientApplication::m_homeRegion),
                        MakeUintegerChecker<uint32_t>(0, INT32_MAX))
          .AddAttribute("Seed",
                        "Run seed; keys and nonces are drawn from streams forked from "
                        "it per node and application.",
                        UintegerValue(1), MakeUintegerAccessor(&ControlClientApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddTraceSource("Registered", "The server accepted the registration.",
                          MakeTraceSourceAccessor(&ControlClientApplication::m_registeredTrace),
                          "ns3::ControlClientApplication::RegisteredTracedCallback")
          .AddTraceSource("Refused", "The server refused the registration (reason).",
                          MakeTraceSourceAccessor(&ControlClientApplication::m_refusedTrace),
                          "ns3::ControlClientApplication::RefusedTracedCallback")
          .AddTraceSource("NetmapUpdated", "A netmap arrived.",
                          MakeTraceSourceAccessor(&ControlClientApplication::m_netmapTrace),
                          "ns3::ControlClientApplication::NetmapTracedCallback")
          .AddTraceSource("Disconnected", "The connection ended (reason, willReconnect).",
                          MakeTraceSourceAccessor(&ControlClientApplication::m_disconnectedTrace),
                          "ns3::ControlClientApplication::DisconnectedTracedCallback");
  return tid;
}

ControlClientApplication::ControlClientApplication() = default;
ControlClientApplication::~ControlClientApplication() = default;

punchlab::NodePrivateKey ControlClientApplication::MakeKey() const {
  punchlab::DeterministicRandom random =
      ForkApplicationRandom(m_seed, *this, std::string(kKind) + "/key");
  return punchlab::NodePrivateKey::Generate(random);
}

punchlab::NodePublicKey ControlClientApplication::GetPublicKey() const {
  return MakeKey().Public();
}

bool ControlClientApplication::IsRegistered() const { return m_host && m_client->registered(); }

const std::optional<punchlab::control::Netmap>& ControlClientApplication::GetNetmap() const {
  static const std::optional<punchlab::control::Netmap> kNone;
  return m_client ? m_client->netmap() : kNone;
}

const punchlab::control::ClientStats& ControlClientApplication::GetStats() const {
  static const punchlab::control::ClientStats kNone;
  return m_client ? m_client->stats() : kNone;
}

MachineHostCounters ControlClientApplication::GetTcpCounters() const {
  return m_host ? m_host->GetCounters() : m_tcpCounters;
}

void ControlClientApplication::SetEndpoints(std::vector<punchlab::Endpoint> endpoints) {
  m_endpoints = endpoints;
  if (m_host) {
    m_client->UpdateEndpoints(ToPunchlab(Simulator::Now()), std::move(endpoints));
    m_host->Drain();
  }
}

void ControlClientApplication::Leave() {
  if (!m_host) return;
  m_client->Leave(ToPunchlab(Simulator::Now()));
  m_host->Drain();
}

void ControlClientApplication::StartApplication() {
  NS_ABORT_MSG_IF(m_serverAddress.IsInvalid(), "ControlClientApplication: ServerAddress not set");
  std::optional<punchlab::NodePublicKey> serverKey = punchlab::NodePublicKey::Parse(m_serverKey);
  NS_ABORT_MSG_UNLESS(serverKey, "ControlClientApplication: ServerKey '"
                                     << m_serverKey << "' is not nodekey:<64 hex>");
  punchlab::control::ControlClientConfig config;
  config.server = punchlab::Endpoint(ToPunchlabIp(m_serverAddress), m_serverPort);
  config.server_key = *serverKey;

  // A fresh stream per start: a restarted node draws a new disco key.
  m_random = std::make_unique<punchlab::DeterministicRandom>(ForkApplicationRandom(
      m_seed, *this, std::string(kKind) + "/start/" + std::to_string(m_starts++)));
  punchlab::DiscoPrivateKey disco = punchlab::DiscoPrivateKey::Generate(*m_random);
  m_discoKey = disco.Public();
  punchlab::control::Registration registration;
  registration.token = m_token;
  registration.disco_key = m_discoKey;
  registration.endpoints = m_endpoints;
  registration.home_region = static_cast<punchlab::control::RegionId>(m_homeRegion);

  m_client = std::make_unique<punchlab::control::ControlClient>(config, *m_random);
  m_host = CreateObject<MachineHost>(GetNode(), m_client.get());
  m_host->SetEventCallback(MakeCallback(&ControlClientApplication::OnEvents, this));
  punchlab::NodePrivateKey key = MakeKey();
  NS_LOG_INFO("control client " << key.Public().ShortString() << " on node " << GetNode()->GetId()
                                << " -> " << config.server.ToString());
  m_client->Register(ToPunchlab(Simulator::Now()), std::move(key), std::move(registration));
  m_host->Drain();
}

void ControlClientApplication::OnEvents() {
  namespace control = punchlab::control;
  const uint32_t node = GetNode()->GetId();
  while (std::optional<control::ClientEvent> event = m_client->PollEvent()) {
    if (const auto* registered = std::get_if<control::Registered>(&*event)) {
      NS_LOG_INFO("node " << node << " registered as " << registered->user << " in "
                          << registered->domain << ", address " << registered->address.ToString());
      m_registeredTrace(*registered);
    } else if (const auto* refused = std::get_if<control::RegistrationRefused>(&*event)) {
      NS_LOG_INFO("node " << node << " refused: " << refused->reason);
      m_refusedTrace(refused->reason);
    } else if (const auto* updated = std::get_if<control::NetmapUpdated>(&*event)) {
      NS_LOG_INFO("node " << node << " netmap with " << updated->netmap.peers.size() << " peers");
      m_netmapTrace(updated->netmap);
    } else if (const auto* changed = std::get_if<control::PeersChanged>(&*event)) {
      // The trace always carries the whole netmap, as the client now holds it.
      NS_LOG_INFO("node " << node << " netmap: " << changed->changed.size() << " peers changed, "
                          << changed->removed.size() << " left");
      m_netmapTrace(*m_client->netmap());
    } else if (const auto* disconnected = std::get_if<control::Disconnected>(&*event)) {
      NS_LOG_INFO("node " << node << " disconnected: " << disconnected->reason
                          << (disconnected->will_reconnect ? " (will reconnect)" : ""));
      m_disconnectedTrace(disconnected->reason, disconnected->will_reconnect);
    }
  }
}

void ControlClientApplication::StopApplication() {
  if (!m_host) return;
  Leave();
  m_tcpCounters = m_host->GetCounters();
  m_host->Close();
  m_host = nullptr;
}

// Teardown, not a stop: nothing is sent (see MachineHost::DoDispose).
void ControlClientApplication::DoDispose() {
  if (m_host) {
    m_tcpCounters = m_host->GetCounters();
    m_host->Dispose();
    m_host = nullptr;
  }
  Application::DoDispose();
}

}  // namespace ns3
