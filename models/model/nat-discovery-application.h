// NatDiscoveryApplication: punchlab's NatDiscovery machine (RFC 5780-style
// NAT behaviour discovery, protocol/include/punchlab/stun/nat-discovery.h) on
// an ns-3 node. At start it binds a main socket and ExtraSockets further ones,
// runs the discovery against an RFC 5780 server (one with an alternate
// address) and reports the NAT's mapping, filtering, port assignment and
// hairpinning once, on the "Report" trace and through GetReport().
//
// The sockets bind LocalPort, LocalPort+1, ... explicitly rather than
// ephemeral ports: the machine must know every socket's port when it is
// created, and the host can only tell a port after binding it.
//
// Transaction ids come from a DeterministicRandom keyed by the Seed attribute
// and forked per node and application ("node/<id>/app/<index>/nat-discovery"),
// so a run with the same seed sends the same bytes.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/machine-host.h"
#include "ns3/address.h"
#include "ns3/application.h"
#include "ns3/nstime.h"
#include "ns3/traced-callback.h"
#include "punchlab/random.h"
#include "punchlab/stun/nat-discovery.h"

namespace ns3 {

class NatDiscoveryApplication : public Application {
 public:
  static TypeId GetTypeId();
  NatDiscoveryApplication();

  // The report once the run is over; nullopt before.
  const std::optional<punchlab::stun::NatReport>& GetReport() const { return m_report; }
  // The underlying STUN client's counters; all zero before the application starts.
  const punchlab::stun::StunClientStats& GetStats() const;
  // The main socket, then the extra ones (empty before start).
  std::vector<punchlab::Endpoint> GetLocalEndpoints() const;

  typedef void (*ReportTracedCallback)(const punchlab::stun::NatReport& report);

 protected:
  void DoDispose() override;

 private:
  void StartApplication() override;
  void StopApplication() override;
  void OnEvents();

  Address m_serverAddress;
  uint16_t m_serverPort;
  Address m_localAddress;
  uint16_t m_localPort;
  uint32_t m_extraSockets;
  Time m_deadline;
  std::string m_software;
  uint64_t m_seed;

  std::unique_ptr<punchlab::DeterministicRandom> m_random;
  std::unique_ptr<punchlab::stun::NatDiscovery> m_discovery;
  Ptr<MachineHost> m_host;
  std::optional<punchlab::stun::NatReport> m_report;
  TracedCallback<const punchlab::stun::NatReport&> m_reportTrace;
};

}  // namespace ns3
