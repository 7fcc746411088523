#include "punchlab/stun/nat-discovery.h"

#include <algorithm>
#include <utility>

#include "must-find.h"

namespace punchlab {
namespace stun {
namespace {

PortAssignment JudgePorts(const std::vector<std::pair<Endpoint, Endpoint>>& mappings) {
  if (mappings.empty()) return PortAssignment::kUnknown;
  std::map<Endpoint, Endpoint> first_of_socket;
  for (const auto& [local, mapped] : mappings) first_of_socket.emplace(local, mapped);
  const bool preserved = std::all_of(first_of_socket.begin(), first_of_socket.end(),
                                     [](const auto& lm) { return lm.first.port == lm.second.port; });
  if (preserved) return PortAssignment::kPreserve;
  if (mappings.size() < 3) return PortAssignment::kUnknown;
  for (size_t i = 1; i < mappings.size(); ++i) {
    const int step = static_cast<int>(mappings[i].second.port) - mappings[i - 1].second.port;
    if (step < 1 || step > kSequentialMaxStep) return PortAssignment::kRandom;
  }
  return PortAssignment::kSequential;
}

}  // namespace

const char* ToString(NatBehavior b) {
  switch (b) {
    case NatBehavior::kEndpointIndependent: return "endpoint-independent";
    case NatBehavior::kAddressDependent: return "address-dependent";
    case NatBehavior::kAddressAndPortDependent: return "address-and-port-dependent";
    case NatBehavior::kUnknown: break;
  }
  return "unknown";
}

const char* ToString(PortAssignment p) {
  switch (p) {
    case PortAssignment::kPreserve: return "preserve";
    case PortAssignment::kSequential: return "sequential";
    case PortAssignment::kRandom: return "random";
    case PortAssignment::kUnknown: break;
  }
  return "unknown";
}

const char* ToString(Hairpinning h) {
  switch (h) {
    case Hairpinning::kOn: return "on";
    case Hairpinning::kOff: return "off";
    case Hairpinning::kUnknown: break;
  }
  return "unknown";
}

std::string NatReport::ToString() const {
  if (udp_blocked) return "udp=blocked";
  std::string s = "mapped=" + (mapped ? mapped->ToString() : std::string("none"));
  s += std::string(" mapping=") + stun::ToString(mapping);
  s += std::string(" filtering=") + stun::ToString(filtering);
  s += std::string(" ports=") + stun::ToString(ports);
  s += std::string(" hairpin=") + stun::ToString(hairpin);
  return s;
}

NatDiscovery::NatDiscovery(RandomSource& rng, NatDiscoveryConfig config)
    : config_(std::move(config)), client_(rng) {
  report_.local = config_.local;
}

std::vector<Endpoint> NatDiscovery::LocalEndpoints() const {
  std::vector<Endpoint> out{config_.local};
  out.insert(out.end(), config_.extra_locals.begin(), config_.extra_locals.end());
  return out;
}

void NatDiscovery::Start(Timestamp now) {
  if (step_ != Step::kIdle) return;
  step_ = Step::kTestI;
  Begin(now, Probe::kTestI, config_.local, config_.server, false, false);
}

void NatDiscovery::Begin(Timestamp now, Probe probe, const Endpoint& from, const Endpoint& to,
                         bool change_ip, bool change_port) {
  BindingOptions o = config_.binding;
  o.change_ip = change_ip;
  o.change_port = change_port;
  const TransactionId id = client_.StartBinding(now, from, to, o);
  probes_[id] = probe;
  if (probe == Probe::kHairpin) hairpin_id_ = id;
}

void NatDiscovery::HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                                  ByteView payload) {
  if (hairpin_id_) {
    // Our own hairpin probe coming back is a request, which the client would drop.
    DecodeResult d = DecodeMessage(payload);
    if (d && d.message->cls == MessageClass::kRequest && d.message->transaction_id == *hairpin_id_) {
      report_.hairpin = Hairpinning::kOn;
      client_.Cancel(*hairpin_id_);
      probes_.erase(*hairpin_id_);
      hairpin_id_.reset();
      ProcessEvents(now);
      return;
    }
  }
  client_.HandleDatagram(now, local, remote, payload);
  ProcessEvents(now);
}

void NatDiscovery::HandleTimeout(Timestamp now) {
  client_.HandleTimeout(now);
  ProcessEvents(now);
}

void NatDiscovery::ProcessEvents(Timestamp now) {
  while (auto ev = client_.PollEvent()) {
    auto it = probes_.find(Exchange(*ev).transaction_id);
    if (it == probes_.end()) continue;
    const Probe probe = it->second;
    probes_.erase(it);
    if (probe == Probe::kHairpin) hairpin_id_.reset();
    if (probe == Probe::kPort) {
      if (const auto* ok = std::get_if<StunSuccess>(&*ev)) NoteMapping(ok->local, ok->mapped);
    } else {
      results_[probe] = std::move(*ev);
    }
  }
  if (probes_.empty() && step_ != Step::kIdle && step_ != Step::kDone) Advance(now);
}

void NatDiscovery::NoteMapping(const Endpoint& local, const Endpoint& mapped) {
  const auto pair = std::make_pair(local, mapped);
  if (std::find(report_.mappings.begin(), report_.mappings.end(), pair) == report_.mappings.end()) {
    report_.mappings.push_back(pair);
  }
}

void NatDiscovery::Advance(Timestamp now) {
  auto success = [&](Probe p) -> const StunSuccess* {
    auto it = results_.find(p);
    return it == results_.end() ? nullptr : std::get_if<StunSuccess>(&it->second);
  };
  auto ok = [&](Probe p) { return success(p) != nullptr; };
  auto mapped = [&](Probe p) { return std::get<StunSuccess>(MustFind(results_, p)).mapped; };
  auto timed_out = [&](Probe p) {
    auto it = results_.find(p);
    return it != results_.end() && std::holds_alternative<StunTimeout>(it->second);
  };

  // Each case either starts probes (and returns to wait for them) or moves on.
  while (probes_.empty() && step_ != Step::kDone) {
    switch (step_) {
      case Step::kTestI: {
        if (timed_out(Probe::kTestI)) {
          report_.udp_blocked = true;
          Finish();
          return;
        }
        const StunSuccess* t1 = success(Probe::kTestI);
        if (!t1) {  // the server refuses plain bindings: nothing to learn
          Finish();
          return;
        }
        report_.mapped = t1->mapped;
        report_.other_address = t1->other_address;
        NoteMapping(config_.local, t1->mapped);
        if (report_.other_address) {
          step_ = Step::kFiltering;
          Begin(now, Probe::kFilterIpPort, config_.local, config_.server, true, true);
          Begin(now, Probe::kFilterPort, config_.local, config_.server, false, true);
          return;
        }
        step_ = Step::kHairpin;
        Begin(now, Probe::kHairpin, config_.local, *report_.mapped, false, false);
        return;
      }
      case Step::kFiltering: {
        if (ok(Probe::kFilterIpPort)) {
          report_.filtering = NatBehavior::kEndpointIndependent;
        } else if (ok(Probe::kFilterPort)) {
          report_.filtering = NatBehavior::kAddressDependent;
        } else if (timed_out(Probe::kFilterIpPort) && timed_out(Probe::kFilterPort)) {
          report_.filtering = NatBehavior::kAddressAndPortDependent;
        }  // an error response: the server cannot change, filtering stays unknown
        step_ = Step::kMappingII;
        Begin(now, Probe::kMappingII, config_.local,
              Endpoint(report_.other_address->ip, config_.server.port), false, false);
        return;
      }
      case Step::kMappingII:
        step_ = Step::kMappingIII;
        Begin(now, Probe::kMappingIII, config_.local, *report_.other_address, false, false);
        return;
      case Step::kMappingIII: {
        if (ok(Probe::kMappingII)) {
          NoteMapping(config_.local, mapped(Probe::kMappingII));
          if (ok(Probe::kMappingIII)) NoteMapping(config_.local, mapped(Probe::kMappingIII));
          if (mapped(Probe::kMappingII) == *report_.mapped) {
            report_.mapping = NatBehavior::kEndpointIndependent;
          } else if (ok(Probe::kMappingIII)) {
            report_.mapping = mapped(Probe::kMappingIII) == mapped(Probe::kMappingII)
                                  ? NatBehavior::kAddressDependent
                                  : NatBehavior::kAddressAndPortDependent;
          }
        }
        step_ = Step::kHairpin;
        Begin(now, Probe::kHairpin, config_.local, *report_.mapped, false, false);
        return;
      }
      case Step::kHairpin:
        if (report_.hairpin == Hairpinning::kUnknown) {
          // A reply instead of our own request means something else answers
          // at that address: no verdict.
          if (timed_out(Probe::kHairpin)) {
            report_.hairpin = Hairpinning::kOff;
          }
        }
        step_ = Step::kPorts;
        break;
      case Step::kPorts:
        if (next_port_probe_ < config_.extra_locals.size()) {
          Begin(now, Probe::kPort, config_.extra_locals[next_port_probe_++], config_.server, false,
                false);
          return;
        }
        Finish();
        return;
      case Step::kIdle:
      case Step::kDone:
        return;
    }
  }
}

void NatDiscovery::Finish() {
  report_.ports = JudgePorts(report_.mappings);
  step_ = Step::kDone;
  events_.push_back(report_);
}

std::optional<Transmit> NatDiscovery::PollTransmit() { return client_.PollTransmit(); }

std::optional<Timestamp> NatDiscovery::PollTimeout() const { return client_.PollTimeout(); }

std::optional<NatReport> NatDiscovery::PollEvent() {
  if (events_.empty()) return std::nullopt;
  NatReport r = std::move(events_.front());
  events_.pop_front();
  return r;
}

}  // namespace stun
}  // namespace punchlab
