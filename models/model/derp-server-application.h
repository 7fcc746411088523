// DerpServerApplication: one DERP region node on an ns-3 node, as Tailscale
// runs them: the DERP relay on TCP (Address:Port) and a STUN server on UDP
// (Address:StunPort) on the same address, so clients learn their public
// address from the node they relay through. Both are one machine,
// punchlab::derp::RegionNode, hosted by one MachineHost (both faces, one
// timer); relaying, handshakes, PeerGone and queueing are the machine's
// (protocol/include/punchlab/derp/server.h). The host reports socket
// backpressure to the relay, which then queues (SendQueueDepth frames per
// connection) and drops beyond that. DERP runs over the modelled TLS
// handshake (Tls attribute, model/tls-model.h), as in the lab.
//
// The server's node key and its random stream (keepalive jitter) come from
// the Seed attribute, forked per node and application (application-setup.h):
// the key is known before the run and the same on every run.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "model/machine-host.h"
#include "model/tls-model.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"
#include "punchlab/derp/region-node.h"
#include "punchlab/random.h"

namespace ns3 {

class DerpServerApplication : public Application {
 public:
  static TypeId GetTypeId();
  DerpServerApplication();
  ~DerpServerApplication() override;

  // Available once the application is installed on a node.
  punchlab::NodePublicKey GetPublicKey() const;

  // Faults, at any simulated time while the application runs: the server
  // process stops (every connection closes, STUN stops answering, new
  // connections are closed at once: MachineHost::DetachMachine) and later
  // starts again with the same key and no clients. Counters start over.
  // Crash while down and Recover while up do nothing.
  void Crash();
  void Recover();
  bool IsRunning() const { return m_host != nullptr && !m_down; }
  // Where the relay listens (TCP) and STUN answers (UDP); Address unset
  // resolves to the node's first IPv4 address. Available once installed.
  punchlab::Endpoint GetDerpEndpoint() const;
  punchlab::Endpoint GetStunEndpoint() const;
  // The modelled TLS certificate (Tls attribute; null without TLS) and its
  // "sha256-raw:" pin, for the DERP map; available once installed.
  std::shared_ptr<const punchlab::tlsmodel::Certificate> GetCertificate() const;
  std::string GetCertificatePin() const;

  // The machines' and the TCP host's counters; zero before the application
  // starts, still readable after it stops.
  const punchlab::derp::ServerStats& GetStats() const;
  const punchlab::stun::StunServerStats& GetStunStats() const;
  MachineHostCounters GetTcpCounters() const;
  // Registered clients right now.
  size_t GetClientCount() const;
  std::optional<punchlab::derp::ServerClientView> FindClient(
      const punchlab::NodePublicKey& key) const;

  // (key, conn): a client completed its handshake on connection `conn`.
  typedef void (*ClientTracedCallback)(const punchlab::NodePublicKey& key, uint64_t conn);
  // (key, reason): a registered client's connection ended.
  typedef void (*ClientGoneTracedCallback)(const punchlab::NodePublicKey& key,
                                           const std::string& reason);
  // (conn, reason): a connection was closed for malformed input.
  typedef void (*ProtocolErrorTracedCallback)(uint64_t conn, const std::string& reason);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  // A new server process: a fresh region node and the STUN socket.
  void StartProcess(const punchlab::IpAddress& ip);
  punchlab::NodePrivateKey MakeKey() const;
  // Each host drains the region node's events and then the other host, so
  // work the shared clock (HandleTimeout wakes both halves) produced for the
  // other half goes out at once.
  void DrainEvents();
  void OnWriteBlocked(punchlab::Timestamp now, punchlab::ConnectionId conn);
  void OnWritable(punchlab::Timestamp now, punchlab::ConnectionId conn);

  Address m_address;
  uint16_t m_port;
  uint16_t m_stunPort;
  uint64_t m_seed;
  uint32_t m_sendQueueDepth;
  Time m_keepAliveInterval;
  Time m_handshakeTimeout;
  bool m_tls;
  mutable std::shared_ptr<const punchlab::tlsmodel::Certificate> m_certificate;

  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::derp::RegionNode> m_region;
  Ptr<MachineHost> m_host;
  MachineHostCounters m_tcpCounters;  // of the last host, kept after stop
  bool m_down = false;  // crashed: the listener stays, the process is gone
  TracedCallback<const punchlab::NodePublicKey&, uint64_t> m_clientConnectedTrace;
  TracedCallback<const punchlab::NodePublicKey&, const std::string&> m_clientDisconnectedTrace;
  TracedCallback<uint64_t, const std::string&> m_protocolErrorTrace;
};

}  // namespace ns3
