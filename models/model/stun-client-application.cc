#include "model/stun-client-application.h"

#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/boolean.h"
#include "ns3/log.h"
#include "ns3/node.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("StunClientApplication");
NS_OBJECT_ENSURE_REGISTERED(StunClientApplication);

TypeId StunClientApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::StunClientApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<StunClientApplication>()
          .AddAttribute("ServerAddress", "STUN server IP (Ipv4Address or Ipv6Address).",
                        AddressValue(),
                        MakeAddressAccessor(&StunClientApplication::m_serverAddress),
                        MakeAddressChecker())
          .AddAttribute("ServerPort", "STUN server UDP port.", UintegerValue(3478),
                        MakeUintegerAccessor(&StunClientApplication::m_serverPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("LocalAddress",
                        "Address to bind. Unset: the wildcard of the server's family.",
                        AddressValue(),
                        MakeAddressAccessor(&StunClientApplication::m_localAddress),
                        MakeAddressChecker())
          .AddAttribute("LocalPort", "UDP port to bind; 0: an ephemeral port.", UintegerValue(0),
                        MakeUintegerAccessor(&StunClientApplication::m_localPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("MaxProbes", "Binding requests to make (each with its retransmissions).",
                        UintegerValue(1),
                        MakeUintegerAccessor(&StunClientApplication::m_maxProbes),
                        MakeUintegerChecker<uint32_t>(1))
          .AddAttribute("Interval", "Time between the starts of consecutive probes.",
                        TimeValue(Seconds(1)),
                        MakeTimeAccessor(&StunClientApplication::m_interval),
                        MakeTimeChecker(Time(0)))
          .AddAttribute("Deadline", "A probe gives up this long after its first send.",
                        TimeValue(Seconds(3)),
                        MakeTimeAccessor(&StunClientApplication::m_deadline),
                        MakeTimeChecker(NanoSeconds(1)))
          .AddAttribute("ChangeIp", "Send CHANGE-REQUEST asking for the other IP (RFC 5780).",
                        BooleanValue(false),
                        MakeBooleanAccessor(&StunClientApplication::m_changeIp),
                        MakeBooleanChecker())
          .AddAttribute("ChangePort", "Send CHANGE-REQUEST asking for the other port.",
                        BooleanValue(false),
                        MakeBooleanAccessor(&StunClientApplication::m_changePort),
                        MakeBooleanChecker())
          .AddAttribute("Software", "SOFTWARE attribute in requests; empty: none.",
                        StringValue("punchlab"),
                        MakeStringAccessor(&StunClientApplication::m_software),
                        MakeStringChecker())
          .AddAttribute("Seed", "Run seed; transaction ids are drawn from a stream forked "
                        "from it per node and application.",
                        UintegerValue(1), MakeUintegerAccessor(&StunClientApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddTraceSource("Result", "A probe finished (mapped, rtt, success).",
                          MakeTraceSourceAccessor(&StunClientApplication::m_resultTrace),
                          "ns3::StunClientApplication::ResultTracedCallback");
  return tid;
}

StunClientApplication::StunClientApplication() = default;

std::optional<punchlab::stun::StunClientEvent> StunClientApplication::GetLastResult() const {
  if (m_results.empty()) return std::nullopt;
  return m_results.back();
}

const punchlab::stun::StunClientStats& StunClientApplication::GetStats() const {
  static const punchlab::stun::StunClientStats kNone;
  return m_client ? m_client->stats() : kNone;
}

uint32_t StunClientApplication::ApplicationIndex() const {
  Ptr<Node> node = GetNode();
  uint32_t i = 0;
  while (i < node->GetNApplications() && PeekPointer(node->GetApplication(i)) != this) ++i;
  NS_ABORT_MSG_IF(i == node->GetNApplications(), "StunClientApplication is not on its own node");
  return i;
}

void StunClientApplication::StartApplication() {
  NS_ABORT_MSG_IF(m_serverAddress.IsInvalid(), "StunClientApplication: ServerAddress not set");
  punchlab::IpAddress serverIp = ToPunchlabIp(m_serverAddress);
  punchlab::IpAddress localIp;
  if (!m_localAddress.IsInvalid()) {
    localIp = ToPunchlabIp(m_localAddress);
  } else if (serverIp.is_v6()) {
    localIp = punchlab::IpAddress::V6({});
  }

  const std::string label = "node/" + std::to_string(GetNode()->GetId()) + "/app/" +
                            std::to_string(ApplicationIndex()) + "/stun-client";
  m_random = std::make_unique<punchlab::DeterministicRandom>(
      punchlab::DeterministicRandom(m_seed).Fork(label));
  m_client = std::make_unique<punchlab::stun::StunClient>(*m_random);
  m_results.clear();
  m_probesSent = 0;

  m_host = CreateObject<MachineHost>(GetNode(), m_client.get());
  m_host->SetEventCallback(MakeCallback(&StunClientApplication::OnEvents, this));
  m_local = m_host->Bind(punchlab::Endpoint(localIp, m_localPort));
  SendProbe();
}

void StunClientApplication::SendProbe() {
  punchlab::stun::BindingOptions options;
  options.change_ip = m_changeIp;
  options.change_port = m_changePort;
  options.software = m_software;
  options.deadline = punchlab::Duration::Nanos(m_deadline.GetNanoSeconds());
  const punchlab::Endpoint server(ToPunchlabIp(m_serverAddress), m_serverPort);
  punchlab::stun::TransactionId id =
      m_client->StartBinding(ToPunchlab(Simulator::Now()), m_local, server, options);
  NS_LOG_INFO("node " << GetNode()->GetId() << " probe " << m_probesSent << " "
                      << m_local.ToString() << " -> " << server.ToString() << " txid "
                      << id.ToString());
  m_host->Drain();
  if (++m_probesSent < m_maxProbes) {
    m_probeEvent = Simulator::Schedule(m_interval, &StunClientApplication::SendProbe, this);
  }
}

void StunClientApplication::OnEvents() {
  while (std::optional<punchlab::stun::StunClientEvent> ev = m_client->PollEvent()) {
    const auto* ok = std::get_if<punchlab::stun::StunSuccess>(&*ev);
    const bool success = ok != nullptr;
    const std::string mapped = success ? ok->mapped.ToString() : std::string();
    const Time rtt = std::holds_alternative<punchlab::stun::StunTimeout>(*ev)
                         ? Time(0)
                         : NanoSeconds(punchlab::stun::Exchange(*ev).rtt.nanos());
    NS_LOG_INFO("node " << GetNode()->GetId() << " probe result: "
                        << (success ? "mapped " + mapped : std::string("failed")) << " rtt "
                        << rtt.As(Time::MS));
    m_results.push_back(std::move(*ev));
    m_resultTrace(mapped, rtt, success);
  }
}

void StunClientApplication::StopApplication() {
  m_probeEvent.Cancel();
  if (m_host) {
    m_host->Dispose();
    m_host = nullptr;
  }
}

void StunClientApplication::DoDispose() {
  StopApplication();
  Application::DoDispose();
}

}  // namespace ns3
