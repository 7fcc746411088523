// NetcheckClient against StunServer regions at modeled distances, behind a
// test NAT, in virtual time.
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <vector>

#include "netcheck-world.h"
#include "punchlab/stun/message.h"

namespace punchlab {
namespace netcheck_test {
namespace {

using netcheck::HomeChangeReason;
using netcheck::ProbeOutcome;
using netcheck::ProbeResult;
using netcheck::ReportTrigger;

Endpoint Server(uint8_t last, uint16_t port = 3478) {
  return Endpoint(IpAddress::V4(198, 51, 100, last), port);
}
Duration Ms(int64_t n) { return Duration::Millis(n); }
Timestamp At(Duration d) { return Timestamp::Zero() + d; }

const Endpoint kFra = Server(1);
const Endpoint kLhr = Server(2);
const Endpoint kLhr2 = Server(3);
const Endpoint kSyd = Server(4);
const Endpoint kNyc = Server(5);

std::vector<RegionSpec> ThreeRegions() {
  return {{1, "fra", {{kFra, Ms(20)}}},
          {2, "lhr", {{kLhr, Ms(80)}, {kLhr2, Ms(60)}}},
          {3, "syd", {{kSyd, Ms(250)}}}};
}

const ProbeResult* FindProbe(const Report& r, const Endpoint& server) {
  for (const ProbeResult& p : r.probes) {
    if (p.server == server) return &p;
  }
  return nullptr;
}

TEST(Netcheck, LatenciesAreTheModeledRtts) {
  World w(ThreeRegions());
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_FALSE(r.udp_blocked);
  EXPECT_TRUE(r.ipv4);
  EXPECT_FALSE(r.ipv6);
  EXPECT_EQ(r.Latency(1), Ms(20));
  EXPECT_EQ(r.Latency(2), Ms(60));  // best of its two servers
  EXPECT_EQ(r.Latency(3), Ms(250));
  EXPECT_EQ(r.region_v4_latency, r.region_latency);
  EXPECT_TRUE(r.unreachable_regions.empty());
  // 250 ms is past the 100 ms retransmit timer: the request was sent again,
  // and timing from the first send still gives the true RTT.
  const ProbeResult* syd = FindProbe(r, kSyd);
  ASSERT_NE(syd, nullptr);
  EXPECT_EQ(syd->retransmits, 1u);
  EXPECT_EQ(syd->rtt, Ms(250));
  // Every probe answered, so the report closed with the last answer.
  EXPECT_EQ(r.started, Timestamp::Zero());
  EXPECT_EQ(r.finished, At(Ms(250)));
  EXPECT_EQ(r.probes.size(), 4u);
  EXPECT_EQ(r.sequence, 1u);
  EXPECT_EQ(r.trigger, ReportTrigger::kCommand);
  EXPECT_EQ(w.client.stats().probes_succeeded, 4u);
  EXPECT_FALSE(w.client.report_in_progress());
  EXPECT_EQ(w.client.PollTimeout(), std::nullopt);  // inactive: nothing scheduled
}

TEST(Netcheck, EasyNatGlobalEndpointAndMappingDoesNotVary) {
  World w(ThreeRegions(), /*hard_nat=*/false);
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_EQ(r.global_v4, Endpoint(kPublicIp, kLocal.port));
  EXPECT_EQ(r.global_v6, std::nullopt);
  EXPECT_EQ(r.mapping_varies_by_dest_ip, false);
}

TEST(Netcheck, HardNatMappingVariesByDestination) {
  World w(ThreeRegions(), /*hard_nat=*/true);
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_EQ(r.mapping_varies_by_dest_ip, true);
  // The first answer (the nearest region) names the global endpoint.
  const ProbeResult* fra = FindProbe(r, kFra);
  ASSERT_NE(fra, nullptr);
  EXPECT_EQ(r.global_v4, fra->mapped);
  EXPECT_EQ(r.global_v4->ip, kPublicIp);
  EXPECT_NE(FindProbe(r, kSyd)->mapped, fra->mapped);
}

TEST(Netcheck, OneServerCannotTellWhetherMappingVaries) {
  World w({{1, "fra", {{kFra, Ms(20)}}}}, /*hard_nat=*/true);
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_FALSE(r.udp_blocked);
  EXPECT_EQ(r.mapping_varies_by_dest_ip, std::nullopt);
  EXPECT_EQ(r.global_v4->ip, kPublicIp);
}

TEST(Netcheck, UdpBlockedOnlyAfterTheWholeReportDeadline) {
  World w(ThreeRegions());
  for (const Endpoint& s : {kFra, kLhr, kLhr2, kSyd}) w.Drop(s);
  w.net.RunUntil(At(Ms(1500)));  // the report starts at a non-zero time
  w.RunReport(Duration::Seconds(10));
  Report r = w.OnlyReport();
  EXPECT_TRUE(r.udp_blocked);
  EXPECT_EQ(r.started, At(Ms(1500)));
  EXPECT_EQ(r.finished - r.started, Duration::Seconds(5));
  EXPECT_FALSE(r.ipv4);
  EXPECT_EQ(r.global_v4, std::nullopt);
  EXPECT_EQ(r.mapping_varies_by_dest_ip, std::nullopt);
  EXPECT_TRUE(r.region_latency.empty());
  EXPECT_EQ(r.unreachable_regions, (std::vector<RegionId>{1, 2, 3}));
  // Round 1 gave up at 3 s; round 2 tried again until the report deadline.
  ASSERT_EQ(r.probes.size(), 8u);
  for (const ProbeResult& p : r.probes) {
    EXPECT_EQ(p.outcome, ProbeOutcome::kTimeout);
    EXPECT_EQ(p.started, r.started + (p.round == 1 ? Duration::Zero() : Duration::Seconds(3)));
  }
  EXPECT_EQ(w.client.stats().retry_rounds, 1u);
  EXPECT_EQ(w.client.stats().reports_udp_blocked, 1u);
  EXPECT_EQ(r.home_region, netcheck::kNoRegion);
  EXPECT_TRUE(w.home_changes.empty());
}

TEST(Netcheck, BlockedReportKeepsTheHome) {
  World w(ThreeRegions());
  w.RunReport();
  EXPECT_EQ(w.OnlyReport().home_region, 1);
  for (const Endpoint& s : {kFra, kLhr, kLhr2, kSyd}) w.Drop(s);
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_TRUE(r.udp_blocked);
  EXPECT_EQ(r.home_region, 1);
  EXPECT_EQ(w.client.home_region(), 1);
  EXPECT_EQ(w.home_changes.size(), 1u);  // only the initial choice
}

TEST(Netcheck, UnreachableRegionDoesNotFailTheReport) {
  World w(ThreeRegions());
  w.Drop(kSyd);
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_FALSE(r.udp_blocked);
  EXPECT_EQ(r.Latency(1), Ms(20));
  EXPECT_EQ(r.Latency(2), Ms(60));
  EXPECT_EQ(r.Latency(3), std::nullopt);
  EXPECT_EQ(r.unreachable_regions, std::vector<RegionId>{3});
  EXPECT_EQ(r.mapping_varies_by_dest_ip, false);
  // Two regions are not enough to stop early: the dead one's probe runs its
  // full 3 s, and no retry round follows since others answered.
  EXPECT_EQ(r.finished, At(Duration::Seconds(3)));
  EXPECT_EQ(FindProbe(r, kSyd)->outcome, ProbeOutcome::kTimeout);
  EXPECT_EQ(w.client.stats().retry_rounds, 0u);
  EXPECT_EQ(r.home_region, 1);
}

TEST(Netcheck, EnoughRegionsCloseTheReportEarly) {
  std::vector<RegionSpec> specs = ThreeRegions();
  specs.push_back({4, "nyc", {{kNyc, Ms(90)}}});
  World w(specs);
  w.Drop(kSyd);
  w.RunReport();
  Report r = w.OnlyReport();
  // fra 20, lhr 60, nyc 90: the third region answered at 90 ms; twice the
  // slowest latency later the dead region's probe is cancelled.
  EXPECT_EQ(r.finished, At(Ms(90 + 180)));
  EXPECT_EQ(r.Latency(4), Ms(90));
  EXPECT_EQ(r.unreachable_regions, std::vector<RegionId>{3});
  const ProbeResult* syd = FindProbe(r, kSyd);
  EXPECT_EQ(syd->outcome, ProbeOutcome::kCancelled);
  EXPECT_EQ(r.probes.back().server, kSyd);  // cancelled ones last
  EXPECT_EQ(w.client.stats().reports_closed_early, 1u);
  EXPECT_EQ(w.client.stats().probes_cancelled, 1u);
  EXPECT_EQ(w.client.stun_stats().cancelled, 1u);
}

TEST(Netcheck, HomeIsTheLowestLatencyRegion) {
  World w({{1, "syd", {{kSyd, Ms(250)}}}, {2, "lhr", {{kLhr, Ms(30)}}}, {3, "fra", {{kFra, Ms(45)}}}});
  w.RunReport();
  auto events = w.Events();
  ASSERT_EQ(events.size(), 2u);
  const auto* report = std::get_if<Report>(&events[0].event);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(report->home_region, 2);
  const auto* change = std::get_if<netcheck::HomeRegionChange>(&events[1].event);
  ASSERT_NE(change, nullptr);
  EXPECT_EQ(events[1].at, events[0].at);
  EXPECT_EQ(change->from, netcheck::kNoRegion);
  EXPECT_EQ(change->to, 2);
  EXPECT_EQ(change->reason, HomeChangeReason::kInitial);
  EXPECT_EQ(w.client.home_region(), 2);
}

// Four regions so the enough-regions shortcut is in play: the home region's
// slow answer must still be waited for.
std::vector<RegionSpec> FourRegions() {
  return {{1, "fra", {{kFra, Ms(20)}}},
          {2, "lhr", {{kLhr, Ms(40)}}},
          {3, "nyc", {{kNyc, Ms(50)}}},
          {4, "syd", {{kSyd, Ms(60)}}}};
}

TEST(Netcheck, SingleLatencySpikeDoesNotMoveTheHome) {
  World w(FourRegions());
  w.RunReport();
  EXPECT_EQ(w.OnlyReport().home_region, 1);
  w.SetRtt(kFra, Ms(1000));  // one bad sample at home
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_EQ(r.Latency(1), Ms(1000));  // waited for, not cut off early
  EXPECT_EQ(r.finished - r.started, Ms(1000));
  EXPECT_EQ(r.home_region, 1);
  w.SetRtt(kFra, Ms(20));
  w.RunReport();
  EXPECT_EQ(w.OnlyReport().home_region, 1);
  EXPECT_EQ(w.home_changes.size(), 1u);  // only the initial choice
}

TEST(Netcheck, SmallImprovementElsewhereDoesNotMoveTheHome) {
  World w(FourRegions());
  w.RunReport();
  w.SetRtt(kLhr, Ms(15));  // 5 ms better than home: under the 10 ms margin
  for (int i = 0; i < 5; ++i) w.RunReport(Duration::Seconds(30));
  for (const Report& r : w.Reports()) EXPECT_EQ(r.home_region, 1);
  EXPECT_EQ(w.home_changes.size(), 1u);
}

TEST(Netcheck, PersistentLargeImprovementMovesTheHome) {
  World w(FourRegions());
  w.RunReport();
  w.Reports();
  w.SetRtt(kLhr, Ms(5));
  w.RunReport();
  w.RunReport();
  std::vector<Report> reports = w.Reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[0].home_region, 2);
  EXPECT_EQ(reports[1].home_region, 2);
  ASSERT_EQ(w.home_changes.size(), 2u);
  EXPECT_EQ(w.home_changes[1].from, 1);
  EXPECT_EQ(w.home_changes[1].to, 2);
  EXPECT_EQ(w.home_changes[1].reason, HomeChangeReason::kBetterLatency);
}

TEST(Netcheck, UnreachableHomeMovesTheHome) {
  World w(FourRegions());
  w.RunReport();
  w.Drop(kFra);
  w.RunReport();
  Report r = w.Reports().back();
  EXPECT_EQ(r.home_region, 2);
  ASSERT_EQ(w.home_changes.size(), 2u);
  EXPECT_EQ(w.home_changes[1].reason, HomeChangeReason::kHomeUnreachable);
}

std::vector<Timestamp> PeriodicStarts(uint64_t seed, Duration run_for) {
  World w(ThreeRegions(), false, seed);
  w.client.SetActive(w.net.now(), true);
  w.Drain();
  w.net.RunUntil(At(run_for));
  std::vector<Timestamp> starts;
  for (const Report& r : w.Reports()) {
    EXPECT_EQ(r.trigger, starts.empty() ? ReportTrigger::kActivated : ReportTrigger::kPeriodic);
    EXPECT_FALSE(r.udp_blocked);
    starts.push_back(r.started);
  }
  return starts;
}

TEST(Netcheck, ReStunEvery20To26SecondsDeterministicPerSeed) {
  const Duration run_for = Duration::Seconds(600);
  std::vector<Timestamp> a = PeriodicStarts(7, run_for);
  ASSERT_GE(a.size(), 600u / 26);
  ASSERT_LE(a.size(), 600u / 20 + 1);
  EXPECT_EQ(a.front(), Timestamp::Zero());  // activation with no report yet
  std::vector<Duration> gaps;
  for (size_t i = 1; i < a.size(); ++i) {
    const Duration gap = a[i] - a[i - 1];
    EXPECT_GE(gap, Duration::Seconds(20));
    EXPECT_LE(gap, Duration::Seconds(26));
    gaps.push_back(gap);
  }
  // Drawn, not fixed.
  EXPECT_NE(*std::min_element(gaps.begin(), gaps.end()), *std::max_element(gaps.begin(), gaps.end()));
  EXPECT_EQ(PeriodicStarts(7, run_for), a);
  EXPECT_NE(PeriodicStarts(8, run_for), a);
}

TEST(Netcheck, InactiveStopsReStunAndReactivationAfterIdleReportsAtOnce) {
  World w(ThreeRegions());
  w.client.SetActive(w.net.now(), true);
  w.Drain();
  w.net.RunUntil(At(Duration::Seconds(10)));
  ASSERT_TRUE(w.client.next_periodic_report());
  w.client.SetActive(w.net.now(), false);
  EXPECT_EQ(w.client.next_periodic_report(), std::nullopt);
  w.net.RunUntil(At(Duration::Seconds(120)));
  EXPECT_EQ(w.Reports().size(), 1u);

  w.client.SetActive(w.net.now(), true);
  w.Drain();
  w.net.RunUntil(At(Duration::Seconds(121)));
  std::vector<Report> reports = w.Reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].trigger, ReportTrigger::kActivated);
  EXPECT_EQ(reports[0].started, At(Duration::Seconds(120)));
}

TEST(Netcheck, ReactivationSoonAfterAReportKeepsItsSchedule) {
  World w(ThreeRegions());
  w.client.SetActive(w.net.now(), true);
  w.Drain();
  w.net.RunUntil(At(Duration::Seconds(5)));
  w.client.SetActive(w.net.now(), false);
  w.client.SetActive(w.net.now(), true);
  ASSERT_TRUE(w.client.next_periodic_report());
  EXPECT_GE(*w.client.next_periodic_report(), At(Duration::Seconds(20)));
  EXPECT_LE(*w.client.next_periodic_report(), At(Duration::Seconds(26)));
  EXPECT_FALSE(w.client.report_in_progress());
}

TEST(Netcheck, StartReportWhileRunningIsDeferred) {
  World w(ThreeRegions());
  w.client.StartReport(w.net.now());
  w.Drain();
  w.net.RunUntil(At(Ms(10)));
  EXPECT_TRUE(w.client.StartReport(w.net.now()));  // e.g. a link change
  EXPECT_TRUE(w.client.StartReport(w.net.now()));  // coalesced
  w.net.RunUntil(At(Duration::Seconds(2)));
  std::vector<Report> reports = w.Reports();
  ASSERT_EQ(reports.size(), 2u);
  EXPECT_EQ(reports[1].started, reports[0].finished);
  EXPECT_EQ(reports[1].sequence, 2u);
  EXPECT_EQ(w.client.stats().reports_deferred, 2u);
}

TEST(Netcheck, NothingToProbe) {
  World w({});
  EXPECT_FALSE(w.client.StartReport(w.net.now()));
  EXPECT_FALSE(w.client.report_in_progress());
  EXPECT_EQ(w.client.stats().reports_skipped_no_probe, 1u);

  World v6only({{1, "fra6", {{Endpoint(*IpAddress::Parse("2001:db8::1"), 3478), Ms(20)}}}});
  EXPECT_FALSE(v6only.client.StartReport(v6only.net.now()));  // only an IPv4 local endpoint
}

TEST(Netcheck, DualStackReportsBothGlobalEndpoints) {
  const Endpoint fra6(*IpAddress::Parse("2001:db8::1"), 3478);
  World w({{1, "fra", {{kFra, Ms(20)}, {fra6, Ms(14)}}}, {2, "lhr", {{kLhr, Ms(40)}}}});
  w.client.SetLocalEndpoints({kLocal, kLocal6});
  w.RunReport();
  Report r = w.OnlyReport();
  EXPECT_TRUE(r.ipv4);
  EXPECT_TRUE(r.ipv6);
  EXPECT_EQ(r.global_v4, Endpoint(kPublicIp, kLocal.port));
  EXPECT_EQ(r.global_v6, kLocal6);  // no NAT on IPv6
  EXPECT_EQ(r.Latency(1), Ms(14));
  EXPECT_EQ(r.region_v4_latency.at(1), Ms(20));
  EXPECT_EQ(r.region_v6_latency.at(1), Ms(14));
  EXPECT_EQ(r.region_v6_latency.count(2), 0u);
  EXPECT_EQ(r.probes.size(), 3u);  // no cross-family pairs
}

TEST(Netcheck, MalformedAndStrayDatagramsAreCountedNotFatal) {
  World w(ThreeRegions());
  const Bytes junk = {0x00, 0x01, 0x02};
  w.client.HandleDatagram(w.net.now(), kLocal, kFra, junk);
  stun::Message stray;
  stray.cls = stun::MessageClass::kSuccessResponse;
  stray.transaction_id = stun::TransactionId::Random(w.rng);
  stray.xor_mapped_address = Endpoint(kPublicIp, 1);
  w.client.HandleDatagram(w.net.now(), kLocal, kFra, stun::EncodeMessage(stray));
  EXPECT_EQ(w.client.stun_stats().dropped_malformed, 1u);
  EXPECT_EQ(w.client.stun_stats().dropped_unmatched, 1u);
  EXPECT_TRUE(w.Events().empty());
  w.RunReport();
  EXPECT_FALSE(w.OnlyReport().udp_blocked);
}

TEST(Netcheck, UnusableRegionsAreIgnoredAndCounted) {
  World w({});
  w.client.SetRegions({{0, "zero", {kFra}},
                       {1, "fra", {kFra, Endpoint(kFra.ip, 0), Endpoint(IpAddress(), 3478)}},
                       {1, "dup", {kLhr}}});
  ASSERT_EQ(w.client.regions().size(), 1u);
  EXPECT_EQ(w.client.regions()[0].stun, std::vector<Endpoint>{kFra});
  EXPECT_EQ(w.client.stats().regions_ignored, 2u);
  EXPECT_EQ(w.client.stats().stun_endpoints_ignored, 2u);
}

TEST(Netcheck, BadConfigIsRejected) {
  DeterministicRandom rng(1);
  NetcheckConfig c;
  c.restun_max = Duration::Seconds(10);
  EXPECT_THROW(NetcheckClient(rng, c), std::invalid_argument);
}

}  // namespace
}  // namespace netcheck_test
}  // namespace punchlab
