// wireguard-bench: what protocol/wireguard costs, and how long two peers that
// start sending at the same instant take to agree on a session. Prints
// numbers; judges nothing (bench/README.md).
//
//   build/bench/wireguard-bench [--handshakes N] [--packets N]
//
// Costs: wall time per complete handshake (two fresh Devices, initiation,
// response, confirming keepalive) and per 200-byte transport message sealed
// and opened. Collisions: a deterministic two-Device world with a symmetric
// one-way delay, both sides sending every 100 ms from t=0 (as a scenario's
// two flows starting together do); when the first data arrives, for several
// delays and seeds.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <utility>
#include <variant>

#include "punchlab/wireguard/device.h"

using namespace punchlab;
using namespace punchlab::wireguard;

namespace {

const Endpoint kA(IpAddress::V4(192, 0, 2, 1), 51820);
const Endpoint kB(IpAddress::V4(192, 0, 2, 2), 51820);

Key32 Private(uint8_t b) {
  Key32 k{};
  k.fill(b);
  return k;
}

struct Pair {
  Pair(uint64_t seed) : ra(seed * 2), rb(seed * 2 + 1), a(Config(1), ra), b(Config(2), rb) {
    a.AddPeer(PeerConfig{b.public_key(), {}, kB, Duration::Zero()});
    b.AddPeer(PeerConfig{a.public_key(), {}, kA, Duration::Zero()});
  }
  static DeviceConfig Config(uint8_t key) { return DeviceConfig{Private(key), Duration::Zero(), 128, false, {}}; }
  DeterministicRandom ra, rb;
  Device a, b;
};

double Micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double, std::micro>(d).count();
}

void Costs(int handshakes, int packets) {
  const Timestamp now;
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < handshakes; ++i) {
    Pair p(static_cast<uint64_t>(i) + 1);
    p.a.Initiate(now, p.b.public_key());
    while (auto o = p.a.PollTransmit()) p.b.HandleMessage(now, kA, o->message);
    while (auto o = p.b.PollTransmit()) p.a.HandleMessage(now, kB, o->message);
    while (auto o = p.a.PollTransmit()) p.b.HandleMessage(now, kA, o->message);
  }
  const double per_handshake = Micros(std::chrono::steady_clock::now() - t0) / handshakes;

  Pair p(1);
  p.a.Initiate(now, p.b.public_key());
  while (auto o = p.a.PollTransmit()) p.b.HandleMessage(now, kA, o->message);
  while (auto o = p.b.PollTransmit()) p.a.HandleMessage(now, kB, o->message);
  while (auto o = p.a.PollTransmit()) p.b.HandleMessage(now, kA, o->message);
  const Bytes payload(200, 0x5a);
  auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < packets; ++i) {
    p.a.Send(now, p.b.public_key(), payload);
    while (auto o = p.a.PollTransmit()) p.b.HandleMessage(now, kA, o->message);
    while (p.b.PollEvent()) {
    }
  }
  const double per_packet = Micros(std::chrono::steady_clock::now() - t1) / packets;
  std::printf("costs\n  handshake (two fresh devices, 3 messages): %.0f us\n", per_handshake);
  std::printf("  200-byte transport message sealed and opened: %.2f us\n", per_packet);
}

// Seconds until B first receives data, or -1 within `limit`.
double FirstData(uint64_t seed, Duration delay, Duration period, Duration limit, uint64_t& initiations) {
  Pair p(seed);
  std::multimap<Timestamp, std::pair<bool, Bytes>> wire;  // to_b, message
  Timestamp now, next_tick;
  std::optional<Timestamp> first;
  auto drain = [&] {
    while (auto o = p.a.PollTransmit()) wire.emplace(now + delay, std::make_pair(true, o->message));
    while (auto o = p.b.PollTransmit()) wire.emplace(now + delay, std::make_pair(false, o->message));
    while (auto e = p.b.PollEvent()) {
      if (std::holds_alternative<DataReceived>(*e) && !first) first = now;
    }
    while (p.a.PollEvent()) {
    }
  };
  const uint8_t byte = 1;
  while (!first && now < Timestamp::Zero() + limit) {
    Timestamp t = next_tick;
    if (!wire.empty() && wire.begin()->first < t) t = wire.begin()->first;
    for (Device* d : {&p.a, &p.b}) {
      if (auto to = d->PollTimeout(); to && *to < t) t = *to;
    }
    now = t;
    if (!wire.empty() && wire.begin()->first <= now) {
      auto [to_b, message] = wire.begin()->second;
      wire.erase(wire.begin());
      (to_b ? p.b : p.a).HandleMessage(now, to_b ? kA : kB, message);
    } else {
      p.a.HandleTimeout(now);
      p.b.HandleTimeout(now);
      if (now >= next_tick) {
        p.a.Send(now, p.b.public_key(), ByteView(&byte, 1));
        p.b.Send(now, p.a.public_key(), ByteView(&byte, 1));
        next_tick = now + period;
      }
    }
    drain();
  }
  initiations = p.a.counters(p.b.public_key())->initiations_sent + p.b.counters(p.a.public_key())->initiations_sent;
  return first ? first->seconds() : -1;
}

void Collisions() {
  std::printf("collisions: both send every 100 ms from t=0; first data at B (s), initiations by both\n");
  for (int delay_ms : {1, 10, 30, 60}) {
    std::printf("  one-way %2d ms:", delay_ms);
    for (uint64_t seed = 1; seed <= 5; ++seed) {
      uint64_t inits = 0;
      const double at = FirstData(seed, Duration::Millis(delay_ms), Duration::Millis(100), Duration::Seconds(120), inits);
      if (at < 0) {
        std::printf("  never(%llu)", static_cast<unsigned long long>(inits));
      } else {
        std::printf("  %.1f(%llu)", at, static_cast<unsigned long long>(inits));
      }
    }
    std::printf("\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  int handshakes = 2000, packets = 200000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--handshakes") == 0) handshakes = std::atoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--packets") == 0) packets = std::atoi(argv[i + 1]);
  }
  if (handshakes <= 0 || packets <= 0 || argc % 2 == 0) {
    std::fprintf(stderr, "usage: wireguard-bench [--handshakes N] [--packets N]\n");
    return 2;
  }
  Costs(handshakes, packets);
  Collisions();
  return 0;
}
