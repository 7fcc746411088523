// UPnP IGD answers: any bytes as an SSDP datagram, as an HTTP response read
// in two pieces, and as the XML of a root description and of a SOAP body.
// Invariants: a parse either yields its result or names an error, never
// both; an SSDP answer's LOCATION parses as a URL; a description's control
// URL is http://; an HTTP body is never longer than the limit; every SOAP
// response's facts either read or name why not.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz-check.h"
#include "punchlab/portmap/upnp-description.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/portmap/upnp-soap.h"
#include "punchlab/portmap/upnp-ssdp.h"

using namespace punchlab;
using namespace punchlab::portmap::upnp;

namespace {

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

void CheckHttp(const std::string& text, size_t split) {
  HttpResponseReader r;
  r.Feed(View(text.substr(0, split)));
  r.Feed(View(text.substr(split)));
  r.Close();
  FUZZ_CHECK(r.state() != HttpResponseReader::State::kNeedMore);
  if (r.state() == HttpResponseReader::State::kDone) {
    FUZZ_CHECK(r.body().size() <= HttpResponseReader::kMaxBody);
    FUZZ_CHECK(r.status() >= 0 && r.status() <= 999);
  } else {
    FUZZ_CHECK(!r.error().empty());
  }
}

void CheckSoap(const std::string& xml) {
  ParseError e = ParseError::kNone;
  const std::optional<SoapResult> r = ParseSoapBody(xml, &e);
  FUZZ_CHECK(r.has_value() == (e == ParseError::kNone));
  if (!r) return;
  if (const auto* response = std::get_if<SoapResponse>(&*r)) {
    ParseError fact = ParseError::kNone;
    const auto ip = ExternalIpAddressOf(*response, &fact);
    FUZZ_CHECK(ip.has_value() == (fact == ParseError::kNone));
    const auto port = ReservedPortOf(*response, &fact);
    FUZZ_CHECK(port.has_value() == (fact == ParseError::kNone));
    if (port) FUZZ_CHECK(*port != 0);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const size_t split = in.ConsumeIntegral<uint16_t>();
  const std::string text = in.ConsumeRemainingBytesAsString();

  ParseError e = ParseError::kNone;
  const std::optional<SsdpAnswer> answer = ParseSsdpAnswer(View(text), &e);
  FUZZ_CHECK(answer.has_value() == (e == ParseError::kNone));
  if (answer) FUZZ_CHECK(ParseUrl(answer->location).has_value());

  CheckHttp(text, split % (text.size() + 1));

  static const Url kLocation = *ParseUrl("http://192.168.1.1:5000/rootDesc.xml");
  const std::optional<IgdService> igd = ParseDescription(text, kLocation, &e);
  FUZZ_CHECK(igd.has_value() == (e == ParseError::kNone));
  if (igd) FUZZ_CHECK(ParseUrl(igd->control_url.ToString()).has_value());

  CheckSoap(text);
  return 0;
}
