// A NAT's translation state and decisions, one packet tuple at a time.
//
// Vocabulary (RFC 4787):
//  * A binding is an external endpoint (external IP:port) held by one inside
//    endpoint. Inbound packets to it go to that inside endpoint, or nowhere.
//  * A mapping is a key -> binding entry. The key is the inside endpoint plus,
//    by the mapping behaviour, nothing (endpoint-independent), the destination
//    IP (address-dependent) or the destination IP:port (address-and-port-
//    dependent). Port preservation lets several mappings of one inside
//    endpoint share a binding (see port-pool.h).
//  * A flow is one inside endpoint <-> remote endpoint pair (a TCP connection,
//    a UDP 5-tuple). Flows carry the idle timers and are the filter's memory:
//    address-dependent filtering admits remotes whose IP has a live flow on
//    the binding, address-and-port-dependent filtering admits exactly the
//    remotes with one. A binding, and its mappings, live while it has flows.
//
// Outbound packets always refresh their flow. Inbound packets refresh it only
// with refresh=both; then an inbound packet the filter admits from a remote
// the inside host never sent to opens a flow too, so that traffic keeps the
// binding alive (endpoint-independent filtering).
//
// A flow stays with the mapping it started on: SetMappingBehaviour changes
// how new flows are mapped, not live ones (the "new mappings for new flows"
// fault).
//
// Port mapping (NAT-PMP, PCP: port-mapping-server.h) makes an explicit
// mapping: endpoint-independent both ways, as RFC 6886 3.3 and RFC 6887 11
// grant it (every remote may send to it, and the inside endpoint's new flows
// leave from it, whatever the NAT's own mapping and filtering), held until
// its lease ends whatever its flows do. Its binding is an ordinary one
// otherwise: flows on it time out as any, and when the lease ends it lives
// on only while flows do. A reboot loses leases with everything else,
// unless the router keeps them (Reboot's `keep_port_mappings`).
//
// Expiry is exact at every call's `now` (each call first expires what ran
// out), and Expire/NextExpiry let a host run one timer for the whole table.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/nat/flow-tracker.h"
#include "punchlab/nat/flow-types.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-counters.h"
#include "punchlab/nat/port-pool.h"
#include "punchlab/random.h"
#include "punchlab/time.h"

namespace punchlab {
namespace nat {

struct OutboundResult {
  enum class Verdict : uint8_t {
    kTranslate,  // rewrite the source to `external_src`, send out
    kHairpin,    // rewrite the source to `external_src` and the destination to
                 // `inside_dst`, send back inside
    kDrop,       // see `reason`
  };
  Verdict verdict = Verdict::kDrop;
  DropReason reason = DropReason::kNone;
  Endpoint external_src;
  Endpoint inside_dst;
};

// One port-mapping lease (NatTable::PortLeases).
struct PortLease {
  Protocol protocol = Protocol::kUdp;
  Endpoint inside;
  Endpoint external;
  Timestamp until;
};

struct InboundResult {
  enum class Verdict : uint8_t {
    kTranslate,  // rewrite the destination to `inside_dst`, send inside
    kDrop,       // see `reason`
  };
  Verdict verdict = Verdict::kDrop;
  DropReason reason = DropReason::kNone;
  Endpoint inside_dst;
};

class NatTable {
 public:
  // `external` are the NAT's outside addresses, in pooling order; `rng` (kept
  // by reference) draws random ports.
  NatTable(NatConfig config, std::vector<IpAddress> external, RandomSource& rng);

  // A packet from the inside: `inside_src` -> `dst`. `flags` matter for TCP only.
  OutboundResult Outbound(Timestamp now, Protocol protocol, const Endpoint& inside_src,
                          const Endpoint& dst, TcpFlags flags = TcpFlags());
  // A packet from outside: `remote_src` -> `external_dst` (one of our addresses).
  InboundResult Inbound(Timestamp now, Protocol protocol, const Endpoint& remote_src,
                        const Endpoint& external_dst, TcpFlags flags = TcpFlags());

  void Expire(Timestamp now);
  // When the next flow or port-mapping lease runs out (Timestamp::Max() if none).
  Timestamp NextExpiry();
  // Told about every binding whose last flow ran out (its mappings go with it),
  // for hosts that trace expiries.
  using ExpiryObserver =
      std::function<void(Protocol, const Endpoint& inside, const Endpoint& external)>;
  void SetExpiryObserver(ExpiryObserver observer) { expiry_observer_ = std::move(observer); }

  // Faults. Reboot forgets every mapping and flow (counted as lost; what had
  // already expired by `now` counts as expired) and, if given, comes back with
  // new external addresses.
  // With `keep_port_mappings` the leases come back on the same ports (a router
  // that stores them), each with no flows.
  void Reboot(Timestamp now, std::optional<std::vector<IpAddress>> new_external = std::nullopt,
              bool keep_port_mappings = false);

  // Port mapping: maps `inside` (an explicit, endpoint-independent mapping)
  // until `until`, on `suggested` when it is free (0: any), else where the
  // NAT's port assignment puts it; an inside endpoint that already has one
  // keeps its port and gets the new lease. nullopt when no port is free.
  std::optional<Endpoint> MapPort(Timestamp now, Protocol protocol, const Endpoint& inside,
                                  uint16_t suggested, Timestamp until);
  // Ends `inside`'s lease now; false when it had none.
  bool UnmapPort(Timestamp now, Protocol protocol, const Endpoint& inside);
  // Whether MapPort would put a new lease of `inside` on `port` (UPnP's
  // AddPortMapping takes that port or none): with paired pooling on the
  // inside host's address, with arbitrary pooling on any external address
  // of its family (the first, in order, where the port is free).
  bool PortAvailable(Protocol protocol, const Endpoint& inside, uint16_t port);
  // Every lease of `protocol`: inside endpoint and external endpoint.
  std::vector<std::pair<Endpoint, Endpoint>> PortMappings(Protocol protocol) const;
  // Every lease of both protocols, the most recently granted first (a
  // renewal keeps its place): miniupnpd's list of redirections, which UPnP's
  // GetGenericPortMappingEntry walks by index (its nftables backend reads
  // the rules in chain order into a list it fills from the head).
  std::vector<PortLease> PortLeases() const;
  // The external endpoint `inside` is leased, if any.
  std::optional<Endpoint> PortMapped(Protocol protocol, const Endpoint& inside) const;
  // When `inside`'s lease ends, if it has one (UPnP's
  // GetSpecificPortMappingEntry reports the time left).
  std::optional<Timestamp> PortMappedUntil(Protocol protocol, const Endpoint& inside) const;
  size_t port_mapping_count() const { return leases_.size(); }
  const PortMappingCounters& port_mapping_counters() const { return lease_counters_; }
  void SetMappingBehaviour(Dependence mapping) { config_.mapping = mapping; }

  bool IsExternalAddress(const IpAddress& ip) const;
  const std::vector<IpAddress>& external_addresses() const { return external_; }
  const NatConfig& config() const { return config_; }
  const NatCounters& counters() const { return counters_; }
  size_t mapping_count() const { return mappings_.size(); }
  size_t binding_count() const { return by_external_.size(); }
  size_t flow_count() const { return flows_.size(); }

 private:
  struct MappingKey {
    Protocol protocol;
    Dependence dependence;
    Endpoint inside;
    Endpoint remote;  // masked to what `dependence` keys on
    bool operator==(const MappingKey& o) const {
      return protocol == o.protocol && dependence == o.dependence && inside == o.inside &&
             remote == o.remote;
    }
  };
  struct MappingKeyHash {
    size_t operator()(const MappingKey& k) const noexcept;
  };
  struct ExternalKey {
    Protocol protocol;
    Endpoint external;
    bool operator==(const ExternalKey& o) const {
      return protocol == o.protocol && external == o.external;
    }
  };
  struct ExternalKeyHash {
    size_t operator()(const ExternalKey& k) const noexcept;
  };
  // A binding's live flows to one remote IP (address-dependent filtering).
  struct RemoteIpKey {
    uint32_t binding;
    IpAddress remote_ip;
    bool operator==(const RemoteIpKey& o) const {
      return binding == o.binding && remote_ip == o.remote_ip;
    }
  };
  struct RemoteIpKeyHash {
    size_t operator()(const RemoteIpKey& k) const noexcept;
  };
  struct Binding {
    Protocol protocol = Protocol::kUdp;
    Endpoint inside;
    Endpoint external;
    size_t pool = 0;
    uint32_t flows = 0;
    std::vector<MappingKey> keys;  // the mappings that lead here
    std::optional<Timestamp> lease_until;  // port mapping: explicit until then
    uint64_t lease_serial = 0;             // port mapping: when granted (PortLeases' order)
  };
  struct LeaseKey {
    Protocol protocol;
    Endpoint inside;
    bool operator<(const LeaseKey& o) const {
      return protocol != o.protocol ? protocol < o.protocol : inside < o.inside;
    }
  };
  struct Allocation {
    size_t pool;
    uint16_t port;
  };

  static MappingKey KeyFor(Dependence d, Protocol protocol, const Endpoint& inside,
                           const Endpoint& dst);
  size_t PoolIndex(size_t ip_index, Protocol protocol) const;
  // The pool where a new lease of `inside` can take `port`, if any
  // (PortAvailable's rule).
  std::optional<size_t> PoolForPort(Protocol protocol, const Endpoint& inside, uint16_t port);
  // The binding for a new mapping `key`, reusing a shared one when port
  // preservation allows; nullopt with `reason` set when none can be had.
  std::optional<uint32_t> NewMapping(const MappingKey& key, DropReason* reason);
  std::optional<Allocation> Allocate(const Endpoint& inside, Protocol protocol,
                                     DropReason* reason);
  // The binding for `key` on `alloc`'s port (shared when this inside
  // endpoint already holds it), with the mapping recorded.
  uint32_t Bind(const MappingKey& key, const Allocation& alloc);
  std::optional<size_t> PairedAddress(const IpAddress& inside_ip);
  // `flow` is the inside endpoint's flow with `remote`, if any.
  bool FilterAdmits(uint32_t binding, const Endpoint& remote,
                    const FlowTracker::Flow* flow) const;
  // The inbound half shared by Inbound and hairpinning: filter, then refresh.
  InboundResult Admit(Timestamp now, Protocol protocol, const Endpoint& remote_src,
                      const Endpoint& external_dst, TcpFlags flags);
  void AddFlow(uint32_t binding, const Endpoint& remote);
  void OnFlowExpired(const FlowKey& key, const FlowTracker::Flow& flow);
  // Frees a binding with no flows (and its mappings).
  void FreeBinding(uint32_t index);
  void ExpireLeases(Timestamp now);
  void EndLease(std::map<LeaseKey, uint32_t>::iterator it);
  void ResetState();

  NatConfig config_;
  std::vector<IpAddress> external_;
  RandomSource& rng_;
  NatCounters counters_;
  ExpiryObserver expiry_observer_;

  FlowTracker flows_;                  // flow owner = binding index
  std::vector<PortPool> pools_;        // per external address, per protocol
  std::vector<Binding> bindings_;      // slots; free ones listed in free_bindings_
  std::vector<uint32_t> free_bindings_;
  std::unordered_map<ExternalKey, uint32_t, ExternalKeyHash> by_external_;
  std::unordered_map<MappingKey, uint32_t, MappingKeyHash> mappings_;
  std::unordered_map<RemoteIpKey, uint32_t, RemoteIpKeyHash> remote_ips_;  // -> live flows
  std::unordered_map<IpAddress, size_t> paired_;  // inside IP -> external address index
  size_t next_pair_ = 0;       // paired pooling: next address to pair a new inside IP with
  size_t next_arbitrary_ = 0;  // arbitrary pooling: address a new mapping tries first
  std::map<LeaseKey, uint32_t> leases_;  // port mapping: inside endpoint -> binding
  PortMappingCounters lease_counters_;
  uint64_t last_lease_serial_ = 0;
};

}  // namespace nat
}  // namespace punchlab
