#include "support/mini-nat.h"

#include "punchlab/nat/behaviour.h"

namespace punchlab {
namespace testsupport {
namespace {

const char* Short(Dependence d) {
  switch (d) {
    case Dependence::kEndpointIndependent: return "EI";
    case Dependence::kAddressDependent: return "AD";
    case Dependence::kAddressAndPortDependent: return "APD";
  }
  return "?";
}

// The library preset's behaviour; timeout and ports stay this NAT's defaults.
NatConfig FromPreset(const char* name) {
  const nat::NatConfig& preset = nat::FindNatPreset(name)->config;
  NatConfig c;
  c.mapping = preset.mapping;
  c.filtering = preset.filtering;
  c.ports = preset.ports;
  c.hairpin = preset.hairpin;
  return c;
}

}  // namespace

NatConfig NatConfig::FullCone() { return FromPreset("full-cone"); }
NatConfig NatConfig::RestrictedCone() { return FromPreset("restricted-cone"); }
NatConfig NatConfig::PortRestrictedCone() { return FromPreset("port-restricted-cone"); }
NatConfig NatConfig::Symmetric() { return FromPreset("symmetric"); }

std::string NatConfig::ToString() const {
  return std::string(Short(mapping)) + "M+" + Short(filtering) + "F";
}

nat::NatConfig NatConfig::Knobs() const {
  nat::NatConfig c;
  c.mapping = mapping;
  c.filtering = filtering;
  c.ports = ports;
  c.port_range = port_range;
  c.hairpin = hairpin;
  c.refresh = inbound_refreshes ? nat::Refresh::kBoth : nat::Refresh::kOutbound;
  c.timeouts.udp = mapping_timeout;
  return c;
}

MiniNat::MiniNat(IpAddress external, NatConfig config, uint64_t seed)
    : external_(external), config_(config), rng_(seed), pool_(config.port_range) {}

MiniNat::Key MiniNat::KeyFor(const Endpoint& internal, const Endpoint& remote) const {
  return Key{internal, nat::MappingKeyRemote(config_.mapping, remote)};
}

bool MiniNat::Live(const Mapping& m, Timestamp now) const {
  for (const auto& [remote, last] : m.flows) {
    if (FlowLive(last, now)) return true;
  }
  return false;
}

void MiniNat::Expire(Timestamp now) {
  // A binding lives while any of its flows does; its mappings go with it.
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (Live(by_port_.at(it->second), now)) {
      ++it;
      continue;
    }
    ++stats_.mappings_expired;
    it = by_key_.erase(it);
  }
  for (auto it = by_port_.begin(); it != by_port_.end();) {
    if (Live(it->second, now)) {
      ++it;
      continue;
    }
    pool_.Release(it->first);
    it = by_port_.erase(it);
  }
}

std::optional<Endpoint> MiniNat::Outbound(Timestamp now, const Endpoint& internal,
                                          const Endpoint& remote) {
  Expire(now);
  const Key key = KeyFor(internal, remote);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    const std::optional<uint16_t> port = pool_.Pick(internal, config_.ports, rng_);
    if (!port) {
      ++stats_.dropped_no_port;
      return std::nullopt;
    }
    // A preserved port this inside endpoint already holds is shared.
    if (by_port_.count(*port) == 0) {
      by_port_[*port] = Mapping{internal, {}};
      pool_.Hold(*port, internal);
    }
    it = by_key_.emplace(key, *port).first;
    ++stats_.mappings_created;
  }
  by_port_.at(it->second).flows[remote] = now;
  ++stats_.translated_out;
  return Endpoint(external_, it->second);
}

std::optional<Endpoint> MiniNat::Inbound(Timestamp now, const Endpoint& remote, uint16_t port) {
  Expire(now);
  auto it = by_port_.find(port);
  if (it == by_port_.end()) {
    ++stats_.dropped_no_mapping;
    return std::nullopt;
  }
  Mapping& m = it->second;
  const bool allowed = nat::FilteringAdmits(
      config_.filtering,
      [&] {
        auto f = m.flows.find(remote);
        return f != m.flows.end() && FlowLive(f->second, now);
      },
      [&] {
        for (const auto& [r, last] : m.flows) {
          if (r.ip == remote.ip && FlowLive(last, now)) return true;
        }
        return false;
      });
  if (!allowed) {
    ++stats_.dropped_filtered;
    return std::nullopt;
  }
  if (config_.inbound_refreshes) m.flows[remote] = now;
  ++stats_.translated_in;
  return m.internal;
}

void MiniNat::Flush() {
  by_key_.clear();
  by_port_.clear();
  pool_ = nat::PortPool(config_.port_range);
  ++stats_.flushes;
}

size_t MiniNat::MappingCount(Timestamp now) const {
  size_t n = 0;
  for (const auto& [key, port] : by_key_) n += Live(by_port_.at(port), now) ? 1 : 0;
  return n;
}

std::optional<Endpoint> MiniNat::ExistingMapping(Timestamp now, const Endpoint& internal,
                                                 const Endpoint& remote) const {
  auto it = by_key_.find(KeyFor(internal, remote));
  if (it == by_key_.end() || !Live(by_port_.at(it->second), now)) return std::nullopt;
  return Endpoint(external_, it->second);
}

}  // namespace testsupport
}  // namespace punchlab
