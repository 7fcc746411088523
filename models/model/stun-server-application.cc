#include "model/stun-server-application.h"

#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/address-utils.h"
#include "ns3/ipv4.h"
#include "ns3/log.h"
#include "ns3/string.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("StunServerApplication");
NS_OBJECT_ENSURE_REGISTERED(StunServerApplication);

TypeId StunServerApplication::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::StunServerApplication")
          .SetParent<Application>()
          .SetGroupName("Punchlab")
          .AddConstructor<StunServerApplication>()
          .AddAttribute("PrimaryAddress",
                        "Primary IP (Ipv4Address or Ipv6Address). Unset: the node's first "
                        "IPv4 interface address.",
                        AddressValue(), MakeAddressAccessor(&StunServerApplication::m_primaryAddress),
                        MakeAddressChecker())
          .AddAttribute("PrimaryPort", "Primary UDP port.", UintegerValue(3478),
                        MakeUintegerAccessor(&StunServerApplication::m_primaryPort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("AlternateAddress",
                        "Alternate IP for RFC 5780 CHANGE-REQUEST, same family as the primary. "
                        "Unset: no alternate (change requests get 420).",
                        AddressValue(),
                        MakeAddressAccessor(&StunServerApplication::m_alternateAddress),
                        MakeAddressChecker())
          .AddAttribute("AlternatePort", "Alternate UDP port (used with AlternateAddress).",
                        UintegerValue(3479),
                        MakeUintegerAccessor(&StunServerApplication::m_alternatePort),
                        MakeUintegerChecker<uint16_t>())
          .AddAttribute("Software", "SOFTWARE attribute in responses; empty: none.",
                        StringValue("punchlab"),
                        MakeStringAccessor(&StunServerApplication::m_software),
                        MakeStringChecker())
          .AddTraceSource("Request", "A well-formed Binding request arrived (client, local).",
                          MakeTraceSourceAccessor(&StunServerApplication::m_requestTrace),
                          "ns3::StunServerApplication::RequestTracedCallback")
          .AddTraceSource("Response", "A response left the server (source, destination).",
                          MakeTraceSourceAccessor(&StunServerApplication::m_responseTrace),
                          "ns3::StunServerApplication::ResponseTracedCallback");
  return tid;
}

StunServerApplication::StunServerApplication() = default;

const punchlab::stun::StunServerStats& StunServerApplication::GetStats() const {
  static const punchlab::stun::StunServerStats kNone;
  return m_server ? m_server->stats() : kNone;
}

std::vector<punchlab::Endpoint> StunServerApplication::GetLocalEndpoints() const {
  return m_server ? m_server->LocalEndpoints() : std::vector<punchlab::Endpoint>{};
}

void StunServerApplication::StartApplication() {
  punchlab::stun::StunServerConfig config;
  if (m_primaryAddress.IsInvalid()) {
    Ptr<Ipv4> ipv4 = GetNode()->GetObject<Ipv4>();
    NS_ABORT_MSG_IF(!ipv4 || ipv4->GetNInterfaces() < 2,
                    "StunServerApplication: node " << GetNode()->GetId()
                                                   << " has no IPv4 address; set PrimaryAddress");
    config.primary = {ToPunchlab(ipv4->GetAddress(1, 0).GetLocal()), m_primaryPort};
  } else {
    config.primary = {ToPunchlabIp(m_primaryAddress), m_primaryPort};
  }
  if (!m_alternateAddress.IsInvalid()) {
    config.alternate = punchlab::Endpoint(ToPunchlabIp(m_alternateAddress), m_alternatePort);
  }
  config.software = m_software;
  m_server = std::make_unique<punchlab::stun::StunServer>(config);
  m_requestsSeen = 0;

  m_host = CreateObject<MachineHost>(GetNode(), m_server.get());
  m_host->TraceConnectWithoutContext("Rx", MakeCallback(&StunServerApplication::OnRx, this));
  m_host->TraceConnectWithoutContext("Tx", MakeCallback(&StunServerApplication::OnTx, this));
  m_host->SetEventCallback(MakeCallback(&StunServerApplication::OnEvents, this));
  for (const punchlab::Endpoint& local : m_server->LocalEndpoints()) {
    m_host->Bind(local);
    NS_LOG_INFO("STUN server on node " << GetNode()->GetId() << " listening on "
                                       << local.ToString());
  }
}

void StunServerApplication::StopApplication() {
  if (m_host) {
    m_host->Dispose();
    m_host = nullptr;
  }
}

void StunServerApplication::DoDispose() {
  StopApplication();
  Application::DoDispose();
}

void StunServerApplication::OnRx(Ptr<const Packet>, const Address& local,
                                 const Address& remote) {
  m_rxLocal = local;
  m_rxRemote = remote;
}

void StunServerApplication::OnTx(Ptr<const Packet>, const Address& source,
                                 const Address& destination) {
  NoteRequest();  // so that Request is traced before its Response
  m_responseTrace(source, destination);
}

void StunServerApplication::OnEvents() { NoteRequest(); }

// The server machine has no events; its request counter tells whether the
// datagram just handled was a request it accepted (answered or dropped).
void StunServerApplication::NoteRequest() {
  uint64_t requests = m_server->stats().requests;
  if (requests == m_requestsSeen) return;
  m_requestsSeen = requests;
  m_requestTrace(m_rxRemote, m_rxLocal);
}

}  // namespace ns3
