// A deterministic, virtual-time world for sans-IO machines (after quinn's and
// str0m's test drivers): any DatagramMachine and/or StreamMachine is hosted
// on a host by address; datagrams cross access links, NATs and the internet
// with latency and loss; streams are in-memory TCP-like byte pipes. Nothing
// sleeps: the clock jumps to the earliest pending delivery or machine
// timeout, so minutes of protocol time take milliseconds.
//
// Topology.
//   Realms are address spaces. Realm 0 (kInternet) is the public one; every
//   NAT has an outside realm and creates an inside realm behind it (NATs
//   nest, so a CGNAT is a NAT inside another's inside realm). A host sits in
//   one realm with one or more addresses and an access link (latency, loss);
//   a NAT's uplink is its access link in the outside realm.
//   One-way datagram delay = the sender's access latency + every NAT uplink
//   crossed + the receiver's access latency (+ SetPair extras). Every hop is
//   its own scheduled event, so a NAT sees a packet when it gets there: a
//   simultaneous open works or fails at the right instant.
//   Routing inside a realm: a host holding the destination address, else a
//   NAT whose external address it is (inbound), else up through the realm's
//   gateway NAT (outbound); anything else is undeliverable. A NAT sending to
//   its own external address hairpins when its config allows it. IPv6
//   crosses a NAT outbound untranslated; nothing routes IPv6 into a realm.
//
// Datagrams: a machine's Transmit must come from an address of its host
// (else dropped, counted as bad_source); it is delivered to the machine
// bound at the destination endpoint (exact match). Loss draws from the
// world's seeded random stream, only for links whose loss is strictly
// between 0 and 1, so lossless runs draw nothing.
//
// Streams: kConnect resolves a route like a datagram would (through NATs
// outbound only: the server sees the outermost NAT's address and a fresh
// port; no NAT state, timeouts or loss apply to streams). The listener is
// told at +L, the client at +2L (L = one-way latency); bytes arrive at +L in
// order; a close reaches the other end after the bytes sent before it. A
// connect nobody accepts fails (HandleClosed) after the round trip to where
// it was refused (the host that does not listen, or the end of the route).
// Server-side ConnectionIds are assigned by the world from 2^40 up.
//
// Drain rule: after every input to a machine the world polls its transmits
// and stream actions until empty, then calls its `after_input` (to drain the
// machine's own events), then polls again. A machine that is both shapes
// (one object) gets one HandleTimeout per wake-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "punchlab/bytes.h"
#include "punchlab/datagram-machine.h"
#include "punchlab/endpoint.h"
#include "punchlab/random.h"
#include "punchlab/stream-machine.h"
#include "punchlab/time.h"
#include "punchlab/transmit.h"
#include "support/mini-nat.h"

namespace punchlab {
namespace testsupport {

using RealmId = size_t;
using HostId = size_t;
using NatId = size_t;
using MachineId = size_t;
using StreamLinkId = size_t;

struct LinkParams {
  Duration latency = Duration::Millis(1);  // one way
  double loss = 0.0;                       // datagrams only, [0, 1]
};

struct MachineSpec {
  std::string name;
  DatagramMachine* datagram = nullptr;
  StreamMachine* stream = nullptr;
  std::vector<Endpoint> udp;     // bound UDP endpoints (addresses of the host)
  std::vector<Endpoint> listen;  // TCP listen endpoints (addresses of the host)
  std::function<void(Timestamp)> after_input;
};

struct WorldStats {
  uint64_t datagrams_sent = 0;
  uint64_t datagrams_delivered = 0;
  uint64_t datagrams_lost = 0;           // link or pair loss
  uint64_t datagrams_nat_dropped = 0;    // no mapping, filtered, no port, no hairpin
  uint64_t datagrams_undeliverable = 0;  // no route, or nobody bound there
  uint64_t datagrams_bad_source = 0;     // source not an address of the sending host
  uint64_t datagrams_intercepted = 0;    // dropped by `intercept`
  uint64_t streams_opened = 0;
  uint64_t streams_refused = 0;
  // kConnect with TLS: this world has none, so the connect fails (as in ns-3).
  uint64_t streams_refused_tls = 0;
};

// A datagram handed to a machine.
struct DatagramSeen {
  Timestamp at;
  MachineId machine = 0;
  Endpoint local;
  Endpoint remote;
  ByteView payload;
};

class VirtualWorld {
 public:
  static constexpr RealmId kInternet = 0;

  explicit VirtualWorld(uint64_t seed = 1);
  ~VirtualWorld();
  VirtualWorld(const VirtualWorld&) = delete;
  VirtualWorld& operator=(const VirtualWorld&) = delete;

  // ---- topology ----
  NatId AddNat(const std::string& name, RealmId outside, IpAddress external, NatConfig config,
               LinkParams uplink = {});
  RealmId InsideOf(NatId nat) const;
  MiniNat& nat(NatId nat);
  void SetUplink(NatId nat, LinkParams uplink);
  HostId AddHost(const std::string& name, RealmId realm, std::vector<IpAddress> addresses,
                 LinkParams access = {});
  void SetAccess(HostId host, LinkParams access);
  // Between two addresses, both directions, wherever they meet: extra
  // one-way latency (datagrams and new streams) and datagram loss.
  void SetPair(const IpAddress& a, const IpAddress& b, Duration extra_latency, double loss);

  // ---- machines ----
  // The machine must outlive its attachment (until Detach or the world's end).
  MachineId Attach(HostId host, MachineSpec spec);
  enum class Departure : uint8_t {
    kClose,   // its connections close: the other ends hear it after one latency
    kSilent,  // it vanishes: the other ends hear nothing, their bytes go nowhere
  };
  // Unbinds everything; the world never touches the machine again.
  void Detach(MachineId machine, Departure how);
  // The host's sockets change (an interface address comes or goes).
  void Bind(MachineId machine, const Endpoint& udp);
  void Unbind(const Endpoint& udp);
  // The machine starts or stops accepting at `tcp`; connections it already
  // accepted stay, and a connect to an endpoint nobody listens on is refused.
  void Listen(MachineId machine, const Endpoint& tcp);
  void Unlisten(const Endpoint& tcp);
  // A command to a machine at the current time, then the drain rule.
  void Do(MachineId machine, const std::function<void(Timestamp)>& command);

  // ---- time ----
  Timestamp now() const { return now_; }
  // Handles everything due up to and including `until`; the clock ends there.
  void RunUntil(Timestamp until);
  void RunFor(Duration d) { RunUntil(now_ + d); }
  // Runs until `done()` holds (checked after every step) or `deadline`
  // passes; true if it held. The clock stops where it became true.
  bool RunUntilTrue(const std::function<bool()>& done, Timestamp deadline);

  // Runs `fn` at `at` (not before now), between machine steps: traffic
  // generators and scripted faults. `fn` may command machines with Do().
  void At(Timestamp at, std::function<void()> fn);

  // ---- injection and observation ----
  // Hands `payload` to the machine bound at `to` now, as if from `from`
  // (no routing, no NAT): forged or replayed packets for tests.
  void InjectDatagram(const Endpoint& to, const Endpoint& from, Bytes payload);
  std::function<void(const DatagramSeen&)> on_deliver;
  // Sees every datagram a machine sends, before any link or NAT, and may
  // rewrite it; false drops it (counted as intercepted). For tests that
  // script a middlebox by hand.
  std::function<bool(MachineId, Transmit&)> intercept;

  // Keep every stream byte per connection and direction (StreamBytes*).
  bool capture_streams = false;
  // Writes are cut into segments of at most this many bytes.
  size_t max_segment = std::numeric_limits<size_t>::max();
  std::vector<StreamLinkId> StreamLinksTo(const Endpoint& server) const;
  // The connections a machine opened, oldest first.
  std::vector<StreamLinkId> StreamLinksFrom(MachineId client) const;
  // Whether the server's end is still open (it has not closed or seen a close).
  bool StreamOpenAtServer(StreamLinkId link) const;
  // The ConnectionId the server's machine knows the link by (unset if refused).
  std::optional<ConnectionId> StreamServerConn(StreamLinkId link) const;
  // Bytes into the client-to-server direction now, after whatever the client
  // wrote so far, as if the client had written them (a replay, a forgery).
  void InjectStream(StreamLinkId link, Bytes bytes);
  const Bytes& StreamBytesToServer(StreamLinkId link) const;
  const Bytes& StreamBytesToClient(StreamLinkId link) const;
  // Both ends learn now that the connection is gone (reset).
  void CutStream(StreamLinkId link);
  // From now on nothing crosses either way and nobody is told.
  void BlackholeStream(StreamLinkId link);

  const WorldStats& stats() const { return stats_; }
  const std::string& MachineName(MachineId m) const;

 private:
  struct Realm {
    std::optional<NatId> gateway;  // the NAT this realm is the inside of
  };
  struct Host {
    std::string name;
    RealmId realm = kInternet;
    std::vector<IpAddress> addresses;
    LinkParams access;
    uint16_t next_port = 30000;  // ephemeral ports for outgoing streams
  };
  struct Nat {
    std::string name;
    RealmId outside = kInternet;
    RealmId inside = kInternet;
    std::unique_ptr<MiniNat> table;
    LinkParams uplink;
    uint16_t next_tcp_port = 20000;
  };
  struct Machine {
    HostId host = 0;
    MachineSpec spec;
    bool attached = true;
    bool one_object = false;  // datagram and stream are the same object
  };
  struct PairParams {
    Duration extra;
    double loss = 0.0;
  };
  enum class Stop : uint8_t { kHost, kNatInside, kNatOutside };
  struct Flight {
    Stop stop = Stop::kHost;
    size_t index = 0;  // host or NAT
    Transmit t;
  };
  struct StreamItem {
    enum class Kind : uint8_t { kConnected, kData, kClosed };
    StreamLinkId link = 0;
    bool to_server = false;
    Kind kind = Kind::kData;
    Bytes data;
  };
  struct StreamLink {
    MachineId client = 0;
    ConnectionId client_conn = 0;
    Endpoint client_seen_as;  // after NATs
    std::optional<MachineId> server;
    ConnectionId server_conn = 0;
    Endpoint server_endpoint;
    Duration latency;
    bool client_open = true;
    bool server_open = true;
    bool blackholed = false;
    Bytes to_server;
    Bytes to_client;
  };
  // Where a connect goes: `server` unset when it is refused, `latency` how
  // far it got (one way) before it was.
  struct Route {
    std::optional<MachineId> server;
    Duration latency;
    Endpoint seen_as;
  };
  struct Call {
    std::function<void()> fn;
  };
  using Item = std::variant<Flight, StreamItem, Call>;

  // One step: the earliest delivery or due timeout, if at or before `until`.
  bool Step(Timestamp until);
  void Pump(MachineId m);
  std::optional<Timestamp> MachineTimeout(const Machine& m) const;
  void Schedule(Timestamp at, Item item);

  // Datagrams.
  void Send(MachineId from, Transmit t);
  void RouteIn(RealmId realm, Duration so_far, Transmit t, bool may_go_up);
  void Arrive(Flight f);
  void NatInbound(NatId id, Transmit t);
  void Deliver(const Endpoint& local, const Endpoint& remote, const Bytes& payload);
  bool Lost(double loss);
  const PairParams* Pair(const IpAddress& a, const IpAddress& b) const;
  std::optional<HostId> HostWith(RealmId realm, const IpAddress& ip) const;
  std::optional<NatId> NatWith(RealmId realm, const IpAddress& ip) const;
  bool HostHas(HostId host, const IpAddress& ip) const;

  // Streams.
  void OnAction(MachineId m, StreamAction a);
  Route ResolveStream(HostId from, const Endpoint& remote);
  void ArriveStream(const StreamItem& item);

  DeterministicRandom rng_;
  uint64_t seed_;
  Timestamp now_;
  uint64_t seq_ = 0;
  uint64_t steps_at_now_ = 0;
  std::vector<Realm> realms_;
  std::vector<Host> hosts_;
  std::vector<Nat> nats_;
  std::vector<std::unique_ptr<Machine>> machines_;
  std::map<std::pair<IpAddress, IpAddress>, PairParams> pairs_;
  std::map<Endpoint, MachineId> udp_bound_;
  std::map<Endpoint, MachineId> listening_;
  std::vector<StreamLink> links_;
  std::map<std::pair<MachineId, ConnectionId>, StreamLinkId> link_ends_;
  ConnectionId next_server_conn_ = ConnectionId{1} << 40;
  std::map<std::pair<Timestamp, uint64_t>, Item> queue_;
  WorldStats stats_;
};

}  // namespace testsupport
}  // namespace punchlab
