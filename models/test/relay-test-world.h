// The network the DERP and control-plane application tests run on, and a
// scripted TCP actor for feeding servers hand-made (forged, garbage) bytes.
//
//   LAN A (CSMA, 10.1.1.0/24)                         LAN B (CSMA, 10.2.1.0/24)
//   a0 .2  a1 .3  a2 .4 ─ .1 routerA                  routerB .1 ─ b0 .2  b1 .3
//                  10.0.1.1 │ p2p                  p2p │ 10.0.2.1
//                  10.0.1.2 └──────── core ──────────┘ 10.0.2.2
//                                203.0.113.1 │ services LAN (CSMA)
//                      derp 203.0.113.10 ────┴──── control 203.0.113.20
//
// Global routing, no NAT: every host reaches every other. CSMA and IP random
// streams are pinned (AssignStreams), so two worlds built in one process
// behave alike and a run's traces depend on the punchlab seed alone.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "model/machine-host.h"
#include "ns3/application.h"
#include "ns3/ipv4-address.h"
#include "ns3/net-device-container.h"
#include "ns3/node-container.h"
#include "ns3/nstime.h"
#include "punchlab/stream-machine.h"
#include "support/queued-stream.h"

namespace ns3 {
namespace relaytest {

struct RelayWorld {
  RelayWorld();

  NodeContainer a;  // 3 hosts on LAN A
  NodeContainer b;  // 2 hosts on LAN B
  Ptr<Node> routerA, routerB, core, derp, control;

  static Ipv4Address A(uint32_t i) { return Ipv4Address(0x0a010102 + i); }  // 10.1.1.2+i
  static Ipv4Address B(uint32_t i) { return Ipv4Address(0x0a020102 + i); }  // 10.2.1.2+i
  static Ipv4Address DerpAddress() { return Ipv4Address("203.0.113.10"); }
  static Ipv4Address ControlAddress() { return Ipv4Address("203.0.113.20"); }
};

// A test-only client machine: opens the connections it is told to, writes a
// greeting once each is up and whatever else it is told, and records what
// comes back and when each connection ends.
class ScriptedStream : public punchlab::testsupport::QueuedStreamMachine {
 public:
  // Over the modelled TLS handshake when `tls` is given (a DERP server).
  void Connect(punchlab::ConnectionId conn, const punchlab::Endpoint& remote,
               punchlab::Bytes greeting, std::optional<punchlab::TlsDial> tls = std::nullopt);
  void Write(punchlab::ConnectionId conn, punchlab::Bytes bytes);
  void Close(punchlab::ConnectionId conn);

  void HandleConnected(punchlab::Timestamp now, punchlab::ConnectionId conn,
                       const punchlab::Endpoint& remote) override;
  void HandleStream(punchlab::Timestamp now, punchlab::ConnectionId conn,
                    punchlab::ByteView bytes) override;
  void HandleClosed(punchlab::Timestamp now, punchlab::ConnectionId conn) override;

  std::set<punchlab::ConnectionId> connected;  // ever established
  std::map<punchlab::ConnectionId, punchlab::Bytes> received;
  std::map<punchlab::ConnectionId, punchlab::Timestamp> closedAt;  // HandleClosed

 private:
  std::map<punchlab::ConnectionId, punchlab::Bytes> m_greetings;
};

// A ScriptedStream on a node, as an application: the node disposes it (and
// its host) before its sockets.
class StreamActor : public Application {
 public:
  static TypeId GetTypeId();

  // At `at`: connect `conn` to `remote` (over TLS when `tls` is given) and
  // write `greeting` once it is up.
  void ConnectAt(Time at, punchlab::ConnectionId conn, const punchlab::Endpoint& remote,
                 punchlab::Bytes greeting, std::optional<punchlab::TlsDial> tls = std::nullopt);
  void WriteAt(Time at, punchlab::ConnectionId conn, punchlab::Bytes bytes);

  const ScriptedStream& Script() const { return m_script; }
  bool IsClosed(punchlab::ConnectionId conn) const { return m_script.closedAt.count(conn) > 0; }

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override {}

  ScriptedStream m_script;
  Ptr<MachineHost> m_host;
};

// Installs a StreamActor on `node` (started at time 0).
Ptr<StreamActor> InstallStreamActor(Ptr<Node> node);

// Bytes of a string, for payloads and scripts.
punchlab::Bytes ToBytes(const std::string& text);
std::string ToText(Ptr<const Packet> packet);

}  // namespace relaytest
}  // namespace ns3
