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
// Connections a listener accepts are forked as plain TcpSocketBase: only
// the LISTEN state differs.
#pragma once

#include <cstdint>

#include "ns3/tcp-socket-base.h"

namespace ns3 {

class LinuxLikeTcpSocket : public TcpSocketBase {
 public:
  static TypeId GetTypeId();
  LinuxLikeTcpSocket();

  // A socket on `node`'s TCP with the protocol's RTT estimator, congestion
  // control and recovery types, registered with it as CreateSocket does.
  static Ptr<LinuxLikeTcpSocket> CreateListener(Ptr<Node> node);

  // RSTs sent for stray segments at a listener.
  uint64_t GetListenerResets() const { return m_listenerResets; }

 protected:
  void DoForwardUp(Ptr<Packet> packet, const Address& fromAddress,
                   const Address& toAddress) override;

 private:
  uint64_t m_listenerResets = 0;
};

}  // namespace ns3
