#include "model/tcp-connection-index.h"

#include "model/linux-like-tcp-socket.h"
#include "ns3/abort.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/ipv4-header.h"
#include "ns3/ipv4-interface.h"
#include "ns3/ipv4.h"
#include "ns3/ipv6-header.h"
#include "ns3/ipv6-interface.h"
#include "ns3/node.h"
#include "ns3/packet.h"
#include "ns3/tcp-header.h"
#include "ns3/tcp-l4-protocol.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(TcpConnectionIndex);

TypeId TcpConnectionIndex::GetTypeId() {
  static TypeId tid = TypeId("ns3::TcpConnectionIndex")
                          .SetParent<IpL4Protocol>()
                          .SetGroupName("Punchlab")
                          .AddConstructor<TcpConnectionIndex>();
  return tid;
}

TcpConnectionIndex::TcpConnectionIndex() = default;
TcpConnectionIndex::~TcpConnectionIndex() = default;

Ptr<TcpConnectionIndex> TcpConnectionIndex::On(Ptr<Node> node) {
  Ptr<Ipv4> ipv4 = node->GetObject<Ipv4>();
  Ptr<TcpL4Protocol> tcp = node->GetObject<TcpL4Protocol>();
  NS_ABORT_MSG_UNLESS(ipv4 && tcp, "TcpConnectionIndex: node " << node->GetId()
                                                               << " has no IPv4 TCP");
  Ptr<IpL4Protocol> current = ipv4->GetProtocol(TcpL4Protocol::PROT_NUMBER);
  if (Ptr<TcpConnectionIndex> index = DynamicCast<TcpConnectionIndex>(current)) return index;
  NS_ABORT_MSG_UNLESS(current == tcp, "TcpConnectionIndex: node " << node->GetId()
                                                                  << "'s IPv4 does not deliver "
                                                                     "TCP to its TcpL4Protocol");
  Ptr<TcpConnectionIndex> index = CreateObject<TcpConnectionIndex>();
  index->m_tcp = tcp;
  ipv4->Insert(index);  // replaces TcpL4Protocol as protocol 6 for reception only
  return index;
}

size_t TcpConnectionIndex::KeyHash::operator()(const Key& k) const {
  const uint64_t a = (uint64_t{k.localAddress} << 32) | k.peerAddress;
  const uint64_t b = (uint64_t{k.localPort} << 16) | k.peerPort;
  // splitmix64's finaliser over both halves: cheap, and spreads NAT ports
  // that differ in a few low bits.
  uint64_t x = a ^ (b * 0x9e3779b97f4a7c15ULL);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<size_t>(x);
}

void TcpConnectionIndex::Add(const Key& key, LinuxLikeTcpSocket* socket) {
  m_connections[key] = socket;
}

void TcpConnectionIndex::Remove(const Key& key, const LinuxLikeTcpSocket* socket) {
  auto it = m_connections.find(key);
  if (it != m_connections.end() && it->second == socket) m_connections.erase(it);
}

int TcpConnectionIndex::GetProtocolNumber() const { return TcpL4Protocol::PROT_NUMBER; }

IpL4Protocol::RxStatus TcpConnectionIndex::Receive(Ptr<Packet> packet, const Ipv4Header& header,
                                                   Ptr<Ipv4Interface> incomingInterface) {
  // As TcpL4Protocol::PacketReceived reads the header: with checksums on,
  // the whole header to check it; with them off that reading decides nothing
  // but the ports, which are the segment's first four bytes (a TcpHeader's
  // deserialisation makes an ns-3 object per option, ~5 k instructions).
  uint16_t sourcePort = 0;
  uint16_t destinationPort = 0;
  bool ok = false;
  if (!Node::ChecksumEnabled() && packet->GetSize() >= 20) {
    uint8_t ports[4];
    packet->CopyData(ports, sizeof ports);
    sourcePort = static_cast<uint16_t>((ports[0] << 8) | ports[1]);
    destinationPort = static_cast<uint16_t>((ports[2] << 8) | ports[3]);
    ok = true;
  } else {
    TcpHeader tcpHeader;
    if (Node::ChecksumEnabled()) {
      tcpHeader.EnableChecksums();
      tcpHeader.InitializeChecksum(header.GetSource(), header.GetDestination(),
                                   TcpL4Protocol::PROT_NUMBER);
    }
    packet->PeekHeader(tcpHeader);
    ok = tcpHeader.IsChecksumOk();
    sourcePort = tcpHeader.GetSourcePort();
    destinationPort = tcpHeader.GetDestinationPort();
  }
  if (ok) {
    const Key key{header.GetDestination().Get(), header.GetSource().Get(), destinationPort,
                  sourcePort};
    auto it = m_connections.find(key);
    if (it != m_connections.end()) {
      Ipv4EndPoint* endPoint = it->second->GetEndPoint();
      // The conditions under which Ipv4EndPointDemux::Lookup returns exactly
      // this endpoint (an exact match on all four, receiving, any device).
      if (endPoint != nullptr && endPoint->IsRxEnabled() && !endPoint->GetBoundNetDevice() &&
          endPoint->GetLocalAddress() == header.GetDestination() &&
          endPoint->GetLocalPort() == key.localPort &&
          endPoint->GetPeerAddress() == header.GetSource() &&
          endPoint->GetPeerPort() == key.peerPort) {
        ++m_indexed;
        endPoint->ForwardUp(packet, header, key.peerPort, incomingInterface);
        return IpL4Protocol::RX_OK;
      }
    }
  }
  ++m_listed;
  return m_tcp->Receive(packet, header, incomingInterface);
}

IpL4Protocol::RxStatus TcpConnectionIndex::Receive(Ptr<Packet> packet, const Ipv6Header& header,
                                                   Ptr<Ipv6Interface> incomingInterface) {
  return m_tcp->Receive(packet, header, incomingInterface);
}

void TcpConnectionIndex::ReceiveIcmp(Ipv4Address icmpSource, uint8_t icmpTtl, uint8_t icmpType,
                                     uint8_t icmpCode, uint32_t icmpInfo,
                                     Ipv4Address payloadSource, Ipv4Address payloadDestination,
                                     const uint8_t payload[8]) {
  m_tcp->ReceiveIcmp(icmpSource, icmpTtl, icmpType, icmpCode, icmpInfo, payloadSource,
                     payloadDestination, payload);
}

void TcpConnectionIndex::ReceiveIcmp(Ipv6Address icmpSource, uint8_t icmpTtl, uint8_t icmpType,
                                     uint8_t icmpCode, uint32_t icmpInfo,
                                     Ipv6Address payloadSource, Ipv6Address payloadDestination,
                                     const uint8_t payload[8]) {
  m_tcp->ReceiveIcmp(icmpSource, icmpTtl, icmpType, icmpCode, icmpInfo, payloadSource,
                     payloadDestination, payload);
}

void TcpConnectionIndex::SetDownTarget(IpL4Protocol::DownTargetCallback cb) {
  m_tcp->SetDownTarget(cb);
}
void TcpConnectionIndex::SetDownTarget6(IpL4Protocol::DownTargetCallback6 cb) {
  m_tcp->SetDownTarget6(cb);
}
IpL4Protocol::DownTargetCallback TcpConnectionIndex::GetDownTarget() const {
  return m_tcp->GetDownTarget();
}
IpL4Protocol::DownTargetCallback6 TcpConnectionIndex::GetDownTarget6() const {
  return m_tcp->GetDownTarget6();
}

void TcpConnectionIndex::DoDispose() {
  m_connections.clear();
  m_tcp = nullptr;
  IpL4Protocol::DoDispose();
}

}  // namespace ns3
