// Per-peer path logic in virtual time: a harness plays the peer, answering
// pings to chosen endpoints after chosen round-trip times, and jumps the
// clock to the earliest of the machine's NextWakeup() and the next pong.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/disco/peer-paths.h"
#include "punchlab/random.h"
#include "support/text-values.h"

namespace punchlab {
namespace disco {
namespace {

using testsupport::Ep;

Duration Ms(int64_t ms) { return Duration::Millis(ms); }
Duration Sec(int64_t s) { return Duration::Seconds(s); }
Timestamp At(Duration d) { return Timestamp::Zero() + d; }

const Endpoint kA = Ep("198.51.100.10:41641");
const Endpoint kB = Ep("203.0.113.20:41641");
const Endpoint kC = Ep("192.0.2.30:41641");
const Endpoint kV6 = Ep("[2001:db8::40]:41641");
const Endpoint kLan = Ep("192.168.1.50:41641");

struct SentRecord {
  Timestamp at;
  PingToSend ping;
};

class Harness {
  DeterministicRandom rng_;  // first: `paths` keeps a reference to it

 public:
  explicit Harness(PathConfig config = {}, uint64_t seed = 1) : rng_(seed), paths(rng_, config) {}

  // Endpoints that answer pings, and after how long.
  std::map<Endpoint, Duration> rtt;
  PeerPaths paths;
  Timestamp now = Timestamp::Zero();
  std::vector<SentRecord> sent;
  // Every event, with the time the harness drained it (the machine's `now`).
  struct Recorded {
    Timestamp at;
    PeerPathsEvent event;
  };
  std::vector<Recorded> events;
  std::vector<PongResult> pong_results;

  void Drain() {
    for (const PingToSend& p : paths.PollPingsToSend(now)) {
      sent.push_back({now, p});
      auto it = rtt.find(p.to);
      if (it != rtt.end()) in_flight_.push_back({now + it->second, p.txid, p.to});
    }
    while (auto ev = paths.PollEvent()) events.push_back({now, *ev});
  }

  // Runs the machine and the answering peer up to and including `t`. Starts
  // by collecting what direct calls on `paths` queued at the current time.
  void RunUntil(Timestamp t) {
    Drain();
    for (int guard = 0; guard < 1000000; ++guard) {
      auto pong = std::min_element(in_flight_.begin(), in_flight_.end(),
                                   [](const InFlight& a, const InFlight& b) { return a.at < b.at; });
      std::optional<Timestamp> wake = paths.NextWakeup();
      const bool pong_first = pong != in_flight_.end() && (!wake || pong->at <= *wake);
      const std::optional<Timestamp> next =
          pong_first ? std::optional<Timestamp>(pong->at) : wake;
      if (!next || *next > t) break;
      EXPECT_GE(*next, now) << "time must not run backwards";
      now = *next;
      if (pong_first) {
        const InFlight p = *pong;
        in_flight_.erase(pong);
        pong_results.push_back(paths.HandlePongFrom(now, p.txid, p.from).result);
      }
      Drain();
    }
    now = t;
    Drain();
  }

  void SendData() {
    paths.NoteDataSent(now);
    Drain();
  }

  // Sends data every `every` from now until `until` (inclusive).
  void SendDataEvery(Duration every, Timestamp until) {
    for (Timestamp t = now; t <= until; t += every) {
      RunUntil(t);
      SendData();
    }
  }

  std::vector<Timestamp> PingTimes(const Endpoint& to, std::optional<PingPurpose> purpose = {}) const {
    std::vector<Timestamp> out;
    for (const SentRecord& r : sent) {
      if (r.ping.to == to && (!purpose || r.ping.purpose == *purpose)) out.push_back(r.at);
    }
    return out;
  }

  // A PathChanged and when it happened.
  struct TimedPathChange : PathChanged {
    Timestamp at;
  };
  std::vector<TimedPathChange> PathEvents() const {
    std::vector<TimedPathChange> out;
    for (const Recorded& r : events) {
      if (const auto* change = std::get_if<PathChanged>(&r.event)) out.push_back({*change, r.at});
    }
    return out;
  }

  size_t CallMeMaybeRequests() const {
    return static_cast<size_t>(std::count_if(events.begin(), events.end(), [](const auto& ev) {
      return std::holds_alternative<SendCallMeMaybe>(ev.event);
    }));
  }

  // The last ping sent to `to`, for tests that answer by hand.
  PingToSend LastPingTo(const Endpoint& to) const {
    for (auto it = sent.rbegin(); it != sent.rend(); ++it) {
      if (it->ping.to == to) return it->ping;
    }
    ADD_FAILURE() << "no ping to " << to.ToString();
    return {};
  }

 private:
  struct InFlight {
    Timestamp at;
    TxId txid;
    Endpoint from;
  };
  std::vector<InFlight> in_flight_;
};

TEST(PeerPaths, IdleUntilDataIsSent) {
  Harness h;
  h.paths.SetNetmapEndpoints(h.now, {kA, kB});
  h.Drain();
  EXPECT_TRUE(h.sent.empty());
  EXPECT_FALSE(h.paths.NextWakeup());
  EXPECT_FALSE(h.paths.BestAddr(h.now));
  EXPECT_EQ(h.paths.candidates().size(), 2u);
}

TEST(PeerPaths, PathChangesSayAMeasuredRttInMilliseconds) {
  // A real RTT is no whole number of anything: milliseconds to the
  // microsecond, not Duration's exact "48000104ns".
  for (const auto& [rtt, text] : {std::pair{Duration::Nanos(48000104), "48ms"},
                                  std::pair{Duration::Nanos(48123456), "48.123ms"},
                                  std::pair{Duration::Nanos(250400), "0.25ms"}}) {
    Harness h;
    h.rtt[kA] = rtt;
    h.paths.SetNetmapEndpoints(h.now, {kA});
    h.SendData();
    h.RunUntil(At(rtt));
    auto path = h.PathEvents();
    ASSERT_EQ(path.size(), 1u) << text;
    EXPECT_EQ(path[0].rtt, rtt);
    EXPECT_EQ(path[0].detail, std::string("pong from 198.51.100.10:41641 (rtt ") + text + ")");
  }
}

TEST(PeerPaths, PongEstablishesDirectPathAndTrust) {
  Harness h;
  h.rtt[kA] = Ms(20);
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  ASSERT_EQ(h.sent.size(), 1u);
  EXPECT_EQ(h.sent[0].ping.to, kA);
  EXPECT_EQ(h.sent[0].ping.purpose, PingPurpose::kDiscovery);
  EXPECT_EQ(h.CallMeMaybeRequests(), 1u) << "pinging while on DERP asks for a CallMeMaybe";
  EXPECT_FALSE(h.paths.BestAddr(h.now)) << "DERP until a pong";

  h.RunUntil(At(Ms(20)));
  EXPECT_EQ(h.paths.BestAddr(h.now), kA);
  EXPECT_EQ(h.paths.BestLatency(), Ms(20));
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 1u);
  EXPECT_FALSE(path[0].from);
  EXPECT_EQ(path[0].to, kA);
  EXPECT_EQ(path[0].rtt, Ms(20));
  EXPECT_EQ(path[0].reason, PathChangeReason::kPong);
  EXPECT_EQ(path[0].at, At(Ms(20)));
  EXPECT_EQ(path[0].detail, "pong from 198.51.100.10:41641 (rtt 20ms)");

  const Candidate* a = h.paths.FindCandidate(kA);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->trusted_until, At(Ms(20) + Ms(6500)));
  EXPECT_EQ(a->last_pong, At(Ms(20)));
  EXPECT_EQ(h.paths.stats().pongs_accepted, 1u);
  EXPECT_EQ(h.pong_results, std::vector<PongResult>{PongResult::kAccepted});
}

TEST(PeerPaths, TrustExpiresWithoutPongAndFallsBackToDerp) {
  Harness h;
  h.rtt[kA] = Ms(20);
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  h.RunUntil(At(Ms(20)));
  ASSERT_EQ(h.paths.BestAddr(h.now), kA);

  h.rtt.clear();  // the path dies: heartbeats go unanswered
  const Timestamp expiry = At(Ms(20) + Ms(6500));
  h.RunUntil(expiry - Duration::Nanos(1));
  EXPECT_EQ(h.paths.BestAddr(h.now), kA) << "still trusted just before expiry";
  EXPECT_EQ(h.PingTimes(kA, PingPurpose::kHeartbeat), (std::vector<Timestamp>{At(Sec(3)), At(Sec(6))}));
  EXPECT_EQ(h.paths.NextWakeup(), expiry);
  // Even before the timer has run, BestAddr answers for the instant asked.
  EXPECT_FALSE(h.paths.BestAddr(expiry));

  h.RunUntil(expiry);
  EXPECT_FALSE(h.paths.BestAddr(h.now));
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[1].from, kA);
  EXPECT_FALSE(path[1].to);
  EXPECT_EQ(path[1].reason, PathChangeReason::kTrustExpired);
  EXPECT_EQ(path[1].at, expiry);
  EXPECT_EQ(path[1].detail, "no pong from 198.51.100.10:41641 for 6500ms");
  EXPECT_EQ(h.paths.stats().ping_timeouts, 0u) << "the 3 s heartbeat times out only at 8 s";
}

TEST(PeerPaths, HeartbeatEvery3sWhileActiveThenStopsWhenIdle) {
  Harness h;
  h.rtt[kA] = Ms(20);
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendDataEvery(Sec(1), At(Sec(30)));
  h.RunUntil(At(Sec(120)));

  // Heartbeats from 3 s, every 3 s, while data went out within 45 s: the last
  // send was at 30 s, so the last heartbeat is at 75 s.
  std::vector<Timestamp> expected;
  for (int64_t s = 3; s <= 75; s += 3) expected.push_back(At(Sec(s)));
  EXPECT_EQ(h.PingTimes(kA, PingPurpose::kHeartbeat), expected);
  EXPECT_EQ(h.PingTimes(kA, PingPurpose::kDiscovery).size(), 1u);

  // The path held while heartbeats were answered, then its trust ran out.
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0].to, kA);
  EXPECT_EQ(path[1].reason, PathChangeReason::kTrustExpired);
  EXPECT_EQ(path[1].at, At(Sec(75) + Ms(20) + Ms(6500)));
  EXPECT_NE(path[1].detail.find("(session idle)"), std::string::npos) << path[1].detail;
  EXPECT_FALSE(h.paths.SessionActive(h.now));
  EXPECT_FALSE(h.paths.NextWakeup()) << "an idle peer needs no timer";

  // Data again: searching restarts at once.
  const size_t before = h.sent.size();
  h.SendData();
  EXPECT_EQ(h.sent.size(), before + 1);
  EXPECT_EQ(h.sent.back().ping.purpose, PingPurpose::kDiscovery);
}

TEST(PeerPaths, DiscoveryPingsAtMostEvery5sPerCandidate) {
  Harness h;  // nobody answers: we stay on DERP and keep searching
  h.paths.SetNetmapEndpoints(h.now, {kA, kB});
  h.SendDataEvery(Ms(100), At(Ms(19900)));

  for (const Endpoint& ep : {kA, kB}) {
    EXPECT_EQ(h.PingTimes(ep),
              (std::vector<Timestamp>{At(Sec(0)), At(Sec(5)), At(Sec(10)), At(Sec(15))}))
        << ep.ToString();
  }
  EXPECT_TRUE(h.PingTimes(kA, PingPurpose::kHeartbeat).empty()) << "no best path to heartbeat";
  EXPECT_EQ(h.CallMeMaybeRequests(), 4u) << "one CallMeMaybe per discovery round";
  EXPECT_EQ(h.paths.stats().ping_timeouts, 6u);  // those at 0, 5, 10 s; 15 s still pending
  EXPECT_TRUE(h.PathEvents().empty());
}

TEST(PeerPaths, CallMeMaybePingsAllCandidatesAtOnce) {
  Harness h;
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  h.RunUntil(At(Sec(1)));
  ASSERT_EQ(h.PingTimes(kA).size(), 1u);

  h.rtt[kB] = Ms(30);
  h.paths.HandleCallMeMaybe(h.now, {kB, kC, kV6});
  h.Drain();
  // Every candidate at once, kA included although it was pinged 1 s ago.
  for (const Endpoint& ep : {kA, kB, kC, kV6}) {
    auto times = h.PingTimes(ep, PingPurpose::kCallMeMaybe);
    ASSERT_EQ(times.size(), 1u) << ep.ToString();
    EXPECT_EQ(times[0], At(Sec(1)));
  }
  EXPECT_EQ(h.CallMeMaybeRequests(), 1u) << "answering a CallMeMaybe sends none back";
  EXPECT_TRUE(h.paths.FindCandidate(kB)->in_call_me_maybe);
  EXPECT_EQ(h.paths.FindCandidate(kB)->call_me_maybe_at, At(Sec(1)));
  EXPECT_EQ(h.paths.stats().call_me_maybes_received, 1u);

  h.RunUntil(At(Sec(1) + Ms(30)));
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 1u);
  EXPECT_EQ(path[0].to, kB);
  EXPECT_EQ(path[0].reason, PathChangeReason::kCallMeMaybe);
  EXPECT_EQ(path[0].detail, "pong from 203.0.113.20:41641 (rtt 30ms) after call-me-maybe");
}

TEST(PeerPaths, NewCallMeMaybeReplacesTheOldListButKeepsWorkingPaths) {
  Harness h;
  h.rtt[kB] = Ms(30);
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.paths.HandleCallMeMaybe(h.now, {kB, kC});
  h.RunUntil(At(Sec(1)));
  ASSERT_EQ(h.paths.BestAddr(h.now), kB);

  h.paths.HandleCallMeMaybe(h.now, {kV6});
  // kC (unproven, no longer listed) is gone; kB answers pings so it stays;
  // kA stays because the netmap lists it.
  EXPECT_EQ(h.paths.FindCandidate(kC), nullptr);
  ASSERT_NE(h.paths.FindCandidate(kB), nullptr);
  EXPECT_FALSE(h.paths.FindCandidate(kB)->in_call_me_maybe);
  EXPECT_NE(h.paths.FindCandidate(kA), nullptr);
  EXPECT_NE(h.paths.FindCandidate(kV6), nullptr);
  EXPECT_EQ(h.paths.BestAddr(h.now), kB);
}

TEST(PeerPaths, UnusableEndpointsAreRefused) {
  Harness h;
  h.paths.HandleCallMeMaybe(h.now, {Ep("0.0.0.0:41641"), Ep("192.0.2.1:0"),
                                    Ep("[fe80::1]:41641"), kA});
  h.paths.SetNetmapEndpoints(h.now, {Ep("[::]:1")});
  EXPECT_EQ(h.paths.candidates().size(), 1u);
  EXPECT_NE(h.paths.FindCandidate(kA), nullptr);
  EXPECT_EQ(h.paths.stats().candidates_refused, 4u);
  EXPECT_FALSE(h.paths.HandlePingFrom(h.now, Ep("192.0.2.1:0"), TxId{}));
}

TEST(PeerPaths, BetterLatencySwitchesOnlyBeyondHysteresis) {
  Harness h;
  h.rtt[kA] = Ms(100);
  h.rtt[kB] = Ms(99);  // 1% faster: within the margin
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  h.RunUntil(At(Sec(1)));
  ASSERT_EQ(h.paths.BestAddr(h.now), kA);

  h.paths.HandleCallMeMaybe(h.now, {kB});
  h.RunUntil(At(Sec(2)));
  EXPECT_EQ(h.paths.FindCandidate(kB)->latency(), Ms(99));
  EXPECT_EQ(h.paths.BestAddr(h.now), kA) << "1% is not clearly better";
  EXPECT_EQ(h.PathEvents().size(), 1u);

  h.rtt[kB] = Ms(90);
  h.paths.HandleCallMeMaybe(h.now, {kB});
  h.RunUntil(At(Sec(3)));
  EXPECT_EQ(h.paths.BestAddr(h.now), kB);
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[1].from, kA);
  EXPECT_EQ(path[1].to, kB);
  EXPECT_EQ(path[1].reason, PathChangeReason::kBetterPath);
  EXPECT_EQ(path[1].rtt, Ms(90));
  EXPECT_EQ(path[1].detail, "203.0.113.20:41641 (rtt 90ms) better than 198.51.100.10:41641 (rtt 100ms)");
}

TEST(PeerPaths, LanPreferredOverPublicWhenLatencyEqual) {
  {
    Harness h;
    h.rtt[kA] = Ms(10);
    h.rtt[kLan] = Ms(10);
    h.paths.SetNetmapEndpoints(h.now, {kA});
    h.SendData();
    h.RunUntil(At(Sec(1)));
    ASSERT_EQ(h.paths.BestAddr(h.now), kA);
    h.paths.HandleCallMeMaybe(h.now, {kLan});
    h.RunUntil(At(Sec(2)));
    EXPECT_EQ(h.paths.BestAddr(h.now), kLan);
    EXPECT_EQ(h.PathEvents().back().reason, PathChangeReason::kBetterPath);
  }
  {
    Harness h;  // the other way round: a public path does not displace the LAN one
    h.rtt[kA] = Ms(10);
    h.rtt[kLan] = Ms(10);
    h.paths.SetNetmapEndpoints(h.now, {kLan});
    h.SendData();
    h.RunUntil(At(Sec(1)));
    ASSERT_EQ(h.paths.BestAddr(h.now), kLan);
    h.paths.HandleCallMeMaybe(h.now, {kA});
    h.RunUntil(At(Sec(2)));
    EXPECT_EQ(h.paths.BestAddr(h.now), kLan);
    EXPECT_EQ(h.PathEvents().size(), 1u);
  }
}

TEST(PeerPaths, UnknownReplayedAndExpiredPongsChangeNothing) {
  Harness h;  // answered by hand
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  const PingToSend first = h.LastPingTo(kA);

  TxId forged{};
  forged.fill(0x5a);
  h.RunUntil(At(Ms(10)));
  EXPECT_EQ(h.paths.HandlePongFrom(h.now, forged, kA).result, PongResult::kUnknownTxid);
  EXPECT_FALSE(h.paths.BestAddr(h.now));

  h.RunUntil(At(Ms(20)));
  EXPECT_EQ(h.paths.HandlePongFrom(h.now, first.txid, kA).result, PongResult::kAccepted);
  h.Drain();
  ASSERT_EQ(h.paths.BestAddr(h.now), kA);
  const Timestamp trusted_until = *h.paths.FindCandidate(kA)->trusted_until;

  // A replay a second later is not a fresh proof: trust is not extended.
  h.RunUntil(At(Sec(1)));
  const PongAnswer replay = h.paths.HandlePongFrom(h.now, first.txid, kA);
  EXPECT_EQ(replay.result, PongResult::kDuplicate);
  EXPECT_FALSE(replay.timed) << "a rejected pong times nothing";
  EXPECT_EQ(*h.paths.FindCandidate(kA)->trusted_until, trusted_until);
  EXPECT_EQ(h.paths.FindCandidate(kA)->latencies.size(), 1u);

  // The 3 s heartbeat goes unanswered; its pong shows up after the timeout.
  h.RunUntil(At(Sec(3)));
  const PingToSend heartbeat = h.LastPingTo(kA);
  ASSERT_EQ(heartbeat.purpose, PingPurpose::kHeartbeat);
  h.RunUntil(At(Ms(8100)));
  EXPECT_FALSE(h.paths.BestAddr(h.now)) << "trust ran out at 6.52 s";
  EXPECT_EQ(h.paths.HandlePongFrom(h.now, heartbeat.txid, kA).result, PongResult::kExpired);
  h.Drain();
  EXPECT_FALSE(h.paths.BestAddr(h.now)) << "a late pong does not restore the path";

  const PeerPathsStats& s = h.paths.stats();
  EXPECT_EQ(s.pongs_unknown_txid, 1u);
  EXPECT_EQ(s.pongs_duplicate_txid, 1u);
  EXPECT_EQ(s.pongs_expired_txid, 1u);
  EXPECT_EQ(s.PongsDropped(), 3u);
  EXPECT_EQ(s.pongs_accepted, 1u);
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[0].reason, PathChangeReason::kPong);
  EXPECT_EQ(path[1].reason, PathChangeReason::kTrustExpired);
}

TEST(PeerPaths, PeerReflexiveCandidateFromIncomingPing) {
  Harness h;
  const Endpoint reflexive = Ep("203.0.113.99:61000");  // the peer's NAT mapping towards us
  h.paths.SetNetmapEndpoints(h.now, {kA});
  TxId t1{};
  t1.fill(1);
  TxId t2{};
  t2.fill(2);

  EXPECT_TRUE(h.paths.HandlePingFrom(h.now, reflexive, t1));
  const Candidate* c = h.paths.FindCandidate(reflexive);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(c->peer_reflexive);
  EXPECT_FALSE(c->in_netmap);
  EXPECT_EQ(c->last_ping_received, h.now);

  // The same ping seen twice (two sockets) is answered once.
  EXPECT_FALSE(h.paths.HandlePingFrom(h.now, reflexive, t1));
  EXPECT_TRUE(h.paths.HandlePingFrom(h.now, reflexive, t2));
  EXPECT_EQ(h.paths.stats().duplicate_pings_received, 1u);
  EXPECT_EQ(h.paths.stats().pings_received, 3u);

  // It joins the next discovery round.
  h.SendData();
  EXPECT_EQ(h.PingTimes(reflexive).size(), 1u);
  EXPECT_EQ(h.PingTimes(kA).size(), 1u);

  // Without further pings (and no pong proving it) it is dropped after 45 s;
  // the netmap endpoint stays.
  h.RunUntil(At(Sec(46)));
  h.paths.SetNetmapEndpoints(h.now, {kA});
  EXPECT_EQ(h.paths.FindCandidate(reflexive), nullptr);
  EXPECT_NE(h.paths.FindCandidate(kA), nullptr);
  EXPECT_EQ(h.paths.stats().candidates_removed, 1u);
}

TEST(PeerPaths, StopsSearchingOnceLatencyIsGoodEnough) {
  Harness h;
  h.rtt[kA] = Ms(2);  // a LAN-fast path; kB never answers
  h.paths.SetNetmapEndpoints(h.now, {kA, kB});
  h.SendDataEvery(Sec(1), At(Sec(200)));
  EXPECT_EQ(h.PingTimes(kB), std::vector<Timestamp>{At(Sec(0))});
  EXPECT_EQ(h.paths.BestAddr(h.now), kA);
}

TEST(PeerPaths, SlowDirectPathLooksForBetterEveryMinute) {
  Harness h;
  h.rtt[kA] = Ms(20);  // works, but above 5 ms: keep looking, once a minute
  h.paths.SetNetmapEndpoints(h.now, {kA, kB});
  h.SendDataEvery(Sec(1), At(Sec(200)));
  EXPECT_EQ(h.PingTimes(kB), (std::vector<Timestamp>{At(Sec(0)), At(Sec(60)), At(Sec(120)),
                                                     At(Sec(180))}));
  EXPECT_EQ(h.paths.BestAddr(h.now), kA);
  EXPECT_EQ(h.PathEvents().size(), 1u);
}

TEST(PeerPaths, ExpiredBestFallsBackToAnotherTrustedPath) {
  Harness h;
  h.rtt[kA] = Ms(10);
  h.rtt[kB] = Ms(30);
  h.paths.SetNetmapEndpoints(h.now, {kA, kB});
  h.SendData();
  h.RunUntil(At(Ms(30)));
  ASSERT_EQ(h.paths.BestAddr(h.now), kA);
  ASSERT_TRUE(h.paths.FindCandidate(kB)->Trusted(h.now));

  h.rtt.erase(kA);
  h.rtt.erase(kB);
  h.RunUntil(At(Ms(6510)));
  EXPECT_EQ(h.paths.BestAddr(h.now), kB) << "kB answered until 30 ms, trusted until 6.53 s";
  auto path = h.PathEvents();
  ASSERT_EQ(path.size(), 2u);
  EXPECT_EQ(path[1].reason, PathChangeReason::kTrustExpired);
  EXPECT_EQ(path[1].to, kB);
  EXPECT_NE(path[1].detail.find("still trusted"), std::string::npos) << path[1].detail;

  h.RunUntil(At(Ms(6530)));
  EXPECT_FALSE(h.paths.BestAddr(h.now));
  EXPECT_EQ(h.PathEvents().size(), 3u);
}

TEST(PeerPaths, NetmapUpdateReplacesCandidatesButKeepsTheWorkingPath) {
  Harness h;
  h.rtt[kA] = Ms(10);
  h.paths.SetNetmapEndpoints(h.now, {kA, kB});
  h.SendData();
  h.RunUntil(At(Ms(10)));
  ASSERT_EQ(h.paths.BestAddr(h.now), kA);

  h.paths.SetNetmapEndpoints(h.now, {kC});
  EXPECT_EQ(h.paths.FindCandidate(kB), nullptr);
  ASSERT_NE(h.paths.FindCandidate(kC), nullptr);
  EXPECT_TRUE(h.paths.FindCandidate(kC)->in_netmap);
  ASSERT_NE(h.paths.FindCandidate(kA), nullptr) << "it answers pings";
  EXPECT_FALSE(h.paths.FindCandidate(kA)->in_netmap);
  EXPECT_EQ(h.paths.BestAddr(h.now), kA);
}

TEST(PeerPaths, CandidateListIsBounded) {
  PathConfig config;
  config.max_candidates = 4;
  Harness h(config);
  for (uint8_t i = 1; i <= 10; ++i) {
    TxId t{};
    t.fill(i);
    EXPECT_TRUE(h.paths.HandlePingFrom(h.now, Endpoint(IpAddress::V4(203, 0, 113, i), 1000), t))
        << "a genuine ping is answered even when it cannot be remembered";
  }
  EXPECT_EQ(h.paths.candidates().size(), 4u);
  EXPECT_EQ(h.paths.stats().candidates_refused, 6u);

  // Once the old ones go stale, room is made for new ones.
  h.RunUntil(At(Sec(50)));
  TxId t{};
  t.fill(99);
  h.paths.HandlePingFrom(h.now, kA, t);
  EXPECT_NE(h.paths.FindCandidate(kA), nullptr);
  EXPECT_EQ(h.paths.candidates().size(), 1u);
}

TEST(PeerPaths, OutstandingPingsAreBounded) {
  PathConfig config;
  config.max_outstanding_pings = 3;
  Harness h(config);
  h.paths.SetNetmapEndpoints(h.now, {kA, kB, kC, kV6, kLan});
  h.SendData();
  EXPECT_EQ(h.sent.size(), 3u);
  EXPECT_EQ(h.paths.OutstandingPings(), 3u);
  EXPECT_EQ(h.paths.stats().pings_suppressed, 2u);
}

TEST(PeerPaths, ResetForgetsPathsAndPingsInFlight) {
  Harness h;
  h.rtt[kA] = Ms(10);
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  h.RunUntil(At(Sec(3)));  // the 3 s heartbeat is in flight
  ASSERT_EQ(h.paths.BestAddr(h.now), kA);
  const PingToSend heartbeat = h.LastPingTo(kA);

  h.paths.Reset(h.now);
  h.Drain();
  EXPECT_FALSE(h.paths.BestAddr(h.now));
  EXPECT_EQ(h.PathEvents().back().reason, PathChangeReason::kReset);
  EXPECT_EQ(h.paths.OutstandingPings(), 0u);
  EXPECT_FALSE(h.paths.NextWakeup());
  EXPECT_NE(h.paths.FindCandidate(kA), nullptr);
  EXPECT_EQ(h.paths.HandlePongFrom(h.now, heartbeat.txid, kA).result, PongResult::kExpired);
}

TEST(PeerPaths, TxidsComeFromTheInjectedRandomSource) {
  Harness a({}, 42);
  Harness b({}, 42);
  Harness c({}, 43);
  for (Harness* h : {&a, &b, &c}) {
    h->paths.SetNetmapEndpoints(h->now, {kA, kB});
    h->SendData();
  }
  ASSERT_EQ(a.sent.size(), 2u);
  EXPECT_EQ(a.sent[0].ping.txid, b.sent[0].ping.txid);
  EXPECT_EQ(a.sent[1].ping.txid, b.sent[1].ping.txid);
  EXPECT_NE(a.sent[0].ping.txid, a.sent[1].ping.txid);
  EXPECT_NE(a.sent[0].ping.txid, c.sent[0].ping.txid);
}

TEST(PeerPaths, PongFromAnotherAddressCreditsThePingedPath) {
  Harness h;
  h.paths.SetNetmapEndpoints(h.now, {kA});
  h.SendData();
  const PingToSend ping = h.LastPingTo(kA);
  h.RunUntil(At(Ms(15)));
  const PongAnswer answer = h.paths.HandlePongFrom(h.now, ping.txid, kB);
  EXPECT_EQ(answer.result, PongResult::kAccepted);
  ASSERT_TRUE(answer.timed);
  EXPECT_EQ(answer.timed->to, kA) << "the pinged path times the round trip, not the pong's source";
  EXPECT_EQ(answer.timed->rtt, Ms(15));
  h.Drain();
  EXPECT_EQ(h.paths.BestAddr(h.now), kA);
  EXPECT_EQ(h.PathEvents()[0].detail,
            "pong from 203.0.113.20:41641 (rtt 15ms) for ping to 198.51.100.10:41641");
}

TEST(PeerPaths, Names) {
  EXPECT_STREQ(PathChangeReasonName(PathChangeReason::kTrustExpired), "trust expired");
  EXPECT_STREQ(PongResultName(PongResult::kDuplicate), "duplicate txid");
  EXPECT_STREQ(PingPurposeName(PingPurpose::kHeartbeat), "heartbeat");
}

}  // namespace
}  // namespace disco
}  // namespace punchlab
