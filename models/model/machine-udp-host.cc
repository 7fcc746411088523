#include "model/machine-udp-host.h"

#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/ipv4.h"
#include "ns3/ipv6-packet-info-tag.h"
#include "ns3/ipv6.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/udp-socket-factory.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("MachineUdpHost");
NS_OBJECT_ENSURE_REGISTERED(MachineUdpHost);

TypeId MachineUdpHost::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::MachineUdpHost")
          .SetParent<Object>()
          .SetGroupName("Punchlab")
          .AddTraceSource("Rx", "A datagram was handed to the machine (packet, local, remote).",
                          MakeTraceSourceAccessor(&MachineUdpHost::m_rxTrace),
                          "ns3::MachineUdpHost::DatagramTracedCallback")
          .AddTraceSource("Tx", "A datagram from the machine left a socket (packet, source, "
                          "destination).",
                          MakeTraceSourceAccessor(&MachineUdpHost::m_txTrace),
                          "ns3::MachineUdpHost::DatagramTracedCallback")
          .AddTraceSource("TxDrop", "A datagram from the machine was dropped: no socket for "
                          "its source, or the socket refused it.",
                          MakeTraceSourceAccessor(&MachineUdpHost::m_txDropTrace),
                          "ns3::MachineUdpHost::DatagramTracedCallback");
  return tid;
}

MachineUdpHost::MachineUdpHost(Ptr<Node> node, punchlab::DatagramMachine* machine)
    : m_node(node), m_machine(machine) {
  NS_ABORT_MSG_IF(!node || !machine, "MachineUdpHost needs a node and a machine");
}

// A safety net for an owner that drops the host without Dispose(): no socket
// callback or timer may point at a destroyed host. The sockets themselves
// close with their node.
MachineUdpHost::~MachineUdpHost() {
  m_timer.Cancel();
  for (auto& s : m_sockets) s.socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
}

punchlab::Endpoint MachineUdpHost::Bind(const punchlab::Endpoint& local) {
  NS_ABORT_MSG_IF(!m_machine, "Bind after Close");
  NS_ABORT_MSG_UNLESS(local.ip.IsUnspecified() || NodeOwns(local.ip),
                      "node " << m_node->GetId() << " has no address " << local.ip.ToString());
  Ptr<Socket> socket = Socket::CreateSocket(m_node, UdpSocketFactory::GetTypeId());
  NS_ABORT_MSG_IF(socket->Bind(ToNs3Address(local)) != 0,
                  "cannot bind " << local.ToString() << " on node " << m_node->GetId());
  // Ask for the destination address of each datagram: that is `local` for a
  // wildcard-bound socket.
  socket->SetRecvPktInfo(true);
  socket->SetRecvCallback(MakeCallback(&MachineUdpHost::HandleRead, this));
  Address name;
  socket->GetSockName(name);
  punchlab::Endpoint bound = ToPunchlabEndpoint(name);
  NS_LOG_INFO("node " << m_node->GetId() << " bound " << bound.ToString());
  m_sockets.push_back({socket, bound});
  return bound;
}

std::vector<punchlab::Endpoint> MachineUdpHost::GetBoundEndpoints() const {
  std::vector<punchlab::Endpoint> out;
  for (const auto& s : m_sockets) out.push_back(s.bound);
  return out;
}

void MachineUdpHost::SetEventCallback(Callback<void> drainEvents) {
  m_drainEvents = drainEvents;
}

void MachineUdpHost::HandleRead(Ptr<Socket> socket) {
  punchlab::Endpoint bound;
  for (const auto& s : m_sockets) {
    if (s.socket == socket) bound = s.bound;
  }
  Address from;
  while (m_machine) {
    Ptr<Packet> packet = socket->RecvFrom(from);
    if (!packet) break;
    punchlab::Endpoint local = bound;
    Ipv4PacketInfoTag info4;
    Ipv6PacketInfoTag info6;
    if (bound.ip.is_v4() && packet->PeekPacketTag(info4)) {
      local.ip = ToPunchlab(info4.GetAddress());
    } else if (bound.ip.is_v6() && packet->PeekPacketTag(info6)) {
      local.ip = ToPunchlab(info6.GetAddress());
    }
    punchlab::Bytes payload(packet->GetSize());
    packet->CopyData(payload.data(), static_cast<uint32_t>(payload.size()));
    ++m_counters.rxDatagrams;
    m_rxTrace(packet, ToNs3Address(local), from);
    punchlab::Endpoint remote = ToPunchlabEndpoint(from);
    NS_LOG_LOGIC(local.ToString() << " <- " << remote.ToString() << " " << payload.size()
                                  << " bytes");
    m_machine->HandleDatagram(ToPunchlab(Simulator::Now()), local, remote, payload);
    Drain();
  }
}

void MachineUdpHost::HandleTimer() {
  if (!m_machine) return;
  ++m_counters.timeouts;
  m_machine->HandleTimeout(ToPunchlab(Simulator::Now()));
  Drain();
}

void MachineUdpHost::Drain() {
  // The event callback may hand the machine a command and call Drain() again:
  // remember that and loop here, so the timer is armed once, at the end.
  if (m_draining) {
    m_drainAgain = true;
    return;
  }
  m_draining = true;
  do {
    m_drainAgain = false;
    while (m_machine) {
      std::optional<punchlab::Transmit> transmit = m_machine->PollTransmit();
      if (!transmit) break;
      Send(*transmit);
    }
    if (m_machine && !m_drainEvents.IsNull()) m_drainEvents();
  } while (m_drainAgain && m_machine);
  m_draining = false;
  ArmTimer();
}

void MachineUdpHost::Send(const punchlab::Transmit& transmit) {
  Ptr<Packet> packet =
      Create<Packet>(transmit.payload.data(), static_cast<uint32_t>(transmit.payload.size()));
  Address source = ToNs3Address(transmit.source);
  Address destination = ToNs3Address(transmit.destination);
  Ptr<Socket> socket = FindSocketFor(transmit.source);
  if (!socket) {
    NS_LOG_WARN("node " << m_node->GetId() << ": no socket for source "
                        << transmit.source.ToString() << ", dropped");
    ++m_counters.txNoSocket;
    m_txDropTrace(packet, source, destination);
    return;
  }
  if (socket->SendTo(packet, 0, destination) < 0) {
    NS_LOG_WARN("node " << m_node->GetId() << ": " << transmit.source.ToString() << " -> "
                        << transmit.destination.ToString() << " refused, errno "
                        << socket->GetErrno());
    ++m_counters.txErrors;
    m_txDropTrace(packet, source, destination);
    return;
  }
  ++m_counters.txDatagrams;
  m_txTrace(packet, source, destination);
}

Ptr<Socket> MachineUdpHost::FindSocketFor(const punchlab::Endpoint& source) const {
  for (const auto& s : m_sockets) {
    if (s.bound == source) return s.socket;
  }
  if (!NodeOwns(source.ip)) return nullptr;
  for (const auto& s : m_sockets) {
    if (s.bound.port == source.port && s.bound.ip.IsUnspecified() &&
        s.bound.ip.family() == source.ip.family()) {
      return s.socket;
    }
  }
  return nullptr;
}

bool MachineUdpHost::NodeOwns(const punchlab::IpAddress& ip) const {
  if (ip.is_v4()) {
    Ptr<Ipv4> ipv4 = m_node->GetObject<Ipv4>();
    return ipv4 && ipv4->GetInterfaceForAddress(ToNs3Ipv4(ip)) >= 0;
  }
  Ptr<Ipv6> ipv6 = m_node->GetObject<Ipv6>();
  return ipv6 && ipv6->GetInterfaceForAddress(ToNs3Ipv6(ip)) >= 0;
}

void MachineUdpHost::ArmTimer() {
  m_timer.Cancel();
  if (!m_machine) return;
  std::optional<punchlab::Timestamp> at = m_machine->PollTimeout();
  // Timestamp::Max() means "never": scheduling it would only drag the
  // simulation clock to the end of time.
  if (!at || *at == punchlab::Timestamp::Max()) return;
  m_timer = Simulator::Schedule(ToNs3Delay(ToPunchlab(Simulator::Now()), *at),
                                &MachineUdpHost::HandleTimer, this);
}

void MachineUdpHost::Close() {
  m_timer.Cancel();
  for (auto& s : m_sockets) {
    s.socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
    s.socket->Close();
  }
  m_sockets.clear();
  m_machine = nullptr;
  m_drainEvents = Callback<void>();
}

void MachineUdpHost::DoDispose() {
  Close();
  m_node = nullptr;
  Object::DoDispose();
}

}  // namespace ns3
