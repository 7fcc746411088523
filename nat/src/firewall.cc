#include "punchlab/nat/firewall.h"

#include <algorithm>
#include <utility>

namespace punchlab {
namespace nat {

Firewall::Firewall(FirewallConfig config)
    : config_(std::move(config)), flows_(config_.timeouts) {}

bool Firewall::Listed(const std::vector<PortRule>& rules, Protocol p, uint16_t port) {
  return std::any_of(rules.begin(), rules.end(),
                     [&](const PortRule& r) { return r.Matches(p, port); });
}

void Firewall::Expire(Timestamp now) {
  flows_.Expire(now, [this](const FlowKey&, const FlowTracker::Flow&) {
    ++counters_.flows_expired;
  });
}

DropReason Firewall::Outbound(Timestamp now, Protocol protocol, const Endpoint& inside_src,
                              const Endpoint& dst, TcpFlags flags) {
  Expire(now);
  if (protocol == Protocol::kUdp && config_.block_udp) {
    ++counters_.dropped_udp_blocked;
    return DropReason::kUdpBlocked;
  }
  const FlowKey key{protocol, inside_src, dst};
  if (FlowTracker::Flow* flow = flows_.Find(key)) {
    flows_.Touch(now, key, *flow, Direction::kOutbound, flags, true);
  } else {
    if (!config_.outbound_allow.empty() && !Listed(config_.outbound_allow, protocol, dst.port)) {
      ++counters_.dropped_not_allowed;
      return DropReason::kNotAllowed;
    }
    flows_.Open(now, key, 0, Direction::kOutbound, flags);
  }
  ++counters_.passed_outbound;
  return DropReason::kNone;
}

DropReason Firewall::Inbound(Timestamp now, Protocol protocol, const Endpoint& remote_src,
                             const Endpoint& inside_dst, TcpFlags flags) {
  Expire(now);
  if (protocol == Protocol::kUdp && config_.block_udp) {
    ++counters_.dropped_udp_blocked;
    return DropReason::kUdpBlocked;
  }
  const FlowKey key{protocol, inside_dst, remote_src};
  if (FlowTracker::Flow* flow = flows_.Find(key)) {
    flows_.Touch(now, key, *flow, Direction::kInbound, flags, true);
  } else if (Listed(config_.inbound_allow, protocol, inside_dst.port)) {
    flows_.Open(now, key, 0, Direction::kInbound, flags);
  } else {
    ++counters_.dropped_unsolicited;
    return DropReason::kFiltered;
  }
  ++counters_.passed_inbound;
  return DropReason::kNone;
}

}  // namespace nat
}  // namespace punchlab
