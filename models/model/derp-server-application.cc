#include "model/derp-server-application.h"

#include "model/application-setup.h"
#include "punchlab/overloaded.h"
#include "ns3/boolean.h"
#include "ns3/log.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("DerpServerApplication");
NS_OBJECT_ENSURE_REGISTERED(DerpServerApplication);

namespace {
constexpr const char* kKind = "derp-server";
}  // namespace

TypeId DerpServerApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::DerpServerApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<DerpServerApplication>()
          .AddAttribute("Address",
                        "IP to serve on (Ipv4Address or Ipv6Address). Unset: the node's first "
                        "IPv4 interface address.",
                        AddressValue(), MakeAddressAccessor(&DerpServerApplication::m_address),
                        MakeAddressChecker())
          .AddAttribute("Port", "DERP TCP port.", UintegerValue(443),
                        MakeUintegerAccessor(&DerpServerApplication::m_port),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("Tls",
                        "Serve DERP over (modelled) TLS, as the lab does (model/tls-model.h): "
                        "clients dial it with the pin GetCertificatePin() returns. false: plain "
                        "HTTP.",
                        BooleanValue(true), MakeBooleanAccessor(&DerpServerApplication::m_tls),
                        MakeBooleanChecker())
          .AddAttribute("StunPort", "STUN UDP port on the same address; 0: no STUN.",
                        UintegerValue(3478),
                        MakeUintegerAccessor(&DerpServerApplication::m_stunPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("Seed",
                        "Run seed; the server key and keepalive jitter are drawn from "
                        "streams forked from it per node and application.",
                        UintegerValue(1), MakeUintegerAccessor(&DerpServerApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddAttribute("SendQueueDepth",
                        "Frames held per connection while its socket is blocked; more are "
                        "dropped and counted.",
                        UintegerValue(32),
                        MakeUintegerAccessor(&DerpServerApplication::m_sendQueueDepth),
                        MakeUintegerChecker<uint32_t>(1))
          .AddAttribute("KeepAliveInterval", "KeepAlive frame period (plus up to 5 s jitter).",
                        TimeValue(Seconds(60)),
                        MakeTimeAccessor(&DerpServerApplication::m_keepAliveInterval),
                        MakeTimeChecker(NanoSeconds(1)))
          .AddAttribute(
              "HandshakeTimeout", "From accept to a registered client (HTTP upgrade + ClientInfo).",
              TimeValue(Seconds(10)), MakeTimeAccessor(&DerpServerApplication::m_handshakeTimeout),
              MakeTimeChecker(NanoSeconds(1)))
          .AddTraceSource("ClientConnected", "A client completed its handshake (key, conn).",
                          MakeTraceSourceAccessor(&DerpServerApplication::m_clientConnectedTrace),
                          "ns3::DerpServerApplication::ClientTracedCallback")
          .AddTraceSource(
              "ClientDisconnected", "A registered client's connection ended (key, reason).",
              MakeTraceSourceAccessor(&DerpServerApplication::m_clientDisconnectedTrace),
              "ns3::DerpServerApplication::ClientGoneTracedCallback")
          .AddTraceSource("ProtocolError",
                          "A connection was closed for malformed input (conn, reason).",
                          MakeTraceSourceAccessor(&DerpServerApplication::m_protocolErrorTrace),
                          "ns3::DerpServerApplication::ProtocolErrorTracedCallback");
  return tid;
}

DerpServerApplication::DerpServerApplication() = default;
DerpServerApplication::~DerpServerApplication() = default;

punchlab::NodePrivateKey DerpServerApplication::MakeKey() const {
  punchlab::DeterministicRandom random =
      ForkApplicationRandom(m_seed, *this, std::string(kKind) + "/key");
  return punchlab::NodePrivateKey::Generate(random);
}

punchlab::NodePublicKey DerpServerApplication::GetPublicKey() const { return MakeKey().Public(); }

punchlab::Endpoint DerpServerApplication::GetDerpEndpoint() const {
  return punchlab::Endpoint(ResolveServiceAddress(*this, m_address), m_port);
}

punchlab::Endpoint DerpServerApplication::GetStunEndpoint() const {
  return punchlab::Endpoint(ResolveServiceAddress(*this, m_address), m_stunPort);
}

const punchlab::derp::ServerStats& DerpServerApplication::GetStats() const {
  static const punchlab::derp::ServerStats kNone;
  return m_region ? m_region->derp().stats() : kNone;
}

const punchlab::stun::StunServerStats& DerpServerApplication::GetStunStats() const {
  static const punchlab::stun::StunServerStats kNone;
  return m_region ? m_region->stun().stats() : kNone;
}

MachineHostCounters DerpServerApplication::GetTcpCounters() const {
  return m_host ? m_host->GetCounters() : m_tcpCounters;
}

std::shared_ptr<const punchlab::tlsmodel::Certificate> DerpServerApplication::GetCertificate()
    const {
  if (!m_tls) return nullptr;
  if (!m_certificate) {
    // As the lab's: made once per server (kept across restarts), for its
    // name and address; the key makes it differ per server.
    m_certificate = std::make_shared<const punchlab::tlsmodel::Certificate>(
        "derp-" + GetDerpEndpoint().ip.ToString(), GetPublicKey().ToString());
  }
  return m_certificate;
}

std::string DerpServerApplication::GetCertificatePin() const {
  const auto certificate = GetCertificate();
  return certificate ? certificate->Pin() : std::string();
}

size_t DerpServerApplication::GetClientCount() const {
  return m_region ? m_region->derp().client_count() : 0;
}

std::optional<punchlab::derp::ServerClientView> DerpServerApplication::FindClient(
    const punchlab::NodePublicKey& key) const {
  if (!m_region) return std::nullopt;
  return m_region->derp().FindClient(key);
}

void DerpServerApplication::StartApplication() {
  const punchlab::IpAddress ip = ResolveServiceAddress(*this, m_address);
  m_random =
      std::make_unique<punchlab::DeterministicRandom>(ForkApplicationRandom(m_seed, *this, kKind));
  m_down = false;
  StartProcess(ip);
  const punchlab::Endpoint local(ip, m_port);
  const punchlab::Endpoint derp = m_tls ? m_host->ListenTls(local, GetCertificate()) : m_host->Listen(local);
  NS_LOG_INFO("DERP server " << m_region->derp().public_key().ShortString() << " on node "
                             << GetNode()->GetId() << ": derp " << derp.ToString() << ", stun "
                             << (m_stunPort ? GetStunEndpoint().ToString() : "off"));
}

void DerpServerApplication::StartProcess(const punchlab::IpAddress& ip) {
  punchlab::stun::StunServerConfig stunConfig;
  stunConfig.primary = punchlab::Endpoint(ip, m_stunPort);
  punchlab::derp::ServerConfig derpConfig;
  derpConfig.send_queue_depth = m_sendQueueDepth;
  derpConfig.keepalive_interval = punchlab::Duration::Nanos(m_keepAliveInterval.GetNanoSeconds());
  derpConfig.handshake_timeout = punchlab::Duration::Nanos(m_handshakeTimeout.GetNanoSeconds());
  // The random stream goes on across restarts: a restarted server draws new
  // nonces and jitter, with the same key (MakeKey forks its own stream).
  m_region =
      std::make_unique<punchlab::derp::RegionNode>(MakeKey(), *m_random, stunConfig, derpConfig);
  // One machine, both faces: without a STUN port it is hosted as a stream
  // machine only (no UDP socket, nothing to poll there).
  punchlab::DatagramMachine* stun = m_stunPort != 0 ? m_region.get() : nullptr;
  if (!m_host) {
    m_host = CreateObject<MachineHost>(GetNode(), stun, m_region.get());
    m_host->SetEventCallback(MakeCallback(&DerpServerApplication::DrainEvents, this));
    m_host->SetBackpressureCallbacks(MakeCallback(&DerpServerApplication::OnWriteBlocked, this),
                                     MakeCallback(&DerpServerApplication::OnWritable, this));
  } else {
    m_host->AttachMachine(stun, m_region.get());
  }
  if (stun) m_host->Bind(stunConfig.primary);
}

void DerpServerApplication::StopApplication() {
  if (m_host) {
    m_tcpCounters = m_host->GetCounters();
    m_host->Close();
    m_host = nullptr;
  }
}

void DerpServerApplication::Crash() {
  if (!IsRunning()) return;
  m_down = true;
  m_tcpCounters = m_host->GetCounters();
  // The STUN socket closes with the process; the listener stays.
  m_host->DetachMachine();
}

void DerpServerApplication::Recover() {
  if (!m_host || !m_down) return;
  m_down = false;
  StartProcess(ResolveServiceAddress(*this, m_address));
}

// Teardown, not a stop: nothing is sent (see MachineHost::DoDispose).
void DerpServerApplication::DoDispose() {
  if (m_host) {
    m_tcpCounters = m_host->GetCounters();
    m_host->Dispose();
    m_host = nullptr;
  }
  Application::DoDispose();
}

void DerpServerApplication::DrainEvents() {
  namespace derp = punchlab::derp;
  while (std::optional<derp::ServerEvent> ev = m_region->derp().PollEvent()) {
    std::visit(punchlab::Overloaded{
                   [&](const derp::ClientConnected& e) {
                     NS_LOG_INFO("node " << GetNode()->GetId() << " client " << e.key.ShortString()
                                         << " connected on conn " << e.conn);
                     m_clientConnectedTrace(e.key, e.conn);
                   },
                   [&](const derp::ClientDisconnected& e) {
                     NS_LOG_INFO("node " << GetNode()->GetId() << " client " << e.key.ShortString()
                                         << " left: " << e.reason);
                     m_clientDisconnectedTrace(e.key, e.reason);
                   },
                   [&](const derp::ProtocolViolation& e) {
                     NS_LOG_INFO("node " << GetNode()->GetId() << " conn " << e.conn
                                         << " closed: " << e.reason);
                     m_protocolErrorTrace(e.conn, e.reason);
                   },
               },
               *ev);
  }
}

void DerpServerApplication::OnWriteBlocked(punchlab::Timestamp now, punchlab::ConnectionId conn) {
  m_region->derp().HandleWriteBlocked(now, conn);
}

void DerpServerApplication::OnWritable(punchlab::Timestamp now, punchlab::ConnectionId conn) {
  m_region->derp().HandleWritable(now, conn);
}

}  // namespace ns3
