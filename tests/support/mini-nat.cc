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
  c.port_range = nat::PortRange{port_min, port_max};
  c.hairpin = hairpin;
  c.refresh = inbound_refreshes ? nat::Refresh::kBoth : nat::Refresh::kOutbound;
  c.timeouts.udp = mapping_timeout;
  return c;
}

MiniNat::MiniNat(IpAddress external, NatConfig config, uint64_t seed)
    : external_(external), config_(config), rng_(seed), next_port_(config.port_min) {}

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
  for (auto it = by_key_.begin(); it != by_key_.end();) {
    if (Live(by_port_.at(it->second), now)) {
      ++it;
      continue;
    }
    by_port_.erase(it->second);
    it = by_key_.erase(it);
    ++stats_.mappings_expired;
  }
}

std::optional<uint16_t> MiniNat::NextSequential() {
  const uint32_t span = static_cast<uint32_t>(config_.port_max) - config_.port_min + 1;
  for (uint32_t i = 0; i < span; ++i) {
    const auto port = static_cast<uint16_t>(next_port_);
    next_port_ = next_port_ >= config_.port_max ? config_.port_min : next_port_ + 1;
    if (by_port_.count(port) == 0) return port;
  }
  return std::nullopt;
}

std::optional<uint16_t> MiniNat::AllocatePort(uint16_t internal_port) {
  switch (config_.ports) {
    case PortAssignment::kPreserve:
      if (internal_port != 0 && by_port_.count(internal_port) == 0) return internal_port;
      return NextSequential();
    case PortAssignment::kSequential: return NextSequential();
    case PortAssignment::kRandom: {
      const uint32_t span = static_cast<uint32_t>(config_.port_max) - config_.port_min + 1;
      // A few draws find a free port unless the pool is nearly full.
      for (int attempt = 0; attempt < 64; ++attempt) {
        const auto port = static_cast<uint16_t>(config_.port_min + rng_.Uniform(span));
        if (by_port_.count(port) == 0) return port;
      }
      return NextSequential();
    }
  }
  return std::nullopt;
}

std::optional<Endpoint> MiniNat::Outbound(Timestamp now, const Endpoint& internal,
                                          const Endpoint& remote) {
  Expire(now);
  const Key key = KeyFor(internal, remote);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    const std::optional<uint16_t> port = AllocatePort(internal.port);
    if (!port) {
      ++stats_.dropped_no_port;
      return std::nullopt;
    }
    it = by_key_.emplace(key, *port).first;
    by_port_[*port] = Mapping{internal, {}};
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
  ++stats_.flushes;
}

size_t MiniNat::MappingCount(Timestamp now) const {
  size_t n = 0;
  for (const auto& [port, m] : by_port_) n += Live(m, now) ? 1 : 0;
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
