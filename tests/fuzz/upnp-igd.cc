// The simulated router's UPnP IGD (nat/upnp-igd.h) and the node's UPnP
// client machine (portmap/upnp-mapper.h) on untrusted bytes: any datagram
// as an SSDP search, any bytes as a request on the IGD's HTTP connection
// (read in two pieces), and any bytes as the IGD's answer to each of the
// client's exchanges. Invariants: the IGD answers a search only with an
// answer to the searcher from port 1900, answers a connection with one
// HTTP response and a close, and grants leases only in its own NAT table;
// the client ends every attempt with exactly one event, and a mapping it
// reports is UPnP's with a non-zero port.
// (upnp18 keeps this target apart from misc's portmap.cc, which fuzzes the
// NAT-PMP / PCP server.)
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>

#include "fuzz-check.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/upnp-igd.h"
#include "punchlab/portmap/upnp-mapper.h"
#include "punchlab/portmap/upnp-ssdp.h"
#include "punchlab/random.h"

using namespace punchlab;

namespace {

ByteView View(const std::string& s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

const Endpoint kHost = *Endpoint::Parse("192.168.1.10:41641");
const IpAddress kGateway = *IpAddress::Parse("192.168.1.1");
const IpAddress kLan = *IpAddress::Parse("192.168.1.254");
const IpAddress kPublic = *IpAddress::Parse("203.0.113.1");

void FuzzIgd(FuzzedDataProvider& in, const std::string& text) {
  DeterministicRandom rng(1);
  nat::NatTable table(*nat::ParseNatSpec("symmetric").config, {kPublic}, rng);
  nat::PortMappingConfig c;
  c.upnp = true;
  c.multicast_only = in.ConsumeBool();
  c.answer_from = in.ConsumeBool() ? nat::AnswerFrom::kLanAddress : nat::AnswerFrom::kGateway;
  c.upnp_lease_error = static_cast<nat::UpnpLeaseError>(in.ConsumeIntegralInRange<int>(0, 2));
  nat::UpnpIgd igd(c, table);
  const Timestamp now = Timestamp::FromNanos(1000000000);
  const IpAddress to = in.ConsumeBool() ? portmap::upnp::SsdpMulticastAddress() : kGateway;
  if (auto answer = igd.HandleSsdp(now, kHost, to, kGateway, kLan, View(text))) {
    FUZZ_CHECK(answer->destination == kHost);
    FUZZ_CHECK(answer->source.port == portmap::upnp::kSsdpPort);
    FUZZ_CHECK(answer->source.ip == kGateway || answer->source.ip == kLan);
  }
  nat::UpnpIgdHttp http(igd);
  http.HandleConnected(now, 1, kHost);
  const size_t split = in.ConsumeIntegralInRange<size_t>(0, text.size());
  http.HandleStream(now, 1, View(text.substr(0, split)));
  http.HandleStream(now, 1, View(text.substr(split)));
  int writes = 0;
  int closes = 0;
  while (auto a = http.PollStreamAction()) {
    FUZZ_CHECK(a->conn == 1);
    if (a->kind == StreamAction::Kind::kWrite) {
      ++writes;
      FUZZ_CHECK(a->data.size() > 9 && std::string(a->data.begin(), a->data.begin() + 9) == "HTTP/1.1 ");
    }
    if (a->kind == StreamAction::Kind::kClose) ++closes;
  }
  FUZZ_CHECK(writes == closes && writes <= 1);
  for (const auto& [inside, external] : table.PortMappings(nat::Protocol::kUdp)) {
    FUZZ_CHECK(inside.ip == kHost.ip);
    FUZZ_CHECK(external.ip == kPublic);
  }
}

void FuzzMapper(FuzzedDataProvider& in) {
  DeterministicRandom rng(2);
  portmap::UpnpMapper mapper(rng);
  portmap::UpnpWanted want{kGateway, kHost, in.ConsumeIntegral<uint16_t>(),
                           {"http://192.168.1.1:2869/rootDesc.xml", "http://10.9.9.9:80/d.xml"}};
  Timestamp now = Timestamp::FromNanos(1000000000);
  mapper.Map(now, want);
  int events = 0;
  for (int round = 0; round < 16 && in.remaining_bytes() > 0; ++round) {
    while (auto a = mapper.PollStreamAction()) {
      if (a->kind == StreamAction::Kind::kConnect) {
        FUZZ_CHECK(mapper.busy());
        mapper.HandleConnected(now, a->conn, a->remote);
        const std::string answer = in.ConsumeRandomLengthString(4096);
        mapper.HandleStream(now, a->conn, View(answer));
        if (in.ConsumeBool()) mapper.HandleClosed(now, a->conn);
      }
    }
    while (auto e = mapper.PollEvent()) {
      ++events;
      if (const auto* m = std::get_if<portmap::UpnpMapped>(&*e)) {
        FUZZ_CHECK(m->mapping.protocol == portmap::MappingProtocol::kUpnp);
        FUZZ_CHECK(m->mapping.external.port != 0);
        FUZZ_CHECK(m->mapping.internal == kHost);
      }
    }
    if (auto t = mapper.PollTimeout()) {
      now = *t;
      mapper.HandleTimeout(now);
    }
  }
  // The last round's timeout may have ended the attempt after its events were read.
  while (mapper.PollEvent()) ++events;
  FUZZ_CHECK(events <= 1);
  FUZZ_CHECK(events == 1 || mapper.busy());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  if (in.ConsumeBool()) {
    FuzzMapper(in);
  } else {
    const std::string text = in.ConsumeRandomLengthString(65536);
    FuzzIgd(in, text);
  }
  return 0;
}
