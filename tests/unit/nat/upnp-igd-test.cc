// UPnP IGD end to end without a network: the core's client (portmap::Client's
// SSDP search, portmap::UpnpMapper's HTTP/SOAP) against the NAT model's IGD
// (nat::UpnpIgd, its HTTP server UpnpIgdHttp), the bytes handed across by
// hand. The mapping each test ends with is judged in the NAT table: where a
// datagram from the internet goes.
#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "nat/nat-test-util.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/upnp-igd.h"
#include "punchlab/portmap/client.h"
#include "punchlab/portmap/upnp-device.h"
#include "punchlab/portmap/upnp-mapper.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/random.h"

namespace punchlab {
namespace nat {
namespace {

using testing::Config;
using testing::Ep;
using testing::Ip;
using testing::Sec;
using InVerdict = InboundResult::Verdict;
namespace upnp = portmap::upnp;

const Endpoint kHost = Ep("192.168.1.10:41641");
const Endpoint kOtherHost = Ep("192.168.1.11:41641");
const Endpoint kPeer = Ep("198.51.100.1:40000");
const IpAddress kGateway = Ip("192.168.1.1");
const IpAddress kLanAddress = Ip("192.168.1.254");
const IpAddress kPublic = Ip("203.0.113.1");

Timestamp Ms(int64_t ms) { return Timestamp::FromNanos(ms * 1000000); }

class UpnpIgdTest : public ::testing::Test {
 protected:
  UpnpIgdTest() : table_(Config("symmetric,udp_timeout=30s"), {kPublic}, rng_) {}

  void Offer(PortMappingConfig c) {
    c.upnp = true;
    igd_.emplace(c, table_);
    http_.emplace(*igd_);
  }

  // The client's datagrams to the router: SSDP searches answered by the IGD
  // (to the gateway or the multicast group); NAT-PMP / PCP go nowhere.
  void DeliverDatagrams(Timestamp now) {
    while (auto t = client_.PollTransmit()) {
      if (t->destination.port != upnp::kSsdpPort) continue;
      if (auto answer = igd_->HandleSsdp(now, t->source, t->destination.ip, kGateway, kLanAddress,
                                         ByteView(t->payload.data(), t->payload.size()))) {
        answers_.push_back(*answer);
        client_.HandleDatagram(now, answer->destination, answer->source,
                               ByteView(answer->payload.data(), answer->payload.size()));
      }
    }
  }

  // Runs the mapper's TCP exchanges against the IGD's HTTP server until
  // neither has anything to do. A connect to anything but the gateway's
  // HTTP port fails (nothing listens there).
  void Pump(Timestamp now) {
    for (bool progress = true; progress;) {
      progress = false;
      while (auto a = mapper_.PollStreamAction()) {
        progress = true;
        switch (a->kind) {
          case StreamAction::Kind::kConnect:
            connects_.push_back(a->remote);
            if (a->remote != Endpoint(kGateway, UpnpIgd::kHttpPort)) {
              mapper_.HandleClosed(now, a->conn);
              break;
            }
            http_->HandleConnected(now, a->conn, kHost);
            mapper_.HandleConnected(now, a->conn, a->remote);
            break;
          case StreamAction::Kind::kWrite:
            http_->HandleStream(now, a->conn, ByteView(a->data.data(), a->data.size()));
            break;
          case StreamAction::Kind::kClose:
            break;
        }
      }
      while (auto a = http_->PollStreamAction()) {
        progress = true;
        if (a->kind == StreamAction::Kind::kWrite) {
          mapper_.HandleStream(now, a->conn, ByteView(a->data.data(), a->data.size()));
        } else if (a->kind == StreamAction::Kind::kClose) {
          mapper_.HandleClosed(now, a->conn);
        }
      }
    }
  }

  // Probe at `now`, let it end, and ask for a mapping: the UpnpWanted.
  std::optional<portmap::UpnpWanted> ProbeAndWant(Timestamp now) {
    client_.SetGateway(now, kHost, kGateway);
    client_.Probe(now);
    DeliverDatagrams(now);
    bool upnp = false;
    bool probed = false;
    std::optional<portmap::UpnpWanted> wanted;
    while (!probed) {
      while (auto e = client_.PollEvent()) {
        if (auto* p = std::get_if<portmap::Probed>(&*e)) {
          probed = true;
          upnp = p->upnp;
        }
      }
      if (probed || !client_.probing()) break;
      client_.HandleTimeout(*client_.PollTimeout());
    }
    if (!upnp) return std::nullopt;
    client_.CachedMappingOrStartCreating(now + Duration::Millis(300));
    while (auto e = client_.PollEvent()) {
      if (auto* w = std::get_if<portmap::UpnpWanted>(&*e)) wanted = *w;
    }
    return wanted;
  }

  std::optional<portmap::UpnpMapperEvent> Map(Timestamp now, const portmap::UpnpWanted& want) {
    mapper_.Map(now, want);
    Pump(now);
    return mapper_.PollEvent();
  }

  InVerdict FromInternet(Timestamp now, const Endpoint& to) {
    return table_.Inbound(now, Protocol::kUdp, kPeer, to).verdict;
  }

  DeterministicRandom rng_{3};
  NatTable table_;
  std::optional<UpnpIgd> igd_;
  std::optional<UpnpIgdHttp> http_;
  portmap::ClientConfig client_config_ = [] {
    portmap::ClientConfig c;
    c.upnp = true;
    return c;
  }();
  DeterministicRandom client_rng_{5};
  portmap::Client client_{client_rng_, client_config_};
  portmap::UpnpMapper mapper_{client_rng_};
  std::vector<Transmit> answers_;
  std::vector<Endpoint> connects_;
};

TEST_F(UpnpIgdTest, SearchDescriptionAddAnyAndExternalAddressMakeAMappingThePeerReaches) {
  Offer({});
  const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
  ASSERT_TRUE(want);
  // Tailscale's three searches: two answered (ssdp:all at the gateway and at
  // the group; IGD:1 at the group), all with the same LOCATION: kept once.
  EXPECT_EQ(client_.stats().ssdp_searches_sent, 3u);
  EXPECT_EQ(answers_.size(), 3u);
  EXPECT_EQ(igd_->counters().searches_answered, 3u);
  EXPECT_EQ(client_.stats().ssdp_answers, 3u);
  ASSERT_EQ(want->locations.size(), 1u);
  EXPECT_EQ(want->locations[0], "http://192.168.1.1:2869/rootDesc.xml");
  EXPECT_EQ(want->internal, kHost);

  const auto event = Map(Sec(2), *want);
  ASSERT_TRUE(event);
  const auto* mapped = std::get_if<portmap::UpnpMapped>(&*event);
  ASSERT_TRUE(mapped) << std::get<portmap::UpnpFailed>(*event).reason;
  const portmap::Mapping& m = mapped->mapping;
  EXPECT_EQ(m.protocol, portmap::MappingProtocol::kUpnp);
  EXPECT_EQ(m.external.ip, kPublic);
  // Tailscale's view: 7200 s, renewed after 3600 s, whatever was granted.
  EXPECT_EQ(m.good_until, Sec(2 + 7200));
  EXPECT_EQ(m.renew_after, Sec(2 + 3600));
  // The lease is in the NAT: a peer on the internet reaches the host through
  // the symmetric NAT, which it could not without it.
  EXPECT_EQ(table_.PortMapped(Protocol::kUdp, kHost), m.external);
  EXPECT_EQ(FromInternet(Sec(3), m.external), InVerdict::kTranslate);
  // description, AddAnyPortMapping, GetExternalIPAddress: three connections.
  EXPECT_EQ(connects_.size(), 3u);
  EXPECT_EQ(igd_->counters().descriptions, 1u);
  EXPECT_EQ(igd_->counters().granted, 1u);
  EXPECT_EQ(mapper_.stats().mapped, 1u);

  // Renewal: the cached IGD, no description, the same port.
  portmap::UpnpWanted again = *want;
  again.previous_external_port = m.external.port;
  const auto renewed = Map(Sec(3602), again);
  ASSERT_TRUE(renewed && std::holds_alternative<portmap::UpnpMapped>(*renewed));
  EXPECT_EQ(std::get<portmap::UpnpMapped>(*renewed).mapping.external, m.external);
  EXPECT_EQ(igd_->counters().descriptions, 1u);
  EXPECT_EQ(igd_->counters().renewed, 1u);

  // Release: DeletePortMapping; the peer is shut out again.
  mapper_.Release(Sec(3700), std::get<portmap::UpnpMapped>(*renewed).mapping);
  Pump(Sec(3700));
  EXPECT_EQ(igd_->counters().deleted, 1u);
  EXPECT_FALSE(table_.PortMapped(Protocol::kUdp, kHost));
  EXPECT_EQ(FromInternet(Sec(3701), m.external), InVerdict::kDrop);
}

TEST_F(UpnpIgdTest, AfterForgetTheNextMappingReadsTheDescriptionAgain) {
  // The node calls Forget when its mapped socket or gateway changes: the
  // cached IGD may be another network's, so it is found again from the
  // LOCATION (a renewal without Forget goes straight to the control URL).
  Offer({});
  const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
  ASSERT_TRUE(want);
  ASSERT_TRUE(Map(Sec(2), *want));
  ASSERT_EQ(igd_->counters().descriptions, 1u);
  mapper_.Forget();
  const auto again = Map(Sec(10), *want);
  ASSERT_TRUE(again && std::holds_alternative<portmap::UpnpMapped>(*again));
  EXPECT_EQ(igd_->counters().descriptions, 2u);
  EXPECT_EQ(connects_.size(), 6u);
}

TEST_F(UpnpIgdTest, OnlyPermanentLeasesIsRetriedWithLeaseZero) {
  for (UpnpLeaseError e : {UpnpLeaseError::kOnlyPermanentLeases, UpnpLeaseError::kInvalidArgs}) {
    SCOPED_TRACE(ToString(e));
    PortMappingConfig c;
    c.upnp_lease_error = e;
    Offer(c);
    const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
    ASSERT_TRUE(want);
    const uint64_t retries = mapper_.stats().permanent_retries;
    const auto event = Map(Sec(2), *want);
    ASSERT_TRUE(event && std::holds_alternative<portmap::UpnpMapped>(*event));
    EXPECT_EQ(mapper_.stats().permanent_retries, retries + 1);
    EXPECT_EQ(igd_->counters().lease_refused, 1u);
    // Permanent means WANIPConnection:2's maximum, a week: still mapped long
    // after Tailscale's 7200 s.
    const Endpoint external = std::get<portmap::UpnpMapped>(*event).mapping.external;
    EXPECT_EQ(FromInternet(Sec(100000), external), InVerdict::kTranslate);
    table_.UnmapPort(Sec(100000), Protocol::kUdp, kHost);
  }
}

TEST_F(UpnpIgdTest, AFaultThatIsNotAboutTheLeaseFailsTheIgd) {
  PortMappingConfig c;
  c.error = PortMappingError::kOutOfResources;
  Offer(c);
  const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
  ASSERT_TRUE(want);
  const auto event = Map(Sec(2), *want);
  ASSERT_TRUE(event);
  const auto* failed = std::get_if<portmap::UpnpFailed>(&*event);
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->reason, "fault");
  EXPECT_EQ(failed->code, std::optional<uint16_t>(728));
  EXPECT_EQ(mapper_.stats().permanent_retries, 0u);
  EXPECT_EQ(table_.port_mapping_count(), 0u);
}

TEST_F(UpnpIgdTest, AMulticastOnlyIgdIsFoundByTheMulticastSearch) {
  PortMappingConfig c;
  c.multicast_only = true;
  Offer(c);
  const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
  ASSERT_TRUE(want);
  EXPECT_EQ(igd_->counters().searches_ignored, 1u);  // the unicast one
  EXPECT_EQ(answers_.size(), 2u);
  const auto event = Map(Sec(2), *want);
  ASSERT_TRUE(event && std::holds_alternative<portmap::UpnpMapped>(*event));
}

TEST_F(UpnpIgdTest, AnAnswerFromTheLanAddressIsRepointedAtTheGateway) {
  PortMappingConfig c;
  c.answer_from = AnswerFrom::kLanAddress;
  Offer(c);
  const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
  ASSERT_TRUE(want);
  for (const Transmit& a : answers_) EXPECT_EQ(a.source, Endpoint(kLanAddress, upnp::kSsdpPort));
  ASSERT_EQ(want->locations.size(), 1u);
  EXPECT_EQ(want->locations[0], "http://192.168.1.254:2869/rootDesc.xml");
  const auto event = Map(Sec(2), *want);
  ASSERT_TRUE(event && std::holds_alternative<portmap::UpnpMapped>(*event));
  EXPECT_EQ(mapper_.stats().repointed, 1u);
  for (const Endpoint& e : connects_) EXPECT_EQ(e, Endpoint(kGateway, UpnpIgd::kHttpPort));
}

TEST_F(UpnpIgdTest, ALeaseLimitLetsTheMappingLapseWhileTheClientStillTrustsIt) {
  PortMappingConfig c;
  c.lease_limit = Duration::Seconds(600);
  Offer(c);
  const std::optional<portmap::UpnpWanted> want = ProbeAndWant(Sec(1));
  ASSERT_TRUE(want);
  const auto event = Map(Sec(2), *want);
  ASSERT_TRUE(event && std::holds_alternative<portmap::UpnpMapped>(*event));
  const portmap::Mapping m = std::get<portmap::UpnpMapped>(*event).mapping;
  EXPECT_EQ(FromInternet(Sec(601), m.external), InVerdict::kTranslate);
  EXPECT_EQ(FromInternet(Sec(603), m.external), InVerdict::kDrop);
  EXPECT_LT(Sec(603), m.good_until);  // the client would still publish it
}

TEST_F(UpnpIgdTest, NoIgdAnswersAndTheClientFallsBackToNothing) {
  // A router without UPnP: no answers, the probe sees nothing.
  PortMappingConfig c;
  Offer(c);
  c.upnp = false;
  igd_.emplace(c, table_);
  client_.SetGateway(Sec(1), kHost, kGateway);
  client_.Probe(Sec(1));
  DeliverDatagrams(Sec(1));
  EXPECT_TRUE(answers_.empty());
  EXPECT_EQ(igd_->counters().not_offered, 3u);
  client_.HandleTimeout(Ms(1250));
  std::optional<portmap::Probed> probed;
  while (auto e = client_.PollEvent()) {
    if (auto* p = std::get_if<portmap::Probed>(&*e)) probed = *p;
  }
  ASSERT_TRUE(probed);
  EXPECT_FALSE(probed->upnp);
  // A UpnpWanted without LOCATIONs fails at once.
  const auto event = Map(Sec(2), portmap::UpnpWanted{kGateway, kHost, 0, {}});
  ASSERT_TRUE(event);
  EXPECT_EQ(std::get<portmap::UpnpFailed>(*event).reason, "no-igd");
}

TEST_F(UpnpIgdTest, TheIgdAnswersAsMiniupnpdDoes) {
  Offer({});
  auto call = [&](const std::string& action, const std::string& body, const Endpoint& from) {
    upnp::HttpRequest r;
    r.method = "POST";
    r.target = UpnpIgd::kControlPath;
    r.head.fields.emplace_back("SOAPAction",
                               "\"" + std::string(UpnpIgd::kServiceType) + "#" + action + "\"");
    r.body = body;
    const Bytes response = igd_->HandleHttp(Sec(1), from, r);
    upnp::HttpResponseReader reader;
    reader.Feed(ByteView(response.data(), response.size()));
    EXPECT_EQ(reader.state(), upnp::HttpResponseReader::State::kDone);
    return upnp::ParseSoapBody(reader.body()).value_or(upnp::SoapFault{});
  };
  auto fault_code = [](const upnp::SoapResult& r) {
    const auto* f = std::get_if<upnp::SoapFault>(&r);
    return f ? f->code : uint16_t{0};
  };
  upnp::PortMappingRequest m;
  m.external_port = 40000;
  m.internal_port = kHost.port;
  m.internal_client = kHost.ip.ToString();
  m.lease_seconds = 3600;
  const std::string service = UpnpIgd::kServiceType;
  EXPECT_EQ(fault_code(call("AddPortMapping", upnp::BuildAddPortMapping(service, m), kHost)), 0);
  // Another host asking for that port: 718; for its own port 0: 716; for
  // someone else's address: 606.
  upnp::PortMappingRequest other = m;
  other.internal_client = kOtherHost.ip.ToString();
  EXPECT_EQ(fault_code(call("AddPortMapping", upnp::BuildAddPortMapping(service, other), kOtherHost)),
            718);
  other.external_port = 0;
  EXPECT_EQ(fault_code(call("AddPortMapping", upnp::BuildAddPortMapping(service, other), kOtherHost)),
            716);
  EXPECT_EQ(fault_code(call("AddPortMapping", upnp::BuildAddPortMapping(service, m), kOtherHost)),
            606);
  // AddAny for the taken port gets another one.
  other.external_port = 40000;
  const upnp::SoapResult any =
      call("AddAnyPortMapping", upnp::BuildAddAnyPortMapping(service, other), kOtherHost);
  ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(any));
  const std::optional<uint16_t> reserved = upnp::ReservedPortOf(std::get<upnp::SoapResponse>(any));
  ASSERT_TRUE(reserved);
  EXPECT_NE(*reserved, 40000);
  // Deleting an absent mapping succeeds (miniupnpd 2.3.1, not 714).
  EXPECT_EQ(fault_code(call("DeletePortMapping",
                            upnp::BuildDeletePortMapping(service, "", 50000, "UDP"), kHost)),
            0);
  EXPECT_EQ(igd_->counters().delete_absent, 1u);
  // An action it does not have: 401 (the body made by renaming a known one).
  std::string unknown = upnp::BuildGetExternalIpAddress(service);
  for (size_t at; (at = unknown.find("GetExternalIPAddress")) != std::string::npos;) {
    unknown.replace(at, 20, "ForceTermination");
  }
  EXPECT_EQ(fault_code(call("ForceTermination", unknown, kHost)), 401);
}

TEST_F(UpnpIgdTest, GetSpecificPortMappingEntryReportsTheLeaseAsMiniupnpdDoes) {
  Offer({});
  const std::string service = UpnpIgd::kServiceType;
  auto call = [&](Timestamp now, const std::string& action, const std::string& body,
                  const Endpoint& from) {
    upnp::HttpRequest r;
    r.method = "POST";
    r.target = UpnpIgd::kControlPath;
    r.head.fields.emplace_back("SOAPAction", "\"" + service + "#" + action + "\"");
    r.body = body;
    const Bytes response = igd_->HandleHttp(now, from, r);
    upnp::HttpResponseReader reader;
    reader.Feed(ByteView(response.data(), response.size()));
    EXPECT_EQ(reader.state(), upnp::HttpResponseReader::State::kDone);
    return upnp::ParseSoapBody(reader.body()).value_or(upnp::SoapFault{});
  };
  // The request has DeletePortMapping's arguments (NewRemoteHost,
  // NewExternalPort, NewProtocol): its body, renamed.
  auto entry = [&](Timestamp now, const std::string& port, const std::string& protocol) {
    std::string body = upnp::BuildDeletePortMapping(service, "", 1, protocol);
    for (size_t at; (at = body.find("DeletePortMapping")) != std::string::npos;) {
      body.replace(at, 17, "GetSpecificPortMappingEntry");
    }
    body.replace(body.find(">1<"), 3, ">" + port + "<");
    return call(now, "GetSpecificPortMappingEntry", body, kOtherHost);
  };
  auto fault_code = [](const upnp::SoapResult& r) {
    const auto* f = std::get_if<upnp::SoapFault>(&r);
    return f ? f->code : uint16_t{0};
  };
  // No lease on 40000 yet: 714.
  EXPECT_EQ(fault_code(entry(Sec(1), "40000", "UDP")), 714);
  upnp::PortMappingRequest m;
  m.external_port = 40000;
  m.internal_port = kHost.port;
  m.internal_client = kHost.ip.ToString();
  m.lease_seconds = 3600;
  ASSERT_EQ(fault_code(call(Sec(1), "AddPortMapping", upnp::BuildAddPortMapping(service, m), kHost)),
            0);
  // Asked by another host (miniupnpd reports any host's entry), 10.5 s
  // later: the lease's inside endpoint and its whole seconds left.
  const upnp::SoapResult found = entry(Sec(1) + Duration::Millis(10500), "40000", "UDP");
  ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(found)) << fault_code(found);
  const upnp::SoapResponse& r = std::get<upnp::SoapResponse>(found);
  EXPECT_EQ(r.action, "GetSpecificPortMappingEntry");
  EXPECT_EQ(r.Argument("NewInternalPort"), std::to_string(kHost.port));
  EXPECT_EQ(r.Argument("NewInternalClient"), kHost.ip.ToString());
  EXPECT_EQ(r.Argument("NewEnabled"), "1");
  EXPECT_EQ(r.Argument("NewPortMappingDescription"), "");
  EXPECT_EQ(r.Argument("NewLeaseDuration"), "3590");
  // The same port over TCP, an unknown protocol: no such entry. Port 0 or
  // not a number: 402.
  EXPECT_EQ(fault_code(entry(Sec(2), "40000", "TCP")), 714);
  EXPECT_EQ(fault_code(entry(Sec(2), "40000", "SCTP")), 714);
  EXPECT_EQ(fault_code(entry(Sec(2), "0", "UDP")), 402);
  EXPECT_EQ(fault_code(entry(Sec(2), "forty", "UDP")), 402);
  EXPECT_EQ(igd_->counters().entries_asked, 4u);
  // After the lease ran out: 714 again.
  EXPECT_EQ(fault_code(entry(Sec(1) + Duration::Seconds(3601), "40000", "UDP")), 714);
  // And after DeletePortMapping.
  ASSERT_EQ(fault_code(call(Sec(3700), "AddPortMapping", upnp::BuildAddPortMapping(service, m),
                            kHost)),
            0);
  EXPECT_EQ(fault_code(entry(Sec(3700), "40000", "UDP")), 0);
  EXPECT_EQ(fault_code(call(Sec(3701), "DeletePortMapping",
                            upnp::BuildDeletePortMapping(service, "", 40000, "UDP"), kHost)),
            0);
  EXPECT_EQ(fault_code(entry(Sec(3701), "40000", "UDP")), 714);
}

TEST_F(UpnpIgdTest, GetGenericPortMappingEntryListsTheLeasesAsMiniupnpdDoes) {
  Offer({});
  const std::string service = UpnpIgd::kServiceType;
  auto call = [&](Timestamp now, const std::string& action,
                  const std::vector<std::pair<std::string, std::string>>& args, const Endpoint& from) {
    upnp::HttpRequest r;
    r.method = "POST";
    r.target = UpnpIgd::kControlPath;
    r.head.fields.emplace_back("SOAPAction", "\"" + service + "#" + action + "\"");
    r.body = upnp::BuildSoapCall(service, action, args);
    const Bytes response = igd_->HandleHttp(now, from, r);
    upnp::HttpResponseReader reader;
    reader.Feed(ByteView(response.data(), response.size()));
    EXPECT_EQ(reader.state(), upnp::HttpResponseReader::State::kDone);
    return upnp::ParseSoapBody(reader.body()).value_or(upnp::SoapFault{});
  };
  auto entry = [&](Timestamp now, const std::string& index) {
    return call(now, "GetGenericPortMappingEntry", {{"NewPortMappingIndex", index}}, kOtherHost);
  };
  auto fault_code = [](const upnp::SoapResult& r) {
    const auto* f = std::get_if<upnp::SoapFault>(&r);
    return f ? f->code : uint16_t{0};
  };
  // No lease: index 0 is already past the end.
  EXPECT_EQ(fault_code(entry(Sec(1), "0")), 713);
  // A UDP lease by UPnP, then a TCP one, then a NAT-PMP-style lease straight
  // in the table (miniupnpd lists every redirection, whoever made it).
  ASSERT_EQ(fault_code(call(Sec(1), "AddPortMapping",
                            {{"NewRemoteHost", ""}, {"NewExternalPort", "40000"},
                             {"NewProtocol", "UDP"}, {"NewInternalPort", "41641"},
                             {"NewInternalClient", kHost.ip.ToString()}, {"NewEnabled", "1"},
                             {"NewPortMappingDescription", "a"}, {"NewLeaseDuration", "3600"}},
                            kHost)),
            0);
  ASSERT_EQ(fault_code(call(Sec(2), "AddPortMapping",
                            {{"NewRemoteHost", ""}, {"NewExternalPort", "40001"},
                             {"NewProtocol", "TCP"}, {"NewInternalPort", "41641"},
                             {"NewInternalClient", kHost.ip.ToString()}, {"NewEnabled", "1"},
                             {"NewPortMappingDescription", "b"}, {"NewLeaseDuration", "600"}},
                            kHost)),
            0);
  ASSERT_TRUE(table_.MapPort(Sec(3), Protocol::kUdp, kOtherHost, 40002, Sec(3) + Duration::Seconds(100)));
  // Renewing the first keeps its place (miniupnpd updates the timestamp only).
  ASSERT_TRUE(table_.MapPort(Sec(4), Protocol::kUdp, kHost, 40000, Sec(4) + Duration::Seconds(7200)));

  struct Want {
    std::string index, port, protocol, client, internal_port, lease;
  };
  for (const Want& w : {Want{"0", "40002", "UDP", kOtherHost.ip.ToString(), "41641", "99"},
                        Want{"1", "40001", "TCP", kHost.ip.ToString(), "41641", "598"},
                        Want{"2", "40000", "UDP", kHost.ip.ToString(), "41641", "7200"}}) {
    const upnp::SoapResult found = entry(Sec(4), w.index);
    ASSERT_TRUE(std::holds_alternative<upnp::SoapResponse>(found)) << w.index << " " << fault_code(found);
    const upnp::SoapResponse& r = std::get<upnp::SoapResponse>(found);
    EXPECT_EQ(r.action, "GetGenericPortMappingEntry");
    // miniupnpd's order of fields.
    std::vector<std::string> names;
    for (const auto& [k, v] : r.arguments) names.push_back(k);
    EXPECT_EQ(names, (std::vector<std::string>{"NewRemoteHost", "NewExternalPort", "NewProtocol",
                                               "NewInternalPort", "NewInternalClient", "NewEnabled",
                                               "NewPortMappingDescription", "NewLeaseDuration"}));
    EXPECT_EQ(r.Argument("NewRemoteHost"), "");
    EXPECT_EQ(r.Argument("NewExternalPort"), w.port) << w.index;
    EXPECT_EQ(r.Argument("NewProtocol"), w.protocol) << w.index;
    EXPECT_EQ(r.Argument("NewInternalPort"), w.internal_port) << w.index;
    EXPECT_EQ(r.Argument("NewInternalClient"), w.client) << w.index;
    EXPECT_EQ(r.Argument("NewEnabled"), "1");
    EXPECT_EQ(r.Argument("NewPortMappingDescription"), "");
    EXPECT_EQ(r.Argument("NewLeaseDuration"), w.lease) << w.index;
  }
  // Past the end and negative: 713. strtol's reading: blanks, a sign and
  // trailing text are taken; no digits or a missing index is 402.
  EXPECT_EQ(fault_code(entry(Sec(4), "3")), 713);
  EXPECT_EQ(fault_code(entry(Sec(4), "-1")), 713);
  EXPECT_EQ(fault_code(entry(Sec(4), "99999999999")), 713);
  EXPECT_EQ(fault_code(entry(Sec(4), " +1x")), 0);
  EXPECT_EQ(fault_code(entry(Sec(4), "one")), 402);
  EXPECT_EQ(fault_code(entry(Sec(4), "")), 402);
  EXPECT_EQ(fault_code(entry(Sec(4), "99999999999999999999")), 402);
  EXPECT_EQ(fault_code(call(Sec(4), "GetGenericPortMappingEntry", {}, kOtherHost)), 402);
  // Leases that ran out are gone from the list: at 105 s only the TCP
  // lease (until 602 s) and the renewed one (until 7204 s) are left.
  EXPECT_EQ(std::get<upnp::SoapResponse>(entry(Sec(105), "0")).Argument("NewExternalPort"),
            "40001");
  EXPECT_EQ(fault_code(entry(Sec(105), "2")), 713);
}

TEST_F(UpnpIgdTest, WhatIsNotHttpOrSsdpIsCountedAndDropped) {
  Offer({});
  const std::string junk = "NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\r\n";
  EXPECT_FALSE(igd_->HandleSsdp(Sec(1), kHost, upnp::SsdpMulticastAddress(), kGateway, kLanAddress,
                                ByteView(reinterpret_cast<const uint8_t*>(junk.data()), junk.size())));
  EXPECT_EQ(igd_->counters().ssdp_malformed, 1u);
  http_->HandleConnected(Sec(1), 7, kHost);
  const std::string bad = "HELLO\r\n\r\n";
  http_->HandleStream(Sec(1), 7, ByteView(reinterpret_cast<const uint8_t*>(bad.data()), bad.size()));
  auto a = http_->PollStreamAction();
  ASSERT_TRUE(a);
  EXPECT_EQ(std::string(a->data.begin(), a->data.begin() + 15), "HTTP/1.1 400 Ba");
  EXPECT_EQ(igd_->counters().http_errors, 1u);
  // A connection that never sends a request is closed after the idle limit.
  http_->HandleConnected(Sec(2), 8, kHost);
  ASSERT_TRUE(http_->PollTimeout());
  http_->HandleTimeout(*http_->PollTimeout());
  bool closed = false;
  while (auto b = http_->PollStreamAction()) closed |= b->kind == StreamAction::Kind::kClose && b->conn == 8;
  EXPECT_TRUE(closed);
}

}  // namespace
}  // namespace nat
}  // namespace punchlab
