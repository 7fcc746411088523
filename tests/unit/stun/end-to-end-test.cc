// StunClient and StunServer talking through the in-memory network, with the
// drain rule and a virtual clock.
#include <gtest/gtest.h>

#include <vector>

#include "in-memory-net.h"
#include "punchlab/random.h"
#include "punchlab/stun/client.h"
#include "punchlab/stun/server.h"

namespace punchlab {
namespace stun {
namespace {

using testnet::InMemoryNet;

const Endpoint kA1P1(IpAddress::V4(198, 51, 100, 1), 3478);
const Endpoint kA2P2(IpAddress::V4(198, 51, 100, 2), 3479);
const Endpoint kClient(IpAddress::V4(203, 0, 113, 5), 40000);

struct World {
  explicit World(bool with_alternate = true)
      : rng(42), client(rng), server([&] {
          StunServerConfig c;
          c.primary = kA1P1;
          if (with_alternate) c.alternate = kA2P2;
          return c;
        }()) {
    net.Attach(&server, server.LocalEndpoints());
    net.Attach(&client, {kClient});
  }

  StunClientEvent Bind(const BindingOptions& o = {}, const Endpoint& to = kA1P1) {
    client.StartBinding(net.now(), kClient, to, o);
    net.Drain(&client);
    net.RunUntil(net.now() + Duration::Seconds(10));
    auto ev = client.PollEvent();
    EXPECT_TRUE(ev);
    EXPECT_FALSE(client.PollEvent());
    return ev.value_or(StunClientEvent());
  }

  DeterministicRandom rng;
  InMemoryNet net;
  StunClient client;
  StunServer server;
};

TEST(StunEndToEnd, PlainBinding) {
  World w;
  StunClientEvent ev = w.Bind();
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kSuccess);
  EXPECT_EQ(ev.mapped, kClient);
  EXPECT_EQ(ev.rtt, Duration::Millis(20));
  EXPECT_EQ(ev.retransmits, 0u);
  EXPECT_EQ(ev.response_source, kA1P1);
  EXPECT_EQ(ev.response_origin, kA1P1);
  EXPECT_EQ(ev.other_address, kA2P2);
  EXPECT_EQ(ev.server_software, "punchlab");
  EXPECT_EQ(w.client.stats().requests_sent, 1u);
  EXPECT_EQ(w.server.stats().requests, 1u);
}

TEST(StunEndToEnd, ChangeRequestAnsweredFromAlternate) {
  World w;
  BindingOptions both;
  both.change_ip = true;
  both.change_port = true;
  StunClientEvent ev = w.Bind(both);
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kSuccess);
  EXPECT_EQ(ev.response_source, kA2P2);
  EXPECT_EQ(ev.response_origin, kA2P2);
  EXPECT_EQ(ev.mapped, kClient);

  BindingOptions port;
  port.change_port = true;
  ev = w.Bind(port);
  EXPECT_EQ(ev.response_source, Endpoint(kA1P1.ip, kA2P2.port));

  // Asking the alternate itself to change IP answers from A1:P2.
  BindingOptions ip;
  ip.change_ip = true;
  ev = w.Bind(ip, kA2P2);
  EXPECT_EQ(ev.response_source, Endpoint(kA1P1.ip, kA2P2.port));
  EXPECT_EQ(ev.other_address, kA1P1);
  EXPECT_EQ(w.server.stats().changed_responses, 3u);
}

TEST(StunEndToEnd, ClassicModeBinding) {
  World w;
  BindingOptions classic;
  classic.classic = true;
  classic.change_ip = true;
  StunClientEvent ev = w.Bind(classic);
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kSuccess);
  EXPECT_TRUE(ev.transaction_id.classic());
  EXPECT_EQ(ev.mapped, kClient);
  EXPECT_EQ(ev.response_source, Endpoint(kA2P2.ip, kA1P1.port));
  EXPECT_EQ(ev.response_origin, ev.response_source);  // SOURCE-ADDRESS
  EXPECT_EQ(ev.other_address, kA2P2);                 // CHANGED-ADDRESS
  EXPECT_FALSE(ev.server_software);
  EXPECT_EQ(w.server.stats().classic_requests, 1u);
}

TEST(StunEndToEnd, ChangeWithoutAlternateIsAnError) {
  World w(false);
  BindingOptions o;
  o.change_ip = true;
  StunClientEvent ev = w.Bind(o);
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kErrorResponse);
  ASSERT_TRUE(ev.error);
  EXPECT_EQ(ev.error->code, 420);
  // A classic client just hears nothing, as from an RFC 3489 server without a second IP.
  o.classic = true;
  ev = w.Bind(o);
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kTimeout);
  EXPECT_EQ(w.server.stats().dropped_classic_unsupported, 5u);  // every retransmission
}

TEST(StunEndToEnd, LostPacketsRetransmitted) {
  World w;
  int to_drop = 3;  // the first three requests vanish
  w.net.route = [&](Transmit& t) { return !(t.destination == kA1P1 && to_drop-- > 0); };
  StunClientEvent ev = w.Bind();
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kSuccess);
  EXPECT_EQ(ev.retransmits, 3u);
  EXPECT_EQ(ev.rtt, Duration::Millis(720));  // 4th send at 700 ms + 20 ms round trip
  EXPECT_EQ(ev.rtt_since_last_send, Duration::Millis(20));
}

TEST(StunEndToEnd, UnreachableServerTimesOut) {
  World w;
  const Endpoint nowhere(IpAddress::V4(192, 0, 2, 99), 3478);
  StunClientEvent ev = w.Bind({}, nowhere);
  EXPECT_EQ(ev.kind, StunClientEvent::Kind::kTimeout);
  EXPECT_EQ(w.net.undeliverable, 5);
  EXPECT_EQ(w.net.now(), Timestamp::Zero() + Duration::Seconds(3));
}

// Another host on the path sprays forged answers; only the real one counts.
TEST(StunEndToEnd, ForgedResponsesDroppedAndCounted) {
  World w;
  DeterministicRandom attacker(666);
  w.client.StartBinding(w.net.now(), kClient, kA1P1);
  w.net.Drain(&w.client);
  for (int i = 0; i < 5; ++i) {
    Message forged;
    forged.cls = MessageClass::kSuccessResponse;
    forged.transaction_id = TransactionId::Random(attacker);
    forged.xor_mapped_address = Endpoint(IpAddress::V4(6, 6, 6, 6), 666);
    w.net.Send(Transmit{kA1P1, kClient, EncodeMessage(forged)});
  }
  w.net.Send(Transmit{kA1P1, kClient, Bytes{0xde, 0xad}});
  w.net.RunUntil(Timestamp::Zero() + Duration::Seconds(10));
  auto ev = w.client.PollEvent();
  ASSERT_TRUE(ev);
  EXPECT_EQ(ev->mapped, kClient);
  EXPECT_EQ(w.client.stats().dropped_unmatched, 5u);
  EXPECT_EQ(w.client.stats().dropped_malformed, 1u);
}

TEST(StunEndToEnd, ManyConcurrentBindingsIpv6) {
  DeterministicRandom rng(9);
  InMemoryNet net;
  StunServerConfig c;
  c.primary = *Endpoint::Parse("[2001:db8::1]:3478");
  c.alternate = *Endpoint::Parse("[2001:db8::2]:3479");
  StunServer server(c);
  StunClient client(rng);
  net.Attach(&server, server.LocalEndpoints());
  std::vector<Endpoint> locals;
  for (uint16_t p = 50000; p < 50010; ++p) {
    locals.push_back(Endpoint(*IpAddress::Parse("2001:db8:ffff::9"), p));
  }
  net.Attach(&client, locals);
  for (const Endpoint& l : locals) client.StartBinding(net.now(), l, c.primary);
  net.Drain(&client);
  net.RunUntil(Timestamp::Zero() + Duration::Seconds(5));
  int n = 0;
  while (auto ev = client.PollEvent()) {
    EXPECT_EQ(ev->kind, StunClientEvent::Kind::kSuccess);
    EXPECT_EQ(ev->mapped, ev->local);
    ++n;
  }
  EXPECT_EQ(n, 10);
}

}  // namespace
}  // namespace stun
}  // namespace punchlab
