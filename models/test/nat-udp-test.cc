// The NAT middlebox on real ns-3 UDP traffic: every preset maps and filters
// exactly as the plain C++ model does, unsolicited and malformed packets are
// dropped and counted, hairpinning, faults at simulated times, and expiry
// without traffic. Checksums are on, so a bad rewrite would be dropped by the
// receiving host's stack.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "model/punchlab-ns3-convert.h"
#include "nat-test-world.h"
#include "ns3/boolean.h"
#include "ns3/global-value.h"
#include "ns3/ipv4-routing-helper.h"
#include "ns3/ipv4-routing-table-entry.h"
#include "ns3/ipv4-static-routing-helper.h"
#include "ns3/ipv4-static-routing.h"
#include "ns3/ipv4.h"
#include "ns3/simulator.h"
#include "ns3/traffic-control-helper.h"
#include "punchlab/nat/nat-table.h"

namespace ns3 {
namespace {

using nattest::LanWorld;
using nattest::ParseEndpoint;
using nattest::UdpActor;
using punchlab::nat::DropReason;
using punchlab::nat::InboundResult;
using punchlab::nat::NatTable;
using punchlab::nat::Protocol;

class NatNs3Test : public ::testing::Test {
 protected:
  NatNs3Test() {
    GlobalValue::GetValueByName("ChecksumEnabled", m_checksums);
    GlobalValue::Bind("ChecksumEnabled", BooleanValue(true));
  }
  ~NatNs3Test() override {
    Simulator::Destroy();
    GlobalValue::Bind("ChecksumEnabled", m_checksums);
  }
  static void Run(Time stop) {
    Simulator::Stop(stop);
    Simulator::Run();
  }

 private:
  BooleanValue m_checksums;
};

InetSocketAddress At(Ipv4Address ip, uint16_t port) { return InetSocketAddress(ip, port); }
InetSocketAddress At(const punchlab::Endpoint& e) {
  return InetSocketAddress::ConvertFrom(ToNs3Address(e));
}
punchlab::Endpoint Ep(Ipv4Address ip, uint16_t port) { return {ToPunchlab(ip), port}; }
bool Same(const InetSocketAddress& a, const InetSocketAddress& b) {
  return a.GetIpv4() == b.GetIpv4() && a.GetPort() == b.GetPort();
}

// Drop reasons a middlebox reported, in order.
struct DropLog {
  std::vector<std::string> reasons;
  void Record(const Ipv4Header&, Ptr<const Packet>, const std::string& reason) {
    reasons.push_back(reason);
  }
  void Connect(Ptr<NatMiddlebox> box) {
    box->TraceConnectWithoutContext("Drop", MakeCallback(&DropLog::Record, this));
  }
};

class NatPresetTest : public NatNs3Test, public ::testing::WithParamInterface<std::string> {};

TEST_P(NatPresetTest, UdpMappingAndFilteringMatchTheModel) {
  const std::string preset = GetParam();
  NatHelper helper;
  helper.SetNat(preset);
  helper.SetSeed(7);
  LanWorld w(helper);
  const InetSocketAddress s1a = At(LanWorld::Server(), 3478);
  const InetSocketAddress s1b = At(LanWorld::Server(), 3479);
  const InetSocketAddress s2 = At(LanWorld::Server2(), 3478);
  UdpActor server1a(w.server, s1a, true), server1b(w.server, s1b, true), server2(w.server, s2, true);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);

  // 1 s: the client talks to s1a. 1.5 s: s1b and s2 try the mapping s1a saw.
  // 2 s: the client talks to s1b and s2 too.
  client.SendAt(Seconds(1), s1a, "hello");
  Simulator::Schedule(Seconds(1.5), [&]() {
    ASSERT_EQ(server1a.received().size(), 1u);
    const InetSocketAddress mapping = server1a.received()[0].from;
    server1b.SendAt(Simulator::Now(), mapping, "probe");
    server2.SendAt(Simulator::Now(), mapping, "probe");
  });
  client.SendAt(Seconds(2), s1b, "hello");
  client.SendAt(Seconds(2), s2, "hello");
  Run(Seconds(3));

  // The same story told to the plain model, with the same random stream.
  const punchlab::nat::NatConfig config = punchlab::nat::ParseNatSpec(preset).config.value();
  punchlab::DeterministicRandom random =
      punchlab::DeterministicRandom(7).Fork("nat/node-" + std::to_string(w.nat->GetId()));
  NatTable model(config, {ToPunchlab(LanWorld::External())}, random);
  const punchlab::Endpoint inside = Ep(LanWorld::H1(), 5000);
  const punchlab::Timestamp t = punchlab::Timestamp::Zero();
  const auto first = model.Outbound(t, Protocol::kUdp, inside, Ep(LanWorld::Server(), 3478));
  model.Inbound(t, Protocol::kUdp, Ep(LanWorld::Server(), 3478), first.external_src);
  const InboundResult probe1b =
      model.Inbound(t, Protocol::kUdp, Ep(LanWorld::Server(), 3479), first.external_src);
  const InboundResult probe2 =
      model.Inbound(t, Protocol::kUdp, Ep(LanWorld::Server2(), 3478), first.external_src);
  const auto to1b = model.Outbound(t, Protocol::kUdp, inside, Ep(LanWorld::Server(), 3479));
  const auto to2 = model.Outbound(t, Protocol::kUdp, inside, Ep(LanWorld::Server2(), 3478));

  // Mappings as the server saw them.
  ASSERT_EQ(server1a.received().size(), 1u);
  EXPECT_TRUE(Same(server1a.received()[0].from, At(first.external_src)))
      << nattest::ToText(server1a.received()[0].from) << " vs " << first.external_src.ToString();
  if (config.ports == punchlab::nat::PortAssignment::kPreserve) {
    EXPECT_EQ(server1a.received()[0].from.GetPort(), 5000);
  }
  ASSERT_EQ(server1b.received().size(), 1u);
  EXPECT_TRUE(Same(server1b.received()[0].from, At(to1b.external_src)));
  ASSERT_EQ(server2.received().size(), 1u);
  EXPECT_TRUE(Same(server2.received()[0].from, At(to2.external_src)));

  // What got through to the client: three echoes, and the probes the filter allowed.
  const bool pass1b = probe1b.verdict == InboundResult::Verdict::kTranslate;
  const bool pass2 = probe2.verdict == InboundResult::Verdict::kTranslate;
  EXPECT_EQ(client.CountFrom(s1a), 1u);
  EXPECT_EQ(client.CountFrom(s1b), pass1b ? 2u : 1u);
  EXPECT_EQ(client.CountFrom(s2), pass2 ? 2u : 1u);
  ASSERT_FALSE(client.received().empty());
  EXPECT_EQ(client.received()[0].payload, first.external_src.ToString());

  const punchlab::nat::NatCounters& c = w.box->GetNat().counters();
  EXPECT_EQ(c.filtered, (pass1b ? 0u : 1u) + (pass2 ? 0u : 1u));
  EXPECT_EQ(c.translated_outbound, 3u);
  EXPECT_EQ(c.mappings_created, model.counters().mappings_created);
  EXPECT_EQ(w.box->GetPacketCounters().malformed, 0u);
}

std::vector<std::string> PresetNames() {
  std::vector<std::string> names;
  for (const punchlab::nat::NatPreset& p : punchlab::nat::NatPresets()) names.push_back(p.name);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Presets, NatPresetTest, ::testing::ValuesIn(PresetNames()),
                         nattest::PresetTestName<::testing::TestParamInfo<std::string>>);

TEST_F(NatNs3Test, UnsolicitedInboundIsDroppedAndCounted) {
  NatHelper helper;
  helper.SetNat("port-restricted-cone");
  LanWorld w(helper);
  DropLog drops;
  drops.Connect(w.box);
  uint32_t filteredTraced = 0;
  w.box->TraceConnectWithoutContext(
      "Filtered", MakeBoundCallback(+[](uint32_t* n, const Ipv4Header&, Ptr<const Packet>) { ++*n; },
                               &filteredTraced));
  const InetSocketAddress s = At(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor stranger(w.server, At(LanWorld::Server(), 4000), false);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);

  stranger.SendAt(Seconds(1), At(LanWorld::External(), 5000), "knock");  // no mapping yet
  client.SendAt(Seconds(2), s, "hello");
  stranger.SendAt(Seconds(3), At(LanWorld::External(), 5000), "knock");  // mapped, not allowed
  Run(Seconds(4));

  EXPECT_EQ(client.received().size(), 1u);  // the echo only
  EXPECT_EQ(client.CountFrom(s), 1u);
  const punchlab::nat::NatCounters& c = w.box->GetNat().counters();
  EXPECT_EQ(c.no_mapping, 1u);
  EXPECT_EQ(c.filtered, 1u);
  EXPECT_EQ(filteredTraced, 1u);
  EXPECT_EQ(drops.reasons, (std::vector<std::string>{"no-mapping", "filtered"}));
}

TEST_F(NatNs3Test, PoolExhaustionIsTracedAndCounted) {
  NatHelper helper;
  helper.SetNat("port-restricted-cone,ports=sequential,port_range=7000-7000");
  LanWorld w(helper);
  uint32_t exhausted = 0;
  w.box->TraceConnectWithoutContext(
      "PoolExhausted",
      MakeBoundCallback(+[](uint32_t* n, const Ipv4Header&, Ptr<const Packet>) { ++*n; },
                        &exhausted));
  const InetSocketAddress s = At(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor h1(w.h1, At(LanWorld::H1(), 5000), false);
  UdpActor h2(w.h2, At(LanWorld::H2(), 5000), false);
  h1.SendAt(Seconds(1), s, "first");
  h2.SendAt(Seconds(2), s, "no port left");
  Run(Seconds(3));
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].from.GetPort(), 7000);
  EXPECT_EQ(h2.received().size(), 0u);
  EXPECT_EQ(exhausted, 1u);
  EXPECT_EQ(w.box->GetNat().counters().pool_exhausted, 1u);
}

TEST_F(NatNs3Test, OutsideTrafficToPrivateAddressesIsNotRoutedIn) {
  NatHelper helper;
  helper.SetNat("full-cone");
  LanWorld w(helper);
  // Even with a route to the private LAN, the NAT does not forward into it untranslated.
  Ipv4StaticRoutingHelper routing;
  routing.GetStaticRouting(w.server->GetObject<Ipv4>())
      ->AddNetworkRouteTo(Ipv4Address("10.0.0.0"), Ipv4Mask("/24"), LanWorld::External(), 1);
  UdpActor attacker(w.server, At(LanWorld::Server(), 4000), false);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);
  attacker.SendAt(Seconds(1), At(LanWorld::H1(), 5000), "direct");
  Run(Seconds(2));
  EXPECT_EQ(NatHelper::Get(w.nat), w.box);
  EXPECT_TRUE(DynamicCast<const Ipv4StaticRouting>(w.box->GetInnerRouting()));
  EXPECT_EQ(client.received().size(), 0u);
  EXPECT_EQ(w.box->GetPacketCounters().not_routed, 1u);
}

// The box remembers its route per destination: a change of its routes that
// keeps their number (one removed, another added) is not answered from memory.
TEST_F(NatNs3Test, ChangedInnerRoutesAreNotAnsweredFromMemory) {
  NatHelper helper;
  helper.SetNat("full-cone");
  LanWorld w(helper);
  UdpActor server(w.server, At(LanWorld::Server(), 3478), false);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);
  client.SendAt(Seconds(1), At(LanWorld::Server(), 3478), "before");
  uint32_t routes_before = 0;
  uint32_t routes_after = 0;
  Simulator::Schedule(Seconds(2), [&]() {
    w.box->ChangeInnerRoutes([&](Ipv4StaticRouting& routes) {
      routes_before = routes.GetNRoutes();
      for (uint32_t i = 0; i < routes.GetNRoutes(); ++i) {
        const Ipv4RoutingTableEntry route = routes.GetRoute(i);
        if (route.GetDest() == Ipv4Address("203.0.113.0")) {
          routes.RemoveRoute(i);
          routes.AddHostRouteTo(Ipv4Address("198.51.100.7"), route.GetInterface());
          break;
        }
      }
      routes_after = routes.GetNRoutes();
    });
  });
  client.SendAt(Seconds(3), At(LanWorld::Server(), 3478), "after");
  Run(Seconds(4));
  EXPECT_EQ(routes_after, routes_before);
  ASSERT_EQ(server.received().size(), 1u);
  EXPECT_EQ(server.received()[0].payload, "before");
}

class NatHairpinTest : public NatNs3Test, public ::testing::WithParamInterface<bool> {};

TEST_P(NatHairpinTest, InsideHostsReachEachOthersMappingOnlyWithHairpinning) {
  const bool hairpin = GetParam();
  NatHelper helper;
  helper.SetNat(std::string("full-cone,hairpin=") + (hairpin ? "on" : "off"));
  LanWorld w(helper);
  const InetSocketAddress s = At(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor h1(w.h1, At(LanWorld::H1(), 5000), false);
  UdpActor h2(w.h2, At(LanWorld::H2(), 6000), false);

  h2.SendAt(Seconds(1), s, "hello");  // h2 learns its mapping from the echo
  Simulator::Schedule(Seconds(2), [&]() {
    ASSERT_EQ(h2.received().size(), 1u);
    h1.SendAt(Simulator::Now(), ParseEndpoint(h2.received()[0].payload), "hi neighbour");
  });
  h1.SendAt(Seconds(3), s, "hello");  // shows h1's mapping at the server
  Run(Seconds(4));

  ASSERT_EQ(server.received().size(), 2u);
  const InetSocketAddress h1Mapping = server.received()[1].from;
  const punchlab::nat::NatCounters& c = w.box->GetNat().counters();
  if (hairpin) {
    ASSERT_EQ(h2.received().size(), 2u);
    EXPECT_EQ(h2.received()[1].payload, "hi neighbour");
    // It comes from h1's external endpoint, not its private one (RFC 4787 REQ-9).
    EXPECT_TRUE(Same(h2.received()[1].from, h1Mapping)) << nattest::ToText(h2.received()[1].from);
    EXPECT_EQ(c.hairpinned, 1u);
  } else {
    EXPECT_EQ(h2.received().size(), 1u);
    EXPECT_EQ(c.hairpin_refused, 1u);
    EXPECT_EQ(c.hairpinned, 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(OnOff, NatHairpinTest, ::testing::Bool());

TEST_F(NatNs3Test, MalformedFragmentedAndOtherProtocolsAreDroppedAndCounted) {
  NatHelper helper;
  helper.SetNat("full-cone");
  LanWorld w(helper);
  DropLog drops;
  drops.Connect(w.box);
  const InetSocketAddress s = At(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);

  // ns-3's own queue discs parse TCP headers on the way out and abort on bad
  // ones, so h1 sends without one: the NAT is what must survive these.
  TrafficControlHelper().Uninstall(w.lan.Get(0));
  // Resolve ARP first: the cache queues only three packets per pending entry.
  client.SendAt(Seconds(0.5), s, "warm up");
  const Ipv4Address to = LanWorld::Server();
  std::vector<std::pair<uint8_t, std::vector<uint8_t>>> raw = {
      {17, {0x13, 0x88, 0x0d}},                                      // 3 bytes of UDP header
      {17, {0x13, 0x88, 0x0d, 0x96, 0x00, 0x64, 0x00, 0x00}},        // UDP length 100 in 8 bytes
      {17, {0x13, 0x88, 0x0d, 0x96, 0x00, 0x0c, 0xde, 0xad, 1, 2, 3, 4}},  // bad checksum
      {47, {0, 0, 0x08, 0}},                                         // GRE: not translatable
  };
  std::vector<uint8_t> tcp(20, 0);  // data offset 15 (60 bytes) in 20 bytes
  tcp[12] = 0xf0;
  raw.emplace_back(6, tcp);
  std::vector<uint8_t> option(24, 0);  // an MSS option of length 9 runs past the header
  option[12] = 0x60;
  option[20] = 2;
  option[21] = 9;
  raw.emplace_back(6, option);
  for (size_t i = 0; i < raw.size(); ++i) {
    Simulator::Schedule(Seconds(1) + MilliSeconds(10 * static_cast<int64_t>(i)), [&, i]() {
      nattest::SendRaw(w.h1, to, raw[i].first, raw[i].second);
    });
  }
  client.SendAt(Seconds(2), s, 3000u);  // > LAN MTU: three IPv4 fragments
  client.SendAt(Seconds(3), s, "still works");
  Run(Seconds(4));

  const NatMiddlebox::PacketCounters& p = w.box->GetPacketCounters();
  EXPECT_EQ(p.malformed, 5u);
  EXPECT_EQ(p.fragments, 3u);
  EXPECT_EQ(p.unsupported, 1u);
  ASSERT_EQ(server.received().size(), 2u);
  EXPECT_EQ(server.received()[1].payload, "still works");
  EXPECT_EQ(client.received().size(), 2u);
  EXPECT_EQ(drops.reasons,
            (std::vector<std::string>{"malformed", "malformed", "bad-checksum", "other-protocol",
                                      "malformed", "malformed", "fragment", "fragment",
                                      "fragment"}));
}

TEST_F(NatNs3Test, RebootAtASimulatedTimeLosesMappingsAndMovesTheAddress) {
  NatHelper helper;
  helper.SetNat("full-cone");
  LanWorld w(helper);
  const InetSocketAddress s = At(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor prober(w.server, At(LanWorld::Server(), 4000), false);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);

  client.SendAt(Seconds(1), s, "before");
  Simulator::Schedule(Seconds(2), &NatMiddlebox::Reboot, w.box);
  prober.SendAt(Seconds(3), At(LanWorld::External(), 5000), "after reboot");  // mapping gone
  Simulator::Schedule(Seconds(4), &NatMiddlebox::RebootWithAddresses, w.box,
                      std::vector<Ipv4Address>{Ipv4Address("203.0.113.9")});
  client.SendAt(Seconds(5), s, "moved");
  Run(Seconds(6));

  ASSERT_EQ(server.received().size(), 2u);
  EXPECT_EQ(server.received()[0].from.GetIpv4(), LanWorld::External());
  EXPECT_EQ(server.received()[1].from.GetIpv4(), Ipv4Address("203.0.113.9"));
  EXPECT_EQ(client.CountFrom(s), 2u);  // the echo to the new address made it back
  EXPECT_EQ(client.CountFrom(At(LanWorld::Server(), 4000)), 0u);
  const punchlab::nat::NatCounters& c = w.box->GetNat().counters();
  EXPECT_EQ(c.reboots, 2u);
  EXPECT_EQ(c.mappings_lost, 1u);
  EXPECT_EQ(c.no_mapping, 1u);
  EXPECT_EQ(w.box->GetExternalAddresses(), std::vector<Ipv4Address>{Ipv4Address("203.0.113.9")});
}

TEST_F(NatNs3Test, MappingBehaviourChangeAtASimulatedTimeKeepsTheOldFlow) {
  NatHelper helper;
  helper.SetNat("full-cone,ports=random");
  LanWorld w(helper);
  const InetSocketAddress s1 = At(LanWorld::Server(), 3478);
  const InetSocketAddress s2 = At(LanWorld::Server2(), 3478);
  UdpActor server1(w.server, s1, true), server2(w.server, s2, true);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);
  client.SendAt(Seconds(1), s1, "a");
  Simulator::Schedule(Seconds(2), &NatMiddlebox::SetMappingBehaviour, w.box,
                      punchlab::nat::Dependence::kAddressAndPortDependent);
  client.SendAt(Seconds(3), s1, "b");
  client.SendAt(Seconds(3), s2, "c");
  Run(Seconds(4));
  ASSERT_EQ(server1.received().size(), 2u);
  ASSERT_EQ(server2.received().size(), 1u);
  EXPECT_TRUE(Same(server1.received()[0].from, server1.received()[1].from));
  EXPECT_FALSE(Same(server1.received()[0].from, server2.received()[0].from));
  EXPECT_EQ(client.received().size(), 3u);
}

TEST_F(NatNs3Test, MappingsExpireOnTimeWithoutTraffic) {
  NatHelper helper;
  helper.SetNat("cgnat");  // 30 s UDP timeout
  LanWorld w(helper);
  std::vector<Time> expiredAt;
  w.box->TraceConnectWithoutContext(
      "Expired", MakeBoundCallback(+[](std::vector<Time>* log, uint8_t protocol, const Address& inside,
                                  const Address&) {
                   EXPECT_EQ(protocol, 17);
                   EXPECT_EQ(InetSocketAddress::ConvertFrom(inside).GetPort(), 5000);
                   log->push_back(Simulator::Now());
                 },
                              &expiredAt));
  const InetSocketAddress s = At(LanWorld::Server(), 3478);
  UdpActor server(w.server, s, true);
  UdpActor client(w.h1, At(LanWorld::H1(), 5000), false);
  client.SendAt(Seconds(1), s, "hello");
  client.SendAt(Seconds(10), s, "refresh");
  Run(Seconds(60));
  ASSERT_EQ(expiredAt.size(), 1u);
  // 30 s after the refresh crossed the NAT (a LAN hop after 10 s).
  EXPECT_GT(expiredAt[0], Seconds(40));
  EXPECT_LT(expiredAt[0], Seconds(40.01));
  EXPECT_EQ(w.box->GetNat().counters().mappings_expired, 1u);
  EXPECT_EQ(w.box->GetNat().mapping_count(), 0u);
}

}  // namespace
}  // namespace ns3
