#include "model/node-application.h"

#include <type_traits>
#include <variant>

#include "model/application-setup.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/packet.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("NodeApplication");
NS_OBJECT_ENSURE_REGISTERED(NodeApplication);

namespace {
constexpr const char* kKind = "node";
}  // namespace

TypeId NodeApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::NodeApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<NodeApplication>()
          .AddAttribute("ControlAddress", "Control server IP (Ipv4Address or Ipv6Address).",
                        AddressValue(), MakeAddressAccessor(&NodeApplication::m_controlAddress),
                        MakeAddressChecker())
          .AddAttribute("ControlPort", "Control server TCP port.", UintegerValue(8080),
                        MakeUintegerAccessor(&NodeApplication::m_controlPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("ControlKey", "The control server's key (\"nodekey:<hex>\"); required.",
                        StringValue(""), MakeStringAccessor(&NodeApplication::m_controlKey),
                        MakeStringChecker())
          .AddAttribute("Token", "Identity token to register with (from an IdentityProvider).",
                        StringValue(""), MakeStringAccessor(&NodeApplication::m_token),
                        MakeStringChecker())
          .AddAttribute("Seed",
                        "Run seed; the node key (stable across restarts) and each start's "
                        "stream (disco key, txids, jitter) are forked from it per node and "
                        "application.",
                        UintegerValue(1), MakeUintegerAccessor(&NodeApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddAttribute("LocalAddress",
                        "IP of the node's UDP socket. Unset: the node's first IPv4 interface "
                        "address.",
                        AddressValue(), MakeAddressAccessor(&NodeApplication::m_localAddress),
                        MakeAddressChecker())
          .AddAttribute("LocalPort", "UDP port of the node's socket.", UintegerValue(41641),
                        MakeUintegerAccessor(&NodeApplication::m_localPort),
                        MakeUintegerChecker<uint16_t>(1))
          .AddAttribute("Peer", "Periodic traffic goes to this node key (\"nodekey:<hex>\"); "
                        "empty: none.",
                        StringValue(""), MakeStringAccessor(&NodeApplication::m_peer),
                        MakeStringChecker())
          .AddAttribute("Interval", "Period of the traffic to Peer; zero: none.",
                        TimeValue(Time(0)), MakeTimeAccessor(&NodeApplication::m_interval),
                        MakeTimeChecker())
          .AddAttribute("TrafficStart", "Simulation time of the first packet to Peer.",
                        TimeValue(Time(0)), MakeTimeAccessor(&NodeApplication::m_trafficStart),
                        MakeTimeChecker())
          .AddAttribute("PacketSize", "Payload bytes per packet to Peer.", UintegerValue(100),
                        MakeUintegerAccessor(&NodeApplication::m_packetSize),
                        MakeUintegerChecker<uint32_t>(1))
          .AddTraceSource("PathChanged", "The path to a peer changed (peer, from, to, reason).",
                          MakeTraceSourceAccessor(&NodeApplication::m_pathChangedTrace),
                          "ns3::NodeApplication::PathChangedTracedCallback")
          .AddTraceSource("Up",
                          "The node is up: registered and connected to its home DERP region "
                          "(home region); once per run of the node.",
                          MakeTraceSourceAccessor(&NodeApplication::m_upTrace),
                          "ns3::NodeApplication::UpTracedCallback")
          .AddTraceSource("DataReceived", "Application data arrived (peer, payload, path).",
                          MakeTraceSourceAccessor(&NodeApplication::m_dataReceivedTrace),
                          "ns3::NodeApplication::DataReceivedTracedCallback")
          .AddTraceSource("Rtt", "A round trip time was measured (peer, path, rtt).",
                          MakeTraceSourceAccessor(&NodeApplication::m_rttTrace),
                          "ns3::NodeApplication::RttTracedCallback")
          .AddTraceSource("PeerAdded", "The netmap brought a new peer (peer, path).",
                          MakeTraceSourceAccessor(&NodeApplication::m_peerAddedTrace),
                          "ns3::NodeApplication::PeerAddedTracedCallback")
          .AddTraceSource("PeerRemoved", "A peer left the netmap (peer).",
                          MakeTraceSourceAccessor(&NodeApplication::m_peerRemovedTrace),
                          "ns3::NodeApplication::PeerRemovedTracedCallback")
          .AddTraceSource("DiscoLog",
                          "A step of the disco log: a disco message sent or received, a "
                          "candidate learned, a trust change, a path decision (event).",
                          MakeTraceSourceAccessor(&NodeApplication::m_discoLogTrace),
                          "ns3::NodeApplication::DiscoLogTracedCallback");
  return tid;
}

NodeApplication::NodeApplication() = default;
NodeApplication::~NodeApplication() = default;

punchlab::NodePrivateKey NodeApplication::MakeKey() const {
  punchlab::DeterministicRandom random =
      ForkApplicationRandom(m_seed, *this, std::string(kKind) + "/key");
  return punchlab::NodePrivateKey::Generate(random);
}

punchlab::NodePublicKey NodeApplication::GetPublicKey() const { return MakeKey().Public(); }

punchlab::node::Path NodeApplication::GetPathTo(const punchlab::NodePublicKey& peer) const {
  if (!m_machine) return punchlab::node::Path::None();
  return m_machine->PathTo(peer).value_or(punchlab::node::Path::None());
}

std::optional<punchlab::node::PeerStats> NodeApplication::FindPeerStats(
    const punchlab::NodePublicKey& peer) const {
  return m_machine ? m_machine->FindPeerStats(peer) : std::nullopt;
}

const punchlab::node::NodeStats& NodeApplication::GetStats() const {
  static const punchlab::node::NodeStats kNone;
  return m_machine ? m_machine->stats() : kNone;
}

void NodeApplication::StartApplication() {
  NS_ABORT_MSG_IF(m_controlAddress.IsInvalid(), "NodeApplication: ControlAddress not set");
  std::optional<punchlab::NodePublicKey> controlKey = punchlab::NodePublicKey::Parse(m_controlKey);
  NS_ABORT_MSG_UNLESS(controlKey, "NodeApplication: ControlKey '" << m_controlKey
                                                                  << "' is not nodekey:<64 hex>");
  m_trafficPeer.reset();
  if (!m_peer.empty()) {
    m_trafficPeer = punchlab::NodePublicKey::Parse(m_peer);
    NS_ABORT_MSG_UNLESS(m_trafficPeer, "NodeApplication: Peer '" << m_peer
                                                                 << "' is not nodekey:<64 hex>");
  }

  punchlab::node::NodeConfig config = m_baseConfig;
  config.control.server = punchlab::Endpoint(ToPunchlabIp(m_controlAddress), m_controlPort);
  config.control.server_key = *controlKey;
  config.token = m_token;

  // A fresh stream per start: a restarted node draws a new disco key.
  m_random = std::make_unique<punchlab::DeterministicRandom>(ForkApplicationRandom(
      m_seed, *this, std::string(kKind) + "/start/" + std::to_string(m_starts++)));

  // The socket is bound at exactly this endpoint (LocalPort is never 0), so
  // the node's config can name it before the host exists.
  const punchlab::Endpoint local(ResolveServiceAddress(*this, m_localAddress), m_localPort);
  config.local_endpoints = {local};
  m_machine = std::make_unique<punchlab::node::Node>(MakeKey(), *m_random, config);
  m_host = CreateObject<MachineHost>(GetNode(), m_machine.get(), m_machine.get());
  m_host->Bind(local);
  m_host->SetEventCallback(MakeCallback(&NodeApplication::DrainEvents, this));
  NS_LOG_INFO("node " << m_machine->public_key().ShortString() << " on node "
                      << GetNode()->GetId() << " at " << local.ToString());
  m_machine->Start(ToPunchlab(Simulator::Now()));
  m_host->Drain();

  if (m_trafficPeer && m_interval.IsStrictlyPositive()) {
    const Time first = m_trafficStart > Simulator::Now() ? m_trafficStart - Simulator::Now() : Time(0);
    m_trafficEvent = Simulator::Schedule(first, &NodeApplication::SendTraffic, this);
  }
}

void NodeApplication::DrainEvents() {
  namespace node = punchlab::node;
  while (m_machine) {
    std::optional<node::Event> event = m_machine->PollEvent();
    if (!event) break;
    NS_LOG_INFO("node " << GetNode()->GetId() << " " << node::Describe(event->body));
    std::visit(
        [this, &event](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, node::PathChanged>) {
            m_pathChangedTrace(e.peer, e.from, e.to, node::PathChangeReasonName(e.reason));
            m_discoLogTrace(event->body);
          } else if constexpr (std::is_same_v<T, node::DiscoSent> ||
                               std::is_same_v<T, node::DiscoReceived> ||
                               std::is_same_v<T, node::CandidateLearned> ||
                               std::is_same_v<T, node::TrustChanged> ||
                               std::is_same_v<T, node::WireGuardHandshake> ||
                               std::is_same_v<T, node::PortMappingProbed> ||
                               std::is_same_v<T, node::PortMappingCreated> ||
                               std::is_same_v<T, node::PortMappingLost> ||
                               std::is_same_v<T, node::PortMappingFailed>) {
            m_discoLogTrace(event->body);
          } else if constexpr (std::is_same_v<T, node::DataReceived>) {
            Ptr<const Packet> packet =
                Create<Packet>(e.data.data(), static_cast<uint32_t>(e.data.size()));
            m_dataReceivedTrace(e.peer, packet, e.path);
          } else if constexpr (std::is_same_v<T, node::RttMeasured>) {
            m_rttTrace(e.peer, e.path, NanoSeconds(e.rtt.nanos()));
          } else if constexpr (std::is_same_v<T, node::PeerAdded>) {
            m_peerAddedTrace(e.peer, e.path);
          } else if constexpr (std::is_same_v<T, node::PeerRemoved>) {
            m_peerRemovedTrace(e.peer);
          } else if constexpr (std::is_same_v<T, node::Up>) {
            m_upTrace(e.home_region);
          }
        },
        event->body);
  }
}

punchlab::node::SendResult NodeApplication::Send(const punchlab::NodePublicKey& peer,
                                                 punchlab::ByteView payload) {
  if (!m_machine) return punchlab::node::SendResult::kDropped;
  punchlab::node::SendResult result = m_machine->Send(ToPunchlab(Simulator::Now()), peer, payload);
  if (m_host) m_host->Drain();
  return result;
}

void NodeApplication::SendTraffic() {
  // The payload carries its sequence number so a receiver can tell packets apart.
  punchlab::Bytes payload(m_packetSize, 0);
  for (size_t i = 0; i < payload.size() && i < 8; ++i) {
    payload[i] = static_cast<uint8_t>(m_trafficSent >> (8 * i));
  }
  ++m_trafficSent;
  Send(*m_trafficPeer, payload);
  m_trafficEvent = Simulator::Schedule(m_interval, &NodeApplication::SendTraffic, this);
}

void NodeApplication::Restart() {
  NS_ABORT_MSG_UNLESS(m_host, "NodeApplication::Restart: the node is not running");
  StopApplication();
  StartApplication();
}

void NodeApplication::StopApplication() {
  m_trafficEvent.Cancel();
  if (!m_machine) return;
  m_machine->Stop(ToPunchlab(Simulator::Now()));
  if (m_host) m_host->Drain();
  Release();
}

// Closes the host; the machine stays readable (stats, paths) after the stop.
void NodeApplication::Release() {
  if (m_host) {
    m_host->Close();
    m_host = nullptr;
  }
}

void NodeApplication::DoDispose() {
  m_trafficEvent.Cancel();
  if (m_host) m_host->Dispose();
  m_host = nullptr;
  Application::DoDispose();
}

}  // namespace ns3
