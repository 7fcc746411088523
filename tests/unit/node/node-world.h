// Nodes, a coordination server and DERP region nodes in the shared virtual
// world (support/virtual-world.h): the whole system in virtual time.
//
// Addresses (documentation ranges only):
//   control server  203.0.113.1:443
//   DERP region i   198.51.100.i:443 (DERP, TCP) and :3478 (STUN, UDP)
//   NATs            192.0.2.x outside; nodes behind them 10.x.y.z / 192.168.x.y
// Every node's UDP socket is <its address>:41641.
//
// Latencies are one way and additive (see the world): tests derive the RTTs
// and deadlines they expect from the numbers they configure here.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/control/identity.h"
#include "punchlab/control/server.h"
#include "punchlab/derp/region-node.h"
#include "punchlab/node/node.h"
#include "punchlab/random.h"
#include "support/virtual-world.h"

namespace punchlab {
namespace node_test {

using node::Node;
using node::NodeConfig;
using node::Path;
using testsupport::HostId;
using testsupport::LinkParams;
using testsupport::MachineId;
using testsupport::NatConfig;
using testsupport::NatId;
using testsupport::RealmId;
using testsupport::VirtualWorld;

constexpr char kDomain[] = "lab.example";
constexpr uint16_t kNodePort = 41641;

inline Duration Ms(int64_t ms) { return Duration::Millis(ms); }
inline Duration Sec(int64_t s) { return Duration::Seconds(s); }
inline Timestamp At(Duration d) { return Timestamp::Zero() + d; }
inline IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

struct RegionSpec {
  node::RegionId id;
  std::string name;
  IpAddress ip;
  Duration access;  // one way, from the region's host to the internet core
};

struct NodeHost {
  std::string name;
  HostId host = 0;
  IpAddress address;
  Duration access;
  NodePrivateKey key;  // kept: a restart is a new Node with the same key
  std::unique_ptr<DeterministicRandom> rng;
  std::unique_ptr<Node> node;
  MachineId machine = 0;
  int run = 0;
  std::vector<node::Event> events;  // of the current run

  NodePublicKey pub() const { return key.Public(); }
  Endpoint local() const { return Endpoint(address, kNodePort); }
  Path PathTo(const NodeHost& peer) const {
    return node->PathTo(peer.pub()).value_or(Path::None());
  }
  template <typename T>
  std::vector<std::pair<Timestamp, T>> EventsOf() const {
    std::vector<std::pair<Timestamp, T>> out;
    for (const node::Event& e : events) {
      if (const T* t = std::get_if<T>(&e.body)) out.emplace_back(e.at, *t);
    }
    return out;
  }
  std::vector<node::PathChanged> PathChangesTo(const NodeHost& peer) const {
    std::vector<node::PathChanged> out;
    for (const auto& [at, e] : EventsOf<node::PathChanged>()) {
      if (e.peer == peer.pub()) out.push_back(e);
    }
    return out;
  }
  // Data received from `peer` whose payload starts with `prefix`, per path kind.
  size_t Received(const NodeHost& peer, Path::Kind kind, const std::string& prefix = "") const {
    size_t n = 0;
    for (const auto& [at, e] : EventsOf<node::DataReceived>()) {
      const bool match = e.data.size() >= prefix.size() &&
                         std::equal(prefix.begin(), prefix.end(), e.data.begin());
      if (e.peer == peer.pub() && e.path.kind == kind && match) ++n;
    }
    return n;
  }
  node::PathCounters Counters(const NodeHost& peer, const Path& path) const {
    const std::optional<node::PeerStats> s = node->FindPeerStats(peer.pub());
    if (!s) return {};
    auto it = s->paths.find(path);
    return it == s->paths.end() ? node::PathCounters{} : it->second;
  }
};

inline Bytes Text(const std::string& s) { return Bytes(s.begin(), s.end()); }

class NodeWorld {
 public:
  static std::vector<RegionSpec> DefaultRegions() {
    return {{1, "near", Ip("198.51.100.1"), Ms(5)}, {2, "far", Ip("198.51.100.2"), Ms(40)}};
  }

  explicit NodeWorld(uint64_t seed = 1, std::vector<RegionSpec> regions = DefaultRegions(),
                     Duration control_access = Ms(5))
      : world(seed), seed_(seed), rng_(seed), regions_(std::move(regions)),
        idp_(SigningKey::Generate(rng_)) {
    control::ControlServerConfig cc;
    cc.trusted_issuers = {{idp_.verify_key(), {kDomain}}};
    for (const RegionSpec& r : regions_) {
      cc.derp_map.regions.push_back(control::DerpRegion{r.id, r.name, {PlainDerpNode(r)}});
    }
    control_rng_ = std::make_unique<DeterministicRandom>(rng_.Fork("control"));
    control_ = std::make_unique<control::ControlServer>(NodePrivateKey::Generate(*control_rng_),
                                                        cc, *control_rng_);
    const HostId ch = world.AddHost("control", VirtualWorld::kInternet, {kControl.ip},
                                    LinkParams{control_access, 0});
    world.Attach(ch, {"control", nullptr, control_.get(), {}, {kControl}, {}});
    for (const RegionSpec& r : regions_) {
      region_rngs_.push_back(std::make_unique<DeterministicRandom>(rng_.Fork("derp/" + r.name)));
      DeterministicRandom& rr = *region_rngs_.back();
      stun::StunServerConfig sc;
      sc.primary = Endpoint(r.ip, 3478);
      regions_nodes_.push_back(
          std::make_unique<derp::RegionNode>(NodePrivateKey::Generate(rr), rr, sc));
      derp::RegionNode* rn = regions_nodes_.back().get();
      const HostId h =
          world.AddHost("derp-" + r.name, VirtualWorld::kInternet, {r.ip}, LinkParams{r.access, 0});
      region_machines_.push_back(world.Attach(h, {"derp-" + r.name, rn, rn, {sc.primary}, {Derp(r)}, {}}));
    }
  }

  // A failing test shows what every node saw (any test, with
  // PUNCHLAB_NODE_LOG set in the environment).
  ~NodeWorld() {
    if (!::testing::Test::HasFailure() && std::getenv("PUNCHLAB_NODE_LOG") == nullptr) return;
    for (const std::string& line : log) std::printf("%s\n", line.c_str());
  }
  NodeWorld(const NodeWorld&) = delete;
  NodeWorld& operator=(const NodeWorld&) = delete;

  static Endpoint Derp(const RegionSpec& r) { return Endpoint(r.ip, 443); }
  // The region's server in a DERP map: plain HTTP, since the virtual world
  // has no TLS (it refuses a TLS connect, as ns-3 does).
  static control::DerpNode PlainDerpNode(const RegionSpec& r) {
    control::DerpNode n{r.name + "1", Derp(r), 3478};
    n.plain_http = true;
    return n;
  }
  const RegionSpec& Region(node::RegionId id) const {
    for (const RegionSpec& r : regions_) {
      if (r.id == id) return r;
    }
    throw std::logic_error("no such region");
  }
  derp::RegionNode& RegionServer(node::RegionId id) {
    for (size_t i = 0; i < regions_.size(); ++i) {
      if (regions_[i].id == id) return *regions_nodes_[i];
    }
    throw std::logic_error("no such region");
  }
  control::ControlServer& control_server() { return *control_; }
  // The region's server process is gone for good (`how`: whether its TCP
  // peers notice).
  void StopRegion(node::RegionId id, VirtualWorld::Departure how) {
    for (size_t i = 0; i < regions_.size(); ++i) {
      if (regions_[i].id == id) world.Detach(region_machines_[i], how);
    }
  }

  NatId AddNat(const std::string& name, const char* external, NatConfig config,
               Duration uplink = Ms(10)) {
    return world.AddNat(name, VirtualWorld::kInternet, Ip(external), config,
                        LinkParams{uplink, 0});
  }

  // A node (not started) in `realm` at `address`.
  // `spare` addresses go to the host too (for a node to move to later).
  NodeHost& AddNode(const std::string& name, RealmId realm, const char* address,
                    Duration access = Ms(1), std::vector<IpAddress> spare = {}) {
    auto h = std::make_unique<NodeHost>(NodeHost{name, 0, Ip(address), access,
                                                 NodePrivateKey::Generate(rng_), {}, {}, 0, 0, {}});
    spare.insert(spare.begin(), h->address);
    h->host = world.AddHost(name, realm, std::move(spare), LinkParams{access, 0});
    hosts_.push_back(std::move(h));
    NodeHost& n = *hosts_.back();
    NewRun(n);
    return n;
  }

  void Start(NodeHost& n) {
    world.Do(n.machine, [&n](Timestamp now) { n.node->Start(now); });
  }
  void StartAll() {
    for (auto& h : hosts_) Start(*h);
  }

  // The node's process dies (`how` says whether its TCP peers notice) and a
  // new one starts at once with the same node key: a fresh disco key.
  void Restart(NodeHost& n, VirtualWorld::Departure how) {
    world.Detach(n.machine, how);
    retired_.push_back(std::move(n.node));
    retired_rngs_.push_back(std::move(n.rng));
    NewRun(n);
    Start(n);
  }

  // Every node registered, connected to its home DERP region, and holding
  // every other node's current endpoints as candidates.
  bool Ready() const {
    for (const auto& a : hosts_) {
      const Node& n = *a->node;
      if (!n.registered() || n.home_region() == node::kNoRegion ||
          !n.DerpConnected(n.home_region())) {
        return false;
      }
      for (const auto& b : hosts_) {
        if (a == b) continue;
        // The netmap lists b with every endpoint b publishes (b's PeerPaths,
        // made at first use, takes its candidates from there).
        const control::NodeInfo* info = n.FindPeerInfo(b->pub());
        if (info == nullptr) return false;
        for (const Endpoint& ep : b->node->endpoints()) {
          if (std::find(info->endpoints.begin(), info->endpoints.end(), ep) ==
              info->endpoints.end()) {
            return false;
          }
        }
        if (b->node->endpoints().size() < 2) return false;  // no STUN answer yet
      }
    }
    return true;
  }
  // Starts every node and runs until Ready (asserted within 10 s).
  void StartAndSettle() {
    StartAll();
    ASSERT_TRUE(world.RunUntilTrue([this] { return Ready(); }, world.now() + Sec(10)))
        << "nodes did not settle";
  }

  // `from` sends "<tag>-<i>" to `to` every `period`, from now until `until`.
  // Sends every `period` from `delay` after now until `until`.
  void Traffic(NodeHost& from, const NodeHost& to, const std::string& tag, Duration period,
               Timestamp until, Duration delay = Duration::Zero()) {
    auto counter = std::make_shared<int>(0);
    sent_[{from.name, tag}] = counter;
    ticks_.push_back(std::make_unique<std::function<void()>>());
    std::function<void()>* tick = ticks_.back().get();
    NodeHost* f = &from;
    const NodePublicKey dst = to.pub();
    *tick = [this, f, dst, tag, period, until, counter, tick] {
      const Bytes payload = Text(tag + "-" + std::to_string((*counter)++));
      world.Do(f->machine, [f, &dst, &payload](Timestamp now) { f->node->Send(now, dst, payload); });
      if (world.now() + period <= until) world.At(world.now() + period, [tick] { (*tick)(); });
    };
    world.At(world.now() + delay, [tick] { (*tick)(); });
  }
  int SentCount(const NodeHost& from, const std::string& tag) const {
    auto it = sent_.find({from.name, tag});
    return it == sent_.end() ? 0 : *it->second;
  }

  // Every event of every node, "t=<time> <node> <event>", in order.
  std::vector<std::string> log;

  VirtualWorld world;
  // NodeConfig::disco_log of the nodes started from here on.
  bool disco_log = false;
  // NodeConfig::data_plane of the nodes started from here on.
  node::DataPlane data_plane = node::DataPlane::kSealedFrame;
  // NodeConfig::gateway of the nodes started from here on, by node name
  // (none: no port mapping).
  std::map<std::string, IpAddress> gateways;

 private:
  void NewRun(NodeHost& n) {
    ++n.run;
    n.events.clear();
    n.rng = std::make_unique<DeterministicRandom>(
        rng_.Fork("node/" + n.name + "/run" + std::to_string(n.run)));
    NodeConfig c;
    c.control.server = kControl;
    c.control.server_key = control_->public_key();
    c.token = *idp_.Issue({n.name, kDomain, n.key.Public(), At(Sec(365 * 24 * 3600))});
    c.local_endpoints = {n.local()};
    c.disco_log = disco_log;
    c.data_plane = data_plane;
    if (auto gw = gateways.find(n.name); gw != gateways.end()) c.gateway = gw->second;
    n.node = std::make_unique<Node>(n.key.Clone(), *n.rng, std::move(c));
    NodeHost* h = &n;
    n.machine = world.Attach(
        n.host, {n.name, n.node.get(), n.node.get(), {n.local()}, {}, [this, h](Timestamp) {
                   while (auto e = h->node->PollEvent()) {
                     log.push_back("t=" + (e->at - Timestamp::Zero()).ToString() + " " + h->name +
                                   " " + node::Describe(e->body));
                     h->events.push_back(std::move(*e));
                   }
                 }});
  }

  inline static const Endpoint kControl = Endpoint(IpAddress::V4(203, 0, 113, 1), 443);

  uint64_t seed_;
  DeterministicRandom rng_;
  std::vector<RegionSpec> regions_;
  control::IdentityProvider idp_;
  std::unique_ptr<DeterministicRandom> control_rng_;
  std::unique_ptr<control::ControlServer> control_;
  std::vector<std::unique_ptr<DeterministicRandom>> region_rngs_;
  std::vector<std::unique_ptr<derp::RegionNode>> regions_nodes_;
  std::vector<std::unique_ptr<NodeHost>> hosts_;
  std::vector<std::unique_ptr<Node>> retired_;
  std::vector<std::unique_ptr<DeterministicRandom>> retired_rngs_;
  std::vector<MachineId> region_machines_;
  std::map<std::pair<std::string, std::string>, std::shared_ptr<int>> sent_;
  std::vector<std::unique_ptr<std::function<void()>>> ticks_;
};

// Nodes a and b, each alone behind its own NAT: the usual two-party setup.
// Delays are one way: node access 1 ms, NAT uplinks 10 ms, region access as
// in NodeWorld::DefaultRegions.
struct TwoNodes {
  static constexpr int64_t kHostAccessMs = 1;
  static constexpr int64_t kUplinkMs = 10;

  // `a_spare`: more addresses for a's host (to move to); `disco_log`: the
  // nodes' NodeConfig::disco_log.
  explicit TwoNodes(NatConfig nat_a, NatConfig nat_b, uint64_t seed = 1,
                    std::vector<IpAddress> a_spare = {}, bool disco_log = false,
                    node::DataPlane data_plane = node::DataPlane::kSealedFrame)
      : w(seed) {
    w.disco_log = disco_log;
    w.data_plane = data_plane;
    na = w.AddNat("nat-a", "192.0.2.10", nat_a, Ms(kUplinkMs));
    nb = w.AddNat("nat-b", "192.0.2.20", nat_b, Ms(kUplinkMs));
    a = &w.AddNode("a", w.world.InsideOf(na), "10.1.0.2", Ms(kHostAccessMs), std::move(a_spare));
    b = &w.AddNode("b", w.world.InsideOf(nb), "10.2.0.2", Ms(kHostAccessMs));
  }
  // A direct datagram between the nodes, one way.
  static Duration DirectOneWay() { return Ms(2 * kHostAccessMs + 2 * kUplinkMs); }
  static Duration DirectRtt() { return DirectOneWay() * 2; }
  // A node to a region's DERP server, one way.
  Duration ToRegion(node::RegionId r) const {
    return Ms(kHostAccessMs + kUplinkMs) + w.Region(r).access;
  }
  // The endpoints the NATs give the nodes' sockets when they preserve ports.
  static Endpoint PublicA() { return Endpoint(Ip("192.0.2.10"), kNodePort); }
  static Endpoint PublicB() { return Endpoint(Ip("192.0.2.20"), kNodePort); }

  NodeWorld w;
  NatId na = 0;
  NatId nb = 0;
  NodeHost* a = nullptr;
  NodeHost* b = nullptr;
};

}  // namespace node_test
}  // namespace punchlab
