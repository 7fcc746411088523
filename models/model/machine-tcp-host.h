// MachineTcpHost: runs any punchlab::StreamMachine (DERP client or server,
// control client or server) on an ns-3 node's TCP sockets. It is the TCP twin
// of MachineUdpHost and the ns-3 counterpart of sim/realio/stream-host.h:
// applications own a machine and one of these, and never touch sockets.
//
// The machine's actions are carried out on ns-3 TcpSocketFactory sockets:
//   kConnect  binds an ephemeral port and connects; HandleConnected when the
//             handshake completes, HandleClosed when it fails: at once when
//             there is no route, else when the SYN retries run out (ns-3.37
//             ignores the RST that answers a SYN, so a refused connect fails
//             only after TcpSocket ConnCount/ConnTimeout, 189 s by default;
//             machines bound that with their own handshake timeouts);
//   kWrite    appends to the stream. What the socket's send buffer takes
//             (GetTxAvailable) goes at once; the rest waits here, in order,
//             and is flushed whenever the socket reports space (send
//             callback). Writes made while a connect is pending go out first
//             once it completes;
//   kClose    closes once every buffered byte is handed to the socket (TCP
//             then sends them before its FIN). No HandleClosed: the machine
//             asked for it.
// Connections accepted on Listen() endpoints are reported with HandleConnected
// under ids the host assigns from kFirstAcceptedId up, so they never collide
// with the small ids a client machine picks for its connects. Bytes received
// become HandleStream, in order. A peer's FIN ends the connection (after the
// bytes before it), as does a reset or a TCP timeout: HandleClosed.
//
// Drain rule, after every input (accept, connect result, bytes, close, timer,
// or Drain() after a command): PollStreamAction() until empty, the event
// callback (the owning application drains the machine's PollEvent()), actions
// again; then exactly one simulator event is armed at PollTimeout().
//
// Flow control, as in realio::StreamHost. The bytes waiting here (not yet in
// the socket's send buffer) are bounded by MaxOutput: past it the connection
// is closed as an error (HandleClosed; outputOverflows). A machine that can
// hold back (the DERP server queues, then drops and counts) sets backpressure
// callbacks: WriteBlocked once the waiting bytes rise above HighWater (after
// buffering the write that crossed it), Writable once they have fallen to
// LowWater or below.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "ns3/callback.h"
#include "ns3/event-id.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"
#include "ns3/traced-callback.h"
#include "punchlab/endpoint.h"
#include "punchlab/stream-machine.h"

namespace ns3 {

struct MachineTcpHostCounters {
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
  uint64_t timeouts = 0;         // HandleTimeout calls
};

class MachineTcpHost : public Object {
 public:
  static constexpr punchlab::ConnectionId kFirstAcceptedId = punchlab::ConnectionId{1} << 63;

  static TypeId GetTypeId();

  // The machine is borrowed: the owner keeps it alive until Close() or disposal.
  MachineTcpHost(Ptr<Node> node, punchlab::StreamMachine* machine);
  ~MachineTcpHost() override;

  // Accepts connections on `local` from now on and returns the endpoint
  // actually bound (port 0 picks one). Aborts the simulation when it cannot
  // bind: a topology bug, not a runtime condition.
  punchlab::Endpoint Listen(const punchlab::Endpoint& local);

  // Called once per drain so the owner can drain the concrete machine's
  // PollEvent(); it may command the machine and call Drain() again.
  void SetEventCallback(Callback<void> drainEvents);

  // (now, conn) hooks for a machine that holds back output; both or neither
  // (a null one disables the pair, so a connection is never blocked for good).
  void SetBackpressureCallbacks(
      Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writeBlocked,
      Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writable);

  // Runs the drain rule now: call it after commanding the machine. Call it
  // from inside the run (StartApplication, a scheduled event).
  void Drain();

  // Closes every connection (TCP sends what the sockets hold, then FIN) and
  // listener, and cancels the timer; the machine is not touched again (it
  // hears no HandleClosed). Call it during the run (e.g. StopApplication);
  // Dispose() at teardown lets the sockets go without sending anything.
  void Close();
  // A server process crash: every connection closes (a FIN each, as a kernel
  // closes a dead process's sockets) and the machine is let go, but the
  // listening sockets stay. ns-3 keeps a closed connection's port pair in
  // TIME_WAIT and refuses to bind a new listener over it, and ns-3.37 ignores
  // the RST that would refuse a SYN, so "nobody listens" is modelled as:
  // every connection accepted without a machine is closed at once. The
  // client sees its connection end right after it opened, and retries.
  void DetachMachine();
  // The restarted process: `machine` (borrowed, as in the constructor) takes
  // over the listeners. Only after DetachMachine().
  void AttachMachine(punchlab::StreamMachine* machine);

  const MachineTcpHostCounters& GetCounters() const { return m_counters; }
  size_t GetConnectionCount() const { return m_connections.size(); }
  // Bytes the machine wrote that no socket has taken yet.
  size_t GetPendingOutput(punchlab::ConnectionId conn) const;
  std::vector<punchlab::Endpoint> GetListenEndpoints() const;

  // (conn, remote): a connection was established (accepted or connected).
  typedef void (*ConnectedTracedCallback)(uint64_t conn, const Address& remote);
  // (conn, why): a connection ended ("peer closed", "error", "connect failed",
  // "closed by machine", "output overflow").
  typedef void (*ClosedTracedCallback)(uint64_t conn, const std::string& why);
  // (conn, bytes): bytes handed to the machine (Rx) or taken by a socket (Tx).
  typedef void (*StreamTracedCallback)(uint64_t conn, Ptr<const Packet> bytes);

 protected:
  void DoDispose() override;

 private:
  struct Connection {
    Ptr<Socket> socket;
    punchlab::Endpoint remote;
    bool connecting = false;
    bool closing = false;  // the machine closed it; flush, then close
    bool blocked = false;  // WriteBlocked called, Writable not yet
    punchlab::Bytes output;
    size_t outputSent = 0;  // bytes of `output` already taken by the socket
  };
  struct Listener {
    Ptr<Socket> socket;
    punchlab::Endpoint bound;
  };

  void Apply(punchlab::StreamAction action);
  void StartConnect(punchlab::ConnectionId conn, const punchlab::Endpoint& remote);
  void HandleAccept(Ptr<Socket> socket, const Address& from);
  void HandleConnectSucceeded(punchlab::ConnectionId conn);
  void HandleConnectFailed(punchlab::ConnectionId conn);
  void HandleRecv(punchlab::ConnectionId conn);
  void HandleSendSpace(punchlab::ConnectionId conn);
  void HandlePeerClose(punchlab::ConnectionId conn);
  void HandleErrorClose(punchlab::ConnectionId conn);
  void HandleTimer();
  void Watch(punchlab::ConnectionId conn, Connection& c);
  // Hands the socket what it takes; false when the socket refused a send.
  bool Flush(punchlab::ConnectionId conn, Connection& c);
  size_t Pending(const Connection& c) const { return c.output.size() - c.outputSent; }
  // Applies the bound and the blocked/writable hooks after output changed;
  // false when the connection was dropped for exceeding MaxOutput.
  bool CheckOutput(punchlab::ConnectionId conn, Connection& c);
  // Forgets the connection and closes its socket (unless TCP already did);
  // tells the machine unless it asked for the close itself.
  void Drop(punchlab::ConnectionId conn, const std::string& why, bool tellMachine,
            bool closeSocket = true);
  void ArmTimer();
  punchlab::Timestamp Now() const;
  // Forgets machine, connections, listeners and timer; closes the sockets
  // only when asked (see DoDispose).
  void Release(bool closeSockets);

  Ptr<Node> m_node;
  punchlab::StreamMachine* m_machine;
  uint32_t m_highWater;
  uint32_t m_lowWater;
  uint32_t m_maxOutput;
  std::vector<Listener> m_listeners;
  std::map<punchlab::ConnectionId, Connection> m_connections;
  punchlab::ConnectionId m_nextAcceptedId = kFirstAcceptedId;
  Callback<void> m_drainEvents;
  Callback<void, punchlab::Timestamp, punchlab::ConnectionId> m_writeBlocked;
  Callback<void, punchlab::Timestamp, punchlab::ConnectionId> m_writable;
  EventId m_timer;
  bool m_draining = false;
  bool m_drainAgain = false;
  MachineTcpHostCounters m_counters;
  TracedCallback<uint64_t, const Address&> m_connectedTrace;
  TracedCallback<uint64_t, const std::string&> m_closedTrace;
  TracedCallback<uint64_t, Ptr<const Packet>> m_rxTrace;
  TracedCallback<uint64_t, Ptr<const Packet>> m_txTrace;
};

}  // namespace ns3
