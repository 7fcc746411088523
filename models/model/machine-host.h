// MachineHost: the ns-3 adapter of the one host core (hosts/). It runs a
// punchlab::DatagramMachine, a StreamMachine, or a machine of both shapes
// (node::Node, derp::RegionNode: one host, one timer) on an ns-3 node's UDP
// and TCP sockets. Applications own a machine and one of these and never
// touch sockets. The rules — the drain rule, output queues, watermarks,
// accepted ids, the one timer — are hosts::Host's
// (hosts/include/punchlab/hosts/host.h); this file only moves packets.
//
// UDP.
// * Bind(local) opens one UdpSocketFactory socket per local endpoint. IPv4 and
//   IPv6; a wildcard address (0.0.0.0 / ::) is allowed, and port 0 picks an
//   ephemeral port (Bind returns the endpoint actually bound).
// * Every received datagram becomes HandleDatagram(now, local, remote, bytes),
//   copied into one reused buffer. `local` is the datagram's destination
//   address as it arrived at this node (from the IP header, like IP_PKTINFO)
//   with the socket's port: for a socket bound to 0.0.0.0:4000 it is e.g.
//   192.168.1.2:4000, never the wildcard. `remote` is the sender as this node
//   sees it (after any NAT on the path).
// * A transmit leaves through the socket whose bound endpoint equals
//   transmit.source; failing that, a wildcard-bound socket of the same family
//   and port, if the source address belongs to this node. No match: dropped
//   and counted (txNoSocket). The host never binds sockets on its own, so a
//   machine that names a source it was not given is a visible bug.
//
// TCP.
//   kConnect  binds an ephemeral port and connects; HandleConnected when the
//             handshake completes, HandleClosed when it fails: at once when
//             there is no route, else when the SYN retries run out (ns-3.37
//             ignores the RST that answers a SYN, so a refused connect fails
//             only after TcpSocket ConnCount/ConnTimeout, 189 s by default;
//             machines bound that with their own handshake timeouts);
//   kWrite    what the socket's send buffer takes (GetTxAvailable) goes at
//             once; the rest waits in the core and is flushed whenever the
//             socket reports space (send callback);
//   kClose    closes once every queued byte is handed to the socket (TCP then
//             sends them before its FIN).
// A peer's FIN ends the connection (after the bytes before it), as does a
// reset or a TCP timeout: HandleClosed. Listeners answer stray segments with a
// RST, as Linux does (linux-like-tcp-socket.h).
//
// TLS (the lab's DERP runs over it): a kConnect with a TlsDial, and every
// connection a ListenTls listener accepts, run the modelled TLS 1.3 handshake
// (tls-model.h: OpenSSL's flights, byte for byte in size, and its certificate
// check) before the machine hears HandleConnected, as realio::Host does. A
// refused certificate sends an alert and fails the connect; an accepted
// connection whose handshake fails is forgotten (the machine never knew it).
// A handshake not done within TlsHandshakeTimeout (10 s, as realio) is given
// up the same way.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ns3/callback.h"
#include "ns3/event-id.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "model/tls-model.h"
#include "ns3/nstime.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"
#include "ns3/traced-callback.h"
#include "punchlab/datagram-machine.h"
#include "punchlab/endpoint.h"
#include "punchlab/hosts/host.h"
#include "punchlab/stream-machine.h"

namespace ns3 {

// The core's counters under ns-3 names.
struct MachineHostCounters {
  // Datagrams.
  uint64_t rxDatagrams = 0;  // delivered to the machine
  uint64_t txDatagrams = 0;  // accepted by a socket
  uint64_t txNoSocket = 0;   // transmit.source matched no bound socket: dropped
  uint64_t txErrors = 0;     // the socket refused it (e.g. no route): dropped
  // Streams.
  uint64_t accepted = 0;
  uint64_t connectsStarted = 0;
  uint64_t connectsFailed = 0;
  uint64_t bytesRead = 0;        // handed to the machine
  uint64_t bytesWritten = 0;     // taken by a socket
  uint64_t closedByPeer = 0;     // FIN
  uint64_t closedOnError = 0;    // reset, TCP timeout, a send the socket refused
  uint64_t closedByMachine = 0;  // kClose
  uint64_t outputOverflows = 0;  // waiting output above MaxOutput: closed
  uint64_t writeBlocked = 0;     // WriteBlocked callbacks
  uint64_t badActions = 0;       // write/close to an unknown id, connect to an id in use
  uint64_t tlsHandshakes = 0;    // TLS connections that reached the machine
  uint64_t tlsFailures = 0;      // TLS handshakes refused, broken off or timed out
  // Both.
  uint64_t timeouts = 0;  // HandleTimeout calls
};

class Ipv4LocalFastPath;
class Ipv4Header;

class MachineHost : public Object, private punchlab::hosts::Sockets {
 public:
  static constexpr punchlab::ConnectionId kFirstAcceptedId =
      punchlab::hosts::Host::kFirstAcceptedId;
  // A full TCP segment's payload: run-sim sets ns3::TcpSocket::SegmentSize to
  // it (ns-3's default is 536), and the host moves at most this many bytes in
  // one ns-3 packet between a TCP socket and its machine (machine-host.cc says
  // why).
  static constexpr uint32_t kTcpSegmentBytes = 1448;

  static TypeId GetTypeId();

  // The machines are borrowed: the owner keeps them alive until Close() or
  // disposal. A machine of both shapes is passed twice.
  MachineHost(Ptr<Node> node, punchlab::DatagramMachine* machine);
  MachineHost(Ptr<Node> node, punchlab::StreamMachine* machine);
  MachineHost(Ptr<Node> node, punchlab::DatagramMachine* datagrams,
              punchlab::StreamMachine* streams);
  ~MachineHost() override;

  // Opens a UDP socket bound to `local` and returns the endpoint actually
  // bound. Aborts the simulation when it cannot bind: a topology bug.
  punchlab::Endpoint Bind(const punchlab::Endpoint& local);
  // Accepts TCP connections on `local` from now on; returns the endpoint
  // actually bound. Aborts when it cannot.
  punchlab::Endpoint Listen(const punchlab::Endpoint& local);
  // The same, every accepted connection running the modelled TLS handshake
  // as a server presenting `certificate`.
  punchlab::Endpoint ListenTls(const punchlab::Endpoint& local,
                               std::shared_ptr<const punchlab::tlsmodel::Certificate> certificate);

  // Called by every drain so the owner can drain the concrete machine's
  // PollEvent(); it may command the machine and call Drain() again.
  void SetEventCallback(Callback<void> drainEvents);
  // (now, conn) hooks for a machine that holds back output; both or neither.
  void SetBackpressureCallbacks(
      Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writeBlocked,
      Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writable);

  // Runs the drain rule now: call it after commanding the machine, from
  // inside the run (before Simulator::Run the node's stack is not ready).
  void Drain();

  // Closes every socket (TCP sends what the sockets hold, then FIN) and
  // cancels the timer; the machine is not touched again (no HandleClosed).
  // Call it during the run (e.g. StopApplication); Dispose() at teardown lets
  // the TCP sockets go without sending anything.
  void Close();
  // A server process crash: every connection closes (a FIN each, as a kernel
  // closes a dead process's sockets), the UDP sockets close, the machine is
  // let go, but the listening sockets stay. ns-3 keeps a closed connection's
  // port pair in TIME_WAIT and refuses to bind a new listener over it, and
  // ns-3.37 ignores the RST that would refuse a SYN, so "nobody listens" is
  // modelled as: every connection accepted without a machine is closed at
  // once. The client sees its connection end right after it opened.
  void DetachMachine();
  // The restarted process takes over the listeners (Bind its UDP sockets
  // again). Only after DetachMachine().
  void AttachMachine(punchlab::DatagramMachine* datagrams, punchlab::StreamMachine* streams);

  MachineHostCounters GetCounters() const;
  size_t GetConnectionCount() const { return m_core.ConnectionCount(); }
  // Bytes the machine wrote that no socket has taken yet.
  size_t GetPendingOutput(punchlab::ConnectionId conn) const {
    return m_core.PendingOutput(conn);
  }
  // Bound endpoints in Bind() order (wildcards stay wildcards here).
  std::vector<punchlab::Endpoint> GetBoundEndpoints() const;
  std::vector<punchlab::Endpoint> GetListenEndpoints() const;

  // (packet, local, remote) for every datagram in, out, or dropped on the way
  // out; for Tx/TxDrop `local` is transmit.source.
  typedef void (*DatagramTracedCallback)(Ptr<const Packet> packet, const Address& local,
                                         const Address& remote);
  // (conn, remote): a connection was established (accepted or connected).
  typedef void (*ConnectedTracedCallback)(uint64_t conn, const Address& remote);
  // (conn, why): a connection ended ("peer closed", "error", "connect failed",
  // "closed by machine", "output overflow").
  typedef void (*ClosedTracedCallback)(uint64_t conn, const std::string& why);
  // (conn, bytes): bytes handed to the machine (StreamRx) or taken by a
  // socket (StreamTx).
  typedef void (*StreamTracedCallback)(uint64_t conn, Ptr<const Packet> bytes);

 protected:
  void DoDispose() override;

 private:
  struct BoundSocket {
    Ptr<Socket> socket;
    punchlab::Endpoint bound;
  };
  struct Listener {
    Ptr<Socket> socket;
    punchlab::Endpoint bound;
  };
  struct Stream {
    Ptr<Socket> socket;
    bool dead = false;  // TCP closed it already (error, failed connect)
    // TLS streams only: the handshake until the machine hears of it.
    std::shared_ptr<punchlab::tlsmodel::Session> tls;
    bool accepted = false;
    EventId tlsDeadline;
  };

  // punchlab::hosts::Sockets
  punchlab::Timestamp Now() const override;
  punchlab::hosts::SendResult SendDatagram(const punchlab::Transmit& transmit) override;
  bool Connect(punchlab::ConnectionId conn, const punchlab::Endpoint& remote) override;
  bool ConnectTls(punchlab::ConnectionId conn, const punchlab::Endpoint& remote,
                  const punchlab::TlsDial& dial) override;
  punchlab::hosts::WriteResult Write(punchlab::ConnectionId conn,
                                     punchlab::ByteView bytes) override;
  void Established(punchlab::ConnectionId conn, const punchlab::Endpoint& remote) override;
  void CloseStream(punchlab::ConnectionId conn, punchlab::hosts::CloseReason why) override;
  void ArmTimer(std::optional<punchlab::Timestamp> at) override;

  void HandleRead(Ptr<Socket> socket);
  // A datagram for `socket` past ns-3's detours (Ipv4LocalFastPath's
  // UdpReceiver): false, having done nothing, when the socket must queue it.
  bool TakeDatagram(const Ptr<Socket>& socket, const punchlab::Endpoint& bound,
                    Ptr<Packet> payload, const Ipv4Header& header, uint16_t sourcePort);
  // The node's fast path (ipv4-fast-path.h), or null.
  Ipv4LocalFastPath* FastPath();
  // Takes this host's sockets out of the fast path's receivers.
  void ForgetFastReceivers();
  punchlab::Endpoint ListenOn(const punchlab::Endpoint& local,
                              std::shared_ptr<const punchlab::tlsmodel::Certificate> certificate);
  void HandleAccept(Ptr<Socket> socket, const Address& from,
                    const std::shared_ptr<const punchlab::tlsmodel::Certificate>& certificate);
  // TLS: feeds the handshake; false when the connection is gone.
  bool FeedTls(punchlab::ConnectionId conn, Stream& stream, punchlab::ByteView bytes);
  // Hands the handshake's bytes to the socket.
  void FlushTls(Stream& stream);
  void StartTlsDeadline(punchlab::ConnectionId conn, Stream& stream);
  void FailTls(punchlab::ConnectionId conn, const std::string& why);
  bool Handshaking(const Stream& stream) const { return stream.tls && !stream.tls->open(); }
  void HandleConnectSucceeded(punchlab::ConnectionId conn);
  void HandleConnectFailed(punchlab::ConnectionId conn);
  void HandleRecv(punchlab::ConnectionId conn);
  void HandleSendSpace(punchlab::ConnectionId conn);
  void HandlePeerClose(punchlab::ConnectionId conn);
  void HandleErrorClose(punchlab::ConnectionId conn);
  void HandleTimer();
  void Watch(punchlab::ConnectionId conn, const Ptr<Socket>& socket);
  // The socket that sends from `source`; *exact: bound to its very address
  // (not a wildcard).
  Ptr<Socket> FindSocketFor(const punchlab::Endpoint& source, bool* exact) const;
  bool NodeOwns(const punchlab::IpAddress& ip) const;
  void CloseDatagramSockets();
  // Forgets machines, connections, listeners and timer; closes the TCP
  // sockets only when asked (see DoDispose).
  void Release(bool closeSockets);
  // Attribute setters: the core takes its options whole.
  void SetHighWater(uint32_t v);
  void SetLowWater(uint32_t v);
  void SetMaxOutput(uint32_t v);
  uint32_t GetHighWater() const { return static_cast<uint32_t>(m_options.high_water); }
  uint32_t GetLowWater() const { return static_cast<uint32_t>(m_options.low_water); }
  uint32_t GetMaxOutput() const { return static_cast<uint32_t>(m_options.max_output); }

  Ptr<Node> m_node;
  punchlab::hosts::Host::Options m_options;
  punchlab::hosts::Host m_core;
  std::vector<BoundSocket> m_sockets;
  Ptr<Ipv4LocalFastPath> m_fastPath;  // the node's, looked up at the first use
  bool m_fastPathLooked = false;
  std::vector<Listener> m_listeners;
  std::map<punchlab::ConnectionId, Stream> m_streams;
  Callback<void> m_drainEvents;
  Callback<void, punchlab::Timestamp, punchlab::ConnectionId> m_writeBlocked;
  Callback<void, punchlab::Timestamp, punchlab::ConnectionId> m_writable;
  EventId m_timer;
  Time m_tlsHandshakeTimeout;
  uint64_t m_tlsHandshakes = 0;
  uint64_t m_tlsFailures = 0;
  punchlab::Bytes m_rxBuffer;  // reused for every datagram and stream read
  TracedCallback<Ptr<const Packet>, const Address&, const Address&> m_rxTrace;
  TracedCallback<Ptr<const Packet>, const Address&, const Address&> m_txTrace;
  TracedCallback<Ptr<const Packet>, const Address&, const Address&> m_txDropTrace;
  TracedCallback<uint64_t, const Address&> m_connectedTrace;
  TracedCallback<uint64_t, const std::string&> m_closedTrace;
  TracedCallback<uint64_t, Ptr<const Packet>> m_streamRxTrace;
  TracedCallback<uint64_t, Ptr<const Packet>> m_streamTxTrace;
};

}  // namespace ns3
