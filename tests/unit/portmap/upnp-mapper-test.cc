// portmap::UpnpMapper on descriptions whose control URL it cannot use: the
// node has no name resolver (a sans-IO machine on the gateway's LAN, as
// Tailscale fetches "without using DNS"), so a control URL naming a host
// must fail the candidate at once as "bad-location" (as a LOCATION naming
// one does), never connect to an unset endpoint.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "punchlab/portmap/upnp-device.h"
#include "punchlab/portmap/upnp-mapper.h"
#include "punchlab/random.h"

namespace punchlab {
namespace portmap {
namespace {

const IpAddress kGateway = *IpAddress::Parse("192.168.1.1");
const Endpoint kHost = *Endpoint::Parse("192.168.1.10:41641");

// The mapper asks for the description at LOCATION and is answered with one
// whose controlURL is `control`; the event it ends with, and every connect.
std::pair<std::optional<UpnpMapperEvent>, std::vector<Endpoint>> MapWithControlUrl(
    const std::string& control) {
  DeterministicRandom rng(1);
  UpnpMapper mapper(rng);
  const Timestamp now = Timestamp::FromNanos(1000000000);
  mapper.Map(now, UpnpWanted{kGateway, kHost, 0, {"http://192.168.1.1:2869/rootDesc.xml"}});
  upnp::DeviceDescription d;
  d.udn = "uuid:1";
  d.friendly_name = "router";
  d.manufacturer = "test";
  d.service_type = "urn:schemas-upnp-org:service:WANIPConnection:1";
  d.control_path = control;
  const Bytes answer =
      upnp::BuildHttpResponse(200, "OK", upnp::BuildDescription(d), "test/1 UPnP/1.1");
  std::vector<Endpoint> connects;
  for (int round = 0; round < 4; ++round) {
    while (auto a = mapper.PollStreamAction()) {
      if (a->kind != StreamAction::Kind::kConnect) continue;
      connects.push_back(a->remote);
      mapper.HandleConnected(now, a->conn, a->remote);
      if (connects.size() == 1) {
        mapper.HandleStream(now, a->conn, ByteView(answer.data(), answer.size()));
      } else {
        mapper.HandleClosed(now, a->conn);  // nothing answers a SOAP call here
      }
    }
  }
  return {mapper.PollEvent(), connects};
}

TEST(UpnpMapperControlUrl, AHostNameFailsAsBadLocationWithoutConnecting) {
  const auto [event, connects] = MapWithControlUrl("http://router.lan:2869/ctl/IPConn");
  ASSERT_TRUE(event);
  const auto* failed = std::get_if<UpnpFailed>(&*event);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->reason, "bad-location");
  ASSERT_EQ(connects.size(), 1u);  // the description only
  EXPECT_EQ(connects[0], Endpoint(kGateway, 2869));
}

TEST(UpnpMapperControlUrl, AnAddressIsCalled) {
  // The same description with an address: the SOAP call goes there (and,
  // unanswered, fails as an HTTP error, not a location).
  const auto [event, connects] = MapWithControlUrl("http://192.168.1.1:5000/ctl/IPConn");
  ASSERT_TRUE(event);
  const auto* failed = std::get_if<UpnpFailed>(&*event);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->reason, "http");
  ASSERT_EQ(connects.size(), 2u);
  EXPECT_EQ(connects[1], Endpoint(kGateway, 5000));
}

TEST(UpnpMapperControlUrl, AnIpv6LiteralOnAnIpv4GatewayFailsAsBadLocation) {
  const auto [event, connects] = MapWithControlUrl("http://[fe80::1]:2869/ctl/IPConn");
  ASSERT_TRUE(event);
  const auto* failed = std::get_if<UpnpFailed>(&*event);
  ASSERT_NE(failed, nullptr);
  EXPECT_EQ(failed->reason, "bad-location");
  EXPECT_EQ(connects.size(), 1u);
}

}  // namespace
}  // namespace portmap
}  // namespace punchlab
