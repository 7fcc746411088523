// A direct path that stops answering falls back to DERP within the trust
// window, and comes back when the network does: a cut between the NATs, and
// a NAT reboot that changes the node's public port (recovered via re-STUN,
// control and CallMeMaybe).
#include <gtest/gtest.h>

#include <algorithm>

#include "node-world.h"

namespace punchlab {
namespace node_test {
namespace {

const disco::PathConfig kPaths;
const netcheck::NetcheckConfig kNetcheck;
const Duration kPeriod = Ms(100);

bool BothDirect(const TwoNodes& p) {
  return p.a->PathTo(*p.b).direct() && p.b->PathTo(*p.a).direct();
}
bool BothRelayed(const TwoNodes& p) {
  return p.a->PathTo(*p.b).derp() && p.b->PathTo(*p.a).derp();
}

// Settles, starts traffic both ways until `end`, and waits for both paths
// to be direct.
void GoDirect(TwoNodes& p, Timestamp end) {
  p.w.StartAndSettle();
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, end);
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, end);
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return BothDirect(p); },
                                     p.w.world.now() + kPaths.ping_interval * 2));
}

TEST(Fallback, CutBetweenNatsFallsBackWithinTrustWindowAndRecovers) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  const Timestamp end = At(Sec(60));
  GoDirect(p, end);
  p.w.world.RunFor(Sec(5));  // heartbeats going
  ASSERT_TRUE(BothDirect(p));

  // Every datagram between the two NATs is lost from now on; DERP (TCP to
  // the region) is untouched.
  const Timestamp cut = p.w.world.now();
  const IpAddress nat_a = TwoNodes::PublicA().ip;
  const IpAddress nat_b = TwoNodes::PublicB().ip;
  p.w.world.SetPair(nat_a, nat_b, Duration::Zero(), 1.0);

  // The last pong arrived at most one heartbeat before the cut (or one way
  // after it); trust runs trust_duration from there.
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return BothRelayed(p); },
                                     cut + kPaths.trust_duration + TwoNodes::DirectOneWay()));
  for (auto [from, to] : {std::make_pair(p.a, p.b), std::make_pair(p.b, p.a)}) {
    const auto changes = from->EventsOf<node::PathChanged>();
    const auto& [at, change] = changes.back();
    EXPECT_EQ(change.reason, node::PathChangeReason::kTrustExpired) << from->name;
    EXPECT_TRUE(change.from.direct());
    EXPECT_EQ(change.to, Path::Derp(1));
    EXPECT_GE(at, cut + kPaths.trust_duration - kPaths.heartbeat_interval) << from->name;
    EXPECT_NE(change.detail.find("no pong"), std::string::npos);
  }

  // Data keeps flowing over DERP while the direct path is down.
  const Timestamp relayed_since = p.w.world.now();
  const size_t relayed_before = p.b->Received(*p.a, Path::Kind::kDerp, "a2b");
  const Timestamp restore = cut + Sec(10);  // well inside the 30 s NAT timeout
  p.w.world.RunUntil(restore);
  ASSERT_TRUE(BothRelayed(p));
  const size_t relayed = p.b->Received(*p.a, Path::Kind::kDerp, "a2b") - relayed_before;
  const auto expected = static_cast<size_t>((restore - relayed_since).nanos() / kPeriod.nanos());
  EXPECT_GE(relayed + 1, expected);

  // Both NATs kept their flows alive (each side kept pinging the other), so
  // the first discovery ping after the repair gets through: at most one
  // ping_interval later, plus its round trip.
  p.w.world.SetPair(nat_a, nat_b, Duration::Zero(), 0.0);
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return BothDirect(p); }, restore + kPaths.ping_interval + TwoNodes::DirectRtt() + kPeriod));
  for (NodeHost* h : {p.a, p.b}) {
    const auto reason = h->EventsOf<node::PathChanged>().back().second.reason;
    EXPECT_TRUE(reason == node::PathChangeReason::kPong ||
                reason == node::PathChangeReason::kCallMeMaybe)
        << h->name << ": " << node::PathChangeReasonName(reason);
  }
}

TEST(Fallback, NatRebootWithANewPortRecoversThroughReStun) {
  NatConfig a_nat = NatConfig::PortRestrictedCone();
  // A reboot changes the port: a random one is drawn afresh (a sequential
  // pool starts over after a reboot, as NatTable's does, and would give the
  // same port back).
  a_nat.ports = testsupport::PortAssignment::kRandom;
  TwoNodes p(a_nat, NatConfig::PortRestrictedCone());
  const Timestamp end = At(Sec(120));
  GoDirect(p, end);
  p.w.world.RunFor(Sec(3));
  const Endpoint old_a = p.a->node->endpoints().front();
  ASSERT_EQ(p.b->PathTo(*p.a), Path::Direct(old_a));

  const Timestamp reboot = p.w.world.now();
  p.w.world.nat(p.na).Flush();

  // Nothing answers on the old mapping any more: both fall back to DERP.
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return BothRelayed(p); },
                                     reboot + kPaths.trust_duration + TwoNodes::DirectOneWay()));

  // A's periodic re-STUN (it is active) finds the new port and publishes it,
  // keeping the old one for endpoint_freshness after it was last seen.
  auto new_endpoint = [&]() -> std::optional<Endpoint> {
    const auto reports = p.a->EventsOf<node::NetcheckDone>();
    const auto& r = reports.back().second.report;
    if (reports.back().first <= reboot || !r.global_v4 || *r.global_v4 == old_a) return std::nullopt;
    return r.global_v4;
  };
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return new_endpoint().has_value(); },
                                     reboot + kNetcheck.restun_max + kNetcheck.report_deadline));
  const Endpoint new_a = *new_endpoint();
  const Timestamp published = p.w.world.now();
  EXPECT_EQ(new_a.ip, old_a.ip);
  EXPECT_NE(new_a.port, old_a.port);
  const auto eps = p.a->EventsOf<node::EndpointsChanged>().back().second.endpoints;
  ASSERT_GE(eps.size(), 2u);
  EXPECT_EQ(eps[0], new_a);
  EXPECT_EQ(eps[1], old_a);

  // Control tells B at once (A -> server -> B: two one-way trips); B, which
  // is searching, pings the new candidate with its next send; A's NAT lets
  // it in because A has been pinging B through its new mapping. A follows at
  // its next discovery round, now that B's NAT has a flow to A's new port.
  const Duration control_trip = Ms(TwoNodes::kHostAccessMs + TwoNodes::kUplinkMs + 5);
  const Timestamp b_deadline = published + control_trip * 2 + kPeriod + TwoNodes::DirectRtt();
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return p.b->PathTo(*p.a).direct(); }, b_deadline));
  EXPECT_EQ(p.b->PathTo(*p.a), Path::Direct(new_a));
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] { return p.a->PathTo(*p.b).direct(); },
      p.w.world.now() + kPaths.ping_interval + TwoNodes::DirectRtt() + kPeriod));
  EXPECT_EQ(p.a->PathTo(*p.b), Path::Direct(TwoNodes::PublicB()));

  // The old endpoint leaves the published list once no report has seen it
  // for endpoint_freshness.
  const node::NodeConfig defaults;
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] {
        const auto& now_eps = p.a->node->endpoints();
        return std::find(now_eps.begin(), now_eps.end(), old_a) == now_eps.end();
      },
      published + defaults.endpoint_freshness + kNetcheck.restun_max + kNetcheck.report_deadline));
  EXPECT_GT(p.w.world.now(), reboot + defaults.endpoint_freshness);
}

TEST(Fallback, NewLocalAddressIsProbedPublishedAndPunchedAgain) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone(), 1,
             {Ip("10.1.0.3")});
  GoDirect(p, At(Sec(60)));
  p.w.world.RunFor(Sec(2));
  const Endpoint old_public = TwoNodes::PublicA();
  ASSERT_EQ(p.b->PathTo(*p.a), Path::Direct(old_public));

  // A's interface address changes: the host rebinds and tells the node.
  const Endpoint moved(Ip("10.1.0.3"), kNodePort);
  const Timestamp move = p.w.world.now();
  p.w.world.Bind(p.a->machine, moved);
  p.w.world.Unbind(p.a->local());
  p.w.world.Do(p.a->machine, [&](Timestamp now) { p.a->node->SetLocalEndpoints(now, {moved}); });

  // A report starts at once; it is over when the farther region answered.
  // The NAT still holds the old socket's mapping on port 41641, so the new
  // socket gets the next port upward (the NAT library's port pool).
  const Endpoint new_public(old_public.ip, static_cast<uint16_t>(old_public.port + 1));
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] {
        const auto& eps = p.a->node->endpoints();
        return !eps.empty() && eps.front() == new_public;
      },
      move + p.ToRegion(2) * 2));
  // Published: the new STUN endpoint, the old one (still fresh), the new local.
  EXPECT_EQ(p.a->node->endpoints(), (std::vector<Endpoint>{new_public, old_public, moved}));
  const auto reports = p.a->EventsOf<node::NetcheckDone>();
  EXPECT_EQ(reports.back().second.report.trigger, netcheck::ReportTrigger::kCommand);

  // A's direct path was proven from the old socket: A drops it at once.
  auto a_changes = p.a->EventsOf<node::PathChanged>();
  ASSERT_FALSE(a_changes.empty());
  EXPECT_EQ(a_changes.back().first, move);
  EXPECT_EQ(a_changes.back().second.reason, node::PathChangeReason::kLocalChange);
  EXPECT_EQ(a_changes.back().second.to, Path::Derp(1));
  // B's pings to the old mapping now reach no socket; B keeps its trust
  // until it runs out. Meanwhile A's discovery round after ping_interval
  // sends CallMeMaybe with the new endpoints, B pings them, and the new
  // mapping answers: B moves to it when the old path's trust expires (or
  // sooner, had it been faster); A is direct after B's pings opened B's NAT.
  const Timestamp deadline = move + kPaths.trust_duration + kPaths.ping_interval;
  ASSERT_TRUE(p.w.world.RunUntilTrue(
      [&] {
        return p.b->PathTo(*p.a) == Path::Direct(new_public) &&
               p.a->PathTo(*p.b) == Path::Direct(TwoNodes::PublicB());
      },
      deadline));
  const auto b_changes = p.b->PathChangesTo(*p.a);
  ASSERT_GE(b_changes.size(), 2u);
  const node::PathChanged& expired = b_changes[b_changes.size() - 2];
  EXPECT_EQ(expired.from, Path::Direct(old_public));
  EXPECT_EQ(expired.reason, node::PathChangeReason::kTrustExpired);
  // A sends from the new socket only.
  const size_t before = p.b->Received(*p.a, Path::Kind::kDirect, "a2b");
  p.w.world.RunFor(Sec(2));
  EXPECT_GT(p.b->Received(*p.a, Path::Kind::kDirect, "a2b"), before + 10);
  EXPECT_EQ(p.w.world.stats().datagrams_bad_source, 0u);
}

// A relayed pair whose DERP server vanishes: the relayed-RTT ping that is due
// waits for a connection, and the node's next wake-up stays in the future
// (it once stayed at the missed instant, and a host's timer spun there).
TEST(Fallback, RelayedPairWaitsWithoutSpinningWhileItsDerpServerIsGone) {
  TwoNodes p(NatConfig::Symmetric(), NatConfig::Symmetric());
  p.w.StartAndSettle();
  const Timestamp end = At(Sec(60));
  p.w.Traffic(*p.a, *p.b, "a2b", kPeriod, end);
  p.w.Traffic(*p.b, *p.a, "b2a", kPeriod, end);
  ASSERT_TRUE(p.w.world.RunUntilTrue([&] { return BothRelayed(p); }, p.w.world.now() + Sec(5)));
  p.w.world.RunFor(Sec(5));  // relayed-RTT pings going
  p.w.StopRegion(p.a->node->home_region(), VirtualWorld::Departure::kClose);
  // The world throws when a machine keeps asking to be woken at one instant.
  EXPECT_NO_THROW(p.w.world.RunFor(Sec(20)));
  for (const NodeHost* n : {p.a, p.b}) {
    const std::optional<Timestamp> next = n->node->PollTimeout();
    ASSERT_TRUE(next.has_value());
    EXPECT_GT(*next, p.w.world.now()) << n->name;
  }
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
