// StunClientApplication: punchlab's StunClient machine on an ns-3 node. It
// sends MaxProbes Binding requests to ServerAddress:ServerPort, Interval
// apart, from one local socket, and reports each outcome (success with the
// mapped address, error response, or timeout) on the "Result" trace.
// Retransmission, matching and RTT are the machine's
// (protocol/include/punchlab/stun/client.h).
//
// Transaction ids come from a DeterministicRandom keyed by the Seed attribute
// and forked per node and application ("node/<id>/app/<index>/stun-client"),
// so a run with the same seed sends the same bytes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/machine-host.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/event-id.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"
#include "punchlab/random.h"
#include "punchlab/stun/client.h"

namespace ns3 {

class StunClientApplication : public Application {
 public:
  static TypeId GetTypeId();
  StunClientApplication();

  // Every finished probe, in order (success, error response or timeout).
  const std::vector<punchlab::stun::StunClientEvent>& GetResults() const { return m_results; }
  std::optional<punchlab::stun::StunClientEvent> GetLastResult() const;
  // The machine's counters; all zero before the application starts.
  const punchlab::stun::StunClientStats& GetStats() const;
  // The socket's endpoint once started (the ephemeral port filled in; the
  // address stays the wildcard unless LocalAddress is set).
  punchlab::Endpoint GetLocalEndpoint() const { return m_local; }

  // (mapped, rtt, success): `mapped` is "ip:port" on success, else empty; rtt
  // is measured from the probe's first send (zero on timeout).
  typedef void (*ResultTracedCallback)(const std::string& mapped, Time rtt, bool success);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  void SendProbe();
  void OnEvents();
  uint32_t ApplicationIndex() const;

  Address m_serverAddress;
  uint16_t m_serverPort;
  Address m_localAddress;
  uint16_t m_localPort;
  uint32_t m_maxProbes;
  Time m_interval;
  Time m_deadline;
  bool m_changeIp;
  bool m_changePort;
  std::string m_software;
  uint64_t m_seed;

  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::stun::StunClient> m_client;
  Ptr<MachineHost> m_host;
  punchlab::Endpoint m_local;
  uint32_t m_probesSent = 0;
  EventId m_probeEvent;
  std::vector<punchlab::stun::StunClientEvent> m_results;
  TracedCallback<const std::string&, Time, bool> m_resultTrace;
};

}  // namespace ns3
