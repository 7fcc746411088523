// The STUN demo scenario on StunDemoTopology: an RFC 5780 STUN server on the
// server host, and on the client two STUN clients, one sending plain Binding
// requests (what every NAT-traversal client does first) and one asking the
// server to answer from its other address and port (CHANGE-REQUEST). Used by
// `punchlab demo` and models/examples/stun-example.cc.
#pragma once

#include <cstdint>
#include <ostream>

#include "helper/stun-demo-topology.h"
#include "model/stun-client-application.h"
#include "model/stun-server-application.h"

namespace ns3 {

struct StunDemoConfig {
  StunDemoTopologyConfig topology;
  uint64_t seed = 1;
  // Plain binding probes, `interval` apart; the change-request client sends one.
  uint32_t probes = 1;
  Time interval = Seconds(1);
};

class StunDemo {
 public:
  // Builds the topology and installs the applications (before Simulator::Run).
  explicit StunDemo(const StunDemoConfig& config);

  // Runs the simulation until every probe has finished. The caller calls
  // Simulator::Destroy() when done with the results.
  void Run();

  // What the client learned and the server's counters, in plain text.
  void Report(std::ostream& out) const;

  const StunDemoTopology& GetTopology() const { return m_topology; }
  Ptr<StunServerApplication> GetServer() const { return m_server; }
  Ptr<StunClientApplication> GetBindingClient() const { return m_bindingClient; }
  Ptr<StunClientApplication> GetChangeClient() const { return m_changeClient; }
  // Simulated time at which Run() stops.
  Time GetStopTime() const { return m_stopTime; }

 private:
  StunDemoConfig m_config;
  StunDemoTopology m_topology;
  Ptr<StunServerApplication> m_server;
  Ptr<StunClientApplication> m_bindingClient;
  Ptr<StunClientApplication> m_changeClient;
  Time m_stopTime;
};

}  // namespace ns3
