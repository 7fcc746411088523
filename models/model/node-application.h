// NodeApplication: a whole punchlab node (punchlab::node::Node: control
// client, netcheck, DERP clients, disco path finding, sealed data) on an ns-3
// node. The Node is both a DatagramMachine and a StreamMachine; one
// MachineHost runs both faces (one UDP socket, LocalAddress:LocalPort, and
// the control and DERP connections) with one drain rule and one timer.
//
// The node key comes from the Seed attribute, forked per node and application
// (application-setup.h): GetPublicKey() works before the run, so peers can be
// configured with it. Send() sends one datagram to a peer; with Peer and a
// non-zero Interval the application also sends PacketSize bytes to Peer every
// Interval from TrafficStart on.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "model/machine-host.h"
#include "model/machine-host.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"
#include "punchlab/node/node.h"
#include "punchlab/random.h"

namespace ns3 {

class NodeApplication : public Application {
 public:
  static TypeId GetTypeId();
  NodeApplication();
  ~NodeApplication() override;

  // This node's key; available once the application is installed.
  punchlab::NodePublicKey GetPublicKey() const;

  // A new process on the same host: stops the running node and starts a new
  // one with the same node key and a new disco key (a "restart" fault).
  // Only while running.
  void Restart();

  // The config every start of the node begins from (timers, bounds); the
  // application then sets control, token and local endpoints from its
  // attributes. Set before the start to take effect.
  void SetBaseConfig(const punchlab::node::NodeConfig& config) { m_baseConfig = config; }
  // Told every control frame the node seals (for --pcap's control key log).
  // Set before the start to take effect.
  void SetControlKeyLog(punchlab::control::KeyLog keyLog) {
    m_baseConfig.control.key_log = std::move(keyLog);
  }

  // Sends `payload` to `peer` now (while running); what the node did with it.
  punchlab::node::SendResult Send(const punchlab::NodePublicKey& peer, punchlab::ByteView payload);

  // The running (or last) node; null before the start.
  const punchlab::node::Node* GetMachine() const { return m_machine.get(); }
  // The path data to `peer` takes now; None before the start or when unknown.
  punchlab::node::Path GetPathTo(const punchlab::NodePublicKey& peer) const;
  // Per-path counters for `peer`; null when unknown.
  std::optional<punchlab::node::PeerStats> FindPeerStats(const punchlab::NodePublicKey& peer) const;
  // The node's counters (zero before the start).
  const punchlab::node::NodeStats& GetStats() const;
  // Datagrams sent by the periodic traffic, whatever the node did with them.
  uint64_t GetTrafficSent() const { return m_trafficSent; }

  // (peer, from, to, reason): the node switched the path to `peer`.
  typedef void (*PathChangedTracedCallback)(const punchlab::NodePublicKey& peer,
                                            const punchlab::node::Path& from,
                                            const punchlab::node::Path& to,
                                            const std::string& reason);
  // (home region): the node is up (punchlab::node::Up), once per run.
  typedef void (*UpTracedCallback)(punchlab::node::RegionId home_region);
  // (peer, payload, path): application data arrived.
  typedef void (*DataReceivedTracedCallback)(const punchlab::NodePublicKey& peer,
                                             Ptr<const Packet> payload,
                                             const punchlab::node::Path& path);
  // (peer, path): the netmap brought a new peer; data to it takes `path` for now.
  typedef void (*PeerAddedTracedCallback)(const punchlab::NodePublicKey& peer,
                                          const punchlab::node::Path& path);
  // (peer): the peer left the netmap.
  typedef void (*PeerRemovedTracedCallback)(const punchlab::NodePublicKey& peer);
  // (peer, path, rtt): a round trip was measured on a path.
  typedef void (*RttTracedCallback)(const punchlab::NodePublicKey& peer,
                                    const punchlab::node::Path& path, Time rtt);
  // (event): a step of the disco log -- DiscoSent, DiscoReceived,
  // CandidateLearned, TrustChanged (only with NodeConfig::disco_log) and
  // PathChanged, the path decision.
  typedef void (*DiscoLogTracedCallback)(const punchlab::node::EventBody& event);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  punchlab::NodePrivateKey MakeKey() const;
  void DrainEvents();
  void SendTraffic();
  void Release();

  Address m_controlAddress;
  uint16_t m_controlPort;
  std::string m_controlKey;
  std::string m_token;
  uint64_t m_seed;
  Address m_localAddress;
  uint16_t m_localPort;
  std::string m_peer;
  Time m_interval;
  Time m_trafficStart;
  uint32_t m_packetSize;
  punchlab::node::NodeConfig m_baseConfig;

  uint32_t m_starts = 0;
  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::node::Node> m_machine;
  Ptr<MachineHost> m_host;
  std::optional<punchlab::NodePublicKey> m_trafficPeer;
  EventId m_trafficEvent;
  uint64_t m_trafficSent = 0;
  TracedCallback<const punchlab::NodePublicKey&, const punchlab::node::Path&,
                 const punchlab::node::Path&, const std::string&>
      m_pathChangedTrace;
  TracedCallback<const punchlab::NodePublicKey&, Ptr<const Packet>, const punchlab::node::Path&>
      m_dataReceivedTrace;
  TracedCallback<punchlab::node::RegionId> m_upTrace;
  TracedCallback<const punchlab::NodePublicKey&, const punchlab::node::Path&, Time> m_rttTrace;
  TracedCallback<const punchlab::NodePublicKey&, const punchlab::node::Path&> m_peerAddedTrace;
  TracedCallback<const punchlab::NodePublicKey&> m_peerRemovedTrace;
  TracedCallback<const punchlab::node::EventBody&> m_discoLogTrace;
};

}  // namespace ns3
