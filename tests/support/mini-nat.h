// A minimal UDP NAT for virtual-time tests, in the NAT library's vocabulary
// (punchlab/nat/, RFC 4787): mapping behaviour (endpoint-independent,
// address-dependent, address-and-port-dependent), filtering behaviour (same
// three), port assignment (preserve, sequential, random), a mapping timeout
// refreshed by outbound traffic (and optionally inbound), hairpinning (carried
// out by the world), one external address. Flush() is a NAT reboot: every
// mapping is forgotten.
//
// What a mapping depends on and whom the filter lets in are the library's
// rules (punchlab/nat/behaviour.h, the ones NatTable decides with), ports
// come from the library's port pool (punchlab/nat/port-pool.h: preserve,
// sequential, random, over the library's default range 1024-65535), and the
// classic four are the library's presets. As in NatTable, the mappings of one
// inside endpoint that preserve its port share that external port (one
// binding, its flows together). What stays small here: UDP only, one external
// address, and a 30 s default timeout.
//
// State is kept per flow (internal endpoint, remote endpoint), as conntrack
// does: a flow lives `mapping_timeout` after its last outbound packet; a
// mapping lives while any of its flows does. Filtering asks whether a live
// flow of the mapping matches the sender (any: EIF; same IP: ADF; same IP and
// port: APDF).
//
// Plain C++ (no world, no machines), so it can be unit-tested on its own.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "punchlab/endpoint.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/port-pool.h"
#include "punchlab/random.h"
#include "punchlab/time.h"

namespace punchlab {
namespace testsupport {

using nat::Dependence;
// How a new mapping picks its port: nat::PortPool (port-pool.h).
using nat::PortAssignment;

struct NatConfig {
  Dependence mapping = Dependence::kEndpointIndependent;
  Dependence filtering = Dependence::kAddressAndPortDependent;
  PortAssignment ports = PortAssignment::kPreserve;
  Duration mapping_timeout = Duration::Seconds(30);
  bool inbound_refreshes = false;
  bool hairpin = false;
  nat::PortRange port_range;  // the library's default range

  // The classic four (RFC 3489 names): the library's presets' mapping,
  // filtering and port assignment (nat::NatPresets()).
  static NatConfig FullCone();            // EIM + EIF
  static NatConfig RestrictedCone();      // EIM + ADF
  static NatConfig PortRestrictedCone();  // EIM + APDF
  static NatConfig Symmetric();           // APDM + APDF, random ports

  // "EIM+APDF", for test names and logs.
  std::string ToString() const;
  // The same NAT's knobs as the library's NatConfig (mapping, filtering,
  // ports, hairpin, refresh, UDP timeout, port range), e.g. for
  // nat::NatAllowsDirect.
  nat::NatConfig Knobs() const;
};

struct NatStats {
  uint64_t mappings_created = 0;
  uint64_t mappings_expired = 0;  // counted when noticed
  uint64_t translated_out = 0;
  uint64_t translated_in = 0;
  uint64_t dropped_no_mapping = 0;
  uint64_t dropped_filtered = 0;
  uint64_t dropped_no_port = 0;  // the port pool had none
  uint64_t flushes = 0;
};

class MiniNat {
 public:
  // `seed` drives random port assignment.
  MiniNat(IpAddress external, NatConfig config, uint64_t seed);

  const IpAddress& external() const { return external_; }
  const NatConfig& config() const { return config_; }

  // A packet from `internal` to `remote` leaves: the external endpoint it
  // leaves from (creating or refreshing the mapping), or nullopt when the
  // port pool is exhausted.
  std::optional<Endpoint> Outbound(Timestamp now, const Endpoint& internal, const Endpoint& remote);
  // A packet from `remote` arrives at external port `port`: the internal
  // endpoint to deliver to, or nullopt (no live mapping, or filtered).
  std::optional<Endpoint> Inbound(Timestamp now, const Endpoint& remote, uint16_t port);
  // Reboot: every mapping is gone.
  void Flush();

  // Live mappings now.
  size_t MappingCount(Timestamp now) const;
  // The external endpoint a live mapping gives `internal` towards `remote`.
  std::optional<Endpoint> ExistingMapping(Timestamp now, const Endpoint& internal,
                                          const Endpoint& remote) const;
  const NatStats& stats() const { return stats_; }

 private:
  // One external port's binding: the inside endpoint holding it and the
  // flows of every mapping sharing it.
  struct Mapping {
    Endpoint internal;
    std::map<Endpoint, Timestamp> flows;  // remote -> last refresh
  };
  struct Key {
    Endpoint internal;
    Endpoint remote_part;  // what the mapping depends on (nothing, IP, IP and port)
    bool operator<(const Key& o) const {
      return internal != o.internal ? internal < o.internal : remote_part < o.remote_part;
    }
  };

  Key KeyFor(const Endpoint& internal, const Endpoint& remote) const;
  bool Live(const Mapping& m, Timestamp now) const;
  bool FlowLive(Timestamp last, Timestamp now) const { return now - last < config_.mapping_timeout; }
  void Expire(Timestamp now);

  IpAddress external_;
  NatConfig config_;
  DeterministicRandom rng_;
  nat::PortPool pool_;
  std::map<Key, uint16_t> by_key_;      // mapping -> external port
  std::map<uint16_t, Mapping> by_port_;  // external port -> binding
  NatStats stats_;
};

}  // namespace testsupport
}  // namespace punchlab
