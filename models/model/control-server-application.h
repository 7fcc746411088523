// ControlServerApplication: punchlab's coordination server (ControlServer)
// on an ns-3 node. Nodes connect over TCP to Address:Port, prove their node
// key, register with an identity token, and receive netmaps with the nodes
// of their own domain and the DERP map. Tokens are trusted only from the
// issuers added with AddTrustedIssuer, each for its domains; their expiry is
// a Timestamp on the simulation clock (nanoseconds since the start), as
// ControlServerHelper::IssueToken writes it. All of that is the machine's
// (protocol/include/punchlab/control/server.h); this class hosts it on a
// MachineHost and turns its events into trace sources.
//
// The server key and random stream (challenges, nonces) come from the Seed
// attribute, forked per node and application (application-setup.h): nodes
// can be given the key before the run.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/machine-host.h"
#include "punchlab/control/access-rules.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"
#include "punchlab/control/server.h"
#include "punchlab/random.h"

namespace ns3 {

class ControlServerApplication : public Application {
 public:
  static TypeId GetTypeId();
  ControlServerApplication();
  ~ControlServerApplication() override;

  // Configuration, before the application starts.
  void AddTrustedIssuer(const punchlab::VerifyKey& key, std::vector<std::string> domains);
  // Who sees whom per domain (punchlab/control/access-rules.h); none: everyone.
  void SetAccessRules(punchlab::control::AccessRules rules);
  // Before the start, or while running: then every node gets a new netmap.
  void SetDerpMap(punchlab::control::DerpMap derpMap);
  // Told every frame the server seals (for --pcap's control key log). Set
  // before the start to take effect.
  void SetKeyLog(punchlab::control::KeyLog keyLog);

  // Available once the application is installed on a node.
  punchlab::NodePublicKey GetPublicKey() const;
  // Where the server listens; Address unset resolves to the node's first
  // IPv4 address.
  punchlab::Endpoint GetEndpoint() const;

  // The machine's and the TCP host's counters; zero before the application
  // starts, still readable after it stops.
  const punchlab::control::ServerStats& GetStats() const;
  MachineHostCounters GetTcpCounters() const;
  size_t GetNodeCount() const;
  std::optional<punchlab::control::NodeInfo> FindNode(const punchlab::NodePublicKey& key) const;

  // (node, domain): a node registered (or registered again).
  typedef void (*NodeRegisteredTracedCallback)(const punchlab::control::NodeInfo& node,
                                               const std::string& domain);
  // (key, domain, reason): a node left the netmaps.
  typedef void (*NodeRemovedTracedCallback)(const punchlab::NodePublicKey& key,
                                            const std::string& domain, const std::string& reason);
  // (conn, reason): a registration was refused (NodeRefused) or a connection
  // ended (ConnectionClosed).
  typedef void (*ConnectionTracedCallback)(uint64_t conn, const std::string& reason);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  punchlab::NodePrivateKey MakeKey() const;
  void OnEvents();

  Address m_address;
  uint16_t m_port;
  uint64_t m_seed;
  Time m_handshakeTimeout;
  Time m_idleTimeout;
  Time m_batchDelay;
  std::vector<punchlab::control::TrustedIssuer> m_issuers;
  punchlab::control::DerpMap m_derpMap;
  punchlab::control::AccessRules m_accessRules;
  punchlab::control::KeyLog m_keyLog;

  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::control::ControlServer> m_server;
  Ptr<MachineHost> m_host;
  MachineHostCounters m_tcpCounters;  // of the last host, kept after stop
  TracedCallback<const punchlab::control::NodeInfo&, const std::string&> m_registeredTrace;
  TracedCallback<const punchlab::NodePublicKey&, const std::string&, const std::string&>
      m_removedTrace;
  TracedCallback<uint64_t, const std::string&> m_refusedTrace;
  TracedCallback<uint64_t, const std::string&> m_closedTrace;
};

}  // namespace ns3
