// NatDiscovery against StunServer through the virtual world, behind a tiny
// fake NAT written here as the world's `intercept` (an oracle of its own for
// this test, independent of the NAT model).
#include <gtest/gtest.h>

#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "punchlab/random.h"
#include "punchlab/stun/nat-discovery.h"
#include "punchlab/stun/server.h"
#include "support/virtual-world.h"

namespace punchlab {
namespace stun {
namespace {

using testsupport::HostId;
using testsupport::LinkParams;
using testsupport::MachineId;
using testsupport::MachineSpec;
using testsupport::VirtualWorld;

const IpAddress kInside = IpAddress::V4(10, 0, 0, 2);
const IpAddress kPublic = IpAddress::V4(203, 0, 113, 1);
const Endpoint kA1P1(IpAddress::V4(198, 51, 100, 1), 3478);
const Endpoint kA2P2(IpAddress::V4(198, 51, 100, 2), 3479);

struct NatSpec {
  NatBehavior mapping;
  NatBehavior filtering;
  PortAssignment ports;
  bool hairpin;
};

// One inside host, one public IP. Mappings keyed per RFC 4787 mapping
// behaviour; inbound filtered per filtering behaviour against what the
// mapping has sent to; hairpinned packets translated both ways, unfiltered.
class FakeNat {
 public:
  explicit FakeNat(NatSpec spec) : spec_(spec), rng_(77) {}

  bool Route(Transmit& t) {
    if (t.source.ip == kInside) {
      Mapping& m = MappingFor(t.source, t.destination);
      m.sent_to.insert(t.destination);
      t.source = Endpoint(kPublic, m.port);
      if (t.destination.ip != kPublic) return true;
      if (!spec_.hairpin) return false;
      return Inbound(t, /*hairpin=*/true);
    }
    if (t.destination.ip == kPublic) return Inbound(t, false);
    return true;
  }

 private:
  struct Mapping {
    Endpoint internal;
    uint16_t port = 0;
    std::set<Endpoint> sent_to;
  };
  using Key = std::tuple<Endpoint, IpAddress, uint16_t>;

  Mapping& MappingFor(const Endpoint& internal, const Endpoint& dest) {
    Key key{internal, IpAddress(), 0};
    if (spec_.mapping != NatBehavior::kEndpointIndependent) std::get<1>(key) = dest.ip;
    if (spec_.mapping == NatBehavior::kAddressAndPortDependent) std::get<2>(key) = dest.port;
    auto it = mappings_.find(key);
    if (it != mappings_.end()) return it->second;
    Mapping m;
    m.internal = internal;
    m.port = Allocate(internal.port);
    by_port_[m.port] = key;
    return mappings_.emplace(key, m).first->second;
  }

  uint16_t Allocate(uint16_t wanted) {
    if (spec_.ports == PortAssignment::kPreserve && by_port_.count(wanted) == 0) return wanted;
    if (spec_.ports == PortAssignment::kRandom) {
      for (;;) {
        const auto p = static_cast<uint16_t>(1024 + rng_.Uniform(65535 - 1024));
        if (by_port_.count(p) == 0) return p;
      }
    }
    while (by_port_.count(next_port_) != 0) ++next_port_;
    return next_port_++;
  }

  bool Inbound(Transmit& t, bool hairpin) {
    auto k = by_port_.find(t.destination.port);
    if (k == by_port_.end()) return false;
    const Mapping& m = mappings_.at(k->second);
    if (!hairpin) {
      bool allowed = spec_.filtering == NatBehavior::kEndpointIndependent;
      for (const Endpoint& e : m.sent_to) {
        if (spec_.filtering == NatBehavior::kAddressDependent && e.ip == t.source.ip) allowed = true;
        if (spec_.filtering == NatBehavior::kAddressAndPortDependent && e == t.source) allowed = true;
      }
      if (!allowed) return false;
    }
    t.destination = m.internal;
    return true;
  }

  NatSpec spec_;
  DeterministicRandom rng_;
  uint16_t next_port_ = 20000;
  std::map<Key, Mapping> mappings_;
  std::map<uint16_t, Key> by_port_;
};

struct Outcome {
  NatReport report;
  StunClientStats stats;
  Timestamp finished_at;
};

// `route` (the fake NAT, or nullptr for none) sees every datagram as it is
// sent; the prober's host holds the NAT's public address too, so what the
// NAT rewrites leaves from an address of its own. 10 ms one way.
Outcome Discover(const std::function<bool(Transmit&)>& route, bool with_alternate = true,
             IpAddress inside = kInside, bool classic = false) {
  const LinkParams half_way{Duration::Millis(5), 0.0};
  DeterministicRandom rng(5);
  VirtualWorld net;
  if (route) net.intercept = [&route](MachineId, Transmit& t) { return route(t); };
  StunServerConfig sc;
  sc.primary = kA1P1;
  if (with_alternate) sc.alternate = kA2P2;
  StunServer server(sc);
  const HostId server_host =
      net.AddHost("server", VirtualWorld::kInternet, {kA1P1.ip, kA2P2.ip}, half_way);
  net.Attach(server_host, MachineSpec{"server", &server, nullptr, server.LocalEndpoints(), {}, {}});

  NatDiscoveryConfig dc;
  dc.local = Endpoint(inside, 5000);
  dc.extra_locals = {Endpoint(inside, 5001), Endpoint(inside, 5002), Endpoint(inside, 5003)};
  dc.server = kA1P1;
  dc.binding.classic = classic;
  NatDiscovery nd(rng, dc);
  std::vector<IpAddress> addresses{inside};
  if (inside != kPublic) addresses.push_back(kPublic);
  const HostId prober_host = net.AddHost("prober", VirtualWorld::kInternet, addresses, half_way);
  const MachineId prober =
      net.Attach(prober_host, MachineSpec{"prober", &nd, nullptr, nd.LocalEndpoints(), {}, {}});
  net.Do(prober, [&](Timestamp now) { nd.Start(now); });
  // The clock stops where discovery finished.
  EXPECT_TRUE(net.RunUntilTrue([&] { return nd.finished(); },
                               Timestamp::Zero() + Duration::Seconds(60)));
  auto r = nd.PollEvent();
  EXPECT_TRUE(r);
  EXPECT_FALSE(nd.PollEvent());
  return Outcome{r.value_or(NatReport()), nd.client_stats(), net.now()};
}

TEST(NatDiscovery, EveryFakeNatIsClassifiedCorrectly) {
  const NatBehavior kBehaviors[] = {NatBehavior::kEndpointIndependent,
                                    NatBehavior::kAddressDependent,
                                    NatBehavior::kAddressAndPortDependent};
  for (NatBehavior mapping : kBehaviors) {
    for (NatBehavior filtering : kBehaviors) {
      for (PortAssignment ports :
           {PortAssignment::kPreserve, PortAssignment::kSequential, PortAssignment::kRandom}) {
        for (bool hairpin : {false, true}) {
          FakeNat nat({mapping, filtering, ports, hairpin});
          Outcome run = Discover([&](Transmit& t) { return nat.Route(t); });
          const NatReport& r = run.report;
          const std::string what = std::string(ToString(mapping)) + "/" + ToString(filtering) +
                                   "/" + ToString(ports) + "/hairpin " + (hairpin ? "on" : "off") +
                                   " -> " + r.ToString();
          EXPECT_FALSE(r.udp_blocked) << what;
          EXPECT_TRUE(r.behind_nat()) << what;
          ASSERT_TRUE(r.mapped) << what;
          EXPECT_EQ(r.mapped->ip, kPublic) << what;
          EXPECT_EQ(r.other_address, kA2P2) << what;
          EXPECT_EQ(r.mapping, mapping) << what;
          EXPECT_EQ(r.filtering, filtering) << what;
          EXPECT_EQ(r.ports, ports) << what;
          EXPECT_EQ(r.hairpin, hairpin ? Hairpinning::kOn : Hairpinning::kOff) << what;
          EXPECT_EQ(r.ToString(), "mapped=" + r.mapped->ToString() + " mapping=" +
                                      ToString(mapping) + " filtering=" + ToString(filtering) +
                                      " ports=" + ToString(ports) +
                                      " hairpin=" + (hairpin ? "on" : "off"));
        }
      }
    }
  }
}

TEST(NatDiscovery, ClassicVocabulary) {
  // Port-restricted cone (EIM + APDF) as Linux masquerade builds it.
  FakeNat nat({NatBehavior::kEndpointIndependent, NatBehavior::kAddressAndPortDependent,
               PortAssignment::kPreserve, false});
  Outcome run = Discover([&](Transmit& t) { return nat.Route(t); });
  EXPECT_EQ(run.report.ToString(),
            "mapped=203.0.113.1:5000 mapping=endpoint-independent "
            "filtering=address-and-port-dependent ports=preserve hairpin=off");
  // Filtering and hairpin probes time out (3 s each); everything else answers.
  EXPECT_EQ(run.stats.timeouts, 3u);
}

TEST(NatDiscovery, ClassicServerAndClassicRequests) {
  FakeNat nat({NatBehavior::kAddressDependent, NatBehavior::kAddressDependent,
               PortAssignment::kSequential, true});
  Outcome run = Discover([&](Transmit& t) { return nat.Route(t); }, true, kInside, /*classic=*/true);
  EXPECT_EQ(run.report.mapping, NatBehavior::kAddressDependent);
  EXPECT_EQ(run.report.filtering, NatBehavior::kAddressDependent);
  EXPECT_EQ(run.report.ports, PortAssignment::kSequential);
  EXPECT_EQ(run.report.hairpin, Hairpinning::kOn);
}

TEST(NatDiscovery, UdpBlocked) {
  Outcome run = Discover([](Transmit& t) { return t.source.ip != kInside; });
  EXPECT_TRUE(run.report.udp_blocked);
  EXPECT_EQ(run.report.ToString(), "udp=blocked");
  EXPECT_EQ(run.finished_at, Timestamp::Zero() + Duration::Seconds(3));
  EXPECT_EQ(run.stats.requests_sent, 5u);
}

TEST(NatDiscovery, NoNat) {
  const IpAddress open = IpAddress::V4(203, 0, 113, 50);
  Outcome run = Discover(nullptr, true, open);
  EXPECT_FALSE(run.report.behind_nat());
  EXPECT_EQ(run.report.mapped, Endpoint(open, 5000));
  EXPECT_EQ(run.report.mapping, NatBehavior::kEndpointIndependent);
  EXPECT_EQ(run.report.filtering, NatBehavior::kEndpointIndependent);
  EXPECT_EQ(run.report.ports, PortAssignment::kPreserve);
  EXPECT_EQ(run.report.hairpin, Hairpinning::kOn);  // a host reaches itself
}

TEST(NatDiscovery, ServerWithoutAlternate) {
  FakeNat nat({NatBehavior::kAddressAndPortDependent, NatBehavior::kAddressAndPortDependent,
               PortAssignment::kRandom, false});
  Outcome run = Discover([&](Transmit& t) { return nat.Route(t); }, /*with_alternate=*/false);
  EXPECT_FALSE(run.report.other_address);
  EXPECT_EQ(run.report.mapping, NatBehavior::kUnknown);
  EXPECT_EQ(run.report.filtering, NatBehavior::kUnknown);
  EXPECT_EQ(run.report.ports, PortAssignment::kRandom);
  EXPECT_EQ(run.report.hairpin, Hairpinning::kOff);
  EXPECT_NE(run.report.ToString().find(" mapping=unknown filtering=unknown "), std::string::npos)
      << run.report.ToString();
}

}  // namespace
}  // namespace stun
}  // namespace punchlab
