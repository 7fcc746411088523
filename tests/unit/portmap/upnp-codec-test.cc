// protocol/portmap's UPnP codec on its own: the requests it builds (byte for
// byte; tests/portmap-real sends them to miniupnpd), URLs, HTTP framing, and
// malformed answers, each refused with its reason.
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "punchlab/portmap/upnp-description.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/portmap/upnp-ssdp.h"

namespace punchlab::portmap::upnp {
namespace {

std::string Text(const Bytes& b) { return std::string(b.begin(), b.end()); }
ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

constexpr const char* kWanIp2 = "urn:schemas-upnp-org:service:WANIPConnection:2";

TEST(UpnpCodec, MSearch) {
  EXPECT_EQ(Text(BuildMSearch()),
            "M-SEARCH * HTTP/1.1\r\n"
            "HOST: 239.255.255.250:1900\r\n"
            "MAN: \"ssdp:discover\"\r\n"
            "MX: 2\r\n"
            "ST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            "\r\n");
  EXPECT_NE(Text(BuildMSearch("ssdp:all", 99)).find("MX: 5\r\n"), std::string::npos);
  EXPECT_EQ(SsdpMulticastAddress().ToString(), "239.255.255.250");
}

TEST(UpnpCodec, SoapEnvelopesAreBuiltByLibxml2) {
  EXPECT_EQ(BuildGetExternalIpAddress(kWanIp2),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
            "<u:GetExternalIPAddress xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
            "</u:GetExternalIPAddress></s:Body></s:Envelope>\n");
  PortMappingRequest m;
  m.external_port = 41641;
  m.internal_port = 41641;
  m.internal_client = "192.168.1.20";
  m.lease_seconds = 7200;
  EXPECT_EQ(BuildAddPortMapping(kWanIp2, m),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\" "
            "s:encodingStyle=\"http://schemas.xmlsoap.org/soap/encoding/\"><s:Body>"
            "<u:AddPortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
            "<NewRemoteHost></NewRemoteHost><NewExternalPort>41641</NewExternalPort>"
            "<NewProtocol>UDP</NewProtocol><NewInternalPort>41641</NewInternalPort>"
            "<NewInternalClient>192.168.1.20</NewInternalClient><NewEnabled>1</NewEnabled>"
            "<NewPortMappingDescription>punchlab</NewPortMappingDescription>"
            "<NewLeaseDuration>7200</NewLeaseDuration></u:AddPortMapping></s:Body></s:Envelope>\n");
  EXPECT_NE(BuildAddAnyPortMapping(kWanIp2, m).find("<u:AddAnyPortMapping xmlns:u="), std::string::npos);
  EXPECT_NE(BuildDeletePortMapping(kWanIp2, "", 41641, "UDP")
                .find("<u:DeletePortMapping xmlns:u=\"urn:schemas-upnp-org:service:WANIPConnection:2\">"
                      "<NewRemoteHost></NewRemoteHost><NewExternalPort>41641</NewExternalPort>"
                      "<NewProtocol>UDP</NewProtocol></u:DeletePortMapping>"),
            std::string::npos);
}

TEST(UpnpCodec, TextIsEscapedNeverPastedIntoMarkup) {
  PortMappingRequest m;
  m.description = "a</NewPortMappingDescription><x>&";
  const std::string body = BuildAddPortMapping(kWanIp2, m);
  EXPECT_NE(body.find("<NewPortMappingDescription>a&lt;/NewPortMappingDescription&gt;&lt;x&gt;&amp;"
                      "</NewPortMappingDescription>"),
            std::string::npos)
      << body;
}

TEST(UpnpCodec, SoapPostFraming) {
  const Url control = *ParseUrl("http://192.168.1.1:5000/ctl/IPConn");
  EXPECT_EQ(Text(BuildSoapPost(control, kWanIp2, "GetExternalIPAddress", "<x/>")),
            "POST /ctl/IPConn HTTP/1.1\r\n"
            "Host: 192.168.1.1:5000\r\n"
            "Content-Type: text/xml; charset=\"utf-8\"\r\n"
            "SOAPAction: \"urn:schemas-upnp-org:service:WANIPConnection:2#GetExternalIPAddress\"\r\n"
            "Content-Length: 4\r\n"
            "Connection: close\r\n"
            "\r\n"
            "<x/>");
  EXPECT_EQ(Text(BuildGet(*ParseUrl("http://gw/rootDesc.xml"))),
            "GET /rootDesc.xml HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n");
}

TEST(UpnpCodec, Urls) {
  const std::optional<Url> u = ParseUrl("HTTP://192.168.1.1:49152/desc/root.xml?x=1#frag");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->host, "192.168.1.1");
  EXPECT_EQ(u->port, 49152);
  EXPECT_EQ(u->path, "/desc/root.xml?x=1");
  EXPECT_EQ(u->ToEndpoint()->ToString(), "192.168.1.1:49152");
  EXPECT_EQ(ParseUrl("http://gw")->path, "/");
  EXPECT_EQ(ParseUrl("http://gw")->port, 80);
  for (const char* bad : {"https://gw/", "http://", "http://:80/", "http://gw:0/", "http://gw:65536/",
                          "http://gw:x/", "http://u@gw/", "http://gw/a b", "ftp://gw/", "gw/x",
                          "http://[::1/"}) {
    EXPECT_FALSE(ParseUrl(bad)) << bad;
  }
  EXPECT_EQ(ResolveUrl(*u, "/ctl/IPConn")->ToString(), "http://192.168.1.1:49152/ctl/IPConn");
  EXPECT_EQ(ResolveUrl(*u, "ctl/IPConn")->ToString(), "http://192.168.1.1:49152/desc/ctl/IPConn");
  EXPECT_EQ(ResolveUrl(*u, "http://10.0.0.1:80/c")->ToString(), "http://10.0.0.1:80/c");
  EXPECT_FALSE(ResolveUrl(*u, ""));
  EXPECT_FALSE(ResolveUrl(*u, "https://10.0.0.1/c"));
}

HttpResponseReader::State FeedAll(HttpResponseReader& r, const std::string& s) { return r.Feed(View(s)); }

TEST(UpnpCodec, HttpBodiesByLengthChunksOrClose) {
  HttpResponseReader length;
  EXPECT_EQ(FeedAll(length, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel"), HttpResponseReader::State::kNeedMore);
  EXPECT_EQ(FeedAll(length, "loEXTRA"), HttpResponseReader::State::kDone);
  EXPECT_EQ(length.body(), "hello");

  HttpResponseReader chunked;
  EXPECT_EQ(FeedAll(chunked, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2;x=y\r\nlo\r\n0\r\n\r\n"),
            HttpResponseReader::State::kDone);
  EXPECT_EQ(chunked.body(), "hello");

  HttpResponseReader close;
  EXPECT_EQ(FeedAll(close, "HTTP/1.0 200 OK\r\n\r\nhello"), HttpResponseReader::State::kNeedMore);
  EXPECT_EQ(close.Close(), HttpResponseReader::State::kDone);
  EXPECT_EQ(close.body(), "hello");
  EXPECT_EQ(close.status(), 200);
}

TEST(UpnpCodec, BrokenHttpIsAnError) {
  const char* broken[] = {
      "HTTP/1.1 2x0 OK\r\n\r\n",
      "SIP/2.0 200 OK\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
      "HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX\r\n",
      "HTTP/1.1 200 OK\nContent-Length: 0\n\n",
  };
  for (const char* text : broken) {
    HttpResponseReader r;
    FeedAll(r, text);
    r.Close();
    EXPECT_EQ(r.state(), HttpResponseReader::State::kError) << text;
    EXPECT_FALSE(r.error().empty()) << text;
  }
  HttpResponseReader cut;
  FeedAll(cut, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
  EXPECT_EQ(cut.Close(), HttpResponseReader::State::kError);
  HttpResponseReader too_long;
  FeedAll(too_long, "HTTP/1.1 200 OK\r\n\r\n");
  EXPECT_EQ(FeedAll(too_long, std::string(HttpResponseReader::kMaxBody + 1, 'x')),
            HttpResponseReader::State::kError);
}

TEST(UpnpCodec, SsdpRefusesWhatIsNotAnAnswer) {
  const struct {
    const char* text;
    ParseError error;
  } cases[] = {
      {"NOTIFY * HTTP/1.1\r\nLOCATION: http://gw/\r\nNT: x\r\n\r\n", ParseError::kHttp},
      {"HTTP/1.1 404 Not Found\r\nLOCATION: http://gw/\r\nST: x\r\n\r\n", ParseError::kHttpStatus},
      {"HTTP/1.1 200 OK\r\nST: x\r\n\r\n", ParseError::kMissingHeader},
      {"HTTP/1.1 200 OK\r\nLOCATION: https://gw/\r\nST: x\r\n\r\n", ParseError::kBadUrl},
      {"HTTP/1.1 200 OK\r\nLOCATION: http://gw/\r\nST: x\r\n", ParseError::kHttp},  // cut short
      {"", ParseError::kHttp},
  };
  for (const auto& c : cases) {
    ParseError e{};
    EXPECT_FALSE(ParseSsdpAnswer(View(c.text), &e)) << c.text;
    EXPECT_EQ(e, c.error) << c.text << " " << ToString(e);
  }
  ParseError e{};
  const auto lower = ParseSsdpAnswer(View("HTTP/1.1 200 OK\r\nlocation: http://gw:1/d.xml\r\nst: x\r\n\r\n"), &e);
  ASSERT_TRUE(lower) << ToString(e);
  EXPECT_EQ(lower->location, "http://gw:1/d.xml");
}

TEST(UpnpCodec, DescriptionsPickTheServiceAndResolveItsUrl) {
  const Url at = *ParseUrl("http://10.0.0.1:5000/igd/desc.xml");
  const std::string ppp_and_ip1 =
      "<?xml version=\"1.0\"?><root xmlns=\"urn:schemas-upnp-org:device-1-0\">"
      "<URLBase>http://10.0.0.1:6000/</URLBase><device><deviceList><device><serviceList>"
      "<service><serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>"
      "<controlURL>/ppp</controlURL></service>"
      "<service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
      "<controlURL>ip</controlURL></service>"
      "</serviceList></device></deviceList></device></root>";
  const std::optional<IgdService> s = ParseDescription(ppp_and_ip1, at);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->service_type, "urn:schemas-upnp-org:service:WANIPConnection:1");
  EXPECT_EQ(s->control_url.ToString(), "http://10.0.0.1:6000/ip");  // URLBase wins

  const std::string ppp_only =
      "<root><device><serviceList><service>"
      "<serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>"
      "<controlURL>ctl</controlURL></service></serviceList></device></root>";
  const std::optional<IgdService> p = ParseDescription(ppp_only, at);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->control_url.ToString(), "http://10.0.0.1:5000/igd/ctl");

  const struct {
    std::string xml;
    ParseError error;
  } bad[] = {
      {"", ParseError::kXml},
      {"<root><device>", ParseError::kXml},
      {"<notroot/>", ParseError::kNoService},
      {"<root><service><serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>"
       "<controlURL>/l3f</controlURL></service></root>",
       ParseError::kNoService},
      {"<root><service><serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>"
       "<controlURL>https://x/</controlURL></service></root>",
       ParseError::kBadUrl},
      {"<root><URLBase>ftp://x/</URLBase></root>", ParseError::kBadUrl},
  };
  for (const auto& b : bad) {
    ParseError e{};
    EXPECT_FALSE(ParseDescription(b.xml, at, &e)) << b.xml;
    EXPECT_EQ(e, b.error) << b.xml << " " << ToString(e);
  }
}

TEST(UpnpCodec, EntitiesAreNeitherExpandedNorFetched) {
  // An external entity naming a file must not pull the file in (the codec
  // parses with NONET and without entity substitution).
  const std::string xxe =
      "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/hostname\">]>"
      "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>"
      "<u:GetExternalIPAddressResponse xmlns:u=\"x\"><NewExternalIPAddress>&x;</NewExternalIPAddress>"
      "</u:GetExternalIPAddressResponse></s:Body></s:Envelope>";
  const std::optional<SoapResult> r = ParseSoapBody(xxe);
  ASSERT_TRUE(r);
  ASSERT_TRUE(std::holds_alternative<SoapResponse>(*r));
  EXPECT_EQ(std::get<SoapResponse>(*r).Argument("NewExternalIPAddress"), "");
  ParseError e{};
  EXPECT_FALSE(ExternalIpAddressOf(std::get<SoapResponse>(*r), &e));
  EXPECT_EQ(e, ParseError::kBadValue);
}

TEST(UpnpCodec, SoapRefusesWhatIsNotAnAnswer) {
  const std::string env = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body>";
  const std::string end = "</s:Body></s:Envelope>";
  const struct {
    std::string xml;
    ParseError error;
  } bad[] = {
      {"not xml", ParseError::kXml},
      {std::string(70000, ' ') + "<a/>", ParseError::kXml},
      {"<a/>", ParseError::kNotSoap},
      {env + end, ParseError::kNotSoap},
      {env + "<u:Get xmlns:u=\"x\"/>" + end, ParseError::kNotSoap},
      {env + "<a/><b/>" + end, ParseError::kNotSoap},
      {env + "<s:Fault><detail><UPnPError><errorCode>x1</errorCode></UPnPError></detail></s:Fault>" + end,
       ParseError::kBadValue},
      {env + "<s:Fault><detail><UPnPError><errorCode>70000</errorCode></UPnPError></detail></s:Fault>" + end,
       ParseError::kBadValue},
  };
  for (const auto& b : bad) {
    ParseError e{};
    EXPECT_FALSE(ParseSoapBody(b.xml, &e)) << b.xml.substr(0, 200);
    EXPECT_EQ(e, b.error) << b.xml.substr(0, 200) << " " << ToString(e);
  }
  // A fault without UPnPError detail: code 0 and the faultstring.
  const std::optional<SoapResult> plain =
      ParseSoapBody(env + "<s:Fault><faultstring>Client</faultstring></s:Fault>" + end);
  ASSERT_TRUE(plain && std::holds_alternative<SoapFault>(*plain));
  EXPECT_EQ(std::get<SoapFault>(*plain).code, 0);
  EXPECT_EQ(std::get<SoapFault>(*plain).description, "Client");

  SoapResponse wrong{kAddAnyPortMapping, {{"NewReservedPort", "0"}}};
  ParseError e{};
  EXPECT_FALSE(ReservedPortOf(wrong, &e));
  EXPECT_EQ(e, ParseError::kBadValue);
  wrong.arguments.clear();
  EXPECT_FALSE(ReservedPortOf(wrong, &e));
  EXPECT_EQ(e, ParseError::kMissingArgument);
}

}  // namespace
}  // namespace punchlab::portmap::upnp
