// Two nodes behind NATs find a direct path, or stay on DERP, in virtual
// time. Every deadline and RTT is derived from the latencies, NAT behaviours
// and path timers the test configures.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <string>

#include "node-world.h"
#include "punchlab/nat/direct-path.h"

namespace punchlab {
namespace node_test {
namespace {

const disco::PathConfig kPaths;  // the timers every node here runs with
const Duration kPeriod = Ms(100);

bool Eim(const NatConfig& c) { return c.mapping == nat::Dependence::kEndpointIndependent; }

// Whether the two NATs' behaviours let the nodes punch a direct path: the
// NAT library's prediction (punchlab/nat/direct-path.h has the argument),
// the same one ns-3's NAT matrix (models/test/node-matrix-test.cc) holds to.
bool ExpectDirect(const NatConfig& a, const NatConfig& b) {
  return nat::NatAllowsDirect(a.Knobs(), b.Knobs());
}

TEST(Punching, PortRestrictedConesGoDirectViaCallMeMaybe) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(20));

  // B's NAT filters by address and port, so A's first pings die there; A's
  // CallMeMaybe (over DERP) makes B ping A, whose NAT lets that through
  // because A has just pinged B. B's path is direct after DERP + one RTT.
  const Duration rtt = TwoNodes::DirectRtt();
  const Duration derp_a_to_b = p.ToRegion(1) * 2;  // both homed in region 1
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return p.b->PathTo(*p.a).direct(); },
                                     t0 + derp_a_to_b + rtt + Ms(1)));
  const auto b_changes = p.b->PathChangesTo(*p.a);
  ASSERT_FALSE(b_changes.empty());
  EXPECT_EQ(b_changes.back().reason, node::PathChangeReason::kCallMeMaybe);
  EXPECT_EQ(b_changes.back().from, Path::Derp(1));

  // A pings B again once ping_interval has passed (B's NAT now has a flow
  // to A), so A is direct one RTT after that, and not before.
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return p.a->PathTo(*p.b).direct(); },
                                     t0 + kPaths.ping_interval + rtt + kPeriod));
  EXPECT_GE(p.w.world.now(), t0 + kPaths.ping_interval);
  const auto a_changes = p.a->PathChangesTo(*p.b);
  ASSERT_FALSE(a_changes.empty());
  EXPECT_EQ(a_changes.back().reason, node::PathChangeReason::kPong);
  EXPECT_EQ(a_changes.back().to, Path::Direct(TwoNodes::PublicB()));
  EXPECT_EQ(a_changes.back().rtt, rtt);

  // From here data goes direct: the DERP counters stop growing.
  const Path direct = Path::Direct(TwoNodes::PublicB());
  const node::PathCounters derp_before = p.a->Counters(*p.b, Path::Derp(1));
  const node::PathCounters direct_before = p.a->Counters(*p.b, direct);
  p.w.world.RunUntil(t0 + Sec(21));
  const node::PathCounters derp_after = p.a->Counters(*p.b, Path::Derp(1));
  const node::PathCounters direct_after = p.a->Counters(*p.b, direct);
  const auto sent = static_cast<uint64_t>(p.w.SentCount(*p.a, "a2b"));
  EXPECT_EQ(derp_after.packets_sent, derp_before.packets_sent);
  EXPECT_GT(direct_after.packets_sent, direct_before.packets_sent + 100);
  EXPECT_EQ(derp_after.packets_sent + direct_after.packets_sent, sent);
  EXPECT_EQ(p.a->node->stats().data_sent_direct, direct_after.packets_sent);
  uint64_t payload_bytes = 0;
  for (uint64_t i = 0; i < sent; ++i) payload_bytes += ("a2b-" + std::to_string(i)).size();
  EXPECT_EQ(direct_after.bytes_sent + derp_after.bytes_sent, payload_bytes);
  // Every packet arrived, counted by B on the path it came by.
  EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDerp, "a2b"), derp_after.packets_sent);
  EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDirect, "a2b"), direct_after.packets_sent);
  EXPECT_EQ(p.b->Counters(*p.a, Path::Direct(TwoNodes::PublicA())).packets_received,
            direct_after.packets_sent);

  // RTT per path: direct pongs measure exactly the modeled RTT; the disco
  // pings relayed while on DERP measure the relayed one.
  EXPECT_GT(direct_after.rtt.samples, 0u);
  EXPECT_EQ(direct_after.rtt.min, rtt);
  EXPECT_EQ(direct_after.rtt.max, rtt);
  EXPECT_GT(derp_after.rtt.samples, 0u);
  EXPECT_EQ(derp_after.rtt.min, derp_a_to_b * 2);
}

TEST(Punching, FullConeAnswersTheVeryFirstPing) {
  // B's NAT filters nothing, so A's first discovery ping gets through.
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::FullCone());
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(5));
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return p.a->PathTo(*p.b).direct(); },
                                     t0 + TwoNodes::DirectRtt()));
  EXPECT_EQ(p.w.world.now(), t0 + TwoNodes::DirectRtt());
  EXPECT_EQ(p.a->PathChangesTo(*p.b).back().reason, node::PathChangeReason::kPong);
}

struct NatPair {
  const char* name;
  NatConfig a;
  NatConfig b;
};

void PrintTo(const NatPair& p, std::ostream* os) { *os << p.name; }

class NatMatrix : public ::testing::TestWithParam<NatPair> {};

// Both nodes send for 30 s. Direct or DERP as the NAT behaviours dictate;
// everything is delivered either way.
TEST_P(NatMatrix, DirectExactlyWhenTheNatsAllowIt) {
  const NatPair& np = GetParam();
  TwoNodes p(np.a, np.b);
  p.w.StartAndSettle();

  // netcheck saw each NAT for what it is (two regions answered).
  for (auto [host, nat] : {std::make_pair(p.a, np.a), std::make_pair(p.b, np.b)}) {
    const auto reports = host->EventsOf<node::NetcheckDone>();
    ASSERT_FALSE(reports.empty());
    EXPECT_EQ(reports.front().second.report.mapping_varies_by_dest_ip, !Eim(nat)) << host->name;
  }

  const Timestamp t0 = p.w.world.now();
  const Timestamp end = t0 + Sec(30);
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, end);
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, end);
  const bool direct = ExpectDirect(np.a, np.b);
  // Discovery repeats every ping_interval; two rounds plus DERP round trips
  // cover "the other side learns my reflexive endpoint, then pings it".
  const Timestamp deadline = t0 + kPaths.ping_interval * 2 + p.ToRegion(1) * 8;
  const bool both = p.w.world.RunUntilTrue(
      [&] { return p.a->PathTo(*p.b).direct() && p.b->PathTo(*p.a).direct(); }, deadline);
  EXPECT_EQ(both, direct);
  p.w.world.RunUntil(end + Sec(1));
  if (!direct) {
    EXPECT_TRUE(p.a->PathChangesTo(*p.b).back().to.derp());
    for (const auto& c : p.a->PathChangesTo(*p.b)) EXPECT_FALSE(c.to.direct());
    for (const auto& c : p.b->PathChangesTo(*p.a)) EXPECT_FALSE(c.to.direct());
  }
  // Nothing is lost on either kind of path.
  const size_t a2b = p.b->Received(*p.a, Path::Kind::kDirect, "a2b") +
                     p.b->Received(*p.a, Path::Kind::kDerp, "a2b");
  const size_t b2a = p.a->Received(*p.b, Path::Kind::kDirect, "b2a") +
                     p.a->Received(*p.b, Path::Kind::kDerp, "b2a");
  EXPECT_EQ(a2b, static_cast<size_t>(p.w.SentCount(*p.a, "a2b")));
  EXPECT_EQ(b2a, static_cast<size_t>(p.w.SentCount(*p.b, "b2a")));
  if (!direct) {
    EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDirect), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Nats, NatMatrix,
    ::testing::Values(NatPair{"PortRestricted_PortRestricted", NatConfig::PortRestrictedCone(),
                              NatConfig::PortRestrictedCone()},
                      NatPair{"Restricted_FullCone", NatConfig::RestrictedCone(),
                              NatConfig::FullCone()},
                      NatPair{"Symmetric_FullCone", NatConfig::Symmetric(), NatConfig::FullCone()},
                      NatPair{"Symmetric_Restricted", NatConfig::Symmetric(),
                              NatConfig::RestrictedCone()},
                      NatPair{"Symmetric_PortRestricted", NatConfig::Symmetric(),
                              NatConfig::PortRestrictedCone()},
                      NatPair{"PortRestricted_Symmetric", NatConfig::PortRestrictedCone(),
                              NatConfig::Symmetric()},
                      NatPair{"Symmetric_Symmetric", NatConfig::Symmetric(),
                              NatConfig::Symmetric()}),
    [](const ::testing::TestParamInfo<NatPair>& param) { return std::string(param.param.name); });

bool Contains(const Bytes& haystack, const std::string& needle) {
  return std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end()) !=
         haystack.end();
}

TEST(Punching, SymmetricNatsRelayAcrossRegionsWithoutShowingDerpThePayload) {
  TwoNodes p(NatConfig::Symmetric(), NatConfig::Symmetric());
  // B sits far from region 1, so its home is region 2; A's stays region 1.
  const Duration detour = Ms(100);
  for (const char* ip : {"192.0.2.20"}) {
    p.w.world.SetPair(Ip(ip), p.w.Region(1).ip, detour, 0.0);
  }
  p.w.world.capture_streams = true;
  p.w.StartAndSettle();
  ASSERT_EQ(p.a->node->home_region(), 1);
  ASSERT_EQ(p.b->node->home_region(), 2);

  const Timestamp t0 = p.w.world.now();
  const std::string secret = "attack at dawn";
  p.w.Traffic(*p.a, *p.b, secret + " a2b", kPeriod, t0 + Sec(30));
  p.w.Traffic(*p.b, *p.a, secret + " b2a", kPeriod, t0 + Sec(30));
  p.w.world.RunUntil(t0 + Sec(31));

  // Each side sends through the other's home region; nothing goes direct.
  const auto sent_a = static_cast<uint64_t>(p.w.SentCount(*p.a, secret + " a2b"));
  const auto sent_b = static_cast<uint64_t>(p.w.SentCount(*p.b, secret + " b2a"));
  EXPECT_EQ(p.a->PathTo(*p.b), Path::Derp(2));
  EXPECT_EQ(p.b->PathTo(*p.a), Path::Derp(1));
  EXPECT_EQ(p.a->Counters(*p.b, Path::Derp(2)).packets_sent, sent_a);
  EXPECT_EQ(p.b->Counters(*p.a, Path::Derp(2)).packets_received, sent_a);
  EXPECT_EQ(p.b->Counters(*p.a, Path::Derp(1)).packets_sent, sent_b);
  EXPECT_EQ(p.a->Counters(*p.b, Path::Derp(1)).packets_received, sent_b);
  EXPECT_EQ(p.a->node->stats().data_sent_direct + p.b->node->stats().data_sent_direct, 0u);

  // The relayed RTT is measured end to end: A -> region 2 -> B and back.
  const Duration to_r2 = p.ToRegion(2);
  EXPECT_EQ(p.a->Counters(*p.b, Path::Derp(2)).rtt.min, to_r2 * 4);

  // Both DERP servers relayed it all, and saw only sealed bytes.
  EXPECT_GE(p.w.RegionServer(1).derp().stats().packets_relayed, sent_b);
  EXPECT_GE(p.w.RegionServer(2).derp().stats().packets_relayed, sent_a);
  size_t scanned = 0;
  for (node::RegionId r : {1, 2}) {
    for (auto link : p.w.world.StreamLinksTo(NodeWorld::Derp(p.w.Region(r)))) {
      for (const Bytes* bytes : {&p.w.world.StreamBytesToServer(link),
                                 &p.w.world.StreamBytesToClient(link)}) {
        scanned += bytes->size();
        EXPECT_FALSE(Contains(*bytes, secret)) << "plaintext on a DERP connection to region " << r;
      }
    }
  }
  EXPECT_GT(scanned, (sent_a + sent_b) * secret.size());
}

// Up (what the scenario traffic waits for) comes once, at the first instant
// the node is registered and its home region's connection is up, whichever
// came last; also for a node whose home is the fallback (UDP blocked).
TEST(Punching, UpComesOnceWhenRegisteredAndTheHomeRegionIsConnected) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  p.w.world.SetAccess(p.a->host, LinkParams{Ms(TwoNodes::kHostAccessMs), 1.0});  // UDP blocked
  p.w.StartAll();
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return p.a->node->up() && p.b->node->up(); }, At(Sec(10))));
  p.w.world.RunUntil(p.w.world.now() + Sec(30));
  for (const auto* n : {p.a, p.b}) {
    const auto ups = n->EventsOf<node::Up>();
    ASSERT_EQ(ups.size(), 1u);
    const auto registered = n->EventsOf<node::Registered>();
    const auto connected = n->EventsOf<node::DerpConnected>();
    ASSERT_FALSE(registered.empty());
    ASSERT_FALSE(connected.empty());
    EXPECT_EQ(ups[0].second.home_region, 1);
    EXPECT_EQ(ups[0].first, std::max(registered[0].first, connected[0].first));
  }
}

// A DERP map with no region (`derp: {regions: []}`): nothing to connect to,
// so the node is up once registered, not never (its flows would all wait
// for ProbeSchedule::kUpDeadline).
TEST(Punching, UpComesAtRegistrationWhenTheDerpMapHasNoRegion) {
  NodeWorld w(1, {});
  const NatId nat = w.AddNat("nat-a", "192.0.2.10", NatConfig::PortRestrictedCone());
  NodeHost& a = w.AddNode("a", w.world.InsideOf(nat), "10.1.0.2");
  w.StartAll();
  ASSERT_TRUE(w.world.RunUntilTrue([&] { return a.node->up(); }, At(Sec(10))));
  w.world.RunUntil(w.world.now() + Sec(10));
  const auto ups = a.EventsOf<node::Up>();
  const auto registered = a.EventsOf<node::Registered>();
  ASSERT_EQ(ups.size(), 1u);
  ASSERT_FALSE(registered.empty());
  EXPECT_EQ(ups[0].first, registered[0].first);
  EXPECT_EQ(ups[0].second.home_region, node::kNoRegion);
  EXPECT_TRUE(a.EventsOf<node::DerpConnected>().empty());
}

TEST(Punching, UdpBlockedNodeFallsBackToTheLowestRegionAndRelays) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  // A's host loses every datagram (a firewall that blocks UDP); TCP works.
  p.w.world.SetAccess(p.a->host, LinkParams{Ms(TwoNodes::kHostAccessMs), 1.0});
  p.w.StartAll();
  const netcheck::NetcheckConfig nc;
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return !p.a->EventsOf<node::NetcheckDone>().empty(); }, At(Sec(10))));
  const auto [at, done] = p.a->EventsOf<node::NetcheckDone>().front();
  EXPECT_TRUE(done.report.udp_blocked);
  EXPECT_EQ(done.report.finished - done.report.started, nc.report_deadline);
  const auto homes = p.a->EventsOf<node::HomeRegionChanged>();
  ASSERT_EQ(homes.size(), 1u);
  EXPECT_EQ(homes[0].second.to, 1);
  EXPECT_NE(homes[0].second.reason.find("no STUN answer"), std::string::npos);

  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return p.a->node->DerpConnected(1) && p.b->node->DerpConnected(1); }, At(Sec(10))));
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, t0 + Sec(20));
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, t0 + Sec(20));
  p.w.world.RunUntil(t0 + Sec(21));
  EXPECT_EQ(p.b->Received(*p.a, Path::Kind::kDerp, "a2b"),
            static_cast<size_t>(p.w.SentCount(*p.a, "a2b")));
  EXPECT_EQ(p.a->Received(*p.b, Path::Kind::kDerp, "b2a"),
            static_cast<size_t>(p.w.SentCount(*p.b, "b2a")));
  EXPECT_EQ(p.a->PathTo(*p.b), Path::Derp(1));
  EXPECT_EQ(p.b->PathTo(*p.a), Path::Derp(1));
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
