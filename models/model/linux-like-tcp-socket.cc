#include "model/linux-like-tcp-socket.h"

#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-end-point.h"
#include "ns3/node.h"
#include "ns3/object-factory.h"
#include "ns3/rtt-estimator.h"
#include "ns3/tcp-congestion-ops.h"
#include "ns3/tcp-recovery-ops.h"
#include "ns3/tcp-header.h"
#include "ns3/tcp-l4-protocol.h"

namespace ns3 {

NS_OBJECT_ENSURE_REGISTERED(LinuxLikeTcpSocket);

TypeId LinuxLikeTcpSocket::GetTypeId() {
  static TypeId tid = TypeId("ns3::LinuxLikeTcpSocket")
                          .SetParent<TcpSocketBase>()
                          .SetGroupName("Punchlab")
                          .AddConstructor<LinuxLikeTcpSocket>();
  return tid;
}

LinuxLikeTcpSocket::LinuxLikeTcpSocket() = default;

LinuxLikeTcpSocket::LinuxLikeTcpSocket(const LinuxLikeTcpSocket& other)
    : TcpSocketBase(other), m_index(other.m_index) {}

LinuxLikeTcpSocket::~LinuxLikeTcpSocket() {
  if (m_indexed) m_index->Remove(m_indexKey, this);
}

Ptr<TcpSocketBase> LinuxLikeTcpSocket::Fork() {
  return CopyObject<LinuxLikeTcpSocket>(Ptr<LinuxLikeTcpSocket>(this));
}

void LinuxLikeTcpSocket::CompleteFork(Ptr<Packet> packet, const TcpHeader& tcpHeader,
                                      const Address& fromAddress, const Address& toAddress) {
  TcpSocketBase::CompleteFork(packet, tcpHeader, fromAddress, toAddress);
  if (!m_index || m_endPoint == nullptr || m_indexed) return;
  m_indexKey = TcpConnectionIndex::Key{
      m_endPoint->GetLocalAddress().Get(), m_endPoint->GetPeerAddress().Get(),
      m_endPoint->GetLocalPort(), m_endPoint->GetPeerPort()};
  m_index->Add(m_indexKey, this);
  m_indexed = true;
}

Ptr<LinuxLikeTcpSocket> LinuxLikeTcpSocket::CreateListener(Ptr<Node> node) {
  Ptr<TcpL4Protocol> tcp = node->GetObject<TcpL4Protocol>();
  NS_ABORT_MSG_UNLESS(tcp, "LinuxLikeTcpSocket: node " << node->GetId() << " has no TCP");
  auto create = [&](const char* attribute) {
    TypeIdValue type;
    tcp->GetAttribute(attribute, type);
    ObjectFactory factory;
    factory.SetTypeId(type.Get());
    return factory.Create();
  };
  Ptr<LinuxLikeTcpSocket> socket = CreateObject<LinuxLikeTcpSocket>();
  socket->SetNode(node);
  socket->SetTcp(tcp);
  socket->SetRtt(DynamicCast<RttEstimator>(create("RttEstimatorType")));
  socket->SetCongestionControlAlgorithm(DynamicCast<TcpCongestionOps>(create("SocketType")));
  socket->SetRecoveryAlgorithm(DynamicCast<TcpRecoveryOps>(create("RecoveryType")));
  tcp->AddSocket(socket);
  socket->m_index = TcpConnectionIndex::On(node);
  return socket;
}

void LinuxLikeTcpSocket::DoForwardUp(Ptr<Packet> packet, const Address& fromAddress,
                                     const Address& toAddress) {
  if (m_state != LISTEN || !InetSocketAddress::IsMatchingType(fromAddress)) {
    TcpSocketBase::DoForwardUp(packet, fromAddress, toAddress);
    return;
  }
  TcpHeader in;
  packet->PeekHeader(in);
  const uint8_t flags = in.GetFlags();
  if ((flags & TcpHeader::RST) != 0 || (flags & (TcpHeader::SYN | TcpHeader::ACK)) == TcpHeader::SYN) {
    TcpSocketBase::DoForwardUp(packet, fromAddress, toAddress);
    return;
  }
  // RFC 793, "reset generation" for a segment to a socket in LISTEN: with an
  // ACK, <SEQ=SEG.ACK><CTL=RST>; without, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
  const InetSocketAddress from = InetSocketAddress::ConvertFrom(fromAddress);
  const InetSocketAddress to = InetSocketAddress::ConvertFrom(toAddress);
  TcpHeader rst;
  rst.SetSourcePort(to.GetPort());
  rst.SetDestinationPort(from.GetPort());
  rst.SetWindowSize(0);
  if ((flags & TcpHeader::ACK) != 0) {
    rst.SetFlags(TcpHeader::RST);
    rst.SetSequenceNumber(in.GetAckNumber());
  } else {
    const uint32_t length = packet->GetSize() - in.GetSerializedSize();
    rst.SetFlags(TcpHeader::RST | TcpHeader::ACK);
    rst.SetSequenceNumber(SequenceNumber32(0));
    rst.SetAckNumber(in.GetSequenceNumber() + SequenceNumber32(length));
  }
  ++m_listenerResets;
  m_tcp->SendPacket(Create<Packet>(), rst, to.GetIpv4(), from.GetIpv4());
}

}  // namespace ns3
