// ControlClientApplication: a node's side of the control plane
// (ControlClient) on an ns-3 node, for tests and scenarios that need a node
// registered without a whole punchlab node. It connects to
// ServerAddress:ServerPort (TCP), registers its node key with Token, the
// endpoints given by SetEndpoints and HomeRegion, keeps the registration
// current and reports every netmap the server pushes. Reconnects, keepalives
// and refusals are the machine's (protocol/include/punchlab/control/client.h).
// Stopping the application leaves (the server removes the node at once).
//
// The node key comes from the Seed attribute, forked per node and
// application (application-setup.h), and is the same across restarts; the
// disco key is fresh at every start, as a real node's is.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/machine-host.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/traced-callback.h"
#include "punchlab/control/client.h"
#include "punchlab/random.h"

namespace ns3 {

class ControlClientApplication : public Application {
 public:
  static TypeId GetTypeId();
  ControlClientApplication();
  ~ControlClientApplication() override;

  // What the node reports as its endpoints (best first). Before the start,
  // or while running: then the server hears of the change at once.
  void SetEndpoints(std::vector<punchlab::Endpoint> endpoints);
  // Tells the server the node is going away and stops registering.
  void Leave();

  // This node's key; available once the application is installed.
  punchlab::NodePublicKey GetPublicKey() const;
  // The disco key of the current (or last) start; zero before the start.
  punchlab::DiscoPublicKey GetDiscoKey() const { return m_discoKey; }
  bool IsRegistered() const;
  // The latest netmap, kept across reconnects and after the stop.
  const std::optional<punchlab::control::Netmap>& GetNetmap() const;

  // The machine's and the TCP host's counters; zero before the application
  // starts, still readable after it stops.
  const punchlab::control::ClientStats& GetStats() const;
  MachineHostCounters GetTcpCounters() const;

  // (registered): the server accepted the registration.
  typedef void (*RegisteredTracedCallback)(const punchlab::control::Registered& registered);
  // (reason): the server refused the registration; the client stopped.
  typedef void (*RefusedTracedCallback)(const std::string& reason);
  // (netmap): a netmap arrived.
  typedef void (*NetmapTracedCallback)(const punchlab::control::Netmap& netmap);
  // (reason, willReconnect): the connection ended.
  typedef void (*DisconnectedTracedCallback)(const std::string& reason, bool willReconnect);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  punchlab::NodePrivateKey MakeKey() const;
  void OnEvents();

  Address m_serverAddress;
  uint16_t m_serverPort;
  std::string m_serverKey;
  std::string m_token;
  uint32_t m_homeRegion;
  uint64_t m_seed;
  std::vector<punchlab::Endpoint> m_endpoints;

  uint32_t m_starts = 0;
  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::control::ControlClient> m_client;
  Ptr<MachineHost> m_host;
  MachineHostCounters m_tcpCounters;  // of the last host, kept after stop
  punchlab::DiscoPublicKey m_discoKey;
  TracedCallback<const punchlab::control::Registered&> m_registeredTrace;
  TracedCallback<const std::string&> m_refusedTrace;
  TracedCallback<const punchlab::control::Netmap&> m_netmapTrace;
  TracedCallback<const std::string&, bool> m_disconnectedTrace;
};

}  // namespace ns3
