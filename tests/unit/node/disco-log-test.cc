// The disco log's events (NodeConfig::disco_log): what the node emits while
// two port-restricted cones punch, at the times the latencies give, and
// nothing of it when the log is off.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "node-world.h"

namespace punchlab {
namespace node_test {
namespace {

using ::testing::StartsWith;

// "t=<since t0> <what>" per disco-log event of `n`, for messages only
// over the given kind of path.
template <typename T>
std::vector<std::pair<Duration, T>> Since(const NodeHost& n, Timestamp t0) {
  std::vector<std::pair<Duration, T>> out;
  for (const auto& [at, e] : n.EventsOf<T>()) {
    if (at >= t0) out.emplace_back(at - t0, e);
  }
  return out;
}

TEST(DiscoLog, APunchStepByStepAtTheTimesTheLatenciesGive) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone(), 1, {}, true);
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", Ms(100), t0 + Sec(3));
  p.w.world.RunUntil(t0 + Sec(3));
  const Duration derp_a_to_b = p.ToRegion(1) * 2;
  const Duration direct = TwoNodes::DirectOneWay();

  // A's first send starts discovery: a ping to each of B's endpoints over
  // UDP (B's NAT will drop the one to its public side) and a CallMeMaybe
  // over DERP, all at once.
  const auto a_sent = Since<node::DiscoSent>(*p.a, t0);
  const auto a_ping = std::find_if(a_sent.begin(), a_sent.end(), [](const auto& s) {
    return s.second.type == disco::MessageType::kPing &&
           s.second.via == Path::Direct(TwoNodes::PublicB());
  });
  ASSERT_NE(a_ping, a_sent.end());
  EXPECT_EQ(a_ping->first, Duration::Zero());
  EXPECT_TRUE(a_ping->second.txid.has_value());
  EXPECT_EQ(a_ping->second.why, "discovery");
  const auto a_cmm = std::find_if(a_sent.begin(), a_sent.end(), [](const auto& s) {
    return s.second.type == disco::MessageType::kCallMeMaybe;
  });
  ASSERT_NE(a_cmm, a_sent.end());
  EXPECT_EQ(a_cmm->first, Duration::Zero());
  EXPECT_EQ(a_cmm->second.via, Path::Derp(1));
  EXPECT_FALSE(a_cmm->second.txid.has_value());

  // B: the CallMeMaybe arrives over DERP; B pings A's endpoints at once
  // ("call-me-maybe"), and A's first ping never arrives (B's NAT filtered it).
  const auto b_received = Since<node::DiscoReceived>(*p.b, t0);
  ASSERT_FALSE(b_received.empty());
  EXPECT_EQ(b_received[0].first, derp_a_to_b);
  EXPECT_EQ(b_received[0].second.type, disco::MessageType::kCallMeMaybe);
  EXPECT_EQ(b_received[0].second.via, Path::Derp(1));
  EXPECT_THAT(b_received[0].second.why, StartsWith("their endpoints ["));
  for (const auto& [at, r] : b_received) EXPECT_NE(r.txid, a_ping->second.txid);
  const auto b_sent = Since<node::DiscoSent>(*p.b, t0);
  const auto b_ping = std::find_if(b_sent.begin(), b_sent.end(), [](const auto& s) {
    return s.second.type == disco::MessageType::kPing &&
           s.second.via == Path::Direct(TwoNodes::PublicA());
  });
  ASSERT_NE(b_ping, b_sent.end());
  EXPECT_EQ(b_ping->first, derp_a_to_b);
  EXPECT_EQ(b_ping->second.why, "call-me-maybe");

  // A gets B's ping from B's public endpoint one way later, answers it with
  // a pong; B gets the pong one RTT after its ping, with that RTT.
  const auto a_received = Since<node::DiscoReceived>(*p.a, t0);
  const auto a_got_ping = std::find_if(a_received.begin(), a_received.end(), [&](const auto& r) {
    return r.second.txid == b_ping->second.txid;
  });
  ASSERT_NE(a_got_ping, a_received.end());
  EXPECT_EQ(a_got_ping->first, derp_a_to_b + direct);
  EXPECT_EQ(a_got_ping->second.via, Path::Direct(TwoNodes::PublicB()));
  EXPECT_EQ(a_got_ping->second.why, "answered");
  const auto b_got_pong = std::find_if(b_received.begin(), b_received.end(), [&](const auto& r) {
    return r.second.type == disco::MessageType::kPong && r.second.txid == b_ping->second.txid;
  });
  ASSERT_NE(b_got_pong, b_received.end());
  EXPECT_EQ(b_got_pong->first, derp_a_to_b + direct * 2);
  EXPECT_EQ(b_got_pong->second.why, "rtt 44.000ms to 192.0.2.10:41641; it saw us at 192.0.2.20:41641");
  ASSERT_EQ(TwoNodes::DirectRtt(), Ms(44));  // what the line above says

  // B learned A's endpoints from the netmap, before the punch; that pong
  // made A's public endpoint trusted for the trust window, then B moved its
  // path there: trust first, then the decision, at the same instant.
  std::vector<std::string> b_candidates;
  for (const auto& [at, c] : p.b->EventsOf<node::CandidateLearned>()) {
    EXPECT_LT(at, t0);
    b_candidates.push_back(c.endpoint.ToString() + " " + c.source);
  }
  std::sort(b_candidates.begin(), b_candidates.end());
  EXPECT_EQ(b_candidates,
            (std::vector<std::string>{"10.1.0.2:41641 netmap", "192.0.2.10:41641 netmap"}));
  size_t trust = 0, path = 0;
  for (size_t i = 0; i < p.b->events.size(); ++i) {
    const node::Event& e = p.b->events[i];
    if (const auto* t = std::get_if<node::TrustChanged>(&e.body); t && trust == 0) {
      trust = i;
      EXPECT_EQ(e.at - t0, derp_a_to_b + direct * 2);
      EXPECT_EQ(t->endpoint, TwoNodes::PublicA());
      EXPECT_TRUE(t->trusted);
      EXPECT_EQ(t->why, "a pong proved it; trusted for 6500.000ms unless a pong renews it");
    }
    const auto* c = std::get_if<node::PathChanged>(&e.body);
    if (c && c->to.direct() && path == 0) path = i;
  }
  ASSERT_GT(trust, 0u);
  EXPECT_LT(trust, path);
  EXPECT_EQ(p.b->events[path].at, p.b->events[trust].at);
}

// Without data the session goes idle, heartbeats stop, and the trust ends
// with the window after the last pong: the log says so, with why.
TEST(DiscoLog, TrustEndsAWindowAfterTheLastPongOnceTheSessionIsIdle) {
  TwoNodes p(NatConfig::FullCone(), NatConfig::FullCone(), 1, {}, true);
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", Ms(100), t0 + Sec(1));
  p.w.world.RunUntil(t0 + Sec(120));
  const auto trust = p.a->EventsOf<node::TrustChanged>();
  ASSERT_GE(trust.size(), 2u);
  EXPECT_TRUE(trust.front().second.trusted);
  const auto& [ended, last] = trust.back();
  EXPECT_FALSE(last.trusted);
  EXPECT_EQ(last.endpoint, TwoNodes::PublicB());
  EXPECT_EQ(last.why, "no pong within the trust window");
  Timestamp last_pong;
  for (const auto& [at, r] : p.a->EventsOf<node::DiscoReceived>()) {
    if (r.type == disco::MessageType::kPong && r.via.direct() && at < ended) last_pong = at;
  }
  EXPECT_EQ(ended - last_pong, disco::PathConfig().trust_duration);
}

TEST(DiscoLog, OffEmitsNoneOfIt) {
  TwoNodes p(NatConfig::PortRestrictedCone(), NatConfig::PortRestrictedCone());
  p.w.StartAndSettle();
  const Timestamp t0 = p.w.world.now();
  p.w.Traffic(*p.a, *p.b, "a2b", Ms(100), t0 + Sec(3));
  p.w.world.RunUntil(t0 + Sec(3));
  for (const NodeHost* n : {p.a, p.b}) {
    EXPECT_TRUE(n->EventsOf<node::DiscoSent>().empty());
    EXPECT_TRUE(n->EventsOf<node::DiscoReceived>().empty());
    EXPECT_TRUE(n->EventsOf<node::CandidateLearned>().empty());
    EXPECT_TRUE(n->EventsOf<node::TrustChanged>().empty());
    EXPECT_GT(n->node->stats().disco_pings_sent, 0u);  // the pings themselves went out
  }
  EXPECT_TRUE(p.b->PathTo(*p.a).direct());
}

}  // namespace
}  // namespace node_test
}  // namespace punchlab
