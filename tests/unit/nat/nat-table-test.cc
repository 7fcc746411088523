// Mapping, filtering, port assignment, pooling and hairpinning of NatTable.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "nat/nat-test-util.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/random.h"

namespace punchlab {
namespace nat {
namespace {

using testing::Config;
using testing::Ep;
using testing::Ip;
using testing::Sec;
using Verdict = OutboundResult::Verdict;
using InVerdict = InboundResult::Verdict;

const Endpoint kX = Ep("10.0.0.1:5000");
const Endpoint kY = Ep("10.0.0.2:5000");
const Endpoint kA = Ep("198.51.100.1:3478");
const Endpoint kA2 = Ep("198.51.100.1:3479");  // same IP as kA, other port
const Endpoint kB = Ep("198.51.100.2:3478");   // other IP

class NatTableTest : public ::testing::Test {
 protected:
  NatTable Make(const std::string& spec,
                std::vector<IpAddress> external = {Ip("203.0.113.1")}) {
    return NatTable(Config(spec), std::move(external), rng_);
  }
  // The external source of a translated outbound packet (fails the test otherwise).
  static Endpoint Out(NatTable& nat, const Endpoint& src, const Endpoint& dst,
                      Timestamp now = Sec(0), Protocol p = Protocol::kUdp) {
    const OutboundResult r = nat.Outbound(now, p, src, dst);
    EXPECT_EQ(r.verdict, Verdict::kTranslate) << ToString(r.reason);
    return r.external_src;
  }
  static InboundResult In(NatTable& nat, const Endpoint& remote, const Endpoint& external,
                          Timestamp now = Sec(1)) {
    return nat.Inbound(now, Protocol::kUdp, remote, external);
  }
  DeterministicRandom rng_{42};
};

TEST_F(NatTableTest, EndpointIndependentMappingReusesOneExternalEndpoint) {
  NatTable nat = Make("port-restricted-cone");
  const Endpoint e = Out(nat, kX, kA);
  EXPECT_EQ(e, Ep("203.0.113.1:5000"));  // port preserved
  EXPECT_EQ(Out(nat, kX, kA2), e);
  EXPECT_EQ(Out(nat, kX, kB), e);
  EXPECT_EQ(nat.mapping_count(), 1u);
  EXPECT_EQ(nat.flow_count(), 3u);
  EXPECT_EQ(nat.counters().translated_outbound, 3u);
  EXPECT_EQ(nat.counters().mappings_created, 1u);
}

TEST_F(NatTableTest, AddressDependentMappingChangesWithTheDestinationIp) {
  NatTable nat = Make("restricted-cone,mapping=address-dependent,ports=sequential");
  const Endpoint e = Out(nat, kX, kA);
  EXPECT_EQ(Out(nat, kX, kA2), e);
  const Endpoint other = Out(nat, kX, kB);
  EXPECT_NE(other, e);
  EXPECT_EQ(other.ip, e.ip);
  EXPECT_EQ(nat.mapping_count(), 2u);
}

TEST_F(NatTableTest, AddressAndPortDependentMappingChangesWithTheDestinationPort) {
  NatTable nat = Make("symmetric");
  const Endpoint to_a = Out(nat, kX, kA);
  const std::set<Endpoint> seen = {to_a, Out(nat, kX, kA2), Out(nat, kX, kB)};
  EXPECT_EQ(seen.size(), 3u);
  EXPECT_EQ(Out(nat, kX, kA), to_a);  // the same destination keeps its mapping
  EXPECT_EQ(nat.mapping_count(), 3u);
  EXPECT_EQ(nat.binding_count(), 3u);
}

TEST_F(NatTableTest, SymmetricPortPreservingSharesThePortAcrossItsMappings) {
  NatTable nat = Make("symmetric-port-preserving");
  const Endpoint e = Out(nat, kX, kA);
  EXPECT_EQ(e.port, 5000);
  EXPECT_EQ(Out(nat, kX, kA2), e);
  EXPECT_EQ(Out(nat, kX, kB), e);
  EXPECT_EQ(nat.mapping_count(), 3u);  // one mapping per destination...
  EXPECT_EQ(nat.binding_count(), 1u);  // ...sharing one external endpoint
  // Filtering stays per destination endpoint.
  EXPECT_EQ(In(nat, kA, e).verdict, InVerdict::kTranslate);
  EXPECT_EQ(In(nat, Ep("198.51.100.1:9999"), e).reason, DropReason::kFiltered);
  // A second inside host on the same port must not share it (no port overloading).
  const Endpoint y = Out(nat, kY, kA);
  EXPECT_EQ(y.port, 5001);
  EXPECT_EQ(In(nat, kA, y).inside_dst, kY);
  EXPECT_EQ(In(nat, kA, e).inside_dst, kX);
}

TEST_F(NatTableTest, FilteringBehaviours) {
  struct Case {
    const char* spec;
    bool same_ip_other_port, other_ip;
  };
  for (const Case& c : {Case{"full-cone", true, true}, Case{"restricted-cone", true, false},
                        Case{"port-restricted-cone", false, false}}) {
    NatTable nat = Make(c.spec);
    const Endpoint e = Out(nat, kX, kA);
    const InboundResult exact = In(nat, kA, e);
    EXPECT_EQ(exact.verdict, InVerdict::kTranslate) << c.spec;
    EXPECT_EQ(exact.inside_dst, kX) << c.spec;
    EXPECT_EQ(In(nat, kA2, e).verdict == InVerdict::kTranslate, c.same_ip_other_port) << c.spec;
    const InboundResult unseen = In(nat, kB, e);
    EXPECT_EQ(unseen.verdict == InVerdict::kTranslate, c.other_ip) << c.spec;
    if (!c.other_ip) {
      EXPECT_EQ(unseen.reason, DropReason::kFiltered) << c.spec;
    }
    const uint64_t filtered = (c.same_ip_other_port ? 0 : 1) + (c.other_ip ? 0 : 1);
    EXPECT_EQ(nat.counters().filtered, filtered) << c.spec;
    // Nobody holds this port: no mapping, whatever the filter.
    EXPECT_EQ(In(nat, kA, Ep("203.0.113.1:6000")).reason, DropReason::kNoMapping) << c.spec;
    EXPECT_EQ(nat.counters().no_mapping, 1u) << c.spec;
    // Nor this protocol.
    EXPECT_EQ(nat.Inbound(Sec(1), Protocol::kTcp, kA, e).reason, DropReason::kNoMapping);
  }
}

TEST_F(NatTableTest, PortPreservationFallsBackToTheNextFreePortUp) {
  NatTable nat = Make("full-cone");
  EXPECT_EQ(Out(nat, kX, kA).port, 5000);
  EXPECT_EQ(Out(nat, kY, kA).port, 5001);
  EXPECT_EQ(Out(nat, Ep("10.0.0.3:5001"), kA).port, 5002);
  EXPECT_EQ(Out(nat, Ep("10.0.0.4:4000"), kA).port, 4000);
  // UDP and TCP ports are separate pools.
  EXPECT_EQ(Out(nat, kY, kA, Sec(0), Protocol::kTcp).port, 5000);
}

TEST_F(NatTableTest, SequentialPortsWithinTheRange) {
  NatTable nat = Make("port-restricted-cone,ports=sequential,port_range=3000-3999");
  EXPECT_EQ(Out(nat, kX, kA).port, 3000);
  EXPECT_EQ(Out(nat, kY, kA).port, 3001);
  EXPECT_EQ(Out(nat, Ep("10.0.0.3:3001"), kA).port, 3002);
}

TEST_F(NatTableTest, RandomPortsAreInRangeAndDeterministicBySeed) {
  auto ports = [](uint64_t seed) {
    DeterministicRandom rng(seed);
    NatTable nat(Config("symmetric,port_range=40000-40999"), {Ip("203.0.113.1")}, rng);
    std::vector<uint16_t> out;
    for (uint16_t p = 1; p <= 20; ++p) {
      const OutboundResult r =
          nat.Outbound(Sec(0), Protocol::kUdp, kX, Endpoint(Ip("198.51.100.1"), p));
      EXPECT_EQ(r.verdict, Verdict::kTranslate);
      EXPECT_GE(r.external_src.port, 40000);
      EXPECT_LE(r.external_src.port, 40999);
      out.push_back(r.external_src.port);
    }
    return out;
  };
  const auto a = ports(1);
  EXPECT_EQ(a, ports(1));
  EXPECT_NE(a, ports(2));
  EXPECT_EQ(std::set<uint16_t>(a.begin(), a.end()).size(), a.size());
}

TEST_F(NatTableTest, PairedPoolingKeepsAnInsideIpOnOneExternalIp) {
  NatTable nat = Make("symmetric,pooling=paired",
                      {Ip("203.0.113.1"), Ip("203.0.113.2"), Ip("203.0.113.3")});
  std::set<IpAddress> x_ips, y_ips;
  for (uint16_t p = 1; p <= 10; ++p) {
    x_ips.insert(Out(nat, Endpoint(kX.ip, static_cast<uint16_t>(6000 + p)), kA).ip);
    y_ips.insert(Out(nat, kY, Endpoint(kB.ip, p)).ip);
  }
  ASSERT_EQ(x_ips.size(), 1u);
  ASSERT_EQ(y_ips.size(), 1u);
  EXPECT_EQ(*x_ips.begin(), Ip("203.0.113.1"));
  EXPECT_EQ(*y_ips.begin(), Ip("203.0.113.2"));  // new inside IPs pair round-robin
}

TEST_F(NatTableTest, ArbitraryPoolingSpreadsMappingsOverExternalIps) {
  NatTable nat = Make("symmetric,pooling=arbitrary",
                      {Ip("203.0.113.1"), Ip("203.0.113.2"), Ip("203.0.113.3")});
  std::vector<IpAddress> ips;
  for (uint16_t p = 1; p <= 6; ++p) ips.push_back(Out(nat, kX, Endpoint(kA.ip, p)).ip);
  EXPECT_EQ(std::set<IpAddress>(ips.begin(), ips.end()).size(), 3u);
  EXPECT_EQ(ips[0], Ip("203.0.113.1"));
  EXPECT_EQ(ips[1], Ip("203.0.113.2"));
  EXPECT_EQ(ips[3], Ip("203.0.113.1"));
  // Inbound goes to the right inside host on every address.
  const Endpoint on_third = Out(nat, kX, Endpoint(kA.ip, 3));
  EXPECT_EQ(on_third.ip, Ip("203.0.113.3"));
  EXPECT_EQ(In(nat, Endpoint(kA.ip, 3), on_third).inside_dst, kX);
}

TEST_F(NatTableTest, ArbitraryPoolingPrefersAPreservedPortOnAnotherAddress) {
  NatTable nat = Make("full-cone,pooling=arbitrary", {Ip("203.0.113.1"), Ip("203.0.113.2")});
  const Endpoint x = Out(nat, kX, kA);
  const Endpoint y = Out(nat, kY, kA);
  EXPECT_EQ(x.port, 5000);
  EXPECT_EQ(y.port, 5000);
  EXPECT_NE(x.ip, y.ip);
}

TEST_F(NatTableTest, ArbitraryPoolingLeasesTheAskedPortOnTheFirstAddressWhereItIsFree) {
  // Paired or not, a port mapping's suggested port is taken where it is
  // free (before, arbitrary pooling refused every suggested port, so UPnP's
  // AddPortMapping answered 718 for any port and NAT-PMP ignored it).
  NatTable nat = Make("symmetric,pooling=arbitrary", {Ip("203.0.113.1"), Ip("203.0.113.2")});
  EXPECT_TRUE(nat.PortAvailable(Protocol::kUdp, kX, 40000));
  EXPECT_EQ(nat.MapPort(Sec(1), Protocol::kUdp, kX, 40000, Sec(100)),
            Ep("203.0.113.1:40000"));
  // Taken on the first address: the second one still has it.
  EXPECT_TRUE(nat.PortAvailable(Protocol::kUdp, kY, 40000));
  EXPECT_EQ(nat.MapPort(Sec(1), Protocol::kUdp, kY, 40000, Sec(100)),
            Ep("203.0.113.2:40000"));
  // Taken on both: not available, and the lease goes where the NAT puts it.
  const Endpoint z = Ep("10.0.0.3:5000");
  EXPECT_FALSE(nat.PortAvailable(Protocol::kUdp, z, 40000));
  const std::optional<Endpoint> third = nat.MapPort(Sec(1), Protocol::kUdp, z, 40000, Sec(100));
  ASSERT_TRUE(third);
  EXPECT_NE(third->port, 40000);
  EXPECT_FALSE(nat.PortAvailable(Protocol::kUdp, z, 0));
}

TEST_F(NatTableTest, PortLeasesListsTheNewestLeaseFirstAndARenewalKeepsItsPlace) {
  NatTable nat = Make("symmetric");
  const Endpoint z = Ep("10.0.0.3:5000");
  ASSERT_TRUE(nat.MapPort(Sec(1), Protocol::kUdp, kX, 40000, Sec(100)));
  ASSERT_TRUE(nat.MapPort(Sec(2), Protocol::kTcp, kY, 40001, Sec(100)));
  ASSERT_TRUE(nat.MapPort(Sec(3), Protocol::kUdp, z, 40002, Sec(100)));
  ASSERT_TRUE(nat.MapPort(Sec(4), Protocol::kUdp, kX, 40000, Sec(200)));  // renewal
  std::vector<std::pair<Endpoint, Timestamp>> got;
  for (const PortLease& l : nat.PortLeases()) got.emplace_back(l.external, l.until);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].first.port, 40002);
  EXPECT_EQ(got[1].first.port, 40001);
  EXPECT_EQ(got[2].first.port, 40000);
  EXPECT_EQ(got[2].second, Sec(200));
  EXPECT_EQ(nat.PortLeases()[1].protocol, Protocol::kTcp);
  EXPECT_EQ(nat.PortLeases()[1].inside, kY);
  // Deleted and granted again: the newest.
  ASSERT_TRUE(nat.UnmapPort(Sec(5), Protocol::kUdp, kX));
  ASSERT_TRUE(nat.MapPort(Sec(6), Protocol::kUdp, kX, 40000, Sec(300)));
  EXPECT_EQ(nat.PortLeases()[0].inside, kX);
}

TEST_F(NatTableTest, PoolExhaustionIsACountedDrop) {
  NatTable nat = Make("port-restricted-cone,ports=sequential,port_range=7000-7001,udp_timeout=30s");
  EXPECT_EQ(Out(nat, kX, kA).port, 7000);
  EXPECT_EQ(Out(nat, kY, kA).port, 7001);
  const Endpoint z = Ep("10.0.0.3:5000");
  const OutboundResult r = nat.Outbound(Sec(1), Protocol::kUdp, z, kA);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.reason, DropReason::kPoolExhausted);
  EXPECT_EQ(nat.counters().pool_exhausted, 1u);
  EXPECT_EQ(nat.mapping_count(), 2u);
  // Existing mappings still work, and a port freed by expiry is reused.
  EXPECT_EQ(Out(nat, kX, kA, Sec(20)).port, 7000);
  EXPECT_EQ(Out(nat, z, kA, Sec(31)).port, 7001);
  EXPECT_EQ(nat.counters().pool_exhausted, 1u);
}

TEST_F(NatTableTest, PairedPoolingDoesNotSpillOntoAnotherAddress) {
  NatTable nat = Make("full-cone,port_range=7000-7000,pooling=paired",
                      {Ip("203.0.113.1"), Ip("203.0.113.2")});
  EXPECT_EQ(Out(nat, kX, kA), Ep("203.0.113.1:7000"));
  EXPECT_EQ(Out(nat, kY, kA), Ep("203.0.113.2:7000"));
  // 10.0.0.1's address is full; paired pooling may not use 203.0.113.2.
  const OutboundResult r = nat.Outbound(Sec(0), Protocol::kUdp, Ep("10.0.0.1:6000"), kA);
  EXPECT_EQ(r.reason, DropReason::kPoolExhausted);
}

TEST_F(NatTableTest, NoExternalAddressOfTheFamilyIsACountedDrop) {
  NatTable nat = Make("full-cone");
  const OutboundResult r =
      nat.Outbound(Sec(0), Protocol::kUdp, Ep("[fd00::1]:5000"), Ep("[2001:db8::1]:3478"));
  EXPECT_EQ(r.reason, DropReason::kNoExternalAddress);
  EXPECT_EQ(nat.counters().no_external_address, 1u);
}

TEST_F(NatTableTest, HairpinLoopsBackFromTheSendersExternalEndpoint) {
  NatTable nat = Make("full-cone,hairpin=on");
  const Endpoint y_ext = Out(nat, kY, kA);
  const OutboundResult r = nat.Outbound(Sec(1), Protocol::kUdp, kX, y_ext);
  ASSERT_EQ(r.verdict, Verdict::kHairpin) << ToString(r.reason);
  EXPECT_EQ(r.inside_dst, kY);
  EXPECT_EQ(r.external_src.ip, Ip("203.0.113.1"));
  EXPECT_EQ(r.external_src, Out(nat, kX, kA));  // the same mapping X uses outside
  EXPECT_EQ(nat.counters().hairpinned, 1u);
  // And back: Y answers X's external endpoint.
  const OutboundResult back = nat.Outbound(Sec(2), Protocol::kUdp, kY, r.external_src);
  EXPECT_EQ(back.verdict, Verdict::kHairpin);
  EXPECT_EQ(back.inside_dst, kX);
  EXPECT_EQ(back.external_src, y_ext);
}

TEST_F(NatTableTest, HairpinOffDropsWithoutCreatingAMapping) {
  NatTable nat = Make("full-cone,hairpin=off");
  const Endpoint y_ext = Out(nat, kY, kA);
  const OutboundResult r = nat.Outbound(Sec(1), Protocol::kUdp, kX, y_ext);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.reason, DropReason::kHairpinOff);
  EXPECT_EQ(nat.counters().hairpin_refused, 1u);
  EXPECT_EQ(nat.counters().hairpinned, 0u);
  EXPECT_EQ(nat.mapping_count(), 1u);
}

TEST_F(NatTableTest, HairpinIsFilteredLikeInboundTraffic) {
  NatTable nat = Make("port-restricted-cone,hairpin=on");
  const Endpoint x_ext = Out(nat, kX, kA);
  const Endpoint y_ext = Out(nat, kY, kA);
  // Y's filter has not seen X's external endpoint yet...
  OutboundResult r = nat.Outbound(Sec(1), Protocol::kUdp, kX, y_ext);
  EXPECT_EQ(r.verdict, Verdict::kDrop);
  EXPECT_EQ(r.reason, DropReason::kFiltered);
  // ...but that packet opened X's side, so Y's packet to X gets through, and then X's.
  r = nat.Outbound(Sec(2), Protocol::kUdp, kY, x_ext);
  EXPECT_EQ(r.verdict, Verdict::kHairpin);
  EXPECT_EQ(r.inside_dst, kX);
  r = nat.Outbound(Sec(3), Protocol::kUdp, kX, y_ext);
  EXPECT_EQ(r.verdict, Verdict::kHairpin);
  EXPECT_EQ(r.inside_dst, kY);
  EXPECT_EQ(nat.counters().filtered, 1u);
  // To an external port nobody holds.
  r = nat.Outbound(Sec(4), Protocol::kUdp, kX, Ep("203.0.113.1:9"));
  EXPECT_EQ(r.reason, DropReason::kNoMapping);
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
