// The router's UPnP IGD (Internet Gateway Device, WANIPConnection:2), the
// third port-mapping service beside port-mapping-server.h's NAT-PMP / PCP,
// granting its mappings as entries of the same NAT table (NatTable::MapPort:
// endpoint-independent for the lease). One model for ns-3's NAT middlebox
// and the unit tests; it behaves as miniupnpd 2.3.1 does where the knobs do
// not say otherwise (the captured answers in tests/unit/portmap/miniupnpd-2.3.1):
//
// * SSDP (UPnP Device Architecture 1.1 section 1.3): an M-SEARCH to the
//   gateway's port 1900, or to 239.255.255.250:1900, for ssdp:all,
//   upnp:rootdevice or InternetGatewayDevice:1/2 gets one answer whose
//   LOCATION is http://<address>:2869/rootDesc.xml. `multicast_only`: the
//   unicast search is ignored (tailscale#3197). `answer_from: lan-address`:
//   the answer comes from the router's LAN address and LOCATION names it
//   (tailscale#5502's failover pair); the HTTP server listens on every
//   address, as miniupnpd on its LAN interface.
// * HTTP: GET /rootDesc.xml is the description (upnp-device.h); a POST to
//   /ctl/IPConn with a SOAPAction is a call; anything else is 404 (400 when
//   it is not HTTP). One request per connection ("Connection: close").
// * AddPortMapping / AddAnyPortMapping (the asking host's own address only,
//   606 otherwise, as miniupnpd's secure mode; NewRemoteHost must be the
//   wildcard, 726; NewExternalPort 0 is 716, as miniupnpd answers).
//   AddPortMapping takes the asked external port or answers 718; AddAny
//   takes it when free, else the NAT's own choice (NewReservedPort). One
//   lease per inside endpoint: asking again renews it (its port stays; an
//   AddPortMapping for another port is 718). The lease: what was asked, 0
//   (permanent) meaning 604800 s (WANIPConnection:2 section 2.3.16: "it is
//   REQUIRED that gateway uses the maximum value instead"; miniupnpd does
//   this, so it never answers 725), capped by `lease_limit` silently.
//   `upnp_lease_error` refuses leases with a duration with 402 or 725 (a
//   permanent one is granted); `error` refuses every mapping (606, 501 or
//   728 for not-authorized, network-failure, out-of-resources).
// * DeletePortMapping ends the asker's lease on that port; an absent one is
//   a success, as miniupnpd answers (not 714). GetExternalIPAddress is the
//   NAT's first external address; GetStatusInfo says Connected.
// * GetSpecificPortMappingEntry (upnpc checks its AddPortMapping with it):
//   the lease on that external port, any host's, as miniupnpd answers
//   (NewInternalPort, NewInternalClient, NewEnabled 1, an empty
//   NewPortMappingDescription: the table keeps none, NewLeaseDuration the
//   seconds left); none is 714 NoSuchEntryInArray, a port that is missing,
//   not a number or 0 is 402.
// * GetGenericPortMappingEntry (upnpc -l walks it from index 0): the
//   index-th lease of the NAT table, both protocols, the newest first as
//   miniupnpd's nftables backend lists its rules (NatTable::PortLeases);
//   the fields as miniupnpd fills them (NewRemoteHost empty, NewEnabled 1,
//   the description empty, NewLeaseDuration the seconds left); past the
//   end 713 SpecifiedArrayIndexInvalid; an index with no digits 402.
//   GetConnectionTypeInfo is IP_Routed. Other actions: 401.
// Everything that is not HTTP, not SOAP or not a search is dropped or
// answered with an error and counted; nothing is thrown. Without `upnp` in
// the config nothing answers (a connection is closed at once).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/port-mapping.h"
#include "punchlab/portmap/upnp-device.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"
#include "punchlab/transmit.h"

namespace punchlab {
namespace nat {

struct UpnpIgdCounters {
  uint64_t searches = 0;          // M-SEARCH datagrams read
  uint64_t searches_answered = 0;
  uint64_t searches_ignored = 0;  // unicast with multicast_only, or a target this IGD is not
  uint64_t ssdp_malformed = 0;    // not an M-SEARCH: dropped
  uint64_t http_requests = 0;
  uint64_t http_errors = 0;       // 400 / 404 / 405 answers, a connection closed before a request
  uint64_t descriptions = 0;
  uint64_t soap_calls = 0;
  uint64_t granted = 0;           // AddPortMapping / AddAnyPortMapping with a lease
  uint64_t renewed = 0;           // of those, an existing lease renewed
  uint64_t faults = 0;            // SOAP faults answered (every UPnP error code)
  uint64_t lease_refused = 0;     // of those, upnp_lease_error's 402 / 725
  uint64_t deleted = 0;
  uint64_t delete_absent = 0;     // DeletePortMapping of no lease: success anyway
  uint64_t entries_asked = 0;     // GetSpecificPortMappingEntry calls with valid args
  uint64_t entries_listed = 0;    // GetGenericPortMappingEntry calls with an index
  uint64_t not_offered = 0;       // searches and connections while the router offers no UPnP
};

class UpnpIgd {
 public:
  static constexpr uint16_t kHttpPort = 2869;  // miniupnpd's usual; the lab's too
  static constexpr const char* kDescriptionPath = "/rootDesc.xml";
  static constexpr const char* kControlPath = "/ctl/IPConn";
  static constexpr const char* kServiceType = "urn:schemas-upnp-org:service:WANIPConnection:2";
  static constexpr const char* kDeviceType = "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
  static constexpr uint32_t kMaxLeaseSeconds = 604800;

  // `table` (kept by reference) is the NAT's.
  UpnpIgd(PortMappingConfig config, NatTable& table);

  // A datagram from inside host `from` to `to` (the gateway's own address or
  // 239.255.255.250), port 1900; `gateway` is the router's address on that
  // LAN and `lan_address` its own one there (answer_from). The answer, if any.
  std::optional<Transmit> HandleSsdp(Timestamp now, const Endpoint& from, const IpAddress& to,
                                     const IpAddress& gateway, const IpAddress& lan_address,
                                     ByteView datagram);
  // One request read from a connection from `from`: the whole response.
  Bytes HandleHttp(Timestamp now, const Endpoint& from,
                   const portmap::upnp::HttpRequest& request);
  // A connection closed (or broke) before a whole request came.
  void CountBadRequest() { ++counters_.http_errors; }
  void CountNotOffered() { ++counters_.not_offered; }

  void SetConfig(const PortMappingConfig& config) { config_ = config; }
  const PortMappingConfig& config() const { return config_; }
  const UpnpIgdCounters& counters() const { return counters_; }

 private:
  Bytes Soap(Timestamp now, const Endpoint& from, const portmap::upnp::SoapCall& call);
  Bytes Fault(uint16_t code);
  Bytes SpecificEntry(Timestamp now, const portmap::upnp::SoapCall& call);
  Bytes GenericEntry(Timestamp now, const portmap::upnp::SoapCall& call);
  // Add(Any)PortMapping: the reserved port, or the UPnP error code.
  Bytes AddMapping(Timestamp now, const Endpoint& from, const portmap::upnp::SoapCall& call,
                   bool any);

  PortMappingConfig config_;
  NatTable& table_;
  UpnpIgdCounters counters_;
};

// The IGD's HTTP server as a stream machine a host runs on a listening
// socket (ns-3's MachineHost on the router node; the tests' byte pipes):
// reads one request per accepted connection, writes the IGD's response and
// closes. A connection that sends no whole request in `idle` is closed.
class UpnpIgdHttp final : public StreamMachine {
 public:
  explicit UpnpIgdHttp(UpnpIgd& igd, Duration idle = Duration::Seconds(30)) : igd_(igd), idle_(idle) {}

  void HandleConnected(Timestamp now, ConnectionId conn, const Endpoint& remote) override;
  void HandleStream(Timestamp now, ConnectionId conn, ByteView bytes) override;
  void HandleClosed(Timestamp now, ConnectionId conn) override;
  std::optional<StreamAction> PollStreamAction() override;
  void HandleTimeout(Timestamp now) override;
  std::optional<Timestamp> PollTimeout() const override;

 private:
  struct Conn {
    Endpoint remote;
    Timestamp deadline;
    portmap::upnp::HttpRequestReader reader;
  };
  void Finish(ConnectionId conn, Bytes response, const char* why);

  UpnpIgd& igd_;
  Duration idle_;
  std::map<ConnectionId, Conn> conns_;
  std::deque<StreamAction> actions_;
};

}  // namespace nat
}  // namespace punchlab
