#include "model/machine-tcp-host.h"

#include "model/linux-like-tcp-socket.h"

#include <algorithm>

#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("MachineTcpHost");
NS_OBJECT_ENSURE_REGISTERED(MachineTcpHost);

namespace {

// Leaves a socket the host let go of without any path back into the host:
// TCP may still be closing it long after the host is gone.
void Unwatch(const Ptr<Socket>& socket) {
  socket->SetConnectCallback(MakeNullCallback<void, Ptr<Socket>>(),
                             MakeNullCallback<void, Ptr<Socket>>());
  socket->SetCloseCallbacks(MakeNullCallback<void, Ptr<Socket>>(),
                            MakeNullCallback<void, Ptr<Socket>>());
  socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
  socket->SetSendCallback(MakeNullCallback<void, Ptr<Socket>, uint32_t>());
  socket->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                            MakeNullCallback<void, Ptr<Socket>, const Address&>());
}

}  // namespace

TypeId MachineTcpHost::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::MachineTcpHost")
          .SetParent<Object>()
          .SetGroupName("Punchlab")
          .AddAttribute("HighWater",
                        "Bytes waiting for a connection's socket above which the machine is "
                        "told to hold back (WriteBlocked).",
                        UintegerValue(256 * 1024),
                        MakeUintegerAccessor(&MachineTcpHost::m_highWater),
                        MakeUintegerChecker<uint32_t>())
          .AddAttribute("LowWater",
                        "Bytes waiting at or below which a blocked connection is writable again.",
                        UintegerValue(64 * 1024), MakeUintegerAccessor(&MachineTcpHost::m_lowWater),
                        MakeUintegerChecker<uint32_t>())
          .AddAttribute("MaxOutput",
                        "Bytes waiting for a connection's socket above which the connection is "
                        "closed as an error: a peer that does not read costs bounded memory.",
                        UintegerValue(64 * 1024 * 1024),
                        MakeUintegerAccessor(&MachineTcpHost::m_maxOutput),
                        MakeUintegerChecker<uint32_t>())
          .AddTraceSource("Connected", "A connection was established (conn, remote).",
                          MakeTraceSourceAccessor(&MachineTcpHost::m_connectedTrace),
                          "ns3::MachineTcpHost::ConnectedTracedCallback")
          .AddTraceSource("Closed", "A connection ended (conn, why).",
                          MakeTraceSourceAccessor(&MachineTcpHost::m_closedTrace),
                          "ns3::MachineTcpHost::ClosedTracedCallback")
          .AddTraceSource("Rx", "Bytes were handed to the machine (conn, bytes).",
                          MakeTraceSourceAccessor(&MachineTcpHost::m_rxTrace),
                          "ns3::MachineTcpHost::StreamTracedCallback")
          .AddTraceSource("Tx", "Bytes from the machine were taken by a socket (conn, bytes).",
                          MakeTraceSourceAccessor(&MachineTcpHost::m_txTrace),
                          "ns3::MachineTcpHost::StreamTracedCallback");
  return tid;
}

MachineTcpHost::MachineTcpHost(Ptr<Node> node, punchlab::StreamMachine* machine)
    : m_node(node), m_machine(machine) {
  NS_ABORT_MSG_IF(!node || !machine, "MachineTcpHost needs a node and a machine");
}

// A safety net for an owner that drops the host without Dispose(): no socket
// callback or timer may point at a destroyed host.
MachineTcpHost::~MachineTcpHost() {
  m_timer.Cancel();
  for (auto& l : m_listeners) Unwatch(l.socket);
  for (auto& [id, c] : m_connections) Unwatch(c.socket);
}

punchlab::Endpoint MachineTcpHost::Listen(const punchlab::Endpoint& local) {
  NS_ABORT_MSG_IF(!m_machine, "Listen after Close");
  // Listeners answer stray segments with a RST, as Linux does: see
  // linux-like-tcp-socket.h for why NAT scenarios need it.
  Ptr<Socket> socket = LinuxLikeTcpSocket::CreateListener(m_node);
  NS_ABORT_MSG_IF(socket->Bind(ToNs3Address(local)) != 0 || socket->Listen() != 0,
                  "cannot listen on " << local.ToString() << " on node " << m_node->GetId());
  // A null connection-request callback accepts every connection.
  socket->SetAcceptCallback(MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
                            MakeCallback(&MachineTcpHost::HandleAccept, this));
  Address name;
  socket->GetSockName(name);
  punchlab::Endpoint bound = ToPunchlabEndpoint(name);
  NS_LOG_INFO("node " << m_node->GetId() << " listening on " << bound.ToString());
  m_listeners.push_back({socket, bound});
  return bound;
}

std::vector<punchlab::Endpoint> MachineTcpHost::GetListenEndpoints() const {
  std::vector<punchlab::Endpoint> out;
  for (const auto& l : m_listeners) out.push_back(l.bound);
  return out;
}

size_t MachineTcpHost::GetPendingOutput(punchlab::ConnectionId conn) const {
  auto it = m_connections.find(conn);
  return it == m_connections.end() ? 0 : Pending(it->second);
}

void MachineTcpHost::SetEventCallback(Callback<void> drainEvents) { m_drainEvents = drainEvents; }

void MachineTcpHost::SetBackpressureCallbacks(
    Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writeBlocked,
    Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writable) {
  if (writeBlocked.IsNull() || writable.IsNull()) {
    m_writeBlocked = {};
    m_writable = {};
    return;
  }
  m_writeBlocked = writeBlocked;
  m_writable = writable;
}

punchlab::Timestamp MachineTcpHost::Now() const { return ToPunchlab(Simulator::Now()); }

void MachineTcpHost::Drain() {
  // The event callback may command the machine and call Drain() again:
  // remember that and loop here, so the timer is armed once, at the end.
  if (m_draining) {
    m_drainAgain = true;
    return;
  }
  m_draining = true;
  do {
    m_drainAgain = false;
    while (m_machine) {
      std::optional<punchlab::StreamAction> action = m_machine->PollStreamAction();
      if (!action) break;
      Apply(std::move(*action));
    }
    if (m_machine && !m_drainEvents.IsNull()) m_drainEvents();
    while (m_machine) {
      std::optional<punchlab::StreamAction> action = m_machine->PollStreamAction();
      if (!action) break;
      Apply(std::move(*action));
    }
  } while (m_drainAgain && m_machine);
  m_draining = false;
  ArmTimer();
}

void MachineTcpHost::Apply(punchlab::StreamAction action) {
  using Kind = punchlab::StreamAction::Kind;
  switch (action.kind) {
    case Kind::kConnect:
      StartConnect(action.conn, action.remote);
      return;
    case Kind::kWrite: {
      auto it = m_connections.find(action.conn);
      if (it == m_connections.end() || it->second.closing) {
        ++m_counters.badActions;
        return;
      }
      Connection& c = it->second;
      if (Pending(c) == 0) {
        // Nothing waiting: take the machine's buffer as ours instead of copying.
        c.output = std::move(action.data);
        c.outputSent = 0;
      } else {
        c.output.insert(c.output.end(), action.data.begin(), action.data.end());
      }
      if (!c.connecting && !Flush(action.conn, c)) {
        ++m_counters.closedOnError;
        Drop(action.conn, "error", true);
        return;
      }
      CheckOutput(action.conn, c);
      return;
    }
    case Kind::kClose: {
      auto it = m_connections.find(action.conn);
      if (it == m_connections.end()) {
        ++m_counters.badActions;
        return;
      }
      ++m_counters.closedByMachine;
      NS_LOG_INFO("node " << m_node->GetId() << " conn " << action.conn
                          << " closed by the machine: " << action.reason);
      Connection& c = it->second;
      c.closing = true;
      // A pending connect has nothing to flush; otherwise the socket gets
      // every buffered byte first (HandleSendSpace finishes the close).
      if (c.connecting || Pending(c) == 0) Drop(action.conn, "closed by machine", false);
      return;
    }
  }
}

void MachineTcpHost::StartConnect(punchlab::ConnectionId conn, const punchlab::Endpoint& remote) {
  if (m_connections.count(conn)) {
    ++m_counters.badActions;
    return;
  }
  ++m_counters.connectsStarted;
  Ptr<Socket> socket = Socket::CreateSocket(m_node, TcpSocketFactory::GetTypeId());
  Connection& c = m_connections[conn];
  c.socket = socket;
  c.remote = remote;
  c.connecting = true;
  // Each lambda only forwards: the callback holding it may be replaced
  // (destroyed) while the host handles the call.
  socket->SetConnectCallback(
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleConnectSucceeded(conn); }),
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleConnectFailed(conn); }));
  const int bound = remote.ip.is_v4() ? socket->Bind() : socket->Bind6();
  if (bound != 0 || socket->Connect(ToNs3Address(remote)) != 0) {
    // Failed at once (e.g. no route): the machine hears it as a close.
    NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " cannot connect to "
                        << remote.ToString() << ", errno " << socket->GetErrno());
    ++m_counters.connectsFailed;
    Drop(conn, "connect failed", true);
  }
}

void MachineTcpHost::HandleAccept(Ptr<Socket> socket, const Address& from) {
  if (!m_machine) {
    socket->Close();
    return;
  }
  ++m_counters.accepted;
  const punchlab::ConnectionId conn = m_nextAcceptedId++;
  Connection& c = m_connections[conn];
  c.socket = socket;
  c.remote = ToPunchlabEndpoint(from);
  Watch(conn, c);
  NS_LOG_INFO("node " << m_node->GetId() << " accepted conn " << conn << " from "
                      << c.remote.ToString());
  m_connectedTrace(conn, from);
  m_machine->HandleConnected(Now(), conn, c.remote);
  Drain();
}

void MachineTcpHost::Watch(punchlab::ConnectionId conn, Connection& c) {
  c.socket->SetRecvCallback(
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleRecv(conn); }));
  c.socket->SetSendCallback(Callback<void, Ptr<Socket>, uint32_t>(
      [this, conn](Ptr<Socket>, uint32_t) { HandleSendSpace(conn); }));
  c.socket->SetCloseCallbacks(
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandlePeerClose(conn); }),
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleErrorClose(conn); }));
}

void MachineTcpHost::HandleConnectSucceeded(punchlab::ConnectionId conn) {
  auto it = m_connections.find(conn);
  if (it == m_connections.end() || !m_machine) return;
  Connection& c = it->second;
  c.connecting = false;
  Watch(conn, c);
  // Writes the machine queued while the connect was pending go out first.
  if (!Flush(conn, c)) {
    ++m_counters.closedOnError;
    Drop(conn, "error", true);
    Drain();
    return;
  }
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " connected to "
                      << c.remote.ToString());
  m_connectedTrace(conn, ToNs3Address(c.remote));
  m_machine->HandleConnected(Now(), conn, c.remote);
  // After HandleConnected: the machine may hear of backpressure only on a
  // connection it knows is up.
  it = m_connections.find(conn);
  if (it != m_connections.end()) CheckOutput(conn, it->second);
  Drain();
}

void MachineTcpHost::HandleConnectFailed(punchlab::ConnectionId conn) {
  if (!m_connections.count(conn)) return;
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " connect failed");
  ++m_counters.connectsFailed;
  Drop(conn, "connect failed", true, false);
  Drain();
}

void MachineTcpHost::HandleRecv(punchlab::ConnectionId conn) {
  // The machine may close the connection (or the host) while handling bytes:
  // look it up again every round.
  while (m_machine) {
    auto it = m_connections.find(conn);
    if (it == m_connections.end()) return;
    Connection& c = it->second;
    Ptr<Packet> packet = c.socket->Recv();
    if (!packet || packet->GetSize() == 0) return;
    if (c.closing) continue;  // the machine is done with it; discard
    punchlab::Bytes bytes(packet->GetSize());
    packet->CopyData(bytes.data(), static_cast<uint32_t>(bytes.size()));
    m_counters.bytesRead += bytes.size();
    m_rxTrace(conn, packet);
    NS_LOG_LOGIC("node " << m_node->GetId() << " conn " << conn << " <- " << bytes.size()
                         << " bytes");
    m_machine->HandleStream(Now(), conn, bytes);
    Drain();
  }
}

void MachineTcpHost::HandleSendSpace(punchlab::ConnectionId conn) {
  auto it = m_connections.find(conn);
  if (it == m_connections.end() || !m_machine) return;
  Connection& c = it->second;
  if (Pending(c) == 0 && !c.blocked) return;
  if (!Flush(conn, c)) {
    ++m_counters.closedOnError;
    const bool tellMachine = !c.closing;
    Drop(conn, "error", tellMachine);
    if (tellMachine) Drain();
    return;
  }
  if (c.closing) {
    if (Pending(c) == 0) Drop(conn, "closed by machine", false);
    return;
  }
  const bool wasBlocked = c.blocked;
  CheckOutput(conn, c);  // only shrank: cannot overflow
  if (wasBlocked && !c.blocked) Drain();
}

void MachineTcpHost::HandlePeerClose(punchlab::ConnectionId conn) {
  // Bytes that arrived before the FIN reach the machine first.
  HandleRecv(conn);
  auto it = m_connections.find(conn);
  if (it == m_connections.end() || !m_machine) return;
  ++m_counters.closedByPeer;
  const bool tellMachine = !it->second.closing;
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " closed by the peer");
  // Our side closes too (FIN), as a reading process does on EOF.
  Drop(conn, "peer closed", tellMachine);
  if (tellMachine) Drain();
}

void MachineTcpHost::HandleErrorClose(punchlab::ConnectionId conn) {
  auto it = m_connections.find(conn);
  if (it == m_connections.end() || !m_machine) return;
  ++m_counters.closedOnError;
  const bool tellMachine = !it->second.closing;
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " reset or timed out, errno "
                      << it->second.socket->GetErrno());
  Drop(conn, "error", tellMachine, false);
  if (tellMachine) Drain();
}

bool MachineTcpHost::Flush(punchlab::ConnectionId conn, Connection& c) {
  while (Pending(c) > 0) {
    const uint32_t room = c.socket->GetTxAvailable();
    if (room == 0) break;
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(room, Pending(c)));
    Ptr<Packet> packet = Create<Packet>(c.output.data() + c.outputSent, n);
    if (c.socket->Send(packet) < 0) {
      NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " send refused, errno "
                          << c.socket->GetErrno());
      return false;
    }
    c.outputSent += n;
    m_counters.bytesWritten += n;
    m_txTrace(conn, packet);
  }
  if (Pending(c) == 0) {
    c.output.clear();
    c.outputSent = 0;
  } else if (c.outputSent > c.output.size() / 2) {
    // Compact now and then, not on every partial write.
    c.output.erase(c.output.begin(), c.output.begin() + static_cast<std::ptrdiff_t>(c.outputSent));
    c.outputSent = 0;
  }
  return true;
}

bool MachineTcpHost::CheckOutput(punchlab::ConnectionId conn, Connection& c) {
  const size_t pending = Pending(c);
  if (pending > m_maxOutput) {
    NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " has " << pending
                        << " bytes waiting, above MaxOutput: closed");
    ++m_counters.outputOverflows;
    Drop(conn, "output overflow", !c.closing);
    return false;
  }
  if (m_writeBlocked.IsNull() || c.closing || c.connecting) return true;
  if (!c.blocked && pending > m_highWater) {
    c.blocked = true;
    ++m_counters.writeBlocked;
    m_writeBlocked(Now(), conn);
  } else if (c.blocked && pending <= m_lowWater) {
    c.blocked = false;
    m_writable(Now(), conn);
  }
  return true;
}

void MachineTcpHost::Drop(punchlab::ConnectionId conn, const std::string& why, bool tellMachine,
                          bool closeSocket) {
  auto it = m_connections.find(conn);
  if (it == m_connections.end()) return;
  Ptr<Socket> socket = it->second.socket;
  m_connections.erase(it);
  Unwatch(socket);
  // TCP sends what the socket already holds before its FIN.
  if (closeSocket) socket->Close();
  m_closedTrace(conn, why);
  if (tellMachine && m_machine) m_machine->HandleClosed(Now(), conn);
}

void MachineTcpHost::HandleTimer() {
  if (!m_machine) return;
  ++m_counters.timeouts;
  m_machine->HandleTimeout(Now());
  Drain();
}

void MachineTcpHost::ArmTimer() {
  m_timer.Cancel();
  if (!m_machine) return;
  std::optional<punchlab::Timestamp> at = m_machine->PollTimeout();
  // Timestamp::Max() means "never": scheduling it would only drag the
  // simulation clock to the end of time.
  if (!at || *at == punchlab::Timestamp::Max()) return;
  m_timer = Simulator::Schedule(ToNs3Delay(Now(), *at), &MachineTcpHost::HandleTimer, this);
}

void MachineTcpHost::Close() { Release(true); }

void MachineTcpHost::DetachMachine() {
  m_timer.Cancel();
  for (auto& [id, c] : m_connections) {
    Unwatch(c.socket);
    c.socket->Close();
  }
  m_connections.clear();
  m_machine = nullptr;
}

void MachineTcpHost::AttachMachine(punchlab::StreamMachine* machine) {
  NS_ABORT_MSG_IF(m_machine, "AttachMachine: a machine is attached already");
  NS_ABORT_MSG_IF(m_listeners.empty(), "AttachMachine: nothing listens (closed host)");
  m_machine = machine;
  Drain();
}

void MachineTcpHost::Release(bool closeSockets) {
  m_timer.Cancel();
  for (auto& l : m_listeners) {
    Unwatch(l.socket);
    if (closeSockets) l.socket->Close();
  }
  m_listeners.clear();
  for (auto& [id, c] : m_connections) {
    Unwatch(c.socket);
    if (closeSockets) c.socket->Close();
  }
  m_connections.clear();
  m_machine = nullptr;
  m_drainEvents = Callback<void>();
  m_writeBlocked = {};
  m_writable = {};
}

// Disposal happens while the simulation is torn down, when the link's other
// end may already be disposed: sending a FIN now could reach into it. The
// sockets are let go silently; TCP disposes them with the node.
void MachineTcpHost::DoDispose() {
  Release(false);
  m_node = nullptr;
  Object::DoDispose();
}

}  // namespace ns3
