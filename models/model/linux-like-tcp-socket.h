// LinuxLikeTcpSocket: ns-3's TcpSocketBase plus one Linux behaviour that NAT
// scenarios depend on. A listening socket that receives a segment which is
// not a SYN (and not a RST) answers it with a RST, as Linux does
// (tcp_v4_do_rcv: LISTEN + ACK -> reset); ns-3.37 silently ignores it.
//
// Why it matters: when a NAT loses its mappings (reboot, new address), a
// client's next segment on an old connection leaves through a new mapping,
// so to the server it belongs to no connection and lands on the listener.
// With the RST the client learns at once that the connection is gone and
// reconnects (Tailscale's DERP and control clients do); without it, it
// retransmits for minutes into a connection that no longer exists.
//
// TcpL4Protocol only ever creates TcpSocketBase (its "SocketType" attribute
// names the congestion control), so CreateListener builds one the way
// TcpL4Protocol::CreateSocket does; MachineHost listens on these.
// Connections a listener accepts are forked as LinuxLikeTcpSockets too (only
// the LISTEN state behaves differently) so that each can keep its entry in
// the node's TcpConnectionIndex (tcp-connection-index.h): added when the fork
// allocates the connection's endpoint, removed when the socket dies. A
// server's segments then find their connection in a hash map, not in ns-3's
// list of every endpoint of the node.
#pragma once

#include <cstdint>

#include "model/tcp-connection-index.h"
#include "ns3/tcp-socket-base.h"

namespace ns3 {

class LinuxLikeTcpSocket : public TcpSocketBase {
 public:
  static TypeId GetTypeId();
  LinuxLikeTcpSocket();
  LinuxLikeTcpSocket(const LinuxLikeTcpSocket& other);  // Fork: a connection, not yet indexed
  ~LinuxLikeTcpSocket() override;

  // A socket on `node`'s TCP with the protocol's RTT estimator, congestion
  // control and recovery types, registered with it as CreateSocket does.
  static Ptr<LinuxLikeTcpSocket> CreateListener(Ptr<Node> node);

  // RSTs sent for stray segments at a listener.
  uint64_t GetListenerResets() const { return m_listenerResets; }

  // The connection's IPv4 endpoint (null before the fork allocates it and
  // after TCP let it go); TcpConnectionIndex checks a hit against it.
  Ipv4EndPoint* GetEndPoint() const { return m_endPoint; }

 protected:
  void DoForwardUp(Ptr<Packet> packet, const Address& fromAddress,
                   const Address& toAddress) override;
  Ptr<TcpSocketBase> Fork() override;
  void CompleteFork(Ptr<Packet> packet, const TcpHeader& tcpHeader, const Address& fromAddress,
                    const Address& toAddress) override;

 private:
  uint64_t m_listenerResets = 0;
  Ptr<TcpConnectionIndex> m_index;  // the node's; set on listeners and their forks
  bool m_indexed = false;           // m_indexKey is in m_index
  TcpConnectionIndex::Key m_indexKey;
};

}  // namespace ns3
