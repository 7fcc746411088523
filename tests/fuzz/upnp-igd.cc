// The simulated router's UPnP IGD (nat/upnp-igd.h) and the node's UPnP
// client machine (portmap/upnp-mapper.h) on untrusted bytes: any datagram
// as an SSDP search, any bytes as a request on the IGD's HTTP connection
// (read in two pieces), and any bytes as the IGD's answer to each of the
// client's exchanges. Invariants: the IGD answers a search only with an
// answer to the searcher from port 1900, answers a connection with one
// HTTP response and a close, and grants leases only in its own NAT table;
// the client ends every attempt with exactly one event, and a mapping it
// reports is UPnP's with a non-zero port. Then the IGD, with a few more
// leases in its table, is asked well-formed GetSpecificPortMappingEntry and
// GetGenericPortMappingEntry calls with fuzzed arguments (upnpc's reads):
// each is answered 200 with an entry that is a lease of the table (its
// ports, client, protocol and no more time than it has left) or a fault
// miniupnpd answers there (402, 713, 714), and reading changes no lease.
// (upnp18 keeps this target apart from misc's portmap.cc, which fuzzes the
// NAT-PMP / PCP server.)
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "fuzz-check.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/upnp-igd.h"
#include "punchlab/portmap/upnp-device.h"
#include "punchlab/portmap/upnp-http.h"
#include "punchlab/portmap/upnp-mapper.h"
#include "punchlab/portmap/upnp-soap.h"
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

// Fuzzed text of printable ASCII (so the XML carries it unchanged).
std::string Printable(FuzzedDataProvider& in, size_t max) {
  std::string s = in.ConsumeRandomLengthString(max);
  for (char& c : s) c = static_cast<char>(0x20 + static_cast<unsigned char>(c) % 95);
  return s;
}

bool SameLeases(const std::vector<nat::PortLease>& a, const std::vector<nat::PortLease>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].protocol != b[i].protocol || a[i].inside != b[i].inside ||
        a[i].external != b[i].external || a[i].until != b[i].until) {
      return false;
    }
  }
  return true;
}

std::string ArgumentOf(const std::vector<std::pair<std::string, std::string>>& args, const std::string& name) {
  for (const auto& [key, value] : args) {
    if (key == name) return value;
  }
  return "";
}

// The read-only calls upnpc makes (-a checks with GetSpecific, -l walks
// GetGeneric), well-formed, their arguments fuzzed.
void FuzzEntries(FuzzedDataProvider& in, nat::UpnpIgd& igd, nat::NatTable& table, Timestamp now) {
  namespace upnp = portmap::upnp;
  const int extra = in.ConsumeIntegralInRange<int>(0, 4);
  for (int i = 0; i < extra; ++i) {
    const Endpoint inside(kHost.ip, in.ConsumeIntegral<uint16_t>());
    const nat::Protocol protocol = in.ConsumeBool() ? nat::Protocol::kUdp : nat::Protocol::kTcp;
    table.MapPort(now, protocol, inside, in.ConsumeIntegral<uint16_t>(),
                  now + Duration::Seconds(in.ConsumeIntegralInRange<int>(1, 7200)));
  }
  for (int call = 0; call < 8 && in.remaining_bytes() > 0; ++call) {
    const bool generic = in.ConsumeBool();
    const std::string action = generic ? "GetGenericPortMappingEntry" : "GetSpecificPortMappingEntry";
    std::vector<std::pair<std::string, std::string>> args;
    if (generic) {
      if (in.ConsumeBool()) args.emplace_back("NewPortMappingIndex", Printable(in, 24));
    } else {
      args.emplace_back("NewRemoteHost", "");
      if (in.ConsumeBool()) args.emplace_back("NewExternalPort", Printable(in, 12));
      if (in.ConsumeBool()) {
        args.emplace_back("NewProtocol", in.ConsumeBool() ? std::string(in.ConsumeBool() ? "UDP" : "TCP")
                                                          : Printable(in, 8));
      }
    }
    const std::vector<nat::PortLease> before = table.PortLeases();
    // Time passes between calls: leases may run out (and are then gone).
    now = now + Duration::Millis(in.ConsumeIntegralInRange<int64_t>(0, 4000000));
    upnp::HttpRequest r;
    r.method = "POST";
    r.target = nat::UpnpIgd::kControlPath;
    r.head.fields.emplace_back("SOAPAction",
                               "\"" + std::string(nat::UpnpIgd::kServiceType) + "#" + action + "\"");
    r.body = upnp::BuildSoapCall(nat::UpnpIgd::kServiceType, action, args);
    const Bytes response = igd.HandleHttp(now, kHost, r);
    upnp::HttpResponseReader reader;
    reader.Feed(ByteView(response.data(), response.size()));
    FUZZ_CHECK(reader.state() == upnp::HttpResponseReader::State::kDone);
    FUZZ_CHECK(reader.status() == 200 || reader.status() == 500);
    const std::optional<upnp::SoapResult> result = upnp::ParseSoapBody(reader.body());
    FUZZ_CHECK(result);
    // Reading changes nothing but what ran out.
    table.Expire(now);
    std::vector<nat::PortLease> live;
    for (const nat::PortLease& l : before) {
      if (l.until > now) live.push_back(l);
    }
    FUZZ_CHECK(SameLeases(live, table.PortLeases()));
    if (const auto* fault = std::get_if<upnp::SoapFault>(&*result)) {
      FUZZ_CHECK(reader.status() == 500);
      FUZZ_CHECK(fault->code == 402 || fault->code == (generic ? 713 : 714));
      continue;
    }
    FUZZ_CHECK(reader.status() == 200);
    const upnp::SoapResponse& entry = std::get<upnp::SoapResponse>(*result);
    FUZZ_CHECK(entry.action == action);
    const std::optional<std::string> client = entry.Argument("NewInternalClient");
    const std::optional<std::string> internal_port = entry.Argument("NewInternalPort");
    const std::optional<std::string> left = entry.Argument("NewLeaseDuration");
    const std::string external_port =
        generic ? entry.Argument("NewExternalPort").value_or("") : "";
    const std::string protocol = generic ? entry.Argument("NewProtocol").value_or("") : "";
    FUZZ_CHECK(client && internal_port && left);
    // The answer describes one live lease the question can mean, with at most
    // the time that lease has left: GetSpecific asks by external port (read
    // leniently, as miniupnpd's atoi does, so not re-parsed here) and protocol,
    // and the inside endpoint it names may hold other leases (a TCP one with
    // another lifetime); GetGeneric's answer names the external port and
    // protocol itself.
    const std::string asked_protocol = generic ? protocol : ArgumentOf(args, "NewProtocol");
    bool found = false;
    for (const nat::PortLease& l : live) {
      if (l.inside.ip.ToString() != *client || std::to_string(l.inside.port) != *internal_port) {
        continue;
      }
      const std::string lease_protocol = l.protocol == nat::Protocol::kUdp ? "UDP" : "TCP";
      if (generic && std::to_string(l.external.port) != external_port) continue;
      if ((asked_protocol == "UDP" || asked_protocol == "TCP" || generic) && asked_protocol != lease_protocol) {
        continue;
      }
      const int64_t most = ((l.until - now).nanos() + 999999999) / 1000000000;
      if (std::stoll(*left) <= most && std::stoll(*left) >= 1) found = true;
    }
    FUZZ_CHECK(found);
  }
}

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
  FuzzEntries(in, igd, table, now);
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
