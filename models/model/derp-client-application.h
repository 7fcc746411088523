// DerpClientApplication: punchlab's DERP client machine on an ns-3 node, for
// tests and scenarios that relay packets without a whole punchlab node. It
// connects to ServerAddress:ServerPort (TCP), keeps the connection up
// (reconnecting with the machine's backoff), and relays packets to peers by
// node key: Send() on demand, and optionally MaxPackets packets of PacketSize
// bytes every Interval to Peer. What arrives, who is gone and every
// connection change are trace sources. Handshake, framing and backoff are
// the machine's (protocol/include/punchlab/derp/client.h).
//
// The node key and the random stream (nonces, backoff jitter) come from the
// Seed attribute, forked per node and application (application-setup.h).
#pragma once

#include <memory>
#include <string>

#include "model/machine-host.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"
#include "punchlab/derp/client.h"
#include "punchlab/random.h"

namespace ns3 {

class DerpClientApplication : public Application {
 public:
  static TypeId GetTypeId();
  DerpClientApplication();
  ~DerpClientApplication() override;

  // This client's node key; available once the application is installed.
  punchlab::NodePublicKey GetPublicKey() const;
  bool IsConnected() const;
  // Relays `packet` to `destination` now. false (and counted by the machine)
  // when not connected or when the packet is too large.
  bool Send(const punchlab::NodePublicKey& destination, punchlab::ByteView packet);

  // The machine's and the TCP host's counters; zero before the application
  // starts, still readable after it stops.
  const punchlab::derp::ClientStats& GetStats() const;
  MachineHostCounters GetTcpCounters() const;

  // (serverKey): the handshake completed.
  typedef void (*ConnectedTracedCallback)(const punchlab::NodePublicKey& serverKey);
  // (reason): the connection was lost or closed.
  typedef void (*DisconnectedTracedCallback)(const std::string& reason);
  // (peer, packet): a packet relayed from `peer` arrived (Rx) or one to `peer`
  // was handed to the server connection (Tx).
  typedef void (*PacketTracedCallback)(const punchlab::NodePublicKey& peer,
                                       Ptr<const Packet> packet);
  // (peer, reason): the server says `peer` left or was never there.
  typedef void (*PeerGoneTracedCallback)(const punchlab::NodePublicKey& peer,
                                         punchlab::derp::PeerGoneReason reason);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  punchlab::NodePrivateKey MakeKey() const;
  void SendTraffic();
  void OnEvents();

  Address m_serverAddress;
  uint16_t m_serverPort;
  bool m_tls;
  std::string m_certName;
  std::string m_serverKey;
  bool m_preferred;
  uint64_t m_seed;
  std::string m_peer;
  uint32_t m_packetSize;
  Time m_interval;
  uint32_t m_maxPackets;

  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::derp::Client> m_client;
  Ptr<MachineHost> m_host;
  MachineHostCounters m_tcpCounters;  // of the last host, kept after stop
  punchlab::NodePublicKey m_peerKey;
  uint32_t m_packetsSent = 0;
  EventId m_trafficEvent;
  TracedCallback<const punchlab::NodePublicKey&> m_connectedTrace;
  TracedCallback<const std::string&> m_disconnectedTrace;
  TracedCallback<const punchlab::NodePublicKey&, Ptr<const Packet>> m_rxTrace;
  TracedCallback<const punchlab::NodePublicKey&, Ptr<const Packet>> m_txTrace;
  TracedCallback<const punchlab::NodePublicKey&, punchlab::derp::PeerGoneReason> m_peerGoneTrace;
};

}  // namespace ns3
