// StunClient and StunServer talking through the virtual world (a host each
// on the public internet, 10 ms apart), with the drain rule and a virtual
// clock.
#include <gtest/gtest.h>

#include <vector>

#include "punchlab/random.h"
#include "punchlab/stun/client.h"
#include "punchlab/stun/server.h"
#include "support/virtual-world.h"

namespace punchlab {
namespace stun {
namespace {

using testsupport::HostId;
using testsupport::LinkParams;
using testsupport::MachineId;
using testsupport::MachineSpec;
using testsupport::VirtualWorld;

// Each access link is half of the 10 ms one-way delay between two hosts.
const LinkParams kHalfWay{Duration::Millis(5), 0.0};

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
    const HostId server_host =
        net.AddHost("server", VirtualWorld::kInternet, {kA1P1.ip, kA2P2.ip}, kHalfWay);
    const HostId client_host =
        net.AddHost("client", VirtualWorld::kInternet, {kClient.ip}, kHalfWay);
    net.Attach(server_host, MachineSpec{"server", &server, nullptr, server.LocalEndpoints(), {}, {}});
    client_id = net.Attach(client_host, MachineSpec{"client", &client, nullptr, {kClient}, {},
                                                    [this](Timestamp now) {
                                                      while (auto ev = client.PollEvent()) {
                                                        events.push_back(std::move(*ev));
                                                        event_times.push_back(now);
                                                      }
                                                    }});
  }

  // One transaction, which must end as `Ending` (StunSuccess, ...).
  template <typename Ending>
  Ending Bind(const BindingOptions& o = {}, const Endpoint& to = kA1P1) {
    events.clear();
    event_times.clear();
    net.Do(client_id, [&](Timestamp now) { client.StartBinding(now, kClient, to, o); });
    net.RunFor(Duration::Seconds(10));
    EXPECT_EQ(events.size(), 1u);
    const Ending* ending = events.empty() ? nullptr : std::get_if<Ending>(&events.front());
    EXPECT_NE(ending, nullptr) << "the transaction ended otherwise";
    return ending ? *ending : Ending();
  }

  DeterministicRandom rng;
  VirtualWorld net;
  StunClient client;
  StunServer server;
  MachineId client_id = 0;
  std::vector<StunClientEvent> events;  // the client's, as they happened
  std::vector<Timestamp> event_times;
};

TEST(StunEndToEnd, PlainBinding) {
  World w;
  StunSuccess ev = w.Bind<StunSuccess>();
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
  StunSuccess ev = w.Bind<StunSuccess>(both);
  EXPECT_EQ(ev.response_source, kA2P2);
  EXPECT_EQ(ev.response_origin, kA2P2);
  EXPECT_EQ(ev.mapped, kClient);

  BindingOptions port;
  port.change_port = true;
  ev = w.Bind<StunSuccess>(port);
  EXPECT_EQ(ev.response_source, Endpoint(kA1P1.ip, kA2P2.port));

  // Asking the alternate itself to change IP answers from A1:P2.
  BindingOptions ip;
  ip.change_ip = true;
  ev = w.Bind<StunSuccess>(ip, kA2P2);
  EXPECT_EQ(ev.response_source, Endpoint(kA1P1.ip, kA2P2.port));
  EXPECT_EQ(ev.other_address, kA1P1);
  EXPECT_EQ(w.server.stats().changed_responses, 3u);
}

TEST(StunEndToEnd, ClassicModeBinding) {
  World w;
  BindingOptions classic;
  classic.classic = true;
  classic.change_ip = true;
  StunSuccess ev = w.Bind<StunSuccess>(classic);
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
  StunErrorResponse ev = w.Bind<StunErrorResponse>(o);
  ASSERT_TRUE(ev.error);
  EXPECT_EQ(ev.error->code, 420);
  // A classic client just hears nothing, as from an RFC 3489 server without a second IP.
  o.classic = true;
  w.Bind<StunTimeout>(o);
  EXPECT_EQ(w.server.stats().dropped_classic_unsupported, 5u);  // every retransmission
}

TEST(StunEndToEnd, LostPacketsRetransmitted) {
  World w;
  int to_drop = 3;  // the first three requests vanish
  w.net.intercept = [&](MachineId, Transmit& t) {
    return !(t.destination == kA1P1 && to_drop-- > 0);
  };
  StunSuccess ev = w.Bind<StunSuccess>();
  EXPECT_EQ(ev.retransmits, 3u);
  EXPECT_EQ(ev.rtt, Duration::Millis(720));  // 4th send at 700 ms + 20 ms round trip
  EXPECT_EQ(ev.rtt_since_last_send, Duration::Millis(20));
}

TEST(StunEndToEnd, UnreachableServerTimesOut) {
  World w;
  const Endpoint nowhere(IpAddress::V4(192, 0, 2, 99), 3478);
  w.Bind<StunTimeout>({}, nowhere);
  EXPECT_EQ(w.net.stats().datagrams_undeliverable, 5u);
  ASSERT_EQ(w.event_times.size(), 1u);
  EXPECT_EQ(w.event_times.front(), Timestamp::Zero() + Duration::Seconds(3));
}

// Another host on the path sprays forged answers; only the real one counts.
TEST(StunEndToEnd, ForgedResponsesDroppedAndCounted) {
  World w;
  DeterministicRandom attacker(666);
  w.net.Do(w.client_id, [&](Timestamp now) { w.client.StartBinding(now, kClient, kA1P1); });
  for (int i = 0; i < 5; ++i) {
    Message forged;
    forged.cls = MessageClass::kSuccessResponse;
    forged.transaction_id = TransactionId::Random(attacker);
    forged.xor_mapped_address = Endpoint(IpAddress::V4(6, 6, 6, 6), 666);
    w.net.InjectDatagram(kClient, kA1P1, EncodeMessage(forged));
  }
  w.net.InjectDatagram(kClient, kA1P1, Bytes{0xde, 0xad});
  w.net.RunUntil(Timestamp::Zero() + Duration::Seconds(10));
  ASSERT_EQ(w.events.size(), 1u);
  const auto* ok = std::get_if<StunSuccess>(&w.events.front());
  ASSERT_NE(ok, nullptr);
  EXPECT_EQ(ok->mapped, kClient);
  EXPECT_EQ(w.client.stats().dropped_unmatched, 5u);
  EXPECT_EQ(w.client.stats().dropped_malformed, 1u);
}

TEST(StunEndToEnd, ManyConcurrentBindingsIpv6) {
  DeterministicRandom rng(9);
  VirtualWorld net;
  StunServerConfig c;
  c.primary = *Endpoint::Parse("[2001:db8::1]:3478");
  c.alternate = *Endpoint::Parse("[2001:db8::2]:3479");
  StunServer server(c);
  StunClient client(rng);
  const HostId server_host =
      net.AddHost("server", VirtualWorld::kInternet, {c.primary.ip, c.alternate->ip}, kHalfWay);
  net.Attach(server_host, MachineSpec{"server", &server, nullptr, server.LocalEndpoints(), {}, {}});
  std::vector<Endpoint> locals;
  for (uint16_t p = 50000; p < 50010; ++p) {
    locals.push_back(Endpoint(*IpAddress::Parse("2001:db8:ffff::9"), p));
  }
  const HostId client_host =
      net.AddHost("client", VirtualWorld::kInternet, {locals.front().ip}, kHalfWay);
  const MachineId client_id =
      net.Attach(client_host, MachineSpec{"client", &client, nullptr, locals, {}, {}});
  net.Do(client_id, [&](Timestamp now) {
    for (const Endpoint& l : locals) client.StartBinding(now, l, c.primary);
  });
  net.RunUntil(Timestamp::Zero() + Duration::Seconds(5));
  int n = 0;
  while (auto ev = client.PollEvent()) {
    const auto* ok = std::get_if<StunSuccess>(&*ev);
    ASSERT_NE(ok, nullptr);
    EXPECT_EQ(ok->mapped, ok->local);
    ++n;
  }
  EXPECT_EQ(n, 10);
}

}  // namespace
}  // namespace stun
}  // namespace punchlab
