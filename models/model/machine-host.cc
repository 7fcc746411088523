#include "model/machine-host.h"

#include <algorithm>

#include "model/ipv4-fast-path.h"
#include "model/linux-like-tcp-socket.h"
#include "model/punchlab-ns3-convert.h"
#include "ns3/abort.h"
#include "ns3/inet-socket-address.h"
#include "ns3/ipv4-packet-info-tag.h"
#include "ns3/ipv4.h"
#include "ns3/ipv6-packet-info-tag.h"
#include "ns3/ipv6.h"
#include "ns3/log.h"
#include "ns3/simulator.h"
#include "ns3/nstime.h"
#include "ns3/tcp-socket-factory.h"
#include "ns3/trace-source-accessor.h"
#include "ns3/udp-socket-factory.h"
#include "ns3/uinteger.h"

namespace ns3 {

NS_LOG_COMPONENT_DEFINE("MachineHost");
NS_OBJECT_ENSURE_REGISTERED(MachineHost);

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

// The most bytes one ns-3 packet carries between a TCP socket and the host:
// a full segment's payload (kTcpSegmentBytes). ns-3's Buffer keeps
// a free list (buffer.cc, BUFFER_FREE_LIST) of up to 1,000 buffers of the
// largest size it has ever freed, and hands them out for any packet, even an
// ACK's headers: a single 128 KiB write (a netmap into an empty send buffer)
// would make some thousand buffers circulate at 128 KiB each. Bytes, order
// and timing are the same whatever the pieces: TCP cuts segments by
// sequence number, and a read returns what is there.
constexpr uint32_t kMaxPacketBytes = MachineHost::kTcpSegmentBytes;

}  // namespace

TypeId MachineHost::GetTypeId() {
  static TypeId tid =
      TypeId("ns3::MachineHost")
          .SetParent<Object>()
          .SetGroupName("Punchlab")
          .AddAttribute("HighWater",
                        "Bytes waiting for a connection's socket above which the machine is "
                        "told to hold back (WriteBlocked).",
                        UintegerValue(256 * 1024),
                        MakeUintegerAccessor(&MachineHost::SetHighWater,
                                             &MachineHost::GetHighWater),
                        MakeUintegerChecker<uint32_t>())
          .AddAttribute("LowWater",
                        "Bytes waiting at or below which a blocked connection is writable again.",
                        UintegerValue(64 * 1024),
                        MakeUintegerAccessor(&MachineHost::SetLowWater, &MachineHost::GetLowWater),
                        MakeUintegerChecker<uint32_t>())
          .AddAttribute("MaxOutput",
                        "Bytes waiting for a connection's socket above which the connection is "
                        "closed as an error: a peer that does not read costs bounded memory.",
                        UintegerValue(64 * 1024 * 1024),
                        MakeUintegerAccessor(&MachineHost::SetMaxOutput,
                                             &MachineHost::GetMaxOutput),
                        MakeUintegerChecker<uint32_t>())
          .AddAttribute("TlsHandshakeTimeout",
                        "A TLS handshake (either side) not done by then is given up, as "
                        "realio::Host's Options::tls_handshake_timeout.",
                        TimeValue(Seconds(10)),
                        MakeTimeAccessor(&MachineHost::m_tlsHandshakeTimeout),
                        MakeTimeChecker())
          .AddTraceSource("Rx", "A datagram was handed to the machine (packet, local, remote).",
                          MakeTraceSourceAccessor(&MachineHost::m_rxTrace),
                          "ns3::MachineHost::DatagramTracedCallback")
          .AddTraceSource("Tx", "A datagram from the machine left a socket (packet, source, "
                          "destination).",
                          MakeTraceSourceAccessor(&MachineHost::m_txTrace),
                          "ns3::MachineHost::DatagramTracedCallback")
          .AddTraceSource("TxDrop", "A datagram from the machine was dropped: no socket for "
                          "its source, or the socket refused it.",
                          MakeTraceSourceAccessor(&MachineHost::m_txDropTrace),
                          "ns3::MachineHost::DatagramTracedCallback")
          .AddTraceSource("Connected", "A connection was established (conn, remote).",
                          MakeTraceSourceAccessor(&MachineHost::m_connectedTrace),
                          "ns3::MachineHost::ConnectedTracedCallback")
          .AddTraceSource("Closed", "A connection ended (conn, why).",
                          MakeTraceSourceAccessor(&MachineHost::m_closedTrace),
                          "ns3::MachineHost::ClosedTracedCallback")
          .AddTraceSource("StreamRx", "Bytes were handed to the machine (conn, bytes).",
                          MakeTraceSourceAccessor(&MachineHost::m_streamRxTrace),
                          "ns3::MachineHost::StreamTracedCallback")
          .AddTraceSource("StreamTx", "Bytes from the machine were taken by a socket (conn, "
                          "bytes).",
                          MakeTraceSourceAccessor(&MachineHost::m_streamTxTrace),
                          "ns3::MachineHost::StreamTracedCallback");
  return tid;
}

MachineHost::MachineHost(Ptr<Node> node, punchlab::DatagramMachine* machine)
    : MachineHost(node, machine, nullptr) {}

MachineHost::MachineHost(Ptr<Node> node, punchlab::StreamMachine* machine)
    : MachineHost(node, nullptr, machine) {}

MachineHost::MachineHost(Ptr<Node> node, punchlab::DatagramMachine* datagrams,
                         punchlab::StreamMachine* streams)
    : m_node(node),
      m_core(*this, datagrams, streams, [this] {
        if (!m_drainEvents.IsNull()) m_drainEvents();
      }) {
  NS_ABORT_MSG_IF(!node || (!datagrams && !streams), "MachineHost needs a node and a machine");
}

// A safety net for an owner that drops the host without Dispose(): no socket
// callback or timer may point at a destroyed host.
MachineHost::~MachineHost() {
  m_timer.Cancel();
  ForgetFastReceivers();
  for (auto& s : m_sockets) s.socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
  for (auto& l : m_listeners) Unwatch(l.socket);
  for (auto& [id, s] : m_streams) {
    s.tlsDeadline.Cancel();
    Unwatch(s.socket);
  }
}

void MachineHost::SetHighWater(uint32_t v) {
  m_options.high_water = v;
  m_core.SetOptions(m_options);
}

void MachineHost::SetLowWater(uint32_t v) {
  m_options.low_water = v;
  m_core.SetOptions(m_options);
}

void MachineHost::SetMaxOutput(uint32_t v) {
  m_options.max_output = v;
  m_core.SetOptions(m_options);
}

void MachineHost::SetEventCallback(Callback<void> drainEvents) { m_drainEvents = drainEvents; }

void MachineHost::SetBackpressureCallbacks(
    Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writeBlocked,
    Callback<void, punchlab::Timestamp, punchlab::ConnectionId> writable) {
  if (writeBlocked.IsNull() || writable.IsNull()) {
    m_writeBlocked = {};
    m_writable = {};
    m_options.on_write_blocked = nullptr;
    m_options.on_writable = nullptr;
  } else {
    m_writeBlocked = writeBlocked;
    m_writable = writable;
    m_options.on_write_blocked = [this](punchlab::Timestamp now, punchlab::ConnectionId conn) {
      if (!m_writeBlocked.IsNull()) m_writeBlocked(now, conn);
    };
    m_options.on_writable = [this](punchlab::Timestamp now, punchlab::ConnectionId conn) {
      if (!m_writable.IsNull()) m_writable(now, conn);
    };
  }
  m_core.SetOptions(m_options);
}

MachineHostCounters MachineHost::GetCounters() const {
  const punchlab::hosts::Stats& s = m_core.stats();
  MachineHostCounters c;
  c.rxDatagrams = s.datagrams_received;
  c.txDatagrams = s.datagrams_sent;
  c.txNoSocket = s.no_source_socket;
  c.txErrors = s.send_errors;
  c.accepted = s.accepted;
  c.connectsStarted = s.connects_started;
  c.connectsFailed = s.connects_failed;
  c.bytesRead = s.bytes_read;
  c.bytesWritten = s.bytes_written;
  c.closedByPeer = s.closed_by_peer;
  c.closedOnError = s.closed_on_error;
  c.closedByMachine = s.closed_by_machine;
  c.outputOverflows = s.closed_output_overflow;
  c.writeBlocked = s.write_blocked;
  c.badActions = s.bad_actions;
  c.timeouts = s.timeouts;
  c.tlsHandshakes = m_tlsHandshakes;
  c.tlsFailures = m_tlsFailures;
  return c;
}

punchlab::Timestamp MachineHost::Now() const { return ToPunchlab(Simulator::Now()); }

void MachineHost::Drain() { m_core.Drain(); }

// ---- timer -------------------------------------------------------------------

void MachineHost::ArmTimer(std::optional<punchlab::Timestamp> at) {
  m_timer.Cancel();
  if (!at) return;
  m_timer = Simulator::Schedule(ToNs3Delay(Now(), *at), &MachineHost::HandleTimer, this);
}

void MachineHost::HandleTimer() { m_core.OnTimer(Now()); }

// ---- UDP -----------------------------------------------------------------------

punchlab::Endpoint MachineHost::Bind(const punchlab::Endpoint& local) {
  NS_ABORT_MSG_IF(!m_core.attached(), "Bind after Close");
  NS_ABORT_MSG_UNLESS(local.ip.IsUnspecified() || NodeOwns(local.ip),
                      "node " << m_node->GetId() << " has no address " << local.ip.ToString());
  Ptr<Socket> socket = Socket::CreateSocket(m_node, UdpSocketFactory::GetTypeId());
  NS_ABORT_MSG_IF(socket->Bind(ToNs3Address(local)) != 0,
                  "cannot bind " << local.ToString() << " on node " << m_node->GetId());
  // Ask for the destination address of each datagram: that is `local` for a
  // wildcard-bound socket.
  socket->SetRecvPktInfo(true);
  socket->SetRecvCallback(MakeCallback(&MachineHost::HandleRead, this));
  Address name;
  socket->GetSockName(name);
  punchlab::Endpoint bound = ToPunchlabEndpoint(name);
  NS_LOG_INFO("node " << m_node->GetId() << " bound " << bound.ToString());
  m_sockets.push_back({socket, bound});
  Ipv4LocalFastPath* fast = FastPath();
  if (fast && bound.ip.is_v4() && !bound.ip.IsUnspecified()) {
    // Its datagrams may come past ns-3's detours (ipv4-fast-path.h). The
    // lambda only forwards: the host outlives the entry (CloseDatagramSockets).
    // (Refused if ns-3 might not pick this socket alone: then ns-3's path.)
    fast->AddUdpReceiver(socket,
                         Ipv4LocalFastPath::UdpReceiver(
                             [this, socket, bound](Ptr<Packet> payload, const Ipv4Header& header,
                                                   uint16_t sourcePort) {
                               return TakeDatagram(socket, bound, payload, header, sourcePort);
                             }));
  }
  return bound;
}

std::vector<punchlab::Endpoint> MachineHost::GetBoundEndpoints() const {
  std::vector<punchlab::Endpoint> out;
  for (const auto& s : m_sockets) out.push_back(s.bound);
  return out;
}

void MachineHost::HandleRead(Ptr<Socket> socket) {
  punchlab::Endpoint bound;
  for (const auto& s : m_sockets) {
    if (s.socket == socket) bound = s.bound;
  }
  Address from;
  while (m_core.attached()) {
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
    m_rxBuffer.resize(packet->GetSize());
    packet->CopyData(m_rxBuffer.data(), static_cast<uint32_t>(m_rxBuffer.size()));
    m_rxTrace(packet, ToNs3Address(local), from);
    punchlab::Endpoint remote = ToPunchlabEndpoint(from);
    NS_LOG_LOGIC(local.ToString() << " <- " << remote.ToString() << " " << m_rxBuffer.size()
                                  << " bytes");
    m_core.OnDatagram(Now(), local, remote, m_rxBuffer);
  }
}

bool MachineHost::TakeDatagram(const Ptr<Socket>& socket, const punchlab::Endpoint& bound,
                               Ptr<Packet> payload, const Ipv4Header& header,
                               uint16_t sourcePort) {
  // HandleRead, for a datagram that would be the only one in the socket's
  // queue (UdpSocketImpl::ForwardUp queues it and calls HandleRead at once):
  // with datagrams waiting, or no machine to take them, the socket keeps
  // them in order.
  if (!m_core.attached() || socket->GetRxAvailable() != 0) return false;
  punchlab::Endpoint local = bound;
  local.ip = ToPunchlab(header.GetDestination());
  const Address from = InetSocketAddress(header.GetSource(), sourcePort);
  m_rxBuffer.resize(payload->GetSize());
  payload->CopyData(m_rxBuffer.data(), static_cast<uint32_t>(m_rxBuffer.size()));
  m_rxTrace(payload, ToNs3Address(local), from);
  m_core.OnDatagram(Now(), local, ToPunchlabEndpoint(from), m_rxBuffer);
  return true;
}

Ipv4LocalFastPath* MachineHost::FastPath() {
  if (!m_fastPathLooked) {
    m_fastPath = m_node->GetObject<Ipv4LocalFastPath>();
    m_fastPathLooked = true;
  }
  return PeekPointer(m_fastPath);
}

punchlab::hosts::SendResult MachineHost::SendDatagram(const punchlab::Transmit& transmit) {
  Ptr<Packet> packet =
      Create<Packet>(transmit.payload.data(), static_cast<uint32_t>(transmit.payload.size()));
  Address source = ToNs3Address(transmit.source);
  Address destination = ToNs3Address(transmit.destination);
  bool exact = false;
  Ptr<Socket> socket = FindSocketFor(transmit.source, &exact);
  if (socket && exact && transmit.source.ip.is_v4() && transmit.destination.ip.is_v4()) {
    // A socket bound to the source address: the node may send it past
    // ns-3's detours (ipv4-fast-path.h), the same packet, or not take it.
    Ipv4LocalFastPath* fast = FastPath();
    if (fast && fast->SendUdp(packet, ToNs3Ipv4(transmit.source.ip),
                              transmit.source.port, ToNs3Ipv4(transmit.destination.ip),
                              transmit.destination.port)) {
      m_txTrace(packet, source, destination);
      return {};
    }
  }
  if (!socket) {
    NS_LOG_WARN("node " << m_node->GetId() << ": no socket for source "
                        << transmit.source.ToString() << ", dropped");
    m_txDropTrace(packet, source, destination);
    return {punchlab::hosts::SendStatus::kNoSocket, 0};
  }
  if (socket->SendTo(packet, 0, destination) < 0) {
    NS_LOG_WARN("node " << m_node->GetId() << ": " << transmit.source.ToString() << " -> "
                        << transmit.destination.ToString() << " refused, errno "
                        << socket->GetErrno());
    m_txDropTrace(packet, source, destination);
    return {punchlab::hosts::SendStatus::kRefused, static_cast<int>(socket->GetErrno())};
  }
  m_txTrace(packet, source, destination);
  return {};
}

Ptr<Socket> MachineHost::FindSocketFor(const punchlab::Endpoint& source, bool* exact) const {
  for (const auto& s : m_sockets) {
    if (s.bound == source) {
      *exact = !source.ip.IsUnspecified();
      return s.socket;
    }
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

bool MachineHost::NodeOwns(const punchlab::IpAddress& ip) const {
  if (ip.is_v4()) {
    Ptr<Ipv4> ipv4 = m_node->GetObject<Ipv4>();
    return ipv4 && ipv4->GetInterfaceForAddress(ToNs3Ipv4(ip)) >= 0;
  }
  Ptr<Ipv6> ipv6 = m_node->GetObject<Ipv6>();
  return ipv6 && ipv6->GetInterfaceForAddress(ToNs3Ipv6(ip)) >= 0;
}

void MachineHost::CloseDatagramSockets() {
  ForgetFastReceivers();
  for (auto& s : m_sockets) {
    s.socket->SetRecvCallback(MakeNullCallback<void, Ptr<Socket>>());
    s.socket->Close();
  }
  m_sockets.clear();
}

void MachineHost::ForgetFastReceivers() {
  if (!m_fastPath) return;
  for (const auto& s : m_sockets) {
    if (s.bound.ip.is_v4() && !s.bound.ip.IsUnspecified()) {
      m_fastPath->RemoveUdpReceiver(s.socket);
    }
  }
}

// ---- TCP -----------------------------------------------------------------------

punchlab::Endpoint MachineHost::Listen(const punchlab::Endpoint& local) {
  return ListenOn(local, nullptr);
}

punchlab::Endpoint MachineHost::ListenTls(
    const punchlab::Endpoint& local,
    std::shared_ptr<const punchlab::tlsmodel::Certificate> certificate) {
  NS_ABORT_MSG_IF(!certificate, "ListenTls without a certificate");
  return ListenOn(local, std::move(certificate));
}

punchlab::Endpoint MachineHost::ListenOn(
    const punchlab::Endpoint& local,
    std::shared_ptr<const punchlab::tlsmodel::Certificate> certificate) {
  NS_ABORT_MSG_IF(!m_core.has_streams(), "Listen after Close, or without a stream machine");
  // Listeners answer stray segments with a RST, as Linux does: see
  // linux-like-tcp-socket.h for why NAT scenarios need it.
  Ptr<Socket> socket = LinuxLikeTcpSocket::CreateListener(m_node);
  NS_ABORT_MSG_IF(socket->Bind(ToNs3Address(local)) != 0 || socket->Listen() != 0,
                  "cannot listen on " << local.ToString() << " on node " << m_node->GetId());
  // A null connection-request callback accepts every connection.
  socket->SetAcceptCallback(
      MakeNullCallback<bool, Ptr<Socket>, const Address&>(),
      Callback<void, Ptr<Socket>, const Address&>(
          [this, certificate](Ptr<Socket> accepted, const Address& from) {
            HandleAccept(accepted, from, certificate);
          }));
  Address name;
  socket->GetSockName(name);
  punchlab::Endpoint bound = ToPunchlabEndpoint(name);
  NS_LOG_INFO("node " << m_node->GetId() << " listening on " << bound.ToString());
  m_listeners.push_back({socket, bound});
  return bound;
}

std::vector<punchlab::Endpoint> MachineHost::GetListenEndpoints() const {
  std::vector<punchlab::Endpoint> out;
  for (const auto& l : m_listeners) out.push_back(l.bound);
  return out;
}

void MachineHost::HandleAccept(
    Ptr<Socket> socket, const Address& from,
    const std::shared_ptr<const punchlab::tlsmodel::Certificate>& certificate) {
  if (!m_core.has_streams()) {
    socket->Close();
    return;
  }
  const punchlab::Endpoint remote = ToPunchlabEndpoint(from);
  const punchlab::ConnectionId conn = m_core.Accept(remote);
  Stream& stream = m_streams[conn];
  stream.socket = socket;
  stream.accepted = true;
  Watch(conn, socket);
  NS_LOG_INFO("node " << m_node->GetId() << " accepted conn " << conn << " from "
                      << remote.ToString());
  if (certificate) {
    // The machine hears of it once the handshake is done (FeedTls).
    stream.tls = std::make_shared<punchlab::tlsmodel::Session>(
        punchlab::tlsmodel::Session::Server(certificate));
    StartTlsDeadline(conn, stream);
    return;
  }
  m_core.OnConnected(Now(), conn);
}

bool MachineHost::Connect(punchlab::ConnectionId conn, const punchlab::Endpoint& remote) {
  Ptr<Socket> socket = Socket::CreateSocket(m_node, TcpSocketFactory::GetTypeId());
  Stream& stream = m_streams[conn] = Stream();
  stream.socket = socket;
  // Each lambda only forwards: the callback holding it may be replaced
  // (destroyed) while the host handles the call.
  socket->SetConnectCallback(
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleConnectSucceeded(conn); }),
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleConnectFailed(conn); }));
  const int bound = remote.ip.is_v4() ? socket->Bind() : socket->Bind6();
  if (bound != 0 || socket->Connect(ToNs3Address(remote)) != 0) {
    // Failed at once (e.g. no route): the core tells the machine.
    NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " cannot connect to "
                        << remote.ToString() << ", errno " << socket->GetErrno());
    return false;
  }
  return true;
}

void MachineHost::Watch(punchlab::ConnectionId conn, const Ptr<Socket>& socket) {
  socket->SetRecvCallback(
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleRecv(conn); }));
  socket->SetSendCallback(Callback<void, Ptr<Socket>, uint32_t>(
      [this, conn](Ptr<Socket>, uint32_t) { HandleSendSpace(conn); }));
  socket->SetCloseCallbacks(
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandlePeerClose(conn); }),
      Callback<void, Ptr<Socket>>([this, conn](Ptr<Socket>) { HandleErrorClose(conn); }));
}

bool MachineHost::ConnectTls(punchlab::ConnectionId conn, const punchlab::Endpoint& remote,
                             const punchlab::TlsDial& dial) {
  if (!Connect(conn, remote)) return false;
  Stream& stream = m_streams.at(conn);
  stream.tls =
      std::make_shared<punchlab::tlsmodel::Session>(punchlab::tlsmodel::Session::Client(dial));
  StartTlsDeadline(conn, stream);
  return true;
}

void MachineHost::HandleConnectSucceeded(punchlab::ConnectionId conn) {
  auto it = m_streams.find(conn);
  if (it == m_streams.end() || !m_core.has_streams()) return;
  Watch(conn, it->second.socket);
  if (it->second.tls) {
    // TCP is up; the machine hears of it once TLS is (FeedTls).
    it->second.tls->Start();
    FlushTls(it->second);
    return;
  }
  m_core.OnConnected(Now(), conn);
}

void MachineHost::Established(punchlab::ConnectionId conn, const punchlab::Endpoint& remote) {
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " established with "
                      << remote.ToString());
  m_connectedTrace(conn, ToNs3Address(remote));
}

void MachineHost::HandleConnectFailed(punchlab::ConnectionId conn) {
  auto it = m_streams.find(conn);
  if (it == m_streams.end()) return;
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " connect failed");
  it->second.dead = true;
  m_core.OnClosed(Now(), conn, punchlab::hosts::CloseReason::kConnectFailed);
}

void MachineHost::HandleRecv(punchlab::ConnectionId conn) {
  // The machine may close the connection (or the host) while handling bytes:
  // look it up again every round.
  while (m_core.attached()) {
    auto it = m_streams.find(conn);
    if (it == m_streams.end()) return;
    Ptr<Packet> packet = it->second.socket->Recv(kMaxPacketBytes, 0);
    if (!packet || packet->GetSize() == 0) return;
    if (!m_core.Reading(conn)) continue;  // the machine is done with it; discard
    m_rxBuffer.resize(packet->GetSize());
    packet->CopyData(m_rxBuffer.data(), static_cast<uint32_t>(m_rxBuffer.size()));
    if (Handshaking(it->second)) {
      if (!FeedTls(conn, it->second, m_rxBuffer)) return;
      continue;
    }
    m_streamRxTrace(conn, packet);
    NS_LOG_LOGIC("node " << m_node->GetId() << " conn " << conn << " <- " << m_rxBuffer.size()
                         << " bytes");
    m_core.OnStream(Now(), conn, m_rxBuffer);
  }
}

void MachineHost::HandleSendSpace(punchlab::ConnectionId conn) {
  if (!m_streams.count(conn) || !m_core.has_streams()) return;
  m_core.OnWritable(Now(), conn);
}

void MachineHost::HandlePeerClose(punchlab::ConnectionId conn) {
  // Bytes that arrived before the FIN reach the machine first.
  HandleRecv(conn);
  auto it = m_streams.find(conn);
  if (it == m_streams.end() || !m_core.has_streams()) return;
  if (Handshaking(it->second)) {
    FailTls(conn, "tls handshake: the peer closed the connection");
    return;
  }
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " closed by the peer");
  // Our side closes too (FIN), as a reading process does on EOF.
  m_core.OnClosed(Now(), conn, punchlab::hosts::CloseReason::kPeerClosed);
}

void MachineHost::HandleErrorClose(punchlab::ConnectionId conn) {
  auto it = m_streams.find(conn);
  if (it == m_streams.end() || !m_core.has_streams()) return;
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " reset or timed out, errno "
                      << it->second.socket->GetErrno());
  it->second.dead = true;
  if (Handshaking(it->second)) {
    FailTls(conn, "tls handshake: the connection was reset");
    return;
  }
  m_core.OnClosed(Now(), conn, punchlab::hosts::CloseReason::kError);
}

// ---- TLS (tls-model.h) ---------------------------------------------------------

bool MachineHost::FeedTls(punchlab::ConnectionId conn, Stream& stream, punchlab::ByteView bytes) {
  punchlab::tlsmodel::Session& tls = *stream.tls;
  tls.Feed(bytes);
  FlushTls(stream);
  if (tls.state() == punchlab::tlsmodel::Session::State::kFailed) {
    FailTls(conn, tls.error());
    return false;
  }
  if (!tls.open()) return true;  // the handshake goes on
  stream.tlsDeadline.Cancel();
  ++m_tlsHandshakes;
  // Application bytes that came with the last handshake record follow the
  // connect, as realio delivers them.
  const punchlab::Bytes early = tls.TakePlaintext();
  m_core.OnConnected(Now(), conn);
  if (!early.empty() && m_streams.count(conn) && m_core.Reading(conn)) {
    m_core.OnStream(Now(), conn, early);
  }
  return m_streams.count(conn) != 0;
}

void MachineHost::FlushTls(Stream& stream) {
  const punchlab::ByteView out = stream.tls->Output();
  if (out.empty() || stream.dead) return;
  // A handshake flight is far below any send buffer: it goes whole.
  NS_ABORT_MSG_IF(stream.socket->GetTxAvailable() < out.size(),
                  "TLS flight of " << out.size() << " bytes does not fit the send buffer");
  for (size_t at = 0; at < out.size();) {
    const uint32_t n = static_cast<uint32_t>(std::min<size_t>(kMaxPacketBytes, out.size() - at));
    stream.socket->Send(Create<Packet>(out.data() + at, n));
    at += n;
  }
  stream.tls->ClearOutput();
}

void MachineHost::StartTlsDeadline(punchlab::ConnectionId conn, Stream& stream) {
  stream.tlsDeadline = Simulator::Schedule(m_tlsHandshakeTimeout, [this, conn] {
    auto it = m_streams.find(conn);
    if (it == m_streams.end() || !Handshaking(it->second)) return;
    FailTls(conn, "tls handshake not done within " +
                      std::to_string(m_tlsHandshakeTimeout.GetSeconds()) + " s");
  });
}

void MachineHost::FailTls(punchlab::ConnectionId conn, const std::string& why) {
  auto it = m_streams.find(conn);
  if (it == m_streams.end()) return;
  ++m_tlsFailures;
  it->second.tlsDeadline.Cancel();
  NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << ": " << why);
  if (it->second.accepted) {
    m_core.Abandon(conn);  // CloseStream: the machine never knew it
  } else {
    m_core.OnClosed(Now(), conn, punchlab::hosts::CloseReason::kConnectFailed);
  }
}

punchlab::hosts::WriteResult MachineHost::Write(punchlab::ConnectionId conn,
                                                punchlab::ByteView bytes) {
  punchlab::hosts::WriteResult result;
  auto it = m_streams.find(conn);
  if (it == m_streams.end()) return result;
  const Ptr<Socket>& socket = it->second.socket;
  while (result.taken < bytes.size()) {
    const uint32_t room = socket->GetTxAvailable();
    if (room == 0) break;
    const uint32_t n = static_cast<uint32_t>(
        std::min<size_t>({room, kMaxPacketBytes, bytes.size() - result.taken}));
    Ptr<Packet> packet = Create<Packet>(bytes.data() + result.taken, n);
    if (socket->Send(packet) < 0) {
      NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " send refused, errno "
                          << socket->GetErrno());
      result.failed = true;
      result.error = static_cast<int>(socket->GetErrno());
      break;
    }
    result.taken += n;
    m_streamTxTrace(conn, packet);
  }
  return result;
}

void MachineHost::CloseStream(punchlab::ConnectionId conn, punchlab::hosts::CloseReason why) {
  auto it = m_streams.find(conn);
  if (it == m_streams.end()) return;
  Stream stream = it->second;
  m_streams.erase(it);
  stream.tlsDeadline.Cancel();
  Unwatch(stream.socket);
  // TCP sends what the socket already holds before its FIN.
  if (!stream.dead) stream.socket->Close();
  if (why == punchlab::hosts::CloseReason::kDetached) return;
  if (why == punchlab::hosts::CloseReason::kClosedByMachine) {
    NS_LOG_INFO("node " << m_node->GetId() << " conn " << conn << " closed by the machine");
  }
  m_closedTrace(conn, punchlab::hosts::CloseReasonName(why));
}

// ---- lifetime ------------------------------------------------------------------

void MachineHost::DetachMachine() {
  m_timer.Cancel();
  CloseDatagramSockets();
  m_core.DetachMachine();
}

void MachineHost::AttachMachine(punchlab::DatagramMachine* datagrams,
                                punchlab::StreamMachine* streams) {
  NS_ABORT_MSG_IF(m_core.attached(), "AttachMachine: a machine is attached already");
  NS_ABORT_MSG_IF(m_listeners.empty(), "AttachMachine: nothing listens (closed host)");
  m_core.AttachMachine(datagrams, streams);
}

void MachineHost::Close() { Release(true); }

void MachineHost::Release(bool closeSockets) {
  m_timer.Cancel();
  m_core.Release();
  CloseDatagramSockets();
  for (auto& l : m_listeners) {
    Unwatch(l.socket);
    if (closeSockets) l.socket->Close();
  }
  m_listeners.clear();
  for (auto& [id, s] : m_streams) {
    s.tlsDeadline.Cancel();
    Unwatch(s.socket);
    if (closeSockets && !s.dead) s.socket->Close();
  }
  m_streams.clear();
  m_drainEvents = Callback<void>();
  m_writeBlocked = {};
  m_writable = {};
}

// Disposal happens while the simulation is torn down, when the link's other
// end may already be disposed: sending a FIN now could reach into it. The TCP
// sockets are let go silently; TCP disposes them with the node.
void MachineHost::DoDispose() {
  Release(false);
  m_node = nullptr;
  m_fastPath = nullptr;
  Object::DoDispose();
}

}  // namespace ns3
