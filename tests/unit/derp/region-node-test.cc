// A DERP region node answers STUN on UDP and relays DERP on TCP.
#include <gtest/gtest.h>

#include <string>

#include "derp/derp-world.h"
#include "punchlab/derp/region-node.h"
#include "punchlab/stun/message.h"

namespace punchlab {
namespace derp {
namespace {

using testing::Text;
using testsupport::LinkParams;
using testsupport::MachineId;
using testsupport::MachineSpec;
using testsupport::VirtualWorld;

TEST(DerpRegionNode, AnswersStunAndRelaysDerp) {
  DeterministicRandom rng(1);
  const Endpoint derp_address = *Endpoint::Parse("192.0.2.1:443");
  const Endpoint stun_address = *Endpoint::Parse("192.0.2.1:3478");
  stun::StunServerConfig stun_config;
  stun_config.primary = stun_address;
  RegionNode node(NodePrivateKey::Generate(rng), rng, stun_config);

  // UDP: a binding request from a NATed client gets its public address back.
  stun::Message request;
  request.transaction_id = stun::TransactionId::Random(rng);
  request.fingerprint = true;
  const Endpoint client_public = *Endpoint::Parse("198.51.100.7:41641");
  node.HandleDatagram(Timestamp::Zero(), stun_address, client_public, stun::EncodeMessage(request));
  auto response = node.PollTransmit();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->source, stun_address);
  EXPECT_EQ(response->destination, client_public);
  auto decoded = stun::DecodeMessage(response->payload);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded.message->transaction_id, request.transaction_id);
  EXPECT_EQ(decoded.message->MappedEndpoint(), client_public);
  EXPECT_FALSE(node.PollTransmit());
  EXPECT_EQ(node.stun().stats().success_responses, 1u);

  // TCP: two clients relay through the same node, in the virtual world
  // (hosts 10 ms apart).
  VirtualWorld world;
  const LinkParams half_way{Duration::Millis(5), 0.0};
  auto host = [&](const char* ip) {
    return world.AddHost(ip, VirtualWorld::kInternet, {*IpAddress::Parse(ip)}, half_way);
  };
  world.Attach(host("192.0.2.1"), MachineSpec{"region", nullptr, &node, {}, {derp_address}, {}});
  DeterministicRandom rng_a(10), rng_b(11);
  ClientConfig config;
  config.server = derp_address;
  config.server_key = node.derp().public_key();
  Client a(NodePrivateKey::Generate(rng_a), rng_a, config);
  Client b(NodePrivateKey::Generate(rng_b), rng_b, config);
  const MachineId a_id =
      world.Attach(host("198.51.100.7"), MachineSpec{"a", nullptr, &a, {}, {}, {}});
  const MachineId b_id =
      world.Attach(host("198.51.100.8"), MachineSpec{"b", nullptr, &b, {}, {}, {}});
  world.Do(a_id, [&](Timestamp now) { a.Start(now); });
  world.Do(b_id, [&](Timestamp now) { b.Start(now); });
  world.RunFor(Duration::Seconds(1));
  ASSERT_TRUE(a.connected() && b.connected());
  EXPECT_EQ(node.derp().client_count(), 2u);
  // The node's timer is the DERP half's (STUN has none).
  EXPECT_EQ(node.PollTimeout(), node.derp().PollTimeout());

  bool sent = false;
  world.Do(a_id,
           [&](Timestamp now) { sent = a.Send(now, b.public_key(), Text("via region node")); });
  ASSERT_TRUE(sent);
  world.RunFor(Duration::Seconds(1));
  std::optional<Received> got;
  while (auto e = b.PollEvent()) {
    if (auto* r = std::get_if<Received>(&*e)) got = std::move(*r);
  }
  ASSERT_TRUE(got);
  EXPECT_EQ(got->source, a.public_key());
  EXPECT_EQ(std::string(got->data.begin(), got->data.end()), "via region node");

  // Keepalives keep flowing through the composite's HandleTimeout.
  world.RunFor(Duration::Seconds(70));
  EXPECT_EQ(node.derp().stats().keepalives_sent, 2u);
  EXPECT_EQ(a.stats().keepalives_received, 1u);
}

}  // namespace
}  // namespace derp
}  // namespace punchlab
