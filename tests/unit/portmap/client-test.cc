// The port-mapping client machine against a scripted gateway: what it sends,
// when, and what it makes of answers, errors, silence and garbage.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "punchlab/portmap/client.h"

namespace punchlab {
namespace portmap {
namespace {

const IpAddress kGateway = IpAddress::V4(192, 168, 1, 1);
const Endpoint kServer(kGateway, kServerPort);
const Endpoint kLocal(IpAddress::V4(192, 168, 1, 10), 41641);
const IpAddress kPublic = IpAddress::V4(203, 0, 113, 7);

Timestamp At(int64_t ms) { return Timestamp::Zero() + Duration::Millis(ms); }

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : rng_(7), client_(rng_) { client_.SetGateway(At(0), kLocal, kGateway); }
  explicit ClientTest(ClientConfig config) : rng_(7), client_(rng_, config) {
    client_.SetGateway(At(0), kLocal, kGateway);
  }

  std::vector<Transmit> Sent() {
    std::vector<Transmit> out;
    while (auto t = client_.PollTransmit()) {
      EXPECT_EQ(t->source, kLocal);
      EXPECT_EQ(t->destination, kServer);
      out.push_back(std::move(*t));
    }
    return out;
  }
  std::vector<ClientEvent> Events() {
    std::vector<ClientEvent> out;
    while (auto e = client_.PollEvent()) out.push_back(std::move(*e));
    return out;
  }
  void Answer(Timestamp now, const Bytes& b, const Endpoint& from = kServer) {
    client_.HandleDatagram(now, kLocal, from, b);
  }
  static Bytes PmpAddress(uint32_t epoch, pmp::ResultCode result = pmp::ResultCode::kSuccess) {
    pmp::Response r;
    r.opcode = pmp::kOpExternalAddress;
    r.result = result;
    r.epoch_seconds = epoch;
    r.external_ip = kPublic;
    return pmp::EncodeResponse(r);
  }
  static Bytes PmpMap(uint16_t external_port, uint32_t lifetime, uint32_t epoch,
                      pmp::ResultCode result = pmp::ResultCode::kSuccess) {
    pmp::Response r;
    r.opcode = pmp::kOpMapUdp;
    r.result = result;
    r.epoch_seconds = epoch;
    r.internal_port = kLocal.port;
    r.external_port = external_port;
    r.lifetime_seconds = lifetime;
    return pmp::EncodeResponse(r);
  }
  static Bytes PcpAnnounce(uint32_t epoch, pcp::ResultCode result = pcp::ResultCode::kSuccess) {
    pcp::Response r;
    r.opcode = pcp::kOpAnnounce;
    r.result = result;
    r.epoch_seconds = epoch;
    return pcp::EncodeResponse(r);
  }
  // The MAP answer to `request`, granting `port` for `lifetime`.
  static Bytes PcpMapAnswer(const Bytes& request, uint16_t port, uint32_t lifetime,
                            uint32_t epoch, pcp::ResultCode result = pcp::ResultCode::kSuccess) {
    auto req = pcp::DecodeRequest(request);
    EXPECT_TRUE(req && req->map);
    pcp::Response r;
    r.opcode = pcp::kOpMap;
    r.result = result;
    r.lifetime_seconds = lifetime;
    r.epoch_seconds = epoch;
    r.map = *req->map;
    r.map->external_port = port;
    r.map->external_ip = kPublic;
    return pcp::EncodeResponse(r);
  }
  // Probes and answers NAT-PMP only (a NAT-PMP-only router refuses PCP).
  void ProbePmpOnly(Timestamp now, uint32_t epoch) {
    client_.Probe(now);
    ASSERT_EQ(Sent().size(), 2u);
    Answer(now, PmpAddress(epoch));
    pmp::Response refuse;
    refuse.opcode = pcp::kOpAnnounce;
    refuse.result = pmp::ResultCode::kUnsupportedVersion;
    Answer(now, pmp::EncodeResponse(refuse, /*header_only=*/true));
    auto ev = Events();
    ASSERT_EQ(ev.size(), 1u);
    auto* probed = std::get_if<Probed>(&ev[0]);
    ASSERT_NE(probed, nullptr);
    EXPECT_TRUE(probed->pmp);
    EXPECT_FALSE(probed->pcp);
  }

  DeterministicRandom rng_;
  Client client_;
};

TEST_F(ClientTest, ProbeAsksBothProtocolsAtTheGatewayAndEndsWhenBothAnswered) {
  client_.Probe(At(0));
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ToHex(sent[0].payload), "0000");  // NAT-PMP external address
  auto announce = pcp::DecodeRequest(sent[1].payload);
  ASSERT_TRUE(announce);
  EXPECT_EQ(announce->opcode, pcp::kOpAnnounce);
  EXPECT_EQ(announce->client_ip, kLocal.ip);
  Answer(At(3), PmpAddress(100));
  EXPECT_TRUE(Events().empty());
  Answer(At(4), PcpAnnounce(100));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::get<Probed>(ev[0]).pmp);
  EXPECT_TRUE(std::get<Probed>(ev[0]).pcp);
  EXPECT_FALSE(client_.PollTimeout());
}

TEST_F(ClientTest, SilentGatewayEndsTheProbeAfter250ms) {
  client_.Probe(At(0));
  Sent();
  EXPECT_EQ(client_.PollTimeout(), At(250));
  client_.HandleTimeout(At(250));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(std::get<Probed>(ev[0]).pmp);
  EXPECT_FALSE(std::get<Probed>(ev[0]).pcp);
  // Nothing was found a moment ago: no request goes out (Tailscale would try UPnP).
  EXPECT_FALSE(client_.CachedMappingOrStartCreating(At(300)));
  EXPECT_TRUE(Sent().empty());
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<MappingFailed>(ev[0]).reason, "no-service");
}

TEST_F(ClientTest, PmpMappingRenewsAtHalfTheLeaseAndReleases) {
  ProbePmpOnly(At(0), 100);
  EXPECT_FALSE(client_.CachedMappingOrStartCreating(At(10)));
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);  // the external address is known from the probe
  EXPECT_EQ(ToHex(sent[0].payload), "00010000a2a9000000001c20");
  Answer(At(12), PmpMap(50000, 120, 100));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& created = std::get<MappingCreated>(ev[0]);
  EXPECT_FALSE(created.renewal);
  EXPECT_EQ(created.mapping.protocol, MappingProtocol::kPmp);
  EXPECT_EQ(created.mapping.external, Endpoint(kPublic, 50000));
  EXPECT_EQ(created.mapping.internal, kLocal);
  EXPECT_EQ(created.mapping.renew_after, At(12) + Duration::Seconds(60));
  EXPECT_EQ(created.mapping.good_until, At(12) + Duration::Seconds(120));
  EXPECT_EQ(client_.CachedMappingOrStartCreating(At(20)), Endpoint(kPublic, 50000));
  EXPECT_TRUE(Sent().empty());

  // Renewal on the timer, asking for the same external port.
  EXPECT_EQ(client_.PollTimeout(), At(12) + Duration::Seconds(60));
  client_.HandleTimeout(At(60012));
  sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(ToHex(sent[0].payload), "00010000a2a9c35000001c20");
  Answer(At(60015), PmpMap(50000, 120, 160));
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_TRUE(std::get<MappingCreated>(ev[0]).renewal);
  EXPECT_EQ(client_.stats().renewals, 1u);

  client_.Release(At(70000));
  sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(ToHex(sent[0].payload), "00010000a2a9c35000000000");  // lifetime 0 deletes
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<MappingLost>(ev[0]).reason, LossReason::kReleased);
  EXPECT_FALSE(client_.mapping());
  // The router's answer to the release is expected and ignored.
  Answer(At(70003), PmpMap(50000, 0, 170));
  EXPECT_TRUE(Events().empty());
}

TEST_F(ClientTest, PmpWithoutAProbeAsksForTheAddressToo) {
  EXPECT_FALSE(client_.CachedMappingOrStartCreating(At(0)));
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(ToHex(sent[0].payload), "0000");
  Answer(At(2), PmpMap(61000, 7200, 5));  // the map answer may come first
  EXPECT_TRUE(Events().empty());
  Answer(At(3), PmpAddress(5));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<MappingCreated>(ev[0]).mapping.external, Endpoint(kPublic, 61000));
}

TEST_F(ClientTest, PcpOnlyGatewayGetsAMapWithANonceItMustEcho) {
  client_.Probe(At(0));
  Sent();
  Answer(At(1), PcpAnnounce(500, pcp::ResultCode::kUnsuppVersion));  // "no NAT-PMP here"
  EXPECT_TRUE(Events().empty());
  Answer(At(1), PcpAnnounce(500));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(std::get<Probed>(ev[0]).pmp);
  EXPECT_TRUE(std::get<Probed>(ev[0]).pcp);

  client_.CachedMappingOrStartCreating(At(300));
  auto sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  auto req = pcp::DecodeRequest(sent[0].payload);
  ASSERT_TRUE(req && req->map);
  EXPECT_EQ(req->opcode, pcp::kOpMap);
  EXPECT_EQ(req->lifetime_seconds, 7200u);
  EXPECT_EQ(req->map->internal_port, kLocal.port);
  EXPECT_EQ(req->map->protocol, pcp::kProtocolUdp);
  // An answer for another nonce is dropped and counted.
  Bytes wrong = PcpMapAnswer(sent[0].payload, 40000, 600, 510);
  wrong[24] ^= 0xff;
  Answer(At(301), wrong);
  EXPECT_EQ(client_.stats().dropped_nonce_mismatch, 1u);
  EXPECT_TRUE(Events().empty());
  Answer(At(302), PcpMapAnswer(sent[0].payload, 40000, 600, 510));
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& m = std::get<MappingCreated>(ev[0]).mapping;
  EXPECT_EQ(m.protocol, MappingProtocol::kPcp);
  EXPECT_EQ(m.external, Endpoint(kPublic, 40000));

  // Renewal and release carry the same nonce (RFC 6887 11.2, 15).
  client_.HandleTimeout(At(302) + Duration::Seconds(300));
  sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  auto renew = pcp::DecodeRequest(sent[0].payload);
  ASSERT_TRUE(renew && renew->map);
  EXPECT_EQ(renew->map->nonce, req->map->nonce);
  EXPECT_EQ(renew->map->external_port, 40000);
  EXPECT_EQ(renew->map->external_ip, kPublic);
  Answer(At(302) + Duration::Seconds(300), PcpMapAnswer(sent[0].payload, 40000, 600, 810));
  Events();
  client_.Release(At(400000));
  sent = Sent();
  ASSERT_EQ(sent.size(), 1u);
  auto release = pcp::DecodeRequest(sent[0].payload);
  ASSERT_TRUE(release && release->map);
  EXPECT_EQ(release->lifetime_seconds, 0u);
  EXPECT_EQ(release->map->nonce, req->map->nonce);
}

TEST_F(ClientTest, AnswersFromAnotherAddressAreNeverHeard) {  // tailscale#5502
  client_.Probe(At(0));
  Sent();
  const Endpoint lan_address(IpAddress::V4(192, 168, 1, 2), kServerPort);
  Answer(At(1), PmpAddress(100), lan_address);
  Answer(At(1), PcpAnnounce(100), lan_address);
  EXPECT_EQ(client_.stats().dropped_wrong_source, 2u);
  client_.HandleTimeout(At(250));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_FALSE(std::get<Probed>(ev[0]).pmp);
  EXPECT_FALSE(std::get<Probed>(ev[0]).pcp);
}

TEST_F(ClientTest, ErrorAnswersFailTheAttemptWithTheirCode) {
  ProbePmpOnly(At(0), 100);
  const uint64_t before = client_.stats().error_answers;  // the refused PCP probe
  client_.CachedMappingOrStartCreating(At(10));
  Sent();
  Answer(At(11), PmpMap(0, 0, 100, pmp::ResultCode::kOutOfResources));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& failed = std::get<MappingFailed>(ev[0]);
  EXPECT_EQ(failed.reason, "out-of-resources");
  EXPECT_EQ(failed.result_code, 4);
  EXPECT_EQ(client_.stats().error_answers, before + 1);
  EXPECT_FALSE(client_.mapping());
  // The next attempt is the caller's (Tailscale: the next endpoint update).
  EXPECT_FALSE(client_.PollTimeout());
}

TEST_F(ClientTest, GarbageAndStrayAnswersAreDroppedAndCounted) {
  Answer(At(0), Bytes{0x00});
  Answer(At(0), Bytes{0x07, 0x80, 0, 0});
  Answer(At(0), Bytes{});
  EXPECT_EQ(client_.stats().dropped_malformed, 3u);
  Answer(At(0), PmpMap(1, 60, 1));  // no request pending
  Answer(At(0), PcpAnnounce(1));
  EXPECT_EQ(client_.stats().dropped_unexpected, 2u);
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(Sent().empty());
}

TEST_F(ClientTest, AnEpochThatWentBackMeansTheRouterForgotTheMapping) {
  ProbePmpOnly(At(0), 1000);
  client_.CachedMappingOrStartCreating(At(0));
  Sent();
  Answer(At(1), PmpMap(50000, 60, 1000));
  Events();
  // Renewal at 30 s: the router rebooted 5 s ago and gives another port.
  client_.HandleTimeout(At(30001));
  Sent();
  Answer(At(30002), PmpMap(50123, 60, 5));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 2u);
  EXPECT_EQ(std::get<MappingLost>(ev[0]).reason, LossReason::kEpochReset);
  const auto& again = std::get<MappingCreated>(ev[1]);
  EXPECT_FALSE(again.renewal);
  EXPECT_EQ(again.mapping.external.port, 50123);
  EXPECT_EQ(client_.stats().epoch_resets, 1u);
}

// The probe after a netcheck asks the held mapping's server again (not
// trusting it was seen recently): an epoch that counted on is a healthy
// router; one far under the RFC 6886 3.6 estimate is a router that rebooted
// and forgot the mapping, even when it is above the mapping's first epoch.
TEST_F(ClientTest, TheProbeAfterANetcheckChecksTheMappingAndNoticesAReboot) {
  ProbePmpOnly(At(0), 1);
  client_.CachedMappingOrStartCreating(At(0));
  Sent();
  Answer(At(1), PmpMap(50000, 7200, 1));
  Events();
  auto has_address_request = [](const std::vector<Transmit>& sent) {
    return std::any_of(sent.begin(), sent.end(),
                       [](const Transmit& t) { return ToHex(t.payload) == "0000"; });
  };
  client_.Probe(At(25000));
  EXPECT_TRUE(has_address_request(Sent()));
  Answer(At(25002), PmpAddress(25));  // 1 + 7/8 of 25 s = 22.9: it counted on
  EXPECT_TRUE(client_.mapping());
  client_.HandleTimeout(At(25300));  // the probe ends (PCP unanswered)
  Events();
  // Rebooted at 40 s: at 50 s its epoch is 10, under 25 + 7/8 of 25 s - 2.
  client_.Probe(At(50000));
  EXPECT_TRUE(has_address_request(Sent()));
  Answer(At(50002), PmpAddress(10));
  auto ev = Events();
  ASSERT_FALSE(ev.empty());
  EXPECT_EQ(std::get<MappingLost>(ev[0]).reason, LossReason::kEpochReset);
  EXPECT_FALSE(client_.mapping());
  EXPECT_EQ(client_.stats().epoch_resets, 1u);
  EXPECT_EQ(client_.stats().mapping_checks, 2u);
  // ... and the mapping is asked for again at once.
  const auto sent = Sent();
  EXPECT_TRUE(std::any_of(sent.begin(), sent.end(), [](const Transmit& t) {
    return ToHex(t.payload).substr(0, 4) == "0001";  // NAT-PMP map UDP
  }));
}

TEST_F(ClientTest, AnUnansweredRenewalIsRetriedAndTheLeaseLapses) {
  ProbePmpOnly(At(0), 1);
  client_.CachedMappingOrStartCreating(At(0));
  Sent();
  Answer(At(0), PmpMap(50000, 60, 1));
  Events();
  std::vector<Timestamp> sends;
  while (auto t = client_.PollTimeout()) {
    client_.HandleTimeout(*t);
    if (!Sent().empty()) sends.push_back(*t);
    bool lost = false;
    for (auto& e : Events()) {
      if (auto* l = std::get_if<MappingLost>(&e)) {
        EXPECT_EQ(l->reason, LossReason::kExpired);
        EXPECT_EQ(*t, At(60000));
        lost = true;
      }
    }
    if (lost) break;
  }
  // At 30 s, then after each failure 20 s later or halfway to the end,
  // whichever is sooner.
  ASSERT_GE(sends.size(), 3u);
  EXPECT_EQ(sends[0], At(30000));
  EXPECT_EQ(sends[1], At(30250) + (At(60000) - At(30250)) / 2);
  EXPECT_LT(sends.back(), At(60000));
  EXPECT_FALSE(client_.mapping());
  EXPECT_EQ(client_.stats().expired, 1u);
}

class UpnpClientTest : public ClientTest {
 protected:
  static ClientConfig WithUpnp() {
    ClientConfig c;
    c.upnp = true;
    return c;
  }
  UpnpClientTest() : ClientTest(WithUpnp()) {}
};

TEST_F(UpnpClientTest, WithoutPmpOrPcpTheUpnpMachineIsAskedAndItsMappingAdopted) {
  client_.Probe(At(0));
  // NAT-PMP, PCP, then Tailscale's three SSDP searches: ssdp:all to the
  // gateway, ssdp:all and InternetGatewayDevice:1 to the multicast group.
  std::vector<Transmit> sent;
  while (auto t = client_.PollTransmit()) sent.push_back(std::move(*t));
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].destination, kServer);
  EXPECT_EQ(sent[1].destination, kServer);
  const Endpoint group(upnp::SsdpMulticastAddress(), upnp::kSsdpPort);
  EXPECT_EQ(sent[2].destination, Endpoint(kGateway, upnp::kSsdpPort));
  EXPECT_EQ(sent[3].destination, group);
  EXPECT_EQ(sent[4].destination, group);
  EXPECT_EQ(std::string(sent[2].payload.begin(), sent[2].payload.end()),
            std::string(sent[3].payload.begin(), sent[3].payload.end()));
  const std::string igd(sent[4].payload.begin(), sent[4].payload.end());
  EXPECT_NE(igd.find("ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"),
            std::string::npos);
  client_.HandleTimeout(At(250));
  Events();
  client_.CachedMappingOrStartCreating(At(300));
  auto ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  const auto& want = std::get<UpnpWanted>(ev[0]);
  EXPECT_EQ(want.gateway, kGateway);
  EXPECT_EQ(want.internal, kLocal);
  Mapping m;
  m.protocol = MappingProtocol::kUpnp;
  m.internal = kLocal;
  m.external = Endpoint(kPublic, 41641);
  m.renew_after = At(300) + Duration::Seconds(3600);
  m.good_until = At(300) + Duration::Seconds(7200);
  client_.AdoptMapping(At(400), m);
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<MappingCreated>(ev[0]).mapping.protocol, MappingProtocol::kUpnp);
  client_.HandleTimeout(m.renew_after);
  ev = Events();
  ASSERT_EQ(ev.size(), 1u);
  EXPECT_EQ(std::get<UpnpWanted>(ev[0]).previous_external_port, 41641);
  EXPECT_TRUE(Sent().empty());
}

}  // namespace
}  // namespace portmap
}  // namespace punchlab
