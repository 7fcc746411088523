// A stateful firewall, decided one packet tuple at a time like the NAT table
// and composable with it on one node (or used without a NAT).
//
//  * Outbound passes (unless an outbound allow-list is set and the destination
//    is not on it) and opens or refreshes a flow.
//  * Inbound passes only on a flow the firewall has seen, or to a local port on
//    the inbound allow-list (which then opens a flow, so replies pass).
//  * Flows expire after their own idle timeouts; traffic in either direction
//    refreshes them, as in Linux conntrack.
//  * block_udp drops all UDP both ways, flows or not (the "firewall starts
//    blocking UDP" fault flips it at run time).
#pragma once

#include <cstdint>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/nat/flow-tracker.h"
#include "punchlab/nat/flow-types.h"
#include "punchlab/time.h"

namespace punchlab {
namespace nat {

// `protocol` traffic to ports first..last (the inside host's port inbound, the
// remote's port outbound).
struct PortRule {
  Protocol protocol = Protocol::kUdp;
  uint16_t first = 0;
  uint16_t last = 65535;
  bool Matches(Protocol p, uint16_t port) const {
    return p == protocol && port >= first && port <= last;
  }
};

struct FirewallConfig {
  // Conntrack-like defaults: UDP flows die after 30 s of silence.
  FlowTimeouts timeouts{Duration::Seconds(30), Duration::Seconds(7440), Duration::Seconds(240)};
  bool block_udp = false;
  std::vector<PortRule> inbound_allow;   // unsolicited inbound allowed to these local ports
  std::vector<PortRule> outbound_allow;  // empty: any destination; else only these
};

struct FirewallCounters {
  uint64_t passed_outbound = 0;
  uint64_t passed_inbound = 0;
  uint64_t dropped_unsolicited = 0;  // inbound without a flow or allow rule
  uint64_t dropped_udp_blocked = 0;
  uint64_t dropped_not_allowed = 0;  // outbound not on the outbound allow-list
  uint64_t flows_expired = 0;
};

class Firewall {
 public:
  explicit Firewall(FirewallConfig config);

  // kNone: pass; otherwise why the packet is dropped.
  DropReason Outbound(Timestamp now, Protocol protocol, const Endpoint& inside_src,
                      const Endpoint& dst, TcpFlags flags = TcpFlags());
  DropReason Inbound(Timestamp now, Protocol protocol, const Endpoint& remote_src,
                     const Endpoint& inside_dst, TcpFlags flags = TcpFlags());

  void Expire(Timestamp now);
  Timestamp NextExpiry() { return flows_.NextExpiry(); }

  // Fault: start (or stop) dropping all UDP.
  void BlockUdp(bool block) { config_.block_udp = block; }

  const FirewallConfig& config() const { return config_; }
  const FirewallCounters& counters() const { return counters_; }
  size_t flow_count() const { return flows_.size(); }

 private:
  static bool Listed(const std::vector<PortRule>& rules, Protocol p, uint16_t port);

  FirewallConfig config_;
  FirewallCounters counters_;
  FlowTracker flows_;
};

}  // namespace nat
}  // namespace punchlab
