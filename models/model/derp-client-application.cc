#include "model/derp-client-application.h"

#include "model/application-setup.h"
#include "model/punchlab-ns3-convert.h"
#include "punchlab/overloaded.h"
#include "ns3/abort.h"
#include "ns3/boolean.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("DerpClientApplication");
NS_OBJECT_ENSURE_REGISTERED(DerpClientApplication);

namespace {
constexpr const char* kKind = "derp-client";
}  // namespace

TypeId DerpClientApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::DerpClientApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<DerpClientApplication>()
          .AddAttribute(
              "ServerAddress", "DERP server IP (Ipv4Address or Ipv6Address).", AddressValue(),
              MakeAddressAccessor(&DerpClientApplication::m_serverAddress), MakeAddressChecker())
          .AddAttribute("ServerPort", "DERP server TCP port.", UintegerValue(443),
                        MakeUintegerAccessor(&DerpClientApplication::m_serverPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("ServerKey",
                        "The server's key (\"nodekey:<hex>\"); a server presenting another is "
                        "refused. Empty: any key.",
                        StringValue(""), MakeStringAccessor(&DerpClientApplication::m_serverKey),
                        MakeStringChecker())
          .AddAttribute("Tls",
                        "Dial over the modelled TLS handshake (model/tls-model.h), as the "
                        "lab's DERP servers (DerpServerApplication's Tls) want. false: plain "
                        "HTTP.",
                        BooleanValue(true), MakeBooleanAccessor(&DerpClientApplication::m_tls),
                        MakeBooleanChecker())
          .AddAttribute("CertName",
                        "With Tls: what the server's certificate must be: \"sha256-raw:<hex>\" "
                        "pins it (DerpServerApplication::GetCertificatePin), another name must "
                        "be its name. Empty: nothing is checked (tests).",
                        StringValue(""), MakeStringAccessor(&DerpClientApplication::m_certName),
                        MakeStringChecker())
          .AddAttribute(
              "Preferred", "Tell the server it is this node's home region.", BooleanValue(false),
              MakeBooleanAccessor(&DerpClientApplication::m_preferred), MakeBooleanChecker())
          .AddAttribute("Seed",
                        "Run seed; the node key, nonces and backoff jitter are drawn "
                        "from streams forked from it per node and application.",
                        UintegerValue(1), MakeUintegerAccessor(&DerpClientApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddAttribute("Peer",
                        "Node key (\"nodekey:<hex>\") the periodic packets go to. Empty: none.",
                        StringValue(""), MakeStringAccessor(&DerpClientApplication::m_peer),
                        MakeStringChecker())
          .AddAttribute("PacketSize",
                        "Bytes per periodic packet: a 4-byte sequence number (big-endian), "
                        "then zeros.",
                        UintegerValue(64),
                        MakeUintegerAccessor(&DerpClientApplication::m_packetSize),
                        MakeUintegerChecker<uint32_t>(4, punchlab::derp::kMaxPacketSize))
          .AddAttribute("Interval",
                        "Time between periodic packets; the first goes one Interval "
                        "after the start.",
                        TimeValue(Seconds(1)), MakeTimeAccessor(&DerpClientApplication::m_interval),
                        MakeTimeChecker(NanoSeconds(1)))
          .AddAttribute("MaxPackets", "Periodic packets to attempt (0: none).", UintegerValue(0),
                        MakeUintegerAccessor(&DerpClientApplication::m_maxPackets),
                        MakeUintegerChecker<uint32_t>())
          .AddTraceSource("Connected", "The handshake completed (server key).",
                          MakeTraceSourceAccessor(&DerpClientApplication::m_connectedTrace),
                          "ns3::DerpClientApplication::ConnectedTracedCallback")
          .AddTraceSource("Disconnected", "The connection was lost or closed (reason).",
                          MakeTraceSourceAccessor(&DerpClientApplication::m_disconnectedTrace),
                          "ns3::DerpClientApplication::DisconnectedTracedCallback")
          .AddTraceSource("Rx", "A relayed packet arrived (source key, packet).",
                          MakeTraceSourceAccessor(&DerpClientApplication::m_rxTrace),
                          "ns3::DerpClientApplication::PacketTracedCallback")
          .AddTraceSource("Tx", "A packet went to the server (destination key, packet).",
                          MakeTraceSourceAccessor(&DerpClientApplication::m_txTrace),
                          "ns3::DerpClientApplication::PacketTracedCallback")
          .AddTraceSource("PeerGone",
                          "The server says a peer left or is not there (key, "
                          "reason).",
                          MakeTraceSourceAccessor(&DerpClientApplication::m_peerGoneTrace),
                          "ns3::DerpClientApplication::PeerGoneTracedCallback");
  return tid;
}

DerpClientApplication::DerpClientApplication() = default;
DerpClientApplication::~DerpClientApplication() = default;

punchlab::NodePrivateKey DerpClientApplication::MakeKey() const {
  punchlab::DeterministicRandom random =
      ForkApplicationRandom(m_seed, *this, std::string(kKind) + "/key");
  return punchlab::NodePrivateKey::Generate(random);
}

punchlab::NodePublicKey DerpClientApplication::GetPublicKey() const { return MakeKey().Public(); }

bool DerpClientApplication::IsConnected() const {
  return m_client && m_host && m_client->connected();
}

const punchlab::derp::ClientStats& DerpClientApplication::GetStats() const {
  static const punchlab::derp::ClientStats kNone;
  return m_client ? m_client->stats() : kNone;
}

MachineHostCounters DerpClientApplication::GetTcpCounters() const {
  return m_host ? m_host->GetCounters() : m_tcpCounters;
}

bool DerpClientApplication::Send(const punchlab::NodePublicKey& destination,
                                 punchlab::ByteView packet) {
  if (!m_host) return false;
  if (!m_client->Send(ToPunchlab(Simulator::Now()), destination, packet)) {
    NS_LOG_INFO("node " << GetNode()->GetId() << " cannot send " << packet.size() << " bytes to "
                        << destination.ShortString() << " (not connected)");
    return false;
  }
  m_txTrace(destination, Create<Packet>(packet.data(), static_cast<uint32_t>(packet.size())));
  m_host->Drain();
  return true;
}

void DerpClientApplication::StartApplication() {
  NS_ABORT_MSG_IF(m_serverAddress.IsInvalid(), "DerpClientApplication: ServerAddress not set");
  punchlab::derp::ClientConfig config;
  config.server = punchlab::Endpoint(ToPunchlabIp(m_serverAddress), m_serverPort);
  if (!m_serverKey.empty()) {
    config.server_key = punchlab::NodePublicKey::Parse(m_serverKey);
    NS_ABORT_MSG_UNLESS(config.server_key, "DerpClientApplication: ServerKey '"
                                               << m_serverKey << "' is not nodekey:<64 hex>");
  }
  if (m_tls) {
    punchlab::TlsDial dial;
    dial.cert_name = m_certName;
    dial.insecure_for_tests = m_certName.empty();
    config.tls = dial;
  }
  if (!m_peer.empty()) {
    std::optional<punchlab::NodePublicKey> peer = punchlab::NodePublicKey::Parse(m_peer);
    NS_ABORT_MSG_UNLESS(peer,
                        "DerpClientApplication: Peer '" << m_peer << "' is not nodekey:<64 hex>");
    m_peerKey = *peer;
  }
  m_random =
      std::make_unique<punchlab::DeterministicRandom>(ForkApplicationRandom(m_seed, *this, kKind));
  m_client = std::make_unique<punchlab::derp::Client>(MakeKey(), *m_random, config);
  m_host = CreateObject<MachineHost>(GetNode(), m_client.get());
  m_host->SetEventCallback(MakeCallback(&DerpClientApplication::OnEvents, this));
  NS_LOG_INFO("DERP client " << m_client->public_key().ShortString() << " on node "
                             << GetNode()->GetId() << " -> " << config.server.ToString());

  const punchlab::Timestamp now = ToPunchlab(Simulator::Now());
  m_client->Start(now);
  if (m_preferred) m_client->SetPreferred(now, true);
  m_host->Drain();

  m_packetsSent = 0;
  if (m_maxPackets > 0 && !m_peer.empty()) {
    m_trafficEvent = Simulator::Schedule(m_interval, &DerpClientApplication::SendTraffic, this);
  }
}

void DerpClientApplication::SendTraffic() {
  punchlab::Bytes packet;
  punchlab::ByteWriter writer(packet);
  writer.U32(m_packetsSent);
  writer.Zeros(m_packetSize - 4);
  Send(m_peerKey, packet);
  if (++m_packetsSent < m_maxPackets) {
    m_trafficEvent = Simulator::Schedule(m_interval, &DerpClientApplication::SendTraffic, this);
  }
}

void DerpClientApplication::OnEvents() {
  namespace derp = punchlab::derp;
  const uint32_t node = GetNode()->GetId();
  while (std::optional<derp::ClientEvent> ev = m_client->PollEvent()) {
    std::visit(
        punchlab::Overloaded{
            [&](const derp::Connecting&) { NS_LOG_INFO("node " << node << " connecting"); },
            [&](const derp::Connected& e) {
              NS_LOG_INFO("node " << node << " connected to " << e.server_key.ShortString());
              m_connectedTrace(e.server_key);
            },
            [&](const derp::Disconnected& e) {
              NS_LOG_INFO("node " << node << " disconnected: " << e.reason);
              m_disconnectedTrace(e.reason);
            },
            [&](const derp::Received& e) {
              m_rxTrace(e.source, Create<Packet>(e.data.data(), static_cast<uint32_t>(e.data.size())));
            },
            [&](const derp::PeerGone& e) {
              NS_LOG_INFO("node " << node << " peer " << e.peer.ShortString()
                                  << " gone: " << derp::PeerGoneReasonName(e.reason));
              m_peerGoneTrace(e.peer, e.reason);
            },
            [&](const auto&) {  // PeerPresent, Health, Pong, Restarting
              NS_LOG_LOGIC("node " << node << " event " << ev->index());
            },
        },
        *ev);
  }
}

void DerpClientApplication::StopApplication() {
  m_trafficEvent.Cancel();
  if (!m_host) return;
  // Close the connection cleanly (the server then tells our peers we left)
  // before the host goes.
  m_client->Stop(ToPunchlab(Simulator::Now()));
  m_host->Drain();
  m_tcpCounters = m_host->GetCounters();
  m_host->Close();
  m_host = nullptr;
}

// Teardown, not a stop: nothing is sent (see MachineHost::DoDispose).
void DerpClientApplication::DoDispose() {
  m_trafficEvent.Cancel();
  if (m_host) {
    m_tcpCounters = m_host->GetCounters();
    m_host->Dispose();
    m_host = nullptr;
  }
  Application::DoDispose();
}

}  // namespace ns3
