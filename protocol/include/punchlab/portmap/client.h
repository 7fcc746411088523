// The port-mapping client machine: asks the default gateway for a mapping of
// the node's UDP port with NAT-PMP (RFC 6886) or PCP (RFC 6887), keeps it
// fresh, releases it, and reports the mapped endpoint. It behaves as
// Tailscale's net/portmapper client (the facts below are from its source):
//
// * Probe: a NAT-PMP external-address request and a PCP ANNOUNCE to
//   gateway:5351, answers awaited for 250 ms (portMapServiceTimeout); a
//   protocol seen within 10 minutes (trustServiceStillAvailableDuration) is
//   not probed again.
// * Map (GetCachedMappingOrStartCreatingOne -> createOrGetMapping): a valid
//   mapping before its renew time is returned as is; otherwise one request
//   goes out, NAT-PMP unless only PCP was seen recently, asking for the
//   previous external port and a 7200 s lease. NAT-PMP also asks for the
//   external address when it is not known from a probe. No retransmission:
//   answers are awaited for 250 ms. When a probe within the last 5 s found
//   neither protocol, nothing is sent (Tailscale goes to UPnP there).
// * Renew at half the granted lease; the mapping is good until the lease
//   ends. Tailscale renews at the first endpoint update after that instant;
//   this machine renews on a timer at that instant (deliberate: an idle node
//   keeps its mapping, and the moment is deterministic).
// * Release: a request with lifetime 0 for the mapped port (PCP: with the
//   mapping's own nonce, as RFC 6887 section 15 requires; Tailscale sends a
//   fresh nonce there, tailscale#21127).
// * Answers count only from gateway:5351 (Tailscale's `src == pxpAddr`), so
//   a router that answers from another address is never heard
//   (tailscale#5502). A PCP MAP answer must carry the request's nonce
//   (Tailscale ignores it). An answer whose epoch is lower than the
//   mapping's says the server lost its state (Tailscale's
//   maybeInvalidate*MappingLocked): the mapping is dropped and made again.
//   So does an epoch more than 2 s under the last one heard plus 7/8 of the
//   time since (RFC 6886 3.6, RFC 6887 8.5), which catches a router that
//   rebooted before it had counted up to the old epoch.
// * Mapping check (deliberate difference): while it holds a mapping, the
//   probe after every netcheck asks that mapping's server again (NAT-PMP's
//   address request, PCP's ANNOUNCE) instead of trusting it was seen within
//   10 minutes, so a router that rebooted and forgot the mapping is noticed
//   at the next netcheck, not at the renewal an hour later. Tailscale
//   trusts the service and keeps publishing the dead mapping until then
//   (a field scenario shows the difference: field/router-reboot-forgets-
//   port-mapping).
//
// Everything malformed, from elsewhere or not awaited is dropped and counted
// (ClientStats); nothing is thrown.
//
// UPnP IGD. With `ClientConfig::upnp` the probe also sends Tailscale's
// three SSDP M-SEARCHes (ssdp:all to gateway:1900, then ssdp:all and
// InternetGatewayDevice:1 to 239.255.255.250:1900: some IGDs answer only the
// multicast one, tailscale#3197). An answer counts from any address (the
// failover pair of tailscale#5502 answers from its own LAN address;
// Tailscale logs it and keeps it) when it comes from port 1900 and names
// ":InternetGatewayDevice:"; its LOCATION is kept (sorted, duplicates
// dropped, at most 10: processUPnPResponses). The probe waits 50 ms after
// the first such answer for more, unless NAT-PMP or PCP already answered
// (then their mapping is made and UPnP is not needed; Tailscale waits the
// whole 250 ms there). A service seen within 10 minutes is not searched for
// again. Where Tailscale falls back to UPnP (the probe saw neither NAT-PMP
// nor PCP, or their map request timed out) the machine emits UpnpWanted
// with the kept LOCATIONs; the UPnP machine (upnp-mapper.h) hands its result
// back with AdoptMapping or UpnpFailed, so renewal times, loss and
// publication stay in this one place. A UPnP mapping has no epoch, so
// nothing notices a router that forgot it before the renewal (Tailscale's
// behaviour, kept).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/datagram-machine.h"
#include "punchlab/portmap/mapping-protocol.h"
#include "punchlab/portmap/pcp.h"
#include "punchlab/portmap/pmp.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "punchlab/random.h"

namespace punchlab {
namespace portmap {

struct Mapping {
  MappingProtocol protocol = MappingProtocol::kPmp;
  Endpoint internal;  // the node's socket: LAN address and UDP port
  Endpoint external;  // what peers send to
  Timestamp renew_after;
  Timestamp good_until;
  uint32_t epoch_seconds = 0;  // the server's epoch in its last answer
  Timestamp epoch_at;          // when that answer came
};

struct ClientConfig {
  bool pmp = true;
  bool pcp = true;
  bool upnp = false;  // see the file comment: UpnpWanted instead of a failure
  Duration probe_timeout = Duration::Millis(250);
  Duration map_timeout = Duration::Millis(250);
  uint32_t lifetime_seconds = 7200;
  Duration trust_service = Duration::Seconds(600);
  Duration recent_probe = Duration::Seconds(5);
  // A renewal that failed is tried again this long after (never later than
  // halfway to the lease's end). Tailscale tries again at its next endpoint
  // update, every 20-26 s while active.
  Duration renew_retry = Duration::Seconds(20);
};

// Events (protocol/README.md, "Events").
struct Probed {  // a probe ended: which services answered with success
  bool pmp = false;
  bool pcp = false;
  bool upnp = false;  // an IGD answered the search (or was seen recently)
};
struct MappingCreated {
  Mapping mapping;
  bool renewal = false;  // an existing mapping was refreshed (its external may have changed)
};
struct MappingFailed {
  MappingProtocol protocol = MappingProtocol::kPmp;
  std::string reason;  // "timeout", "no-service", or the result code's name
  std::optional<uint16_t> result_code;
};
enum class LossReason : uint8_t { kExpired, kEpochReset, kReleased, kGatewayChanged };
const char* ToString(LossReason r);  // expired, epoch-reset, released, gateway-changed
struct MappingLost {
  Mapping mapping;
  LossReason reason = LossReason::kExpired;
};
struct UpnpWanted {  // Tailscale's getUPnPPortMapping call
  IpAddress gateway;
  Endpoint internal;
  uint16_t previous_external_port = 0;
  std::vector<std::string> locations;  // the SSDP answers' LOCATIONs (uPnPMetas)
};
using ClientEvent = std::variant<Probed, MappingCreated, MappingFailed, MappingLost, UpnpWanted>;

struct ClientStats {
  uint64_t probes = 0;
  uint64_t pmp_requests_sent = 0;
  uint64_t pcp_requests_sent = 0;
  uint64_t mappings_created = 0;
  uint64_t renewals = 0;
  uint64_t failures = 0;        // MappingFailed events
  uint64_t timeouts = 0;        // of those, no answer in time
  uint64_t error_answers = 0;   // answers with a non-success result code
  uint64_t released = 0;
  uint64_t expired = 0;
  uint64_t epoch_resets = 0;
  uint64_t mapping_checks = 0;  // probes that asked the held mapping's server again
  uint64_t dropped_malformed = 0;       // neither codec reads it
  uint64_t dropped_wrong_source = 0;    // not from gateway:5351
  uint64_t dropped_unexpected = 0;      // well formed but nothing awaits it
  uint64_t dropped_nonce_mismatch = 0;  // PCP MAP answer for another nonce
  uint64_t ssdp_searches_sent = 0;
  uint64_t ssdp_answers = 0;            // IGD answers kept
  uint64_t ssdp_dropped = 0;            // from port 1900 but not an IGD answer, or too many
};

class Client final : public DatagramMachine {
 public:
  // Nonces come from `rng`, which must outlive the client.
  explicit Client(RandomSource& rng, ClientConfig config = {});

  // The default gateway and the node's socket (requests leave from it, and it
  // is what gets mapped). A change forgets every mapping and what was seen;
  // true when it was one.
  bool SetGateway(Timestamp now, const Endpoint& local, const IpAddress& gateway);
  const std::optional<Endpoint>& local() const { return local_; }
  // Tailscale's Probe: no-op without a gateway or while one runs.
  void Probe(Timestamp now);
  // Tailscale's GetCachedMappingOrStartCreatingOne: the mapped endpoint while
  // the mapping is good; starts making one when there is none or it is due.
  std::optional<Endpoint> CachedMappingOrStartCreating(Timestamp now);
  // Deletes the mapping at the gateway (no answer awaited) and forgets it.
  void Release(Timestamp now);
  // A mapping another machine made (UPnP) becomes this client's.
  void AdoptMapping(Timestamp now, const Mapping& mapping);
  // The UPnP machine could not make (or renew) one: MappingFailed, and a
  // renewal is tried again after renew_retry.
  void UpnpFailed(Timestamp now, std::string reason, std::optional<uint16_t> code);
  // The IGDs' LOCATIONs the last searches found (empty: none).
  const std::vector<std::string>& upnp_locations() const { return upnp_locations_; }

  // Whether a datagram that reached the node's socket is for this client
  // (the node hands it here, else to STUN / disco / WireGuard). Tailscale
  // reads the services' answers on sockets of their own, so a peer's
  // traffic from port 1900 or 5351 never reaches its portmapper; on one
  // socket the same holds by the answer's source and shape: NAT-PMP / PCP
  // only from the gateway's port 5351 (as Tailscale reads them), SSDP only
  // an HTTP answer from port 1900 (from any host: tailscale#5502's routers
  // answer from another LAN address).
  bool Claims(const Endpoint& remote, ByteView payload) const;
  void HandleDatagram(Timestamp now, const Endpoint& local, const Endpoint& remote,
                      ByteView payload) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Transmit> PollTransmit() override;
  std::optional<Timestamp> PollTimeout() const override;
  std::optional<ClientEvent> PollEvent();

  const std::optional<Mapping>& mapping() const { return mapping_; }
  bool probing() const { return probe_.has_value(); }
  bool creating() const { return creating_.has_value(); }
  const ClientStats& stats() const { return stats_; }
  const ClientConfig& config() const { return config_; }

 private:
  struct ProbeState {
    Timestamp deadline;
    bool want_pmp = false;
    bool want_pcp = false;
    bool want_upnp = false;
    std::optional<Timestamp> upnp_until;  // 50 ms after the first IGD answer
    std::vector<upnp::SsdpAnswer> metas;  // every IGD answer kept
    std::vector<std::string> locations;   // their LOCATIONs, sorted and one each
    Probed result;
  };
  struct Creating {
    MappingProtocol protocol = MappingProtocol::kPmp;
    Timestamp deadline;
    pcp::Nonce nonce{};
    std::optional<IpAddress> external_ip;  // NAT-PMP: from the address answer
    std::optional<pmp::Response> map;      // NAT-PMP: the map answer
    bool renewal = false;
  };

  bool SawPmpRecently(Timestamp now) const;
  bool SawPcpRecently(Timestamp now) const;
  bool SawUpnpRecently(Timestamp now) const;
  void HandleSsdp(Timestamp now, ByteView payload);
  UpnpWanted Wanted(uint16_t previous_port) const;
  void StartCreating(Timestamp now);
  void Send(Bytes payload, MappingProtocol protocol);
  // Ends an attempt; a failed renewal is tried again after renew_retry.
  void Fail(Timestamp now, MappingProtocol protocol, std::string reason,
            std::optional<uint16_t> code);
  void Lose(LossReason reason);
  // An answer's epoch: a lower one than the mapping's means the server's
  // state is gone (the mapping with it).
  void NoteEpoch(Timestamp now, MappingProtocol protocol, uint32_t epoch);
  void Grant(Timestamp now, MappingProtocol protocol, const Endpoint& external,
             uint32_t lifetime_seconds, uint32_t epoch);
  void HandlePmp(Timestamp now, const pmp::Response& res);
  void HandlePcp(Timestamp now, const pcp::Response& res);
  void FinishProbeIfComplete(Timestamp now);

  RandomSource& rng_;
  ClientConfig config_;
  std::optional<Endpoint> local_;
  std::optional<IpAddress> gateway_;

  std::optional<ProbeState> probe_;
  std::optional<Timestamp> last_probe_;
  std::optional<Timestamp> pmp_seen_;
  std::optional<IpAddress> pmp_public_ip_;
  std::optional<Timestamp> pcp_seen_;
  std::optional<Timestamp> upnp_seen_;
  std::vector<std::string> upnp_locations_;

  std::optional<Creating> creating_;
  std::optional<Mapping> mapping_;
  pcp::Nonce mapping_nonce_{};  // the PCP mapping's nonce (renewal, release)
  Timestamp next_renewal_;      // renew_after, pushed back after a failed attempt

  std::deque<Transmit> transmits_;
  std::deque<ClientEvent> events_;
  ClientStats stats_;
};

}  // namespace portmap
}  // namespace punchlab
