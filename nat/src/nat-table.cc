#include "punchlab/nat/nat-table.h"

#include <algorithm>
#include <cassert>

#include "punchlab/nat/behaviour.h"

namespace punchlab {
namespace nat {

size_t NatTable::MappingKeyHash::operator()(const MappingKey& k) const noexcept {
  size_t h = (static_cast<size_t>(k.protocol) << 8) | static_cast<size_t>(k.dependence);
  h = HashCombine(h, std::hash<Endpoint>()(k.inside));
  return HashCombine(h, std::hash<Endpoint>()(k.remote));
}

size_t NatTable::ExternalKeyHash::operator()(const ExternalKey& k) const noexcept {
  return HashCombine(static_cast<size_t>(k.protocol), std::hash<Endpoint>()(k.external));
}

size_t NatTable::RemoteIpKeyHash::operator()(const RemoteIpKey& k) const noexcept {
  return HashCombine(k.binding, std::hash<IpAddress>()(k.remote_ip));
}

NatTable::NatTable(NatConfig config, std::vector<IpAddress> external, RandomSource& rng)
    : config_(config), external_(std::move(external)), rng_(rng), flows_(config.timeouts) {
  ResetState();
}

void NatTable::ResetState() {
  flows_.Clear();
  pools_.assign(external_.size() * 2, PortPool(config_.port_range));
  bindings_.clear();
  free_bindings_.clear();
  by_external_.clear();
  mappings_.clear();
  remote_ips_.clear();
  paired_.clear();
  next_pair_ = 0;
  next_arbitrary_ = 0;
  leases_.clear();
}

bool NatTable::IsExternalAddress(const IpAddress& ip) const {
  return std::find(external_.begin(), external_.end(), ip) != external_.end();
}

size_t NatTable::PoolIndex(size_t ip_index, Protocol protocol) const {
  return ip_index * 2 + (protocol == Protocol::kTcp ? 0 : 1);
}

NatTable::MappingKey NatTable::KeyFor(Dependence d, Protocol protocol, const Endpoint& inside,
                                      const Endpoint& dst) {
  return MappingKey{protocol, d, inside, MappingKeyRemote(d, dst)};
}

void NatTable::Expire(Timestamp now) {
  flows_.Expire(now, [this](const FlowKey& key, const FlowTracker::Flow& flow) {
    OnFlowExpired(key, flow);
  });
  ExpireLeases(now);
}

Timestamp NatTable::NextExpiry() {
  Timestamp next = flows_.NextExpiry();
  for (const auto& [key, index] : leases_) next = std::min(next, *bindings_[index].lease_until);
  return next;
}

void NatTable::ExpireLeases(Timestamp now) {
  for (auto it = leases_.begin(); it != leases_.end();) {
    auto next = std::next(it);
    if (*bindings_[it->second].lease_until <= now) {
      ++lease_counters_.leases_expired;
      EndLease(it);
    }
    it = next;
  }
}

void NatTable::EndLease(std::map<LeaseKey, uint32_t>::iterator it) {
  const uint32_t index = it->second;
  leases_.erase(it);
  bindings_[index].lease_until.reset();
  if (bindings_[index].flows == 0) FreeBinding(index);
}

std::optional<size_t> NatTable::PoolForPort(Protocol protocol, const Endpoint& inside,
                                            uint16_t port) {
  if (port == 0) return std::nullopt;
  if (config_.pooling == Pooling::kPaired) {
    const std::optional<size_t> ip = PairedAddress(inside.ip);
    if (ip && pools_[PoolIndex(*ip, protocol)].CanTake(port, inside)) return PoolIndex(*ip, protocol);
    return std::nullopt;
  }
  for (size_t ip = 0; ip < external_.size(); ++ip) {
    if (external_[ip].family() != inside.ip.family()) continue;
    if (pools_[PoolIndex(ip, protocol)].CanTake(port, inside)) return PoolIndex(ip, protocol);
  }
  return std::nullopt;
}

bool NatTable::PortAvailable(Protocol protocol, const Endpoint& inside, uint16_t port) {
  return PoolForPort(protocol, inside, port).has_value();
}

std::vector<PortLease> NatTable::PortLeases() const {
  std::vector<std::pair<uint64_t, PortLease>> by_serial;
  for (const auto& [key, index] : leases_) {
    const Binding& b = bindings_[index];
    by_serial.emplace_back(b.lease_serial,
                           PortLease{key.protocol, key.inside, b.external, *b.lease_until});
  }
  std::sort(by_serial.begin(), by_serial.end(),
            [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<PortLease> out;
  out.reserve(by_serial.size());
  for (auto& [serial, lease] : by_serial) out.push_back(lease);
  return out;
}

std::vector<std::pair<Endpoint, Endpoint>> NatTable::PortMappings(Protocol protocol) const {
  std::vector<std::pair<Endpoint, Endpoint>> out;
  for (const auto& [key, index] : leases_) {
    if (key.protocol == protocol) out.emplace_back(key.inside, bindings_[index].external);
  }
  return out;
}

std::optional<Endpoint> NatTable::MapPort(Timestamp now, Protocol protocol, const Endpoint& inside,
                                          uint16_t suggested, Timestamp until) {
  Expire(now);
  auto it = leases_.find(LeaseKey{protocol, inside});
  if (it != leases_.end()) {
    bindings_[it->second].lease_until = until;
    ++lease_counters_.leases_renewed;
    return bindings_[it->second].external;
  }
  // The inside endpoint's endpoint-independent mapping, if it has one (a NAT
  // with endpoint-independent mapping, or an ended lease whose flows live),
  // becomes the explicit one.
  const MappingKey key = KeyFor(Dependence::kEndpointIndependent, protocol, inside, Endpoint());
  uint32_t index;
  auto existing = mappings_.find(key);
  if (existing != mappings_.end()) {
    index = existing->second;
  } else {
    std::optional<Allocation> alloc;
    if (const std::optional<size_t> pool = PoolForPort(protocol, inside, suggested)) {
      alloc = Allocation{*pool, suggested};
    }
    if (!alloc) {
      // Allocate counts its failures as dropped packets; a refused request
      // is not a packet (the server counts it).
      const NatCounters saved = counters_;
      DropReason reason = DropReason::kNone;
      alloc = Allocate(inside, protocol, &reason);
      if (!alloc) {
        counters_ = saved;
        return std::nullopt;
      }
    }
    index = Bind(key, *alloc);
  }
  bindings_[index].lease_until = until;
  bindings_[index].lease_serial = ++last_lease_serial_;
  leases_.emplace(LeaseKey{protocol, inside}, index);
  ++lease_counters_.leases_granted;
  return bindings_[index].external;
}

bool NatTable::UnmapPort(Timestamp now, Protocol protocol, const Endpoint& inside) {
  Expire(now);
  auto it = leases_.find(LeaseKey{protocol, inside});
  if (it == leases_.end()) return false;
  ++lease_counters_.leases_deleted;
  EndLease(it);
  return true;
}

std::optional<Endpoint> NatTable::PortMapped(Protocol protocol, const Endpoint& inside) const {
  auto it = leases_.find(LeaseKey{protocol, inside});
  if (it == leases_.end()) return std::nullopt;
  return bindings_[it->second].external;
}

std::optional<Timestamp> NatTable::PortMappedUntil(Protocol protocol, const Endpoint& inside) const {
  auto it = leases_.find(LeaseKey{protocol, inside});
  if (it == leases_.end()) return std::nullopt;
  return bindings_[it->second].lease_until;
}

OutboundResult NatTable::Outbound(Timestamp now, Protocol protocol, const Endpoint& inside_src,
                                  const Endpoint& dst, TcpFlags flags) {
  Expire(now);
  OutboundResult result;
  const bool hairpin = IsExternalAddress(dst.ip);
  if (hairpin && !config_.hairpin) {
    ++counters_.hairpin_refused;
    result.reason = DropReason::kHairpinOff;
    return result;
  }

  const FlowKey flow_key{protocol, inside_src, dst};
  uint32_t binding;
  if (FlowTracker::Flow* flow = flows_.Find(flow_key)) {
    binding = flow->owner;
    flows_.Touch(now, flow_key, *flow, Direction::kOutbound, flags, true);
  } else if (auto lease = leases_.find(LeaseKey{protocol, inside_src}); lease != leases_.end()) {
    binding = lease->second;  // port mapping: every new flow leaves from the leased port
    flows_.Open(now, flow_key, binding, Direction::kOutbound, flags);
    AddFlow(binding, dst);
  } else {
    const MappingKey key = KeyFor(config_.mapping, protocol, inside_src, dst);
    auto it = mappings_.find(key);
    if (it != mappings_.end()) {
      binding = it->second;
    } else {
      auto fresh = NewMapping(key, &result.reason);
      if (!fresh) return result;
      binding = *fresh;
    }
    flows_.Open(now, flow_key, binding, Direction::kOutbound, flags);
    AddFlow(binding, dst);
  }
  result.external_src = bindings_[binding].external;

  if (!hairpin) {
    ++counters_.translated_outbound;
    result.verdict = OutboundResult::Verdict::kTranslate;
    return result;
  }
  // RFC 4787 REQ-9: the looped-back packet comes from the sender's external
  // endpoint, and the destination binding's filter judges it like any inbound.
  const InboundResult inbound = Admit(now, protocol, result.external_src, dst, flags);
  if (inbound.verdict == InboundResult::Verdict::kDrop) {
    result.reason = inbound.reason;
    return result;
  }
  ++counters_.hairpinned;
  result.verdict = OutboundResult::Verdict::kHairpin;
  result.inside_dst = inbound.inside_dst;
  return result;
}

InboundResult NatTable::Inbound(Timestamp now, Protocol protocol, const Endpoint& remote_src,
                                const Endpoint& external_dst, TcpFlags flags) {
  Expire(now);
  InboundResult result = Admit(now, protocol, remote_src, external_dst, flags);
  if (result.verdict == InboundResult::Verdict::kTranslate) ++counters_.translated_inbound;
  return result;
}

InboundResult NatTable::Admit(Timestamp now, Protocol protocol, const Endpoint& remote_src,
                              const Endpoint& external_dst, TcpFlags flags) {
  InboundResult result;
  auto it = by_external_.find(ExternalKey{protocol, external_dst});
  if (it == by_external_.end()) {
    ++counters_.no_mapping;
    result.reason = DropReason::kNoMapping;
    return result;
  }
  const uint32_t binding = it->second;
  const Endpoint inside = bindings_[binding].inside;
  const FlowKey flow_key{protocol, inside, remote_src};
  FlowTracker::Flow* flow = flows_.Find(flow_key);
  if (!FilterAdmits(binding, remote_src, flow)) {
    ++counters_.filtered;
    result.reason = DropReason::kFiltered;
    return result;
  }
  const bool refresh = config_.refresh == Refresh::kBoth;
  if (flow != nullptr && flow->owner == binding) {
    flows_.Touch(now, flow_key, *flow, Direction::kInbound, flags, refresh);
  } else if (flow == nullptr && refresh) {
    flows_.Open(now, flow_key, binding, Direction::kInbound, flags);
    AddFlow(binding, remote_src);
  }
  result.verdict = InboundResult::Verdict::kTranslate;
  result.inside_dst = inside;
  return result;
}

bool NatTable::FilterAdmits(uint32_t binding, const Endpoint& remote,
                            const FlowTracker::Flow* flow) const {
  if (bindings_[binding].lease_until) return true;  // port mapping: endpoint-independent
  return FilteringAdmits(
      config_.filtering, [&] { return flow != nullptr && flow->owner == binding; },
      [&] { return remote_ips_.count(RemoteIpKey{binding, remote.ip}) != 0; });
}

std::optional<uint32_t> NatTable::NewMapping(const MappingKey& key, DropReason* reason) {
  auto alloc = Allocate(key.inside, key.protocol, reason);
  if (!alloc) return std::nullopt;
  return Bind(key, *alloc);
}

uint32_t NatTable::Bind(const MappingKey& key, const Allocation& alloc) {
  const Endpoint external(external_[alloc.pool / 2], alloc.port);

  uint32_t index;
  auto shared = by_external_.find(ExternalKey{key.protocol, external});
  if (shared != by_external_.end()) {
    index = shared->second;  // port preservation: this inside endpoint already holds it
  } else {
    if (free_bindings_.empty()) {
      index = static_cast<uint32_t>(bindings_.size());
      bindings_.emplace_back();
    } else {
      index = free_bindings_.back();
      free_bindings_.pop_back();
    }
    Binding& b = bindings_[index];
    b.protocol = key.protocol;
    b.inside = key.inside;
    b.external = external;
    b.pool = alloc.pool;
    b.flows = 0;
    b.keys.clear();
    b.lease_until.reset();
    pools_[alloc.pool].Hold(alloc.port, key.inside);
    by_external_.emplace(ExternalKey{key.protocol, external}, index);
  }
  bindings_[index].keys.push_back(key);
  mappings_.emplace(key, index);
  ++counters_.mappings_created;
  return index;
}

std::optional<NatTable::Allocation> NatTable::Allocate(const Endpoint& inside, Protocol protocol,
                                                       DropReason* reason) {
  // Candidate external addresses, in the order to try them.
  std::vector<size_t> order;
  if (config_.pooling == Pooling::kPaired) {
    if (auto paired = PairedAddress(inside.ip)) order.push_back(*paired);
  } else {
    for (size_t i = 0; i < external_.size(); ++i) {
      const size_t ip = (next_arbitrary_ + i) % external_.size();
      if (external_[ip].family() == inside.ip.family()) order.push_back(ip);
    }
    next_arbitrary_ = external_.empty() ? 0 : (next_arbitrary_ + 1) % external_.size();
  }
  if (order.empty()) {
    ++counters_.no_external_address;
    *reason = DropReason::kNoExternalAddress;
    return std::nullopt;
  }
  // With several addresses, a preserved port on any of them beats a fallback port.
  if (config_.ports == PortAssignment::kPreserve) {
    for (size_t ip : order) {
      const size_t pool = PoolIndex(ip, protocol);
      if (pools_[pool].CanTake(inside.port, inside)) return Allocation{pool, inside.port};
    }
  }
  for (size_t ip : order) {
    const size_t pool = PoolIndex(ip, protocol);
    if (auto port = pools_[pool].Pick(inside, config_.ports, rng_)) {
      return Allocation{pool, *port};
    }
  }
  ++counters_.pool_exhausted;
  *reason = DropReason::kPoolExhausted;
  return std::nullopt;
}

std::optional<size_t> NatTable::PairedAddress(const IpAddress& inside_ip) {
  auto it = paired_.find(inside_ip);
  if (it != paired_.end()) return it->second;
  // Pair new inside IPs round-robin over the addresses of their family.
  for (size_t i = 0; i < external_.size(); ++i) {
    const size_t ip = (next_pair_ + i) % external_.size();
    if (external_[ip].family() != inside_ip.family()) continue;
    next_pair_ = (ip + 1) % external_.size();
    paired_.emplace(inside_ip, ip);
    return ip;
  }
  return std::nullopt;
}

void NatTable::AddFlow(uint32_t binding, const Endpoint& remote) {
  ++bindings_[binding].flows;
  ++remote_ips_[RemoteIpKey{binding, remote.ip}];
}

void NatTable::OnFlowExpired(const FlowKey& key, const FlowTracker::Flow& flow) {
  ++counters_.flows_expired;
  const uint32_t index = flow.owner;
  Binding& b = bindings_[index];
  auto ips = remote_ips_.find(RemoteIpKey{index, key.remote.ip});
  assert(ips != remote_ips_.end());
  if (--ips->second == 0) remote_ips_.erase(ips);
  if (--b.flows != 0) return;
  if (b.lease_until) return;  // port mapping: the lease holds it
  counters_.mappings_expired += b.keys.size();
  FreeBinding(index);
}

void NatTable::FreeBinding(uint32_t index) {
  Binding& b = bindings_[index];
  for (const MappingKey& k : b.keys) mappings_.erase(k);
  by_external_.erase(ExternalKey{b.protocol, b.external});
  pools_[b.pool].Release(b.external.port);
  free_bindings_.push_back(index);
  if (expiry_observer_) expiry_observer_(b.protocol, b.inside, b.external);
}

void NatTable::Reboot(Timestamp now, std::optional<std::vector<IpAddress>> new_external,
                      bool keep_port_mappings) {
  Expire(now);
  ++counters_.reboots;
  struct Kept {
    LeaseKey key;
    Endpoint external;
    Timestamp until;
    uint64_t serial;
  };
  std::vector<Kept> kept;
  if (keep_port_mappings) {
    for (const auto& [key, index] : leases_) {
      const Binding& b = bindings_[index];
      kept.push_back(Kept{key, b.external, *b.lease_until, b.lease_serial});
    }
  }
  counters_.mappings_lost += mappings_.size() - kept.size();
  const size_t leases = leases_.size();
  if (new_external) external_ = std::move(*new_external);
  ResetState();
  // Stored leases come back on their ports, where their address still is.
  for (const Kept& k : kept) {
    auto ip = std::find(external_.begin(), external_.end(), k.external.ip);
    if (ip == external_.end()) continue;
    const size_t ip_index = static_cast<size_t>(ip - external_.begin());
    const size_t pool = PoolIndex(ip_index, k.key.protocol);
    if (!pools_[pool].CanTake(k.external.port, k.key.inside)) continue;
    if (config_.pooling == Pooling::kPaired) paired_.emplace(k.key.inside.ip, ip_index);
    const uint32_t index = Bind(
        KeyFor(Dependence::kEndpointIndependent, k.key.protocol, k.key.inside, Endpoint()),
        Allocation{pool, k.external.port});
    bindings_[index].lease_until = k.until;
    bindings_[index].lease_serial = k.serial;
    leases_.emplace(k.key, index);
    ++lease_counters_.leases_kept;
  }
  lease_counters_.leases_lost += leases - leases_.size();
}

}  // namespace nat
}  // namespace punchlab
