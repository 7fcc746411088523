// MachineUdpHost: runs any punchlab::DatagramMachine on an ns-3 node's UDP
// sockets. This is the ns-3 half of "the same code runs in ns-3 and on real
// sockets": applications (STUN server/client, DERP's STUN, disco nodes) own a
// machine and one of these, and never touch sockets themselves.
//
// What the host does:
// * Bind(local) opens one UdpSocketFactory socket per local endpoint. IPv4 and
//   IPv6; a wildcard address (0.0.0.0 / ::) is allowed, and port 0 picks an
//   ephemeral port (Bind returns the endpoint actually bound).
// * Every received datagram becomes HandleDatagram(now, local, remote, bytes).
//   `local` is the datagram's destination address as it arrived at this node
//   (from the IP header, like IP_PKTINFO) with the socket's port: for a socket
//   bound to 0.0.0.0:4000 it is e.g. 192.168.1.2:4000, the interface address
//   the datagram came in on, never the wildcard. `remote` is the sender as this
//   node sees it (after any NAT on the path).
// * Drain rule, after every input (datagram, timeout, or Drain() after a
//   command): PollTransmit() until empty, then the event callback (the owning
//   application drains the machine's PollEvent()), then exactly one simulator
//   event is armed at PollTimeout(); the previous one is cancelled.
// * A transmit leaves through the socket whose bound endpoint equals
//   transmit.source; failing that, a wildcard-bound socket of the same family
//   and port, if the source address belongs to this node (how a machine answers
//   from the `local` it was given; ns-3 routing then picks the source address,
//   which is that address on a single-homed node). No match: the datagram is
//   dropped and counted in txNoSocket. The host never binds sockets on its
//   own, so a machine that names a source it was not given is a visible bug,
//   not a silent one.
#pragma once

#include <cstdint>
#include <vector>

#include "ns3/callback.h"
#include "ns3/event-id.h"
#include "ns3/node.h"
#include "ns3/object.h"
#include "ns3/packet.h"
#include "ns3/ptr.h"
#include "ns3/socket.h"
#include "ns3/traced-callback.h"
#include "punchlab/datagram-machine.h"
#include "punchlab/endpoint.h"

namespace ns3 {

struct MachineUdpHostCounters {
  uint64_t rxDatagrams = 0;  // delivered to the machine
  uint64_t txDatagrams = 0;  // accepted by a socket
  uint64_t txNoSocket = 0;   // transmit.source matched no bound socket: dropped
  uint64_t txErrors = 0;     // the socket refused it (e.g. no route): dropped
  uint64_t timeouts = 0;     // HandleTimeout calls
};

class MachineUdpHost : public Object {
 public:
  static TypeId GetTypeId();

  // The machine is borrowed: the owner keeps it alive until Close() or disposal.
  MachineUdpHost(Ptr<Node> node, punchlab::DatagramMachine* machine);
  ~MachineUdpHost() override;

  // Opens a UDP socket bound to `local` and returns the endpoint actually bound
  // (the ephemeral port filled in when local.port is 0). Aborts the simulation
  // when the address cannot be bound: a topology bug, not a runtime condition.
  punchlab::Endpoint Bind(const punchlab::Endpoint& local);

  // Called once per drain, after the transmits, so the owner can drain the
  // concrete machine's PollEvent(). It may give the machine commands and call
  // Drain() again; the host then loops before arming the timer.
  void SetEventCallback(Callback<void> drainEvents);

  // Runs the drain rule now: call it after giving the machine a command, and
  // once after the binds so a machine that starts with work to do gets going.
  // It may send, so call it from inside the run (StartApplication, a scheduled
  // event): before Simulator::Run the node's stack is not initialized yet.
  void Drain();

  // Closes every socket and cancels the timer; the machine is not touched again.
  void Close();

  const MachineUdpHostCounters& GetCounters() const { return m_counters; }
  // Bound endpoints in Bind() order (wildcards stay wildcards here).
  std::vector<punchlab::Endpoint> GetBoundEndpoints() const;

  // (packet, local, remote) for every datagram in, out, or dropped on the way
  // out; for Tx/TxDrop `local` is transmit.source.
  typedef void (*DatagramTracedCallback)(Ptr<const Packet> packet, const Address& local,
                                         const Address& remote);

 protected:
  void DoDispose() override;

 private:
  struct BoundSocket {
    Ptr<Socket> socket;
    punchlab::Endpoint bound;
  };

  void HandleRead(Ptr<Socket> socket);
  void HandleTimer();
  void Send(const punchlab::Transmit& transmit);
  Ptr<Socket> FindSocketFor(const punchlab::Endpoint& source) const;
  bool NodeOwns(const punchlab::IpAddress& ip) const;
  void ArmTimer();

  Ptr<Node> m_node;
  punchlab::DatagramMachine* m_machine;
  std::vector<BoundSocket> m_sockets;
  Callback<void> m_drainEvents;
  EventId m_timer;
  bool m_draining = false;
  bool m_drainAgain = false;
  MachineUdpHostCounters m_counters;
  TracedCallback<Ptr<const Packet>, const Address&, const Address&> m_rxTrace;
  TracedCallback<Ptr<const Packet>, const Address&, const Address&> m_txTrace;
  TracedCallback<Ptr<const Packet>, const Address&, const Address&> m_txDropTrace;
};

}  // namespace ns3
