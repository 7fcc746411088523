#include "model/nat-discovery-application.h"

#include "model/application-setup.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("NatDiscoveryApplication");
NS_OBJECT_ENSURE_REGISTERED(NatDiscoveryApplication);

TypeId NatDiscoveryApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::NatDiscoveryApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<NatDiscoveryApplication>()
          .AddAttribute("ServerAddress",
                        "Primary IP of an RFC 5780 STUN server (one with an alternate address).",
                        AddressValue(),
                        MakeAddressAccessor(&NatDiscoveryApplication::m_serverAddress),
                        MakeAddressChecker())
          .AddAttribute("ServerPort", "The server's primary UDP port.", UintegerValue(3478),
                        MakeUintegerAccessor(&NatDiscoveryApplication::m_serverPort),
                        MakeUintegerChecker<uint16_t>(1))
          .AddAttribute("LocalAddress",
                        "Address every socket binds. Unset: the node's first IPv4 address.",
                        AddressValue(),
                        MakeAddressAccessor(&NatDiscoveryApplication::m_localAddress),
                        MakeAddressChecker())
          .AddAttribute("LocalPort",
                        "Port of the main socket; extra socket i binds LocalPort + i.",
                        UintegerValue(50000),
                        MakeUintegerAccessor(&NatDiscoveryApplication::m_localPort),
                        MakeUintegerChecker<uint16_t>(1))
          .AddAttribute("ExtraSockets",
                        "Further sockets for the port-assignment verdict; an "
                        "endpoint-independent NAT needs 3 or more to tell sequential "
                        "from random.",
                        UintegerValue(3),
                        MakeUintegerAccessor(&NatDiscoveryApplication::m_extraSockets),
                        MakeUintegerChecker<uint32_t>(0, 64))
          .AddAttribute("Deadline", "Each probe gives up this long after its first send.",
                        TimeValue(Seconds(3)),
                        MakeTimeAccessor(&NatDiscoveryApplication::m_deadline),
                        MakeTimeChecker(NanoSeconds(1)))
          .AddAttribute("Software", "SOFTWARE attribute in requests; empty: none.",
                        StringValue("punchlab"),
                        MakeStringAccessor(&NatDiscoveryApplication::m_software),
                        MakeStringChecker())
          .AddAttribute("Seed",
                        "Run seed; transaction ids are drawn from a stream forked from it "
                        "per node and application.",
                        UintegerValue(1), MakeUintegerAccessor(&NatDiscoveryApplication::m_seed),
                        MakeUintegerChecker<uint64_t>())
          .AddTraceSource("Report", "The discovery finished (the NAT report).",
                          MakeTraceSourceAccessor(&NatDiscoveryApplication::m_reportTrace),
                          "ns3::NatDiscoveryApplication::ReportTracedCallback");
  return tid;
}

NatDiscoveryApplication::NatDiscoveryApplication() = default;

const punchlab::stun::StunClientStats& NatDiscoveryApplication::GetStats() const {
  static const punchlab::stun::StunClientStats kNone;
  return m_discovery ? m_discovery->client_stats() : kNone;
}

std::vector<punchlab::Endpoint> NatDiscoveryApplication::GetLocalEndpoints() const {
  return m_discovery ? m_discovery->LocalEndpoints() : std::vector<punchlab::Endpoint>{};
}

void NatDiscoveryApplication::StartApplication() {
  NS_ABORT_MSG_IF(m_serverAddress.IsInvalid(), "NatDiscoveryApplication: ServerAddress not set");
  NS_ABORT_MSG_IF(uint32_t{m_localPort} + m_extraSockets > 65535,
                  "NatDiscoveryApplication: LocalPort " << m_localPort << " leaves no room for "
                                                        << m_extraSockets << " extra sockets");
  const punchlab::IpAddress localIp = ResolveServiceAddress(*this, m_localAddress);

  punchlab::stun::NatDiscoveryConfig config;
  config.local = punchlab::Endpoint(localIp, m_localPort);
  for (uint32_t i = 1; i <= m_extraSockets; ++i) {
    config.extra_locals.emplace_back(localIp, static_cast<uint16_t>(m_localPort + i));
  }
  config.server = punchlab::Endpoint(ToPunchlabIp(m_serverAddress), m_serverPort);
  config.binding.software = m_software;
  config.binding.deadline = punchlab::Duration::Nanos(m_deadline.GetNanoSeconds());

  m_random = std::make_unique<punchlab::DeterministicRandom>(
      ForkApplicationRandom(m_seed, *this, "nat-discovery"));
  m_discovery = std::make_unique<punchlab::stun::NatDiscovery>(*m_random, config);
  m_report.reset();

  m_host = CreateObject<MachineHost>(GetNode(), m_discovery.get());
  m_host->SetEventCallback(MakeCallback(&NatDiscoveryApplication::OnEvents, this));
  for (const punchlab::Endpoint& local : m_discovery->LocalEndpoints()) m_host->Bind(local);
  NS_LOG_INFO("node " << GetNode()->GetId() << " discovering the NAT from "
                      << config.local.ToString() << " against " << config.server.ToString());
  m_discovery->Start(ToPunchlab(Simulator::Now()));
  m_host->Drain();
}

void NatDiscoveryApplication::OnEvents() {
  while (std::optional<punchlab::stun::NatReport> report = m_discovery->PollEvent()) {
    NS_LOG_INFO("node " << GetNode()->GetId() << " NAT report: " << report->ToString());
    m_report = std::move(report);
    m_reportTrace(*m_report);
  }
}

void NatDiscoveryApplication::StopApplication() {
  if (m_host) {
    m_host->Dispose();
    m_host = nullptr;
  }
}

void NatDiscoveryApplication::DoDispose() {
  StopApplication();
  Application::DoDispose();
}

}  // namespace ns3
