// Two Devices over a virtual link with a fixed one-way delay: handshakes in
// both roles, data, the section 6 timers, and the adversarial cases (replay,
// late, wrong MAC1, forged or replayed initiations, cookies under load).
#include "punchlab/wireguard/device.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace punchlab::wireguard {
namespace {

const Endpoint kAddrA(IpAddress::V4(10, 0, 0, 1), 51820);
const Endpoint kAddrB(IpAddress::V4(10, 0, 0, 2), 51820);
constexpr Duration kDelay = Duration::Millis(10);
constexpr Duration kEpoch = Duration::Seconds(1700000000);

Key32 PrivateKey(uint8_t seed) {
  Key32 k{};
  k.fill(seed);
  return k;
}

ByteView Text(const std::string& s) { return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }

struct Side {
  Side(uint8_t seed, uint32_t under_load_after = 128)
      : rng(seed), device(DeviceConfig{PrivateKey(seed), kEpoch, under_load_after, true, {}}, rng) {}
  DeterministicRandom rng;
  Device device;
  std::vector<Event> events;
  std::vector<Bytes> sent;  // every message this side put on the wire
  std::vector<Timestamp> sent_at;
};

// A wire between A and B: each message arrives kDelay later from the sender's
// address unless `drop` says otherwise; `tap` sees every message.
struct World {
  World(uint32_t a_load = 128, uint32_t b_load = 128) : a(1, a_load), b(2, b_load) {
    a.device.AddPeer(PeerConfig{b.device.public_key(), {}, kAddrB, Duration::Zero()});
    b.device.AddPeer(PeerConfig{a.device.public_key(), {}, kAddrA, Duration::Zero()});
  }
  Side a, b;
  Timestamp now;
  struct InFlight {
    Timestamp at;
    bool to_b;
    Bytes message;
  };
  std::multimap<Timestamp, InFlight> wire;
  bool a_to_b_up = true, b_to_a_up = true;

  Key32 ka() const { return a.device.public_key(); }
  Key32 kb() const { return b.device.public_key(); }

  void Drain(Side& s, bool from_a) {
    while (auto o = s.device.PollTransmit()) {
      s.sent.push_back(o->message);
      s.sent_at.push_back(now);
      if (from_a ? a_to_b_up : b_to_a_up) wire.emplace(now + kDelay, InFlight{now + kDelay, from_a, o->message});
    }
    while (auto e = s.device.PollEvent()) s.events.push_back(std::move(*e));
  }
  void DrainAll() {
    Drain(a, true);
    Drain(b, false);
  }
  void Deliver(bool to_b, const Bytes& m) {
    if (to_b) {
      b.device.HandleMessage(now, kAddrA, m);
    } else {
      a.device.HandleMessage(now, kAddrB, m);
    }
    DrainAll();
  }
  // Runs until `until`, delivering and firing timers in time order.
  void RunUntil(Timestamp until) {
    DrainAll();
    for (;;) {
      std::optional<Timestamp> next;
      if (!wire.empty()) next = wire.begin()->first;
      for (Side* s : {&a, &b}) {
        auto t = s->device.PollTimeout();
        if (t && (!next || *t < *next)) next = t;
      }
      if (!next || *next > until) break;
      now = std::max(now, *next);
      if (!wire.empty() && wire.begin()->first <= now) {
        InFlight f = wire.begin()->second;
        wire.erase(wire.begin());
        Deliver(f.to_b, f.message);
        continue;
      }
      a.device.HandleTimeout(now);
      b.device.HandleTimeout(now);
      DrainAll();
    }
    now = until;
  }
  void RunFor(Duration d) { RunUntil(now + d); }
  void Send(Side& s, const std::string& text) {
    s.device.Send(now, &s == &a ? kb() : ka(), Text(text));
    DrainAll();
  }
  static size_t Count(const std::vector<Bytes>& msgs, MessageType t, size_t size = 0) {
    size_t n = 0;
    for (const auto& m : msgs) {
      if (ClassifyMessage(m) == t && (size == 0 || m.size() == size)) ++n;
    }
    return n;
  }
  static std::vector<std::string> Data(const Side& s) {
    std::vector<std::string> out;
    for (const Event& e : s.events) {
      const auto* received = std::get_if<DataReceived>(&e);
      if (!received) continue;
      std::string text(received->data.begin(), received->data.end());
      out.push_back(text.substr(0, text.find('\0')));  // strip the padding
    }
    return out;
  }
};

TEST(WireGuardDevice, HandshakeOnFirstSendThenDataBothWays) {
  World w;
  w.Send(w.a, "hello");
  EXPECT_EQ(World::Count(w.a.sent, MessageType::kInitiation), 1u);
  w.RunFor(Duration::Millis(100));
  EXPECT_EQ(World::Count(w.b.sent, MessageType::kResponse), 1u);
  EXPECT_EQ(World::Data(w.b), std::vector<std::string>{"hello"});
  // The responder may send once the initiator's first packet confirmed the session.
  EXPECT_TRUE(w.b.device.HasSession(w.now, w.ka()));
  w.Send(w.b, "world");
  w.RunFor(Duration::Millis(100));
  EXPECT_EQ(World::Data(w.a), std::vector<std::string>{"world"});
  EXPECT_EQ(w.a.device.counters(w.kb())->handshakes, 1u);
  EXPECT_EQ(w.b.device.counters(w.ka())->handshakes, 1u);
  EXPECT_EQ(w.a.device.counters(w.kb())->rekeys, 0u);
  // Padded to 16: "hello" travels as 16 bytes of plaintext.
  const auto* last = std::get_if<DataReceived>(&w.b.events.back());
  ASSERT_NE(last, nullptr);
  EXPECT_EQ(last->data.size(), 16u);
}

TEST(WireGuardDevice, SimultaneousInitiationsResolveAndBothStreamsArrive) {
  World w;
  // Both send every 100 ms from the same instant: their first initiations
  // cross and each drops the response to its own. Responding holds back a
  // peer's next initiation for REKEY_TIMEOUT; a jittered retransmit that
  // fires before the next data tick breaks the tie (how often: collision-test.cc).
  for (int i = 0; i < 200; ++i) {
    w.Send(w.a, "a" + std::to_string(i));
    w.Send(w.b, "b" + std::to_string(i));
    w.RunFor(Duration::Millis(100));
  }
  EXPECT_TRUE(w.a.device.HasSession(w.now, w.kb()));
  EXPECT_TRUE(w.b.device.HasSession(w.now, w.ka()));
  // Everything sent once the session stood arrived: the last 100 of each.
  const auto got_b = World::Data(w.b);
  const auto got_a = World::Data(w.a);
  ASSERT_GE(got_b.size(), 100u);
  ASSERT_GE(got_a.size(), 100u);
  EXPECT_EQ(got_b.back(), "a199");
  EXPECT_EQ(got_a.back(), "b199");
}

TEST(WireGuardDevice, ResponderWithNothingToSendStillGetsAConfirmingKeepalive) {
  World w;
  w.a.device.Initiate(w.now, w.kb());
  w.RunFor(Duration::Millis(100));
  // The initiator answered the response with a keepalive, which confirms the
  // responder's session.
  EXPECT_EQ(World::Count(w.a.sent, MessageType::kTransport, kKeepaliveSize), 1u);
  EXPECT_EQ(w.b.device.counters(w.ka())->keepalives_received, 1u);
  EXPECT_TRUE(w.b.device.HasSession(w.now, w.ka()));
}

TEST(WireGuardDevice, PassiveKeepaliveTenSecondsAfterDataWhenNothingElseIsSent) {
  World w;
  w.Send(w.a, "ping");
  w.RunFor(Duration::Seconds(1));
  const uint64_t before = w.b.device.counters(w.ka())->keepalives_sent;
  w.RunFor(Duration::Seconds(8));
  EXPECT_EQ(w.b.device.counters(w.ka())->keepalives_sent, before);
  w.RunFor(Duration::Seconds(2));  // 10 s after the data arrived
  EXPECT_EQ(w.b.device.counters(w.ka())->keepalives_sent, before + 1);
  // No further keepalives without further data.
  w.RunFor(Duration::Seconds(60));
  EXPECT_EQ(w.b.device.counters(w.ka())->keepalives_sent, before + 1);
}

TEST(WireGuardDevice, PersistentKeepaliveOnlyWhenConfigured) {
  World w;
  w.a.device.Initiate(w.now, w.kb());
  w.RunFor(Duration::Seconds(1));
  const uint64_t base = w.a.device.counters(w.kb())->keepalives_sent;
  w.RunFor(Duration::Seconds(100));
  EXPECT_EQ(w.a.device.counters(w.kb())->keepalives_sent, base);  // off by default
  w.a.device.SetPersistentKeepalive(w.now, w.kb(), Duration::Seconds(25));
  w.RunFor(Duration::Seconds(100));
  EXPECT_EQ(w.a.device.counters(w.kb())->keepalives_sent, base + 4);
}

TEST(WireGuardDevice, RetriesEveryRekeyTimeoutThenGivesUpAfterRekeyAttemptTime) {
  World w;
  w.a_to_b_up = false;
  w.Send(w.a, "lost");
  w.RunFor(Duration::Seconds(200));
  const auto& c = *w.a.device.counters(w.kb());
  // One initiation and 19 retries, then it gives up: wireguard-go retries while
  // its attempt count is at most REKEY_ATTEMPT_TIME / REKEY_TIMEOUT (18).
  EXPECT_EQ(c.initiations_sent, 20u);
  EXPECT_EQ(c.handshake_timeouts, 1u);
  EXPECT_EQ(c.staged_dropped, 1u);
  // Retries are 5 s apart plus at most 333 ms jitter.
  for (size_t i = 1; i < w.a.sent_at.size(); ++i) {
    const Duration gap = w.a.sent_at[i] - w.a.sent_at[i - 1];
    EXPECT_GE(gap, Timers::kRekeyTimeout);
    EXPECT_LE(gap, Timers::kRekeyTimeout + Timers::kRekeyTimeoutJitterMax);
  }
  ASSERT_FALSE(w.a.events.empty());
  EXPECT_TRUE(std::holds_alternative<HandshakeGaveUp>(w.a.events.back()));
  EXPECT_EQ(World::Count(w.a.sent, MessageType::kInitiation), 20u);
}

TEST(WireGuardDevice, SendingWithoutHearingBackStartsANewHandshakeAfterFifteenSeconds) {
  World w;
  w.a.device.Initiate(w.now, w.kb());  // a session, and no data sent yet
  w.RunFor(Duration::Seconds(1));
  ASSERT_EQ(World::Count(w.a.sent, MessageType::kInitiation), 1u);
  w.b_to_a_up = false;  // B's answers (its passive keepalive included) are lost
  const Timestamp sent = w.now;
  w.Send(w.a, "anyone?");
  w.RunFor(Duration::Seconds(14));
  EXPECT_EQ(World::Count(w.a.sent, MessageType::kInitiation), 1u);
  w.RunFor(Duration::Seconds(2));
  ASSERT_EQ(World::Count(w.a.sent, MessageType::kInitiation), 2u);
  // KEEPALIVE_TIMEOUT + REKEY_TIMEOUT (+ jitter) after the unanswered data.
  const Timestamp init_at = w.a.sent_at.back();
  EXPECT_GE(init_at - sent, Timers::kKeepaliveTimeout + Timers::kRekeyTimeout);
}

TEST(WireGuardDevice, InitiatorRekeysAfterRekeyAfterTimeWhileSending) {
  World w;
  for (int i = 0; i < 130; ++i) {
    w.Send(w.a, "tick");
    w.RunFor(Duration::Seconds(1));
  }
  EXPECT_EQ(w.a.device.counters(w.kb())->handshakes, 2u);
  EXPECT_EQ(w.a.device.counters(w.kb())->rekeys, 1u);
  EXPECT_EQ(w.b.device.counters(w.ka())->rekeys, 1u);
  // Nothing lost across the rekey.
  EXPECT_EQ(World::Data(w.b).size(), 130u);
}

TEST(WireGuardDevice, SessionExpiresAfterRejectAfterTimeAndANewHandshakeCarriesData) {
  World w;
  w.Send(w.a, "one");
  w.RunFor(Duration::Seconds(181));
  EXPECT_FALSE(w.a.device.HasSession(w.now, w.kb()));
  w.Send(w.a, "two");
  w.RunFor(Duration::Seconds(1));
  EXPECT_EQ(World::Data(w.b), (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(w.a.device.counters(w.kb())->handshakes, 2u);
}

TEST(WireGuardDevice, ReplayedAndLateTransportPacketsAreRefusedAndCounted) {
  World w;
  w.Send(w.a, "first");
  w.RunFor(Duration::Millis(100));
  const Bytes data = w.a.sent.back();
  ASSERT_EQ(ClassifyMessage(data), MessageType::kTransport);
  w.Deliver(true, data);  // replay
  EXPECT_EQ(w.b.device.counters(w.ka())->replayed, 1u);
  EXPECT_EQ(World::Data(w.b).size(), 1u);
  // Send past the window, then deliver an old packet that was held back.
  w.a_to_b_up = false;
  w.Send(w.a, "held");
  const Bytes held = w.a.sent.back();
  w.a_to_b_up = true;
  for (uint64_t i = 0; i < ReplayWindow::kWindowSize + 2; ++i) w.Send(w.a, "x");
  w.RunFor(Duration::Millis(100));
  w.Deliver(true, held);
  EXPECT_EQ(w.b.device.counters(w.ka())->late, 1u);
  // A bit flipped in the ciphertext fails authentication, counted apart.
  Bytes forged = w.a.sent.back();
  forged.back() ^= 1;
  w.Deliver(true, forged);
  EXPECT_EQ(w.b.device.counters().decrypt_failed, 1u);
}

TEST(WireGuardDevice, HandshakeMessagesWithAWrongMac1AreDropped) {
  World w;
  w.a_to_b_up = false;
  w.a.device.Initiate(w.now, w.kb());
  w.DrainAll();
  Bytes init = w.a.sent.back();
  init[kInitiationMac1Offset] ^= 1;
  w.Deliver(true, init);
  EXPECT_EQ(w.b.device.counters().bad_mac1, 1u);
  EXPECT_EQ(World::Count(w.b.sent, MessageType::kResponse), 0u);
}

TEST(WireGuardDevice, AReplayedInitiationIsRefusedByItsTimestamp) {
  World w;
  w.a.device.Initiate(w.now, w.kb());
  w.RunFor(Duration::Seconds(1));
  const Bytes init = w.a.sent.front();
  ASSERT_EQ(ClassifyMessage(init), MessageType::kInitiation);
  w.Deliver(true, init);
  EXPECT_EQ(w.b.device.counters().timestamp_replayed, 1u);
  EXPECT_EQ(World::Count(w.b.sent, MessageType::kResponse), 1u);
}

TEST(WireGuardDevice, AnInitiationFromAnUnknownKeyIsCountedNotAnswered) {
  World w;
  Side stranger(9);
  stranger.device.AddPeer(PeerConfig{w.kb(), {}, kAddrB, Duration::Zero()});
  stranger.device.Initiate(w.now, w.kb());
  auto o = stranger.device.PollTransmit();
  ASSERT_TRUE(o);
  w.Deliver(true, o->message);
  EXPECT_EQ(w.b.device.counters().unknown_peer, 1u);
  EXPECT_TRUE(w.b.sent.empty());
}

TEST(WireGuardDevice, WrongPresharedKeyFailsTheHandshake) {
  World w;
  Key32 psk{};
  psk[0] = 1;
  w.a.device.AddPeer(PeerConfig{w.kb(), psk, kAddrB, Duration::Zero()});
  w.a.device.Initiate(w.now, w.kb());
  w.RunFor(Duration::Seconds(1));
  EXPECT_EQ(w.a.device.counters().handshake_failed, 1u);
  EXPECT_FALSE(w.a.device.HasSession(w.now, w.kb()));
}

TEST(WireGuardDevice, UnderLoadTheResponderDemandsACookieAndTheRetryCarriesIt) {
  World w(/*a_load=*/128, /*b_load=*/0);  // B is under load from the first message
  w.Send(w.a, "cookie");
  w.RunFor(Duration::Millis(100));
  EXPECT_EQ(World::Count(w.b.sent, MessageType::kCookieReply), 1u);
  EXPECT_EQ(w.b.device.counters().bad_mac2, 1u);
  EXPECT_EQ(w.a.device.counters(w.kb())->cookies_received, 1u);
  EXPECT_TRUE(World::Data(w.b).empty());
  // The retry after REKEY_TIMEOUT carries MAC2 and is answered.
  w.RunFor(Duration::Seconds(6));
  EXPECT_EQ(World::Data(w.b), std::vector<std::string>{"cookie"});
  EXPECT_EQ(World::Count(w.b.sent, MessageType::kCookieReply), 1u);
}

TEST(WireGuardDevice, UnderLoadASourceIsRateLimited) {
  World w(128, 0);
  w.Send(w.a, "x");
  w.RunFor(Duration::Seconds(6));  // A now holds a cookie and B answered
  ASSERT_EQ(World::Data(w.b).size(), 1u);
  // The retry that got through carried a valid MAC2; replayed 20 times within
  // one instant from A's address, the first 5 (the burst) pass the limiter
  // (then fail on their timestamp), the other 15 are limited.
  Bytes with_mac2;
  for (const auto& m : w.a.sent) {
    if (ClassifyMessage(m) == MessageType::kInitiation) with_mac2 = m;
  }
  for (int i = 0; i < 20; ++i) w.Deliver(true, with_mac2);
  EXPECT_EQ(w.b.device.counters().rate_limited, 15u);
  EXPECT_EQ(w.b.device.counters().timestamp_replayed, 5u);
}

TEST(WireGuardDevice, SameSeedsSameBytes) {
  auto run = [] {
    World w;
    w.Send(w.a, "det");
    w.RunFor(Duration::Seconds(30));
    w.Send(w.b, "erministic");
    w.RunFor(Duration::Seconds(30));
    std::vector<Bytes> all = w.a.sent;
    all.insert(all.end(), w.b.sent.begin(), w.b.sent.end());
    return all;
  };
  EXPECT_EQ(run(), run());
}

TEST(WireGuardDevice, GarbageIsCountedAsMalformed) {
  World w;
  w.Deliver(true, Bytes{4, 0, 0, 0, 1, 2});
  w.Deliver(true, Bytes{});
  w.Deliver(true, Bytes(200, 0xff));
  EXPECT_EQ(w.b.device.counters().malformed, 3u);
}

}  // namespace
}  // namespace punchlab::wireguard

namespace punchlab::wireguard {
namespace {

TEST(WireGuardDevice, WithoutPaddingPayloadsArriveExactlyAsSent) {
  DeterministicRandom ra(1), rb(2);
  DeviceConfig ca{PrivateKey(1), kEpoch, 128, /*pad=*/false, {}};
  DeviceConfig cb{PrivateKey(2), kEpoch, 128, /*pad=*/false, {}};
  Device a(ca, ra), b(cb, rb);
  a.AddPeer(PeerConfig{b.public_key(), {}, kAddrB, Duration::Zero()});
  b.AddPeer(PeerConfig{a.public_key(), {}, kAddrA, Duration::Zero()});
  Timestamp now;
  a.Send(now, b.public_key(), Text("seven!!"));
  // Initiation -> response -> data, by hand.
  auto init = a.PollTransmit();
  b.HandleMessage(now, kAddrA, init->message);
  auto resp = b.PollTransmit();
  a.HandleMessage(now, kAddrB, resp->message);
  auto data = a.PollTransmit();
  ASSERT_TRUE(data);
  EXPECT_EQ(data->message.size(), kKeepaliveSize + 7);
  b.HandleMessage(now, kAddrA, data->message);
  std::optional<DataReceived> got;
  while (auto e = b.PollEvent()) {
    if (auto* received = std::get_if<DataReceived>(&*e)) got = std::move(*received);
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(std::string(got->data.begin(), got->data.end()), "seven!!");
}

TEST(WireGuardDevice, ARemovedPeerIsForgottenWithItsSessionsAndTimers) {
  World w;
  w.Send(w.a, "x");
  w.RunFor(Duration::Seconds(1));
  w.b.device.RemovePeer(w.ka());
  EXPECT_FALSE(w.b.device.HasPeer(w.ka()));
  EXPECT_EQ(w.b.device.counters(w.ka()), nullptr);
  w.Send(w.a, "y");
  w.RunFor(Duration::Seconds(1));
  EXPECT_EQ(w.b.device.counters().unknown_index, 1u);
  EXPECT_FALSE(w.b.device.PollTimeout().has_value());
  // Added again: A, hearing nothing back for its "y", handshakes afresh after
  // 15 s, and what it sends then arrives ("y" itself is lost, as on any wire).
  w.b.device.AddPeer(PeerConfig{w.ka(), {}, kAddrA, Duration::Zero()});
  w.RunFor(Duration::Seconds(20));
  w.Send(w.a, "z");
  w.RunFor(Duration::Seconds(1));
  EXPECT_EQ(World::Data(w.b), (std::vector<std::string>{"x", "z"}));
}

}  // namespace
}  // namespace punchlab::wireguard
