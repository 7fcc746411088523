// A peer whose NAT gave it external port 1900 (SSDP's) or 5351 (NAT-PMP's)
// is an ordinary peer: the node hands the port-mapping client only what
// the gateway's services send (portmap::Client::Claims), so the peer's
// disco pings and pongs and its data still arrive and the pair goes
// direct. (Before, any datagram from port 1900 was taken as SSDP and any
// from 5351 as NAT-PMP, from any host: the pair stayed on DERP.)
#include <gtest/gtest.h>

#include "node-world.h"

namespace punchlab {
namespace node_test {
namespace {

class PeerOnAServicePort : public ::testing::TestWithParam<uint16_t> {};

TEST_P(PeerOnAServicePort, StillGoesDirect) {
  const uint16_t port = GetParam();
  // b's NAT has one port to give: `port`. a runs the port-mapping client
  // (its gateway answers nothing: no service, so nothing is mapped).
  NatConfig only_port = NatConfig::FullCone();
  only_port.port_range = nat::PortRange{port, port};
  NodeWorld w;
  w.gateways["a"] = Ip("10.1.0.1");
  const NatId na = w.AddNat("nat-a", "192.0.2.10", NatConfig::FullCone(), Ms(10));
  const NatId nb = w.AddNat("nat-b", "192.0.2.20", only_port, Ms(10));
  NodeHost& a = w.AddNode("a", w.world.InsideOf(na), "10.1.0.2", Ms(1));
  NodeHost& b = w.AddNode("b", w.world.InsideOf(nb), "10.2.0.2", Ms(1));
  w.StartAndSettle();
  ASSERT_NE(a.node->portmap(), nullptr);
  ASSERT_TRUE(a.node->portmap()->config().upnp);
  const Timestamp t0 = w.world.now();
  w.Traffic(a, b, "a2b", Ms(100), t0 + Sec(10));
  w.Traffic(b, a, "b2a", Ms(100), t0 + Sec(10));
  const Endpoint b_public(Ip("192.0.2.20"), port);
  ASSERT_TRUE(w.world.RunUntilTrue([&] { return a.PathTo(b).direct() && b.PathTo(a).direct(); },
                                   t0 + Sec(10)))
      << "a: " << a.PathTo(b).ToString() << " b: " << b.PathTo(a).ToString();
  EXPECT_EQ(a.PathTo(b), Path::Direct(b_public));
  w.world.RunUntil(t0 + Sec(11));
  EXPECT_GT(a.Received(b, Path::Kind::kDirect, "b2a"), 0u);
  // Nothing of b's went to the port-mapping client.
  const portmap::ClientStats& s = a.node->portmap()->stats();
  EXPECT_EQ(s.ssdp_dropped, 0u);
  EXPECT_EQ(s.dropped_wrong_source, 0u);
  EXPECT_EQ(s.dropped_malformed, 0u);
  EXPECT_EQ(a.node->stats().portmap_datagrams, 0u);
  EXPECT_EQ(a.node->stats().unknown_datagrams, 0u);
}

TEST(PortMapping, AMoveMapsTheNewAddress) {
  // The node's socket moved to another address: the port-mapping client
  // maps that one from now on (before, it kept the first address forever).
  NodeWorld w;
  w.gateways["a"] = Ip("10.1.0.1");
  const NatId na = w.AddNat("nat-a", "192.0.2.10", NatConfig::FullCone(), Ms(10));
  NodeHost& a = w.AddNode("a", w.world.InsideOf(na), "10.1.0.2", Ms(1), {Ip("10.1.0.3")});
  w.StartAndSettle();
  ASSERT_NE(a.node->portmap(), nullptr);
  EXPECT_EQ(a.node->portmap()->local(), Endpoint(Ip("10.1.0.2"), kNodePort));
  const Endpoint moved(Ip("10.1.0.3"), kNodePort);
  w.world.Bind(a.machine, moved);
  w.world.Unbind(a.local());
  w.world.Do(a.machine, [&](Timestamp now) { a.node->SetLocalEndpoints(now, {moved}); });
  EXPECT_EQ(a.node->portmap()->local(), moved);
}

INSTANTIATE_TEST_SUITE_P(SsdpAndNatPmp, PeerOnAServicePort, ::testing::Values(1900, 5351),
                         [](const ::testing::TestParamInfo<uint16_t>& p) {
                           return p.param == 1900 ? std::string("Ssdp1900") : std::string("NatPmp5351");
                         });

}  // namespace
}  // namespace node_test
}  // namespace punchlab
