// NAT-PMP / PCP: any datagram through both codecs (requests and responses),
// and a sequence of datagrams "from the gateway" into the port-mapping client
// in each of its states. Invariants: a decoded message re-encodes to one that
// decodes to the same fields; the client only ever sends well-formed requests
// from its socket to gateway:5351 (and, with UPnP on, M-SEARCHes to
// gateway:1900 or 239.255.255.250:1900), its mapping (if any) maps its own socket,
// and every datagram is either used or counted as dropped.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "fuzz-check.h"
#include "punchlab/portmap/client.h"
#include "punchlab/portmap/upnp-device.h"
#include "punchlab/portmap/upnp-ssdp.h"

using namespace punchlab;
using namespace punchlab::portmap;

namespace {

const IpAddress kGateway = IpAddress::V4(192, 168, 1, 1);
const Endpoint kServer(kGateway, kServerPort);
const Endpoint kLocal(IpAddress::V4(192, 168, 1, 10), 41641);

void CheckCodecs(ByteView b) {
  if (auto r = pmp::DecodeResponse(b)) {
    auto again = pmp::DecodeResponse(pmp::EncodeResponse(*r, !r->has_body));
    if (r->opcode <= pmp::kOpMapTcp) {
      FUZZ_CHECK(again);
      FUZZ_CHECK(again->opcode == r->opcode && again->result == r->result &&
                 again->epoch_seconds == r->epoch_seconds);
      FUZZ_CHECK(again->external_ip == r->external_ip &&
                 again->external_port == r->external_port &&
                 again->lifetime_seconds == r->lifetime_seconds);
    }
  }
  if (auto q = pmp::DecodeRequest(b)) {
    if (q->opcode == pmp::kOpMapUdp || q->opcode == pmp::kOpMapTcp) {
      auto again = pmp::DecodeRequest(pmp::EncodeMapRequest(q->map));
      FUZZ_CHECK(again && again->map.internal_port == q->map.internal_port &&
                 again->map.lifetime_seconds == q->map.lifetime_seconds);
    }
  }
  if (auto r = pcp::DecodeResponse(b)) {
    auto again = pcp::DecodeResponse(pcp::EncodeResponse(*r));
    FUZZ_CHECK(again);
    FUZZ_CHECK(again->opcode == r->opcode && again->result == r->result &&
               again->lifetime_seconds == r->lifetime_seconds &&
               again->epoch_seconds == r->epoch_seconds);
    FUZZ_CHECK(again->map.has_value() == r->map.has_value());
    if (r->map) {
      FUZZ_CHECK(again->map->nonce == r->map->nonce &&
                 again->map->external_ip == r->map->external_ip &&
                 again->map->external_port == r->map->external_port);
    }
  }
  if (auto q = pcp::DecodeRequest(b)) {
    if (q->opcode == pcp::kOpAnnounce || q->opcode == pcp::kOpMap) {
      auto again = pcp::DecodeRequest(pcp::EncodeRequest(*q));
      FUZZ_CHECK(again && again->client_ip == q->client_ip &&
                 again->lifetime_seconds == q->lifetime_seconds);
    }
  }
}

// Whether `payload` reads as an M-SEARCH. ParseMSearch depends on the bytes
// alone and the client sends the same two or three M-SEARCHes every probe, so
// the bytes already read are remembered: parsing them anew, HTTP head and
// all, was a fifth of this target's time (perf, session 11). A payload never
// seen is parsed as before.
bool IsMSearch(const Bytes& payload) {
  static std::vector<Bytes> read_before;
  for (const Bytes& b : read_before) {
    if (b == payload) return true;
  }
  if (!upnp::ParseMSearch(payload).has_value()) return false;
  if (read_before.size() < 8) read_before.push_back(payload);
  return true;
}

void Drain(Client& c) {
  while (auto t = c.PollTransmit()) {
    FUZZ_CHECK(t->source == kLocal);
    if (t->destination.port == upnp::kSsdpPort) {
      // UPnP's discovery: an M-SEARCH to the gateway or to SSDP's group.
      FUZZ_CHECK(c.config().upnp);
      FUZZ_CHECK(t->destination.ip == kGateway ||
                 t->destination.ip == upnp::SsdpMulticastAddress());
      FUZZ_CHECK(IsMSearch(t->payload));
      continue;
    }
    FUZZ_CHECK(t->destination == kServer);
    const bool pmp_ok = pmp::DecodeRequest(t->payload).has_value();
    const bool pcp_ok = pcp::DecodeRequest(t->payload).has_value();
    FUZZ_CHECK(pmp_ok || pcp_ok);
  }
  while (auto e = c.PollEvent()) {
    if (auto* m = std::get_if<MappingCreated>(&*e)) {
      FUZZ_CHECK(m->mapping.internal == kLocal);
      FUZZ_CHECK(m->mapping.renew_after <= m->mapping.good_until);
    }
  }
  if (c.mapping()) FUZZ_CHECK(c.mapping()->internal == kLocal);
}

uint64_t Dropped(const ClientStats& s) {
  return s.dropped_malformed + s.dropped_wrong_source + s.dropped_unexpected +
         s.dropped_nonce_mismatch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckCodecs(ByteView(data, size));

  FuzzedDataProvider in(data, size);
  DeterministicRandom rng(1);
  ClientConfig config;
  config.pmp = in.ConsumeBool();
  config.pcp = in.ConsumeBool();
  config.upnp = in.ConsumeBool();
  Client client(rng, config);
  Timestamp now = Timestamp::Zero();
  client.SetGateway(now, kLocal, kGateway);
  // The state to attack: probing, creating, or both.
  if (in.ConsumeBool()) client.Probe(now);
  if (in.ConsumeBool()) client.CachedMappingOrStartCreating(now);
  Drain(client);
  while (in.remaining_bytes() > 0) {
    switch (in.ConsumeIntegralInRange<int>(0, 5)) {
      case 0:
        now += Duration::Millis(in.ConsumeIntegralInRange<int64_t>(0, 4000000));
        if (auto t = client.PollTimeout(); t && *t <= now) client.HandleTimeout(now);
        break;
      case 1:
        client.Probe(now);
        break;
      case 2:
        client.CachedMappingOrStartCreating(now);
        break;
      case 3:
        client.Release(now);
        break;
      default: {
        const Bytes d = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 80));
        const uint64_t before = Dropped(client.stats());
        const size_t events_before = client.stats().mappings_created + client.stats().renewals +
                                     client.stats().failures;
        const bool waiting = client.probing() || client.creating();
        client.HandleDatagram(now, kLocal, kServer, d);
        const bool counted = Dropped(client.stats()) > before;
        const bool changed = client.stats().mappings_created + client.stats().renewals +
                                 client.stats().failures !=
                             events_before;
        // Nothing waited for it: it must be counted as dropped.
        if (!waiting) FUZZ_CHECK(counted || changed);
        break;
      }
    }
    Drain(client);
  }
  return 0;
}
