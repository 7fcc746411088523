// The IGD side of the UPnP codec (upnp-device.h), read back by the client
// side (upnp-ssdp.h, upnp-description.h, upnp-soap.h) and held against what
// miniupnpd 2.3.1 wrote (miniupnpd-2.3.1/) and what Tailscale sends.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "punchlab/portmap/upnp-description.h"
#include "punchlab/portmap/upnp-device.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "support/read-file.h"

namespace punchlab::portmap::upnp {
namespace {

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }

std::string Capture(const std::string& name) {
  return testsupport::ReadFile(std::string(PUNCHLAB_SOURCE_DIR) +
                               "/tests/unit/portmap/miniupnpd-2.3.1/" + name);
}

// The body after libxml2's XML declaration line (miniupnpd writes none).
std::string WithoutDeclaration(const std::string& xml) {
  const std::string decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  EXPECT_EQ(xml.compare(0, decl.size(), decl), 0);
  std::string body = xml.substr(decl.size());
  while (!body.empty() && body.back() == '\n') body.pop_back();
  return body;
}

constexpr const char* kIgd2 = "urn:schemas-upnp-org:device:InternetGatewayDevice:2";
constexpr const char* kIp2 = "urn:schemas-upnp-org:service:WANIPConnection:2";

TEST(UpnpDevice, TailscalesSearchesAreRead) {
  // net/portmapper's uPnPPacket and uPnPIGDPacket, byte for byte.
  const std::string all = "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nST: ssdp:all\r\n"
                          "MAN: \"ssdp:discover\"\r\nMX: 2\r\n\r\n";
  ParseError e{};
  const std::optional<MSearch> m = ParseMSearch(View(all), &e);
  ASSERT_TRUE(m) << ToString(e);
  EXPECT_EQ(m->search_target, "ssdp:all");
  EXPECT_EQ(m->mx, 2);
  const Bytes ours = BuildMSearch(kIgdSearchTarget);
  const std::optional<MSearch> igd = ParseMSearch(ByteView(ours.data(), ours.size()));
  ASSERT_TRUE(igd);
  EXPECT_EQ(igd->search_target, kIgdSearchTarget);
  // Not searches: an answer, a NOTIFY, a search without MAN.
  EXPECT_FALSE(ParseMSearch(View(Capture("ssdp-answer.txt")), &e));
  EXPECT_FALSE(ParseMSearch(View("NOTIFY * HTTP/1.1\r\nNT: upnp:rootdevice\r\n\r\n")));
  EXPECT_FALSE(ParseMSearch(View("M-SEARCH * HTTP/1.1\r\nST: ssdp:all\r\n\r\n"), &e));
  EXPECT_EQ(e, ParseError::kMissingHeader);
}

TEST(UpnpDevice, AnIgd2AnswersTheTargetsItIs) {
  EXPECT_EQ(SearchTargetAnswered("ssdp:all", kIgd2), std::optional<std::string>(kIgd2));
  EXPECT_EQ(SearchTargetAnswered("upnp:rootdevice", kIgd2),
            std::optional<std::string>("upnp:rootdevice"));
  EXPECT_EQ(SearchTargetAnswered(kIgdSearchTarget, kIgd2),
            std::optional<std::string>(kIgdSearchTarget));
  EXPECT_EQ(SearchTargetAnswered(kIgd2, kIgd2), std::optional<std::string>(kIgd2));
  EXPECT_FALSE(SearchTargetAnswered("urn:schemas-upnp-org:device:InternetGatewayDevice:3", kIgd2));
  EXPECT_FALSE(SearchTargetAnswered("urn:schemas-upnp-org:device:MediaServer:1", kIgd2));
  EXPECT_FALSE(SearchTargetAnswered("urn:schemas-upnp-org:device:InternetGatewayDevice:x", kIgd2));
}

TEST(UpnpDevice, TheSsdpAnswerReadsAsMiniupnpdsDoes) {
  const std::string usn = std::string("uuid:1::") + kIgdSearchTarget;
  const Bytes answer =
      BuildSsdpAnswer("http://192.168.1.1:2869/rootDesc.xml", kIgdSearchTarget, usn, "x");
  const std::optional<SsdpAnswer> ours = ParseSsdpAnswer(ByteView(answer.data(), answer.size()));
  const std::optional<SsdpAnswer> theirs = ParseSsdpAnswer(View(Capture("ssdp-answer.txt")));
  ASSERT_TRUE(ours && theirs);
  EXPECT_EQ(ours->location, "http://192.168.1.1:2869/rootDesc.xml");
  EXPECT_EQ(ours->search_target, theirs->search_target);
  EXPECT_EQ(ours->usn, usn);
}

TEST(UpnpDevice, TheDescriptionNamesItsServiceRelativeToWhereItWasFetched) {
  DeviceDescription d;
  d.udn = "uuid:1";
  d.friendly_name = "router";
  d.manufacturer = "punchlab <&> \"test\"";  // escaped by libxml2
  d.service_type = kIp2;
  d.control_path = "/ctl/IPConn";
  const std::string xml = BuildDescription(d);
  const Url at = *ParseUrl("http://10.0.0.1:2869/rootDesc.xml");
  ParseError e{};
  const std::optional<IgdService> s = ParseDescription(xml, at, &e);
  ASSERT_TRUE(s) << ToString(e);
  EXPECT_EQ(s->service_type, kIp2);
  EXPECT_EQ(s->control_url.ToString(), "http://10.0.0.1:2869/ctl/IPConn");
  EXPECT_NE(xml.find("punchlab &lt;&amp;&gt; \"test\""), std::string::npos);
  // An IGD:1 with WANIPConnection:1 reads as well.
  d.igd_version = 1;
  d.service_type = "urn:schemas-upnp-org:service:WANIPConnection:1";
  const std::optional<IgdService> v1 = ParseDescription(BuildDescription(d), at);
  ASSERT_TRUE(v1);
  EXPECT_EQ(v1->service_type, d.service_type);
}

TEST(UpnpDevice, ACallReadsBackWithItsArguments) {
  PortMappingRequest m;
  m.external_port = 41641;
  m.internal_port = 41641;
  m.internal_client = "192.168.1.10";
  m.description = "a <b>";
  m.lease_seconds = 7200;
  ParseError e{};
  const std::optional<SoapCall> call = ParseSoapCall(BuildAddAnyPortMapping(kIp2, m), &e);
  ASSERT_TRUE(call) << ToString(e);
  EXPECT_EQ(call->service_type, kIp2);
  EXPECT_EQ(call->action, kAddAnyPortMapping);
  EXPECT_EQ(call->Argument("NewRemoteHost"), std::optional<std::string>(""));
  EXPECT_EQ(call->Argument("NewExternalPort"), std::optional<std::string>("41641"));
  EXPECT_EQ(call->Argument("NewProtocol"), std::optional<std::string>("UDP"));
  EXPECT_EQ(call->Argument("NewInternalClient"), std::optional<std::string>("192.168.1.10"));
  EXPECT_EQ(call->Argument("NewPortMappingDescription"), std::optional<std::string>("a <b>"));
  EXPECT_EQ(call->Argument("NewLeaseDuration"), std::optional<std::string>("7200"));
  EXPECT_FALSE(ParseSoapCall("<a>", &e));
  EXPECT_EQ(e, ParseError::kXml);
  EXPECT_FALSE(ParseSoapCall("<Envelope><Body/></Envelope>", &e));
  EXPECT_EQ(e, ParseError::kNotSoap);
}

TEST(UpnpDevice, ResponsesAreMiniupnpdsBytes) {
  // A fault: miniupnpd's 402, byte for byte after the XML declaration, and
  // the HTTP head in miniupnpd's order.
  const std::string theirs = Capture("add-any-port-mapping-402.txt");
  const std::string their_body = theirs.substr(theirs.find("\r\n\r\n") + 4);
  EXPECT_EQ(WithoutDeclaration(BuildSoapFault(402, ErrorDescription(402))), their_body);
  const std::string ours =
      Text(BuildHttpResponse(500, "Internal Server Error", BuildSoapFault(402, "Invalid Args"),
                             "Debian/6.18.44-fc-v1300 UPnP/1.1 MiniUPnPd/2.3.1"));
  const std::string their_head = theirs.substr(0, theirs.find("Content-Length"));
  EXPECT_EQ(ours.substr(0, their_head.size()), their_head);
  // Responses read back with the client's reader.
  const std::optional<SoapResult> r =
      ParseSoapBody(BuildSoapResponse(kIp2, kAddAnyPortMapping, {{"NewReservedPort", "40000"}}));
  ASSERT_TRUE(r && std::holds_alternative<SoapResponse>(*r));
  EXPECT_EQ(ReservedPortOf(std::get<SoapResponse>(*r)), std::optional<uint16_t>(40000));
  const std::optional<SoapResult> f = ParseSoapBody(BuildSoapFault(725, ErrorDescription(725)));
  ASSERT_TRUE(f && std::holds_alternative<SoapFault>(*f));
  EXPECT_EQ(std::get<SoapFault>(*f).code, 725);
  EXPECT_EQ(std::get<SoapFault>(*f).description, "OnlyPermanentLeasesSupported");
}

TEST(UpnpDevice, ARequestIsReadInPiecesAndItsBodyByLength) {
  const Url control = *ParseUrl("http://10.0.0.1:2869/ctl/IPConn");
  const std::string body = BuildGetExternalIpAddress(kIp2);
  const Bytes post = BuildSoapPost(control, kIp2, kGetExternalIpAddress, body);
  const std::string text = Text(post) + "trailing bytes are not a second request";
  HttpRequestReader r;
  for (size_t i = 0; i < text.size() && r.state() == HttpRequestReader::State::kNeedMore; i += 5) {
    r.Feed(View(text.substr(i, 5)));
  }
  ASSERT_EQ(r.state(), HttpRequestReader::State::kDone) << r.error();
  EXPECT_EQ(r.request().method, "POST");
  EXPECT_EQ(r.request().target, "/ctl/IPConn");
  EXPECT_EQ(r.request().body, body);
  EXPECT_EQ(r.request().head.Field("SOAPAction"),
            std::optional<std::string>("\"" + std::string(kIp2) + "#GetExternalIPAddress\""));
  const Bytes get = BuildGet(*ParseUrl("http://10.0.0.1:2869/rootDesc.xml"));
  HttpRequestReader g;
  EXPECT_EQ(g.Feed(ByteView(get.data(), get.size())), HttpRequestReader::State::kDone);
  EXPECT_EQ(g.request().body, "");
  for (const std::string bad :
       {"GET\r\n\r\n", "GET / HTTP/2\r\n\r\n", "POST / HTTP/1.1\r\nContent-Length: x\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n"}) {
    HttpRequestReader b;
    EXPECT_EQ(b.Feed(View(bad)), HttpRequestReader::State::kError) << bad;
  }
}

}  // namespace
}  // namespace punchlab::portmap::upnp
