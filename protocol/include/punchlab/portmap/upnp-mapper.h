// The UPnP IGD half of the port-mapping client: what Tailscale's
// net/portmapper does in getUPnPPortMapping once client.h's machine wants
// UPnP (UpnpWanted: the probe saw an IGD but neither NAT-PMP nor PCP, or
// their map request timed out). Sans-IO over the host's TCP connections
// (StreamMachine); the HTTP, XML and SOAP are the codec's (upnp-http.h,
// upnp-description.h, upnp-soap.h). Facts from Tailscale's upnp.go:
//
// * Candidates: the IGD whose service made the last mapping first (its
//   description is not fetched again, goupnp's cached RootDevice), then
//   every SSDP answer's LOCATION in the order the probe kept them.
// * A LOCATION whose host is not the gateway is repointed at the gateway,
//   port and path kept ("assumed to be floating", tailscale#5502's fix of
//   2023, 25a0091). Its host must be an IP address.
// * The description names the service (WANIPConnection:2 before :1 before
//   WANPPPConnection:1). With one service there is no GetStatusInfo.
// * Map: AddAnyPortMapping on WANIPConnection:2, else AddPortMapping, for
//   the node's UDP port, asking for the previous external port or, when
//   there is none (or it is under 1024), a random one in [1024, 65535), with
//   a 7200 s lease (pmpMapLifetimeSec). A fault 402 (tailscale#15223) or 725
//   (tailscale#9343) is retried once with lease 0 (permanent). Then
//   GetExternalIPAddress; 0.0.0.0 or a loopback address fails the IGD.
//   (Tailscale after #20781, Aug 2026, asks the address first; the snapshot
//   this follows asks after.)
// * The mapping is good for 7200 s and renewed after 3600 s whatever the IGD
//   granted: Tailscale never reads the lease back ("this time might not
//   technically be accurate"), so a router that grants less lets the mapping
//   lapse while the node still publishes it (field/upnp-lease-lapses).
// * Each exchange is one connection ("Connection: close") with a 1 s limit
//   (Tailscale's context for the description fetch). An IGD that fails
//   (HTTP error, fault, timeout, unreadable answer) passes to the next
//   candidate; none left: UpnpFailed.
// * Release: DeletePortMapping of the external port, answer not awaited.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "punchlab/portmap/client.h"
#include "punchlab/portmap/upnp-description.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"

namespace punchlab {
namespace portmap {

struct UpnpMapperConfig {
  Duration exchange_timeout = Duration::Seconds(1);
  uint32_t lifetime_seconds = 7200;
};

struct UpnpMapped {
  Mapping mapping;
};
struct UpnpFailed {
  std::string reason;  // the last candidate's: "no-igd", "timeout", "http-404", "fault", ...
  std::optional<uint16_t> code;  // the UPnP error code of a fault
};
using UpnpMapperEvent = std::variant<UpnpMapped, UpnpFailed>;

struct UpnpMapperStats {
  uint64_t attempts = 0;          // Map calls that started
  uint64_t connects = 0;          // exchanges (one connection each)
  uint64_t descriptions = 0;      // descriptions read with a usable service
  uint64_t repointed = 0;         // LOCATIONs repointed at the gateway
  uint64_t add_requests = 0;      // AddAnyPortMapping / AddPortMapping sent
  uint64_t permanent_retries = 0; // after 402 / 725
  uint64_t faults = 0;            // SOAP faults read
  uint64_t timeouts = 0;
  uint64_t bad_answers = 0;       // HTTP, XML or SOAP that could not be used
  uint64_t mapped = 0;
  uint64_t failed = 0;
  uint64_t releases = 0;
};

class UpnpMapper final : public StreamMachine {
 public:
  // Random external ports come from `rng`, which must outlive the mapper.
  explicit UpnpMapper(RandomSource& rng, UpnpMapperConfig config = {});

  // Tailscale's getUPnPPortMapping: ignored while an attempt runs.
  void Map(Timestamp now, const UpnpWanted& want);
  // DeletePortMapping of `mapping` at the IGD that made it (no answer awaited).
  void Release(Timestamp now, const Mapping& mapping);
  // The gateway changed: the cached IGD is forgotten, an attempt abandoned.
  void Forget();
  bool busy() const { return attempt_.has_value(); }

  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  void HandleTimeout(Timestamp now) override;
  std::optional<StreamAction> PollStreamAction() override;
  std::optional<Timestamp> PollTimeout() const override;
  std::optional<UpnpMapperEvent> PollEvent();

  const UpnpMapperStats& stats() const { return stats_; }

 private:
  enum class Step : uint8_t { kDescription, kAdd, kAddPermanent, kExternalIp, kRelease };
  struct Exchange {
    Step step = Step::kDescription;
    Endpoint remote;
    Bytes request;
    Timestamp deadline;
    upnp::Url url;  // what was asked (the description's URL resolves against it)
    upnp::HttpResponseReader reader;
  };
  struct Attempt {
    UpnpWanted want;
    std::deque<std::string> locations;  // candidates not tried yet
    bool cached_first = false;          // the cached IGD is the current candidate
    std::optional<upnp::IgdService> service;
    uint16_t asked_port = 0;
    uint16_t reserved_port = 0;
    std::string last_reason = "no-igd";
    std::optional<uint16_t> last_code;
  };

  // Opens one exchange; its response comes to OnResponse.
  void Open(Timestamp now, Step step, const upnp::Url& url, Bytes request);
  void OnResponse(Timestamp now, ConnectionId conn, Exchange ex);
  // The current candidate failed: the next one, or UpnpFailed.
  void NextCandidate(Timestamp now, std::string reason, std::optional<uint16_t> code = {});
  void StartAdd(Timestamp now, uint32_t lease_seconds);
  void Close(ConnectionId conn, const char* why);

  RandomSource& rng_;
  UpnpMapperConfig config_;
  std::optional<Attempt> attempt_;
  std::optional<upnp::IgdService> cached_;  // the IGD of the last mapping
  std::map<ConnectionId, Exchange> exchanges_;
  ConnectionId next_conn_ = 1;
  std::deque<StreamAction> actions_;
  std::deque<UpnpMapperEvent> events_;
  UpnpMapperStats stats_;
};

}  // namespace portmap
}  // namespace punchlab
