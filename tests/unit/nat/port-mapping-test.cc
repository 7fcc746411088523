// Port mapping in the NAT model: explicit leases in the NAT table (NAT-PMP /
// PCP grant endpoint-independent mappings that last their lease) and the
// router's server answering real client requests.
#include <gtest/gtest.h>

#include <utility>

#include "nat/nat-test-util.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/port-mapping-server.h"
#include "punchlab/portmap/client.h"
#include "punchlab/random.h"

namespace punchlab {
namespace nat {
namespace {

using testing::Config;
using testing::Ep;
using testing::Ip;
using testing::Sec;
using InVerdict = InboundResult::Verdict;
namespace pmp = portmap::pmp;
namespace pcp = portmap::pcp;

const Endpoint kHost = Ep("192.168.1.10:41641");
const Endpoint kPeer = Ep("198.51.100.1:40000");
const Endpoint kPeer2 = Ep("198.51.100.2:50000");
const IpAddress kGateway = Ip("192.168.1.1");
const IpAddress kLanAddress = Ip("192.168.1.2");
const IpAddress kPublic = Ip("203.0.113.1");

class PortMappingTest : public ::testing::Test {
 protected:
  PortMappingTest() : table_(Config("symmetric,udp_timeout=30s"), {kPublic}, rng_) {}
  DeterministicRandom rng_{3};
  NatTable table_;
};

TEST_F(PortMappingTest, ALeaseIsEndpointIndependentBothWaysOnASymmetricNat) {
  auto external = table_.MapPort(Sec(0), Protocol::kUdp, kHost, 0, Sec(120));
  ASSERT_TRUE(external);
  EXPECT_EQ(external->ip, kPublic);
  // Anyone may send to it, before the host ever sent anything (EIF).
  auto in = table_.Inbound(Sec(1), Protocol::kUdp, kPeer, *external);
  EXPECT_EQ(in.verdict, InVerdict::kTranslate);
  EXPECT_EQ(in.inside_dst, kHost);
  // Every new flow of the host leaves from it, whatever the NAT's mapping (EIM).
  EXPECT_EQ(table_.Outbound(Sec(2), Protocol::kUdp, kHost, kPeer).external_src, *external);
  EXPECT_EQ(table_.Outbound(Sec(2), Protocol::kUdp, kHost, kPeer2).external_src, *external);
  // Another host of the same NAT stays symmetric.
  const Endpoint other = Ep("192.168.1.11:41641");
  EXPECT_NE(table_.Outbound(Sec(2), Protocol::kUdp, other, kPeer).external_src,
            table_.Outbound(Sec(2), Protocol::kUdp, other, kPeer2).external_src);
  EXPECT_EQ(table_.port_mapping_counters().leases_granted, 1u);
}

TEST_F(PortMappingTest, TheLeaseOutlivesIdleFlowsAndEndsOnTime) {
  auto external = table_.MapPort(Sec(0), Protocol::kUdp, kHost, 0, Sec(120));
  ASSERT_TRUE(external);
  EXPECT_EQ(table_.NextExpiry(), Sec(120));
  table_.Outbound(Sec(1), Protocol::kUdp, kHost, kPeer);
  // The flow idles out at 31 s; the lease holds the port.
  EXPECT_EQ(table_.Inbound(Sec(100), Protocol::kUdp, kPeer2, *external).verdict,
            InVerdict::kTranslate);
  // After the lease: the binding lives only while flows do. The last inbound
  // flow opened none (refresh=outbound), so it is gone.
  table_.Expire(Sec(120));
  EXPECT_EQ(table_.port_mapping_count(), 0u);
  EXPECT_EQ(table_.Inbound(Sec(121), Protocol::kUdp, kPeer, *external).verdict, InVerdict::kDrop);
  EXPECT_EQ(table_.port_mapping_counters().leases_expired, 1u);
}

TEST_F(PortMappingTest, RenewalKeepsThePortAndSuggestedPortsAreHonoured) {
  auto first = table_.MapPort(Sec(0), Protocol::kUdp, kHost, 0, Sec(60));
  auto again = table_.MapPort(Sec(30), Protocol::kUdp, kHost, 0, Sec(90));
  ASSERT_TRUE(first && again);
  EXPECT_EQ(*first, *again);
  EXPECT_EQ(table_.NextExpiry(), Sec(90));
  EXPECT_EQ(table_.port_mapping_counters().leases_renewed, 1u);
  const Endpoint other = Ep("192.168.1.11:1000");
  auto suggested = table_.MapPort(Sec(0), Protocol::kUdp, other, 55555, Sec(60));
  ASSERT_TRUE(suggested);
  EXPECT_EQ(suggested->port, 55555);
  EXPECT_TRUE(table_.UnmapPort(Sec(1), Protocol::kUdp, other));
  EXPECT_FALSE(table_.UnmapPort(Sec(1), Protocol::kUdp, other));
}

TEST_F(PortMappingTest, ARebootLosesLeasesUnlessTheRouterKeepsThem) {
  auto external = table_.MapPort(Sec(0), Protocol::kUdp, kHost, 0, Sec(600));
  ASSERT_TRUE(external);
  table_.Reboot(Sec(10));
  EXPECT_EQ(table_.port_mapping_count(), 0u);
  EXPECT_EQ(table_.Inbound(Sec(11), Protocol::kUdp, kPeer, *external).verdict, InVerdict::kDrop);
  EXPECT_EQ(table_.port_mapping_counters().leases_lost, 1u);

  external = table_.MapPort(Sec(20), Protocol::kUdp, kHost, 0, Sec(600));
  table_.Reboot(Sec(30), std::nullopt, /*keep_port_mappings=*/true);
  EXPECT_EQ(table_.PortMapped(Protocol::kUdp, kHost), external);
  EXPECT_EQ(table_.Inbound(Sec(31), Protocol::kUdp, kPeer, *external).verdict,
            InVerdict::kTranslate);
  EXPECT_EQ(table_.port_mapping_counters().leases_kept, 1u);
}

// ---- the server, against the client machine ----

class ServerTest : public PortMappingTest {
 protected:
  // Runs the client's transmits through the server and its answers back
  // (one exchange round; answers arrive `rtt` later).
  void Exchange(portmap::Client& client, PortMappingServer& server, Timestamp now) {
    while (auto t = client.PollTransmit()) {
      EXPECT_EQ(t->destination, Endpoint(kGateway, portmap::kServerPort));
      if (auto answer = server.HandleRequest(now, t->source, kGateway, kLanAddress, t->payload)) {
        EXPECT_EQ(answer->destination, t->source);
        client.HandleDatagram(now, t->source, answer->source, answer->payload);
      }
    }
  }
  std::vector<portmap::ClientEvent> Events(portmap::Client& c) {
    std::vector<portmap::ClientEvent> out;
    while (auto e = c.PollEvent()) out.push_back(std::move(*e));
    return out;
  }
  PortMappingServer Server(PortMappingConfig config) {
    return PortMappingServer(config, table_, Sec(0));
  }
  // The lease set-up the server tests share: `client` at kHost probes the
  // server at `at` (its one event, Probed, returned), then asks for a
  // mapping a second later (the one event the answer makes, returned).
  std::pair<portmap::Probed, portmap::ClientEvent> ProbeThenMap(portmap::Client& client,
                                                                PortMappingServer& server,
                                                                Timestamp at) {
    client.SetGateway(at, kHost, kGateway);
    client.Probe(at);
    Exchange(client, server, at);
    auto probed = Events(client);
    EXPECT_EQ(probed.size(), 1u);
    const Timestamp later = at + Duration::Seconds(1);
    client.CachedMappingOrStartCreating(later);
    Exchange(client, server, later);
    auto mapped = Events(client);
    EXPECT_EQ(mapped.size(), 1u);
    if (probed.size() != 1 || mapped.size() != 1) return {};
    return {std::get<portmap::Probed>(probed[0]), std::move(mapped[0])};
  }
  static PortMappingConfig Offers(bool pmp, bool pcp) {
    PortMappingConfig c;
    c.pmp = pmp;
    c.pcp = pcp;
    return c;
  }
  DeterministicRandom client_rng_{9};
};

TEST_F(ServerTest, PmpClientGetsARealMapping) {
  auto server = Server(Offers(true, false));
  portmap::Client client(client_rng_);
  const auto [probed, created] = ProbeThenMap(client, server, Sec(0));
  EXPECT_TRUE(probed.pmp);
  EXPECT_FALSE(probed.pcp);  // refused as "unsupported version"
  ASSERT_TRUE(std::get_if<portmap::MappingCreated>(&created));
  const auto& m = std::get<portmap::MappingCreated>(created).mapping;
  EXPECT_EQ(m.protocol, portmap::MappingProtocol::kPmp);
  EXPECT_EQ(table_.PortMapped(Protocol::kUdp, kHost), m.external);
  EXPECT_EQ(m.good_until, Sec(1) + Duration::Seconds(7200));
  EXPECT_EQ(server.counters().granted, 1u);
  EXPECT_EQ(server.counters().unsupported_version, 1u);
  // Release deletes the table's lease.
  client.Release(Sec(2));
  Exchange(client, server, Sec(2));
  EXPECT_FALSE(table_.PortMapped(Protocol::kUdp, kHost));
  EXPECT_EQ(server.counters().deleted, 1u);
}

TEST_F(ServerTest, PcpClientGetsALeaseCappedByTheLimit) {
  auto config = Offers(false, true);
  config.lease_limit = Duration::Seconds(60);
  auto server = Server(config);
  portmap::Client client(client_rng_);
  const auto [probed, created] = ProbeThenMap(client, server, Sec(0));
  EXPECT_FALSE(probed.pmp);
  EXPECT_TRUE(probed.pcp);
  ASSERT_TRUE(std::get_if<portmap::MappingCreated>(&created));
  const auto& m = std::get<portmap::MappingCreated>(created).mapping;
  EXPECT_EQ(m.protocol, portmap::MappingProtocol::kPcp);
  EXPECT_EQ(m.external.ip, kPublic);
  EXPECT_EQ(m.renew_after, Sec(31));
  EXPECT_EQ(table_.NextExpiry(), Sec(61));
  // Renewal at half the lease keeps the port and pushes the table's lease on.
  client.HandleTimeout(Sec(31));
  Exchange(client, server, Sec(31));
  auto ev = Events(client);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::get<portmap::MappingCreated>(ev[0]).renewal);
  EXPECT_EQ(std::get<portmap::MappingCreated>(ev[0]).mapping.external, m.external);
  EXPECT_EQ(table_.NextExpiry(), Sec(91));
  // Released with the same nonce: the server accepts the delete.
  client.Release(Sec(40));
  Exchange(client, server, Sec(40));
  EXPECT_EQ(server.counters().deleted, 1u);
  EXPECT_EQ(server.counters().delete_not_authorized, 0u);
}

TEST_F(ServerTest, PcpDeleteWithAnotherNonceIsRefused) {  // tailscale#21127
  auto server = Server(Offers(false, true));
  pcp::Request req;
  req.opcode = pcp::kOpMap;
  req.lifetime_seconds = 600;
  req.client_ip = kHost.ip;
  req.map = pcp::MapData{};
  req.map->nonce[0] = 1;
  req.map->internal_port = kHost.port;
  auto granted = server.HandleRequest(Sec(0), kHost, kGateway, kLanAddress, pcp::EncodeRequest(req));
  ASSERT_TRUE(granted);
  req.lifetime_seconds = 0;
  req.map->nonce[0] = 2;
  auto refused = pcp::DecodeResponse(server.HandleRequest(Sec(1), kHost, kGateway, kLanAddress, pcp::EncodeRequest(req))->payload);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->result, pcp::ResultCode::kNotAuthorized);
  EXPECT_TRUE(table_.PortMapped(Protocol::kUdp, kHost));
}

TEST_F(ServerTest, ErrorKnobRefusesMapsButNotTheProbe) {
  auto config = Offers(true, true);
  config.error = PortMappingError::kOutOfResources;
  auto server = Server(config);
  portmap::Client client(client_rng_);
  const auto [probed, failed] = ProbeThenMap(client, server, Sec(0));
  EXPECT_TRUE(probed.pmp);
  EXPECT_TRUE(probed.pcp);
  ASSERT_TRUE(std::get_if<portmap::MappingFailed>(&failed));
  EXPECT_EQ(std::get<portmap::MappingFailed>(failed).reason, "out-of-resources");
  EXPECT_EQ(table_.port_mapping_count(), 0u);
  EXPECT_EQ(server.counters().refused, 1u);
}

TEST_F(ServerTest, AnswersFromTheLanAddressAreNeverHeard) {  // tailscale#5502
  auto config = Offers(true, true);
  config.answer_from = AnswerFrom::kLanAddress;
  auto server = Server(config);
  portmap::Client client(client_rng_);
  client.SetGateway(Sec(0), kHost, kGateway);
  client.Probe(Sec(0));
  Exchange(client, server, Sec(0));
  EXPECT_EQ(client.stats().dropped_wrong_source, 2u);
  client.HandleTimeout(Sec(1));
  auto ev = Events(client);
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(std::get<portmap::Probed>(ev[0]).pmp);
}

TEST_F(ServerTest, RebootRestartsTheEpochAndTheClientNoticesAtItsRenewal) {
  auto config = Offers(true, false);
  config.lease_limit = Duration::Seconds(60);
  auto server = Server(config);
  portmap::Client client(client_rng_);
  client.SetGateway(Sec(100), kHost, kGateway);
  client.CachedMappingOrStartCreating(Sec(100));
  Exchange(client, server, Sec(100));
  Events(client);
  table_.Reboot(Sec(110));
  server.Reboot(Sec(110));
  EXPECT_FALSE(table_.PortMapped(Protocol::kUdp, kHost));
  client.HandleTimeout(Sec(130));
  Exchange(client, server, Sec(130));
  auto ev = Events(client);
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<portmap::MappingLost>(ev[0]).reason, portmap::LossReason::kEpochReset);
  EXPECT_TRUE(std::get_if<portmap::MappingCreated>(&ev[1]));
  EXPECT_TRUE(table_.PortMapped(Protocol::kUdp, kHost));
}

TEST_F(ServerTest, GarbageIsDroppedOrAnsweredAsTheRfcsSay) {
  auto server = Server(Offers(true, true));
  EXPECT_FALSE(server.HandleRequest(Sec(0), kHost, kGateway, kLanAddress, Bytes{0}));
  EXPECT_FALSE(server.HandleRequest(Sec(0), kHost, kGateway, kLanAddress, Bytes{0, 0x80}));  // a response
  // RFC 6886 3.5: echoed, result 5; a request shorter than the 8-byte
  // header is filled up to it (result and epoch), so the client's codec reads it.
  auto opcode = server.HandleRequest(Sec(7), kHost, kGateway, kLanAddress, Bytes{0, 9, 0, 0});
  ASSERT_TRUE(opcode);
  EXPECT_EQ(ToHex(opcode->payload), "0089000500000007");
  auto short_opcode = server.HandleRequest(Sec(7), kHost, kGateway, kLanAddress, Bytes{0, 9});
  ASSERT_TRUE(short_opcode);
  auto echo = pmp::DecodeResponse(short_opcode->payload);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->result, pmp::ResultCode::kUnsupportedOpcode);
  EXPECT_EQ(echo->epoch_seconds, 7u);
  const Bytes long_request{0, 9, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  auto whole = server.HandleRequest(Sec(7), kHost, kGateway, kLanAddress, long_request);
  ASSERT_TRUE(whole);
  EXPECT_EQ(ToHex(whole->payload), "00890005030405060708090a");  // the whole request
  Bytes odd(25, 0);
  odd[0] = 2;
  auto malformed = server.HandleRequest(Sec(0), kHost, kGateway, kLanAddress, odd);
  ASSERT_TRUE(malformed);
  EXPECT_EQ(pcp::DecodeResponse(malformed->payload)->result, pcp::ResultCode::kMalformedRequest);
  pcp::Request spoofed;
  spoofed.client_ip = Ip("192.168.1.99");
  auto mismatch = server.HandleRequest(Sec(0), kHost, kGateway, kLanAddress, pcp::EncodeRequest(spoofed));
  ASSERT_TRUE(mismatch);
  EXPECT_EQ(pcp::DecodeResponse(mismatch->payload)->result, pcp::ResultCode::kAddressMismatch);
  auto none = Server(PortMappingConfig{});
  EXPECT_FALSE(none.HandleRequest(Sec(0), kHost, kGateway, kLanAddress, pmp::EncodeExternalAddressRequest()));
  EXPECT_EQ(none.counters().dropped_not_offered, 1u);
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
