// protocol/portmap's UPnP codec on what Debian's miniupnpd 2.3.1 answered
// (miniupnpd-2.3.1/, captured by tests/portmap-real with
// PUNCHLAB_CAPTURE_DIR set: the bytes as they came off the socket).
#include <gtest/gtest.h>

#include <string>
#include <variant>

#include "punchlab/portmap/upnp-description.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "support/read-file.h"

namespace punchlab::portmap::upnp {
namespace {

std::string Capture(const std::string& name) {
  return testsupport::ReadFile(std::string(PUNCHLAB_SOURCE_DIR) +
                               "/tests/unit/portmap/miniupnpd-2.3.1/" + name);
}

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

// The capture fed to the reader in pieces of `step` bytes, then the close.
HttpResponseReader Read(const std::string& raw, size_t step = 7) {
  HttpResponseReader r;
  for (size_t i = 0; i < raw.size() && r.state() == HttpResponseReader::State::kNeedMore; i += step) {
    r.Feed(View(raw.substr(i, step)));
  }
  // Content-Length framing ends the response before the close.
  EXPECT_EQ(r.state(), HttpResponseReader::State::kDone) << r.error();
  r.Close();
  return r;
}

SoapResult Soap(const std::string& capture, int status) {
  const HttpResponseReader r = Read(Capture(capture));
  EXPECT_EQ(r.status(), status);
  ParseError e{};
  const std::optional<SoapResult> result = ParseSoapBody(r.body(), &e);
  EXPECT_TRUE(result) << ToString(e);
  return result.value_or(SoapFault{});
}

TEST(UpnpMiniupnpd, SsdpAnswerNamesTheDescription) {
  const std::string datagram = Capture("ssdp-answer.txt");
  ParseError e{};
  const std::optional<SsdpAnswer> a = ParseSsdpAnswer(View(datagram), &e);
  ASSERT_TRUE(a) << ToString(e);
  EXPECT_EQ(a->location, "http://198.51.100.1:2869/rootDesc.xml");
  EXPECT_EQ(a->search_target, kIgdSearchTarget);
  EXPECT_EQ(a->usn, "uuid:3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b::" + std::string(kIgdSearchTarget));
  EXPECT_NE(a->server.find("MiniUPnPd/2.3.1"), std::string::npos);
}

TEST(UpnpMiniupnpd, DescriptionGivesTheWanIpConnection2ControlUrl) {
  const HttpResponseReader r = Read(Capture("root-description.txt"));
  EXPECT_EQ(r.status(), 200);
  EXPECT_EQ(r.head().Field("content-length"), "3093");
  ParseError e{};
  const std::optional<IgdService> igd =
      ParseDescription(r.body(), *ParseUrl("http://198.51.100.1:2869/rootDesc.xml"), &e);
  ASSERT_TRUE(igd) << ToString(e);
  // Not the Layer3Forwarding or WANIPv6FirewallControl services beside it.
  EXPECT_EQ(igd->service_type, "urn:schemas-upnp-org:service:WANIPConnection:2");
  EXPECT_EQ(igd->control_url.ToString(), "http://198.51.100.1:2869/ctl/IPConn");
}

TEST(UpnpMiniupnpd, ExternalAddress) {
  const SoapResult r = Soap("get-external-ip-address.txt", 200);
  ASSERT_TRUE(std::holds_alternative<SoapResponse>(r));
  const std::optional<IpAddress> ip = ExternalIpAddressOf(std::get<SoapResponse>(r));
  ASSERT_TRUE(ip);
  EXPECT_EQ(ip->ToString(), "11.0.0.254");
  // The same answer read as another action's is refused, not misread.
  ParseError e{};
  EXPECT_FALSE(ReservedPortOf(std::get<SoapResponse>(r), &e));
  EXPECT_EQ(e, ParseError::kWrongAction);
}

TEST(UpnpMiniupnpd, MappingsAndTheirAnswers) {
  // AddPortMapping's response has no arguments (an empty element, <u:.../>).
  const SoapResult added = Soap("add-port-mapping.txt", 200);
  ASSERT_TRUE(std::holds_alternative<SoapResponse>(added));
  EXPECT_EQ(std::get<SoapResponse>(added).action, kAddPortMapping);
  EXPECT_TRUE(std::get<SoapResponse>(added).arguments.empty());

  const SoapResult any = Soap("add-any-port-mapping.txt", 200);
  ASSERT_TRUE(std::holds_alternative<SoapResponse>(any));
  EXPECT_EQ(ReservedPortOf(std::get<SoapResponse>(any)), 4701);

  for (const char* deleted : {"delete-port-mapping.txt", "delete-port-mapping-absent.txt"}) {
    const SoapResult d = Soap(deleted, 200);
    ASSERT_TRUE(std::holds_alternative<SoapResponse>(d)) << deleted;
    EXPECT_EQ(std::get<SoapResponse>(d).action, kDeletePortMapping);
  }
}

TEST(UpnpMiniupnpd, FaultsCarryTheirUpnpErrorCodes) {
  const struct {
    const char* capture;
    ErrorCode code;
    const char* description;
  } cases[] = {
      {"add-port-mapping-718.txt", ErrorCode::kConflictInMappingEntry, "ConflictInMappingEntry"},
      {"add-port-mapping-716.txt", ErrorCode::kWildCardNotPermittedInExtPort,
       "Wildcard not permited in ExtPort"},
      {"add-any-port-mapping-402.txt", ErrorCode::kInvalidArgs, "Invalid Args"},
  };
  for (const auto& c : cases) {
    const SoapResult r = Soap(c.capture, 500);
    ASSERT_TRUE(std::holds_alternative<SoapFault>(r)) << c.capture;
    EXPECT_EQ(std::get<SoapFault>(r).code, static_cast<uint16_t>(c.code)) << c.capture;
    EXPECT_EQ(std::get<SoapFault>(r).description, c.description) << c.capture;
  }
}

TEST(UpnpMiniupnpd, OnlyPermanentLeasesFaultIsReadLikeTheOthers) {
  // miniupnpd never answers 725 (it caps lease durations instead); this is its
  // 718 fault with the code and text of 725, the answer that makes a client
  // retry with a permanent lease.
  std::string raw = Capture("add-port-mapping-718.txt");
  const std::string from = "<errorCode>718</errorCode><errorDescription>ConflictInMappingEntry";
  const std::string to = "<errorCode>725</errorCode><errorDescription>OnlyPermanentLeasesSupported";
  const size_t at = raw.find(from);
  ASSERT_NE(at, std::string::npos);
  raw.replace(at, from.size(), to);
  const size_t length_at = raw.find("Content-Length: ");
  const int length = std::stoi(raw.substr(length_at + 16));
  raw.replace(length_at + 16, 3, std::to_string(length + static_cast<int>(to.size() - from.size())));
  const HttpResponseReader r = Read(raw);
  const std::optional<SoapResult> result = ParseSoapBody(r.body());
  ASSERT_TRUE(result);
  ASSERT_TRUE(std::holds_alternative<SoapFault>(*result));
  EXPECT_EQ(std::get<SoapFault>(*result).code, static_cast<uint16_t>(ErrorCode::kOnlyPermanentLeasesSupported));
}

TEST(UpnpMiniupnpd, EveryCaptureReadsTheSameWhateverTheReadSizes) {
  for (const char* name : {"root-description.txt", "get-external-ip-address.txt", "add-port-mapping-718.txt"}) {
    const std::string raw = Capture(name);
    const std::string whole = Read(raw, raw.size()).body();
    for (size_t step : {1, 2, 3, 64, 1000}) EXPECT_EQ(Read(raw, step).body(), whole) << name << " " << step;
  }
}

}  // namespace
}  // namespace punchlab::portmap::upnp
