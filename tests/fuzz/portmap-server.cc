// The router's NAT-PMP / PCP server (nat::PortMappingServer) fed an
// attacker's requests: a script of datagrams from hosts on the LAN (raw
// bytes, or well-formed requests with fuzzed fields), time, reboots, config
// changes and outbound traffic, against a NatTable of any preset and a
// server of any knobs. Invariants:
// * every answer goes from the server's address:5351 to the requester, is
//   an answer to its request (opcode with the response bit) carrying the
//   server's epoch, and parses with the client's codec (pmp:: / pcp::
//   DecodeResponse); RFC 6886 3.5's echo of an opcode no client sends is
//   the request back with "unsupported opcode";
// * a request that gets no answer is counted as dropped (malformed, or no
//   server offered), one that gets one is not;
// * a mapping is granted only for the requester's own address (the answer's
//   internal port at the packet's source), for no more than it asked and the
//   lease limit allow, on the port the answer names;
// * the table holds exactly the leases the answers granted (renewed,
//   deleted) and not yet run out: no mapping outlives its lease, none
//   appears that no answer granted, a reboot keeps them only when the
//   router stores them.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "fuzz-check.h"
#include "punchlab/nat/nat-config.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/port-mapping-server.h"
#include "punchlab/portmap/pcp.h"
#include "punchlab/portmap/pmp.h"
#include "punchlab/random.h"

using namespace punchlab;
using namespace punchlab::nat;
namespace pmp = punchlab::portmap::pmp;
namespace pcp = punchlab::portmap::pcp;

namespace {

const IpAddress kGateway = IpAddress::V4(192, 168, 1, 1);
const IpAddress kLanAddress = IpAddress::V4(192, 168, 1, 2);
const IpAddress kPublic = IpAddress::V4(203, 0, 113, 1);
const IpAddress kHosts[] = {IpAddress::V4(192, 168, 1, 10), IpAddress::V4(192, 168, 1, 11),
                            IpAddress::V4(192, 168, 1, 12)};
const Endpoint kRemote(IpAddress::V4(198, 51, 100, 1), 40000);

struct Lease {
  Endpoint external;
  Timestamp until;
};
using LeaseKey = std::pair<Protocol, Endpoint>;

class World {
 public:
  World(const NatConfig& nat, const PortMappingConfig& config)
      : table_(nat, {kPublic}, rng_), server_(config, table_, Timestamp::Zero()) {}

  void Advance(Duration d) {
    now_ += d;
    // The host's timer: the table runs out what is due.
    if (table_.NextExpiry() <= now_) table_.Expire(now_);
  }

  void Request(const Endpoint& from, ByteView request) {
    const auto before = server_.counters();
    const std::optional<Transmit> t =
        server_.HandleRequest(now_, from, kGateway, kLanAddress, request);
    const auto& after = server_.counters();
    const uint64_t dropped_before = before.dropped_malformed + before.dropped_not_offered;
    const uint64_t dropped_after = after.dropped_malformed + after.dropped_not_offered;
    if (!t) {
      FUZZ_CHECK(dropped_after == dropped_before + 1);
    } else {
      FUZZ_CHECK(dropped_after == dropped_before);
      CheckAnswer(from, request, *t);
    }
    Check();
  }

  void Reboot() {
    server_.Reboot(now_);
    table_.Reboot(now_, std::nullopt, server_.config().keep_on_reboot);
    if (!server_.config().keep_on_reboot) leases_.clear();
    Check();
  }

  void SetConfig(const PortMappingConfig& config) { server_.SetConfig(config); }

  void Outbound(Protocol protocol, const Endpoint& inside) {
    table_.Outbound(now_, protocol, inside, kRemote);
    Check();
  }

  Timestamp now() const { return now_; }
  const PortMappingConfig& config() const { return server_.config(); }

 private:
  void CheckAnswer(const Endpoint& from, ByteView request, const Transmit& t) {
    const IpAddress source =
        server_.config().answer_from == AnswerFrom::kGateway ? kGateway : kLanAddress;
    FUZZ_CHECK(t.source == Endpoint(source, portmap::kServerPort));
    FUZZ_CHECK(t.destination == from);
    const Bytes& a = t.payload;
    FUZZ_CHECK(a.size() >= 8 && request.size() >= 2);
    FUZZ_CHECK(a[1] == (request[1] | pmp::kResponseBit));
    const uint32_t epoch = server_.Epoch(now_);

    if (a[0] == pmp::kVersion) {
      const auto r = pmp::DecodeResponse(a);
      FUZZ_CHECK(r);
      if (r->result == pmp::ResultCode::kUnsupportedOpcode) {
        // RFC 6886 3.5's echo of an opcode no client sends: the request
        // back (its bytes 4-7 too, when it had them).
        FUZZ_CHECK(request[0] == pmp::kVersion && request[1] > pmp::kOpMapTcp);
        if (request.size() >= 8) {
          FUZZ_CHECK(a.size() == request.size() && ByteView(a).sub(4) == request.sub(4));
          return;
        }
      }
      FUZZ_CHECK(r->epoch_seconds == epoch);
      if (r->result != pmp::ResultCode::kSuccess || r->opcode == pmp::kOpExternalAddress) return;
      // A map answer: what the request asked, at the requester's own address.
      const auto q = pmp::DecodeRequest(request);
      FUZZ_CHECK(q && q->opcode == r->opcode && r->has_body);
      FUZZ_CHECK(r->internal_port == q->map.internal_port);
      const Protocol protocol = r->opcode == pmp::kOpMapUdp ? Protocol::kUdp : Protocol::kTcp;
      Granted(LeaseKey{protocol, Endpoint(from.ip, r->internal_port)},
              Endpoint(kPublic, r->external_port), q->map.lifetime_seconds, r->lifetime_seconds);
      return;
    }

    FUZZ_CHECK(a[0] == pcp::kVersion);
    const auto r = pcp::DecodeResponse(a);
    FUZZ_CHECK(r);
    FUZZ_CHECK(r->epoch_seconds == epoch);
    if (r->result != pcp::ResultCode::kSuccess || r->opcode != pcp::kOpMap) return;
    const auto q = pcp::DecodeRequest(request);
    FUZZ_CHECK(q && q->opcode == pcp::kOpMap && q->map && r->map);
    // Granted only to the address the packet came from.
    FUZZ_CHECK(q->client_ip == from.ip);
    FUZZ_CHECK(r->map->internal_port == q->map->internal_port &&
               r->map->nonce == q->map->nonce && r->map->protocol == q->map->protocol);
    FUZZ_CHECK(r->map->protocol == pcp::kProtocolUdp || r->map->protocol == pcp::kProtocolTcp);
    const Protocol protocol = r->map->protocol == pcp::kProtocolUdp ? Protocol::kUdp
                                                                    : Protocol::kTcp;
    const Endpoint external =
        r->lifetime_seconds == 0 ? Endpoint() : Endpoint(r->map->external_ip, r->map->external_port);
    Granted(LeaseKey{protocol, Endpoint(from.ip, r->map->internal_port)}, external,
            q->lifetime_seconds, r->lifetime_seconds);
  }

  // A successful map answer: a lease of `granted` seconds (0: deleted).
  void Granted(const LeaseKey& key, const Endpoint& external, uint32_t asked, uint32_t granted) {
    if (asked == 0) {
      FUZZ_CHECK(granted == 0);
      FUZZ_CHECK(!table_.PortMapped(key.first, key.second));
      leases_.erase(key);
      return;
    }
    FUZZ_CHECK(granted >= 1 && granted <= asked);
    if (server_.config().lease_limit) {
      const int64_t limit = server_.config().lease_limit->nanos() / 1000000000;
      FUZZ_CHECK(static_cast<int64_t>(granted) <= std::max<int64_t>(limit, 1));
    }
    FUZZ_CHECK(external.ip == kPublic && external.port != 0);
    // A renewal (of a lease that has not run out) keeps the port.
    if (auto it = leases_.find(key); it != leases_.end() && it->second.until > now_) {
      FUZZ_CHECK(it->second.external == external);
    }
    leases_[key] = Lease{external, now_ + Duration::Seconds(granted)};
  }

  // The table holds exactly the granted leases that have not run out.
  void Check() {
    if (table_.NextExpiry() <= now_) table_.Expire(now_);
    for (auto it = leases_.begin(); it != leases_.end();) {
      it = it->second.until <= now_ ? leases_.erase(it) : std::next(it);
    }
    FUZZ_CHECK(table_.port_mapping_count() == leases_.size());
    for (const auto& [key, lease] : leases_) {
      const auto mapped = table_.PortMapped(key.first, key.second);
      FUZZ_CHECK(mapped && *mapped == lease.external);
    }
  }

  DeterministicRandom rng_{1};
  NatTable table_;
  PortMappingServer server_;
  Timestamp now_ = Timestamp::Zero();
  std::map<LeaseKey, Lease> leases_;
};

PortMappingConfig ConsumeConfig(FuzzedDataProvider& in) {
  PortMappingConfig c;
  c.pmp = in.ConsumeBool();
  c.pcp = in.ConsumeBool();
  if (in.ConsumeBool()) c.lease_limit = Duration::Seconds(in.ConsumeIntegralInRange<int64_t>(0, 7200));
  c.error = static_cast<PortMappingError>(in.ConsumeIntegralInRange<int>(0, 3));
  c.answer_from = in.ConsumeBool() ? AnswerFrom::kLanAddress : AnswerFrom::kGateway;
  c.keep_on_reboot = in.ConsumeBool();
  return c;
}

uint32_t ConsumeLifetime(FuzzedDataProvider& in) {
  // Mostly short leases (so they run out within a script), sometimes any.
  return in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 300)
                          : in.ConsumeIntegral<uint32_t>();
}

pcp::Nonce ConsumeNonce(FuzzedDataProvider& in) {
  // Two nonces, so a delete can carry the mapping's or another.
  pcp::Nonce n{};
  n[0] = in.ConsumeBool() ? 1 : 2;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const auto& presets = NatPresets();
  const NatConfig nat = presets[in.ConsumeIntegralInRange<size_t>(0, presets.size() - 1)].config;
  World world(nat, ConsumeConfig(in));
  while (in.remaining_bytes() > 0) {
    const int op = in.ConsumeIntegralInRange<int>(0, 7);
    const IpAddress host = kHosts[in.ConsumeIntegralInRange<size_t>(0, 2)];
    const Endpoint from(host, in.ConsumeBool() ? 41641 : in.ConsumeIntegral<uint16_t>());
    // Internal ports from a small set, so requests meet each other's leases.
    const uint16_t port = in.ConsumeBool() ? 41641 : in.ConsumeIntegral<uint16_t>();
    switch (op) {
      case 0:
        world.Advance(Duration::Millis(in.ConsumeIntegralInRange<int64_t>(0, 400000)));
        break;
      case 1: {
        const Bytes d = in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange<size_t>(0, 120));
        world.Request(from, d);
        break;
      }
      case 2: {
        pmp::MapRequest m;
        m.opcode = in.ConsumeBool() ? pmp::kOpMapUdp : pmp::kOpMapTcp;
        m.internal_port = port;
        m.suggested_external_port = in.ConsumeIntegral<uint16_t>();
        m.lifetime_seconds = ConsumeLifetime(in);
        world.Request(from, pmp::EncodeMapRequest(m));
        break;
      }
      case 3: {
        pcp::Request r;
        r.opcode = pcp::kOpMap;
        r.lifetime_seconds = ConsumeLifetime(in);
        // Mostly the sender's own address; sometimes a neighbour's.
        r.client_ip = in.ConsumeBool() ? from.ip : kHosts[in.ConsumeIntegralInRange<size_t>(0, 2)];
        pcp::MapData m;
        m.nonce = ConsumeNonce(in);
        const uint8_t protocols[] = {pcp::kProtocolUdp, pcp::kProtocolTcp, 0, 1};
        m.protocol = protocols[in.ConsumeIntegralInRange<size_t>(0, 3)];
        m.internal_port = port;
        m.external_port = in.ConsumeIntegral<uint16_t>();
        m.external_ip = in.ConsumeBool() ? kPublic : IpAddress::V4(0, 0, 0, 0);
        r.map = m;
        world.Request(from, pcp::EncodeRequest(r));
        break;
      }
      case 4:
        if (in.ConsumeBool()) {
          world.Request(from, pmp::EncodeExternalAddressRequest());
        } else {
          pcp::Request r;
          r.client_ip = from.ip;
          world.Request(from, pcp::EncodeRequest(r));
        }
        break;
      case 5:
        world.Reboot();
        break;
      case 6:
        world.SetConfig(ConsumeConfig(in));
        break;
      default:
        world.Outbound(in.ConsumeBool() ? Protocol::kUdp : Protocol::kTcp, Endpoint(host, port));
        break;
    }
  }
  return 0;
}
