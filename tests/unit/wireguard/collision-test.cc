// Two Devices that initiate at once, over many seeds: what wireguard-go does
// when both sides of a pair start a handshake closer together than the
// one-way delay. It has no tie-break (device/noise-protocol.go, send.go,
// timers.go): each side consumes the other's initiation, which voids its
// own, and answers; neither response finds its handshake. Answering counts
// as a sent handshake (SendHandshakeResponse sets lastSentHandshake), so each
// side may initiate again only REKEY_TIMEOUT after its answer. Two things
// start the next try:
//  * the retransmit timer, REKEY_TIMEOUT + rand(0..333 ms) after the first
//    try (timersHandshakeInitiated); it is dropped, not re-armed, if it fires
//    inside the answer's rate limit (SendHandshakeInitiation returns early);
//  * the next data to send (SendStagedPackets -> SendHandshakeInitiation):
//    the first send after the rate limit ends.
// Senders with a period under REKEY_TIMEOUT's jitter (100 ms) meet the rate
// limit's end at the same tick on both sides, so the data-triggered tries
// collide again; only a jittered retransmit landing between that end and
// the next tick, more than the one-way delay before the other's try, breaks
// the tie. That is the "lockstep" of phase-locked periodic senders: the
// protocol's, not this model's.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <utility>

#include "punchlab/wireguard/device.h"

namespace punchlab::wireguard {
namespace {

const Endpoint kAddrA(IpAddress::V4(10, 0, 0, 1), 51820);
const Endpoint kAddrB(IpAddress::V4(10, 0, 0, 2), 51820);
constexpr Duration kEpoch = Duration::Seconds(1700000000);
// The unit Node world's DERP one way (the path a first handshake takes).
constexpr Duration kOneWay = Duration::Millis(32);
constexpr int kSeeds = 500;

Key32 PrivateKey(uint8_t seed) {
  Key32 k{};
  k.fill(seed);
  return k;
}

// A and B over a wire with a fixed one-way delay; each device draws its
// jitter from its own stream of the seed.
struct Pair {
  Pair(uint64_t seed, Duration delay)
      : one_way(delay),
        ra(DeterministicRandom(seed).Fork("a")),
        rb(DeterministicRandom(seed).Fork("b")),
        a(DeviceConfig{PrivateKey(1), kEpoch, 128, true, {}}, ra),
        b(DeviceConfig{PrivateKey(2), kEpoch, 128, true, {}}, rb) {
    a.AddPeer(PeerConfig{b.public_key(), {}, kAddrB, Duration::Zero()});
    b.AddPeer(PeerConfig{a.public_key(), {}, kAddrA, Duration::Zero()});
  }
  Duration one_way;
  DeterministicRandom ra, rb;
  Device a, b;
  Timestamp now;
  std::multimap<Timestamp, std::pair<bool, Bytes>> wire;  // arrival -> (to B, message)

  void Drain() {
    while (auto o = a.PollTransmit()) wire.emplace(now + one_way, std::make_pair(true, o->message));
    while (auto o = b.PollTransmit()) wire.emplace(now + one_way, std::make_pair(false, o->message));
    while (a.PollEvent()) {
    }
    while (b.PollEvent()) {
    }
  }
  void RunUntil(Timestamp until) {
    Drain();
    for (;;) {
      std::optional<Timestamp> next;
      if (!wire.empty()) next = wire.begin()->first;
      for (Device* d : {&a, &b}) {
        const auto t = d->PollTimeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > until) break;
      now = std::max(now, *next);
      if (!wire.empty() && wire.begin()->first <= now) {
        auto [to_b, m] = wire.begin()->second;
        wire.erase(wire.begin());
        (to_b ? b : a).HandleMessage(now, to_b ? kAddrA : kAddrB, m);
      } else {
        a.HandleTimeout(now);
        b.HandleTimeout(now);
      }
      Drain();
    }
    now = until;
  }
  bool Converged() const { return a.HasSession(now, b.public_key()) && b.HasSession(now, a.public_key()); }
  // Tries after the first: the side that initiated more often.
  int Retries() const {
    return static_cast<int>(std::max(a.counters(b.public_key())->initiations_sent,
                                     b.counters(a.public_key())->initiations_sent)) - 1;
  }
};

// Both sides send one byte every `period` from the same instant until both
// have a session (or `limit`); the number of retries it took, or nullopt.
std::optional<int> RetriesUntilSession(uint64_t seed, Duration period, Duration limit) {
  Pair p(seed, kOneWay);
  const uint8_t byte = 1;
  const Timestamp end = p.now + limit;
  for (Timestamp tick = p.now; tick < end && !p.Converged(); tick = tick + period) {
    p.RunUntil(tick);
    if (p.Converged()) break;
    p.a.Send(p.now, p.b.public_key(), ByteView(&byte, 1));
    p.b.Send(p.now, p.a.public_key(), ByteView(&byte, 1));
  }
  if (!p.Converged()) return std::nullopt;
  return p.Retries();
}

// Retries until a session -> seeds.
std::map<int, int> Histogram(Duration period) {
  std::map<int, int> h;
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    ++h[RetriesUntilSession(seed, period, Duration::Seconds(120)).value_or(-1)];
  }
  std::printf("every %lld ms, retries:seeds (-1: no session in 120 s):",
              static_cast<long long>(period.nanos() / 1000000));
  for (const auto& [r, seeds] : h) std::printf(" %d:%d", r, seeds);
  std::printf("\n");
  return h;
}

int AtMost(const std::map<int, int>& h, int retries) {
  int n = 0;
  for (const auto& [r, seeds] : h) {
    if (r >= 0 && r <= retries) n += seeds;
  }
  return n;
}

// Senders once a second: the jittered retransmit (REKEY_TIMEOUT + 0..333 ms)
// always comes before the next data, so each retry collides again only when
// both sides' jitters are within the one-way delay (about 18% for 32 ms of
// 333). Measured for seeds 1..500: 401 took one retry, 86 two, 10 three,
// 3 four; none failed. The bound is the measured one, not a guarantee: the
// tail is geometric.
TEST(WireGuardCollision, SimultaneousInitiatorsConvergeOnTheJitteredRetry) {
  const std::map<int, int> h = Histogram(Duration::Seconds(1));
  EXPECT_EQ(h.count(0), 0u);  // the first tries always collide (0 ms apart, 32 ms one way)
  EXPECT_EQ(h.count(-1), 0u);
  EXPECT_GE(AtMost(h, 1), kSeeds * 3 / 4);
  EXPECT_GE(AtMost(h, 2), kSeeds * 95 / 100);
  EXPECT_EQ(AtMost(h, 4), kSeeds);
}

// Phase-locked senders every 100 ms: both sides' rate limits end within the
// one-way delay of each other and the next tick after that end is the same
// for both, so the data-triggered tries collide again; only a retransmit
// jitter between about 32 and 100 ms (a fifth of 0..333 ms, per side) breaks
// the tie. Measured for seeds 1..500: 99 converge on the first retry, 452
// within ten, the slowest after 22, and 7 have no session after 120 s
// (wireguard-go's behaviour for such traffic, not a tie-break this model
// lacks).
TEST(WireGuardCollision, PhaseLockedFastSendersCollideUntilAJitteredRetransmitBreaksTheTie) {
  const std::map<int, int> h = Histogram(Duration::Millis(100));
  EXPECT_EQ(h.count(0), 0u);
  EXPECT_LT(AtMost(h, 1), kSeeds / 2);
  EXPECT_LT(AtMost(h, 10), kSeeds);
  EXPECT_GT(AtMost(h, 10), kSeeds / 2);  // still converges, mostly
}

}  // namespace
}  // namespace punchlab::wireguard
