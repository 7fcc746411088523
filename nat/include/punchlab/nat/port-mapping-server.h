// The router's NAT-PMP (RFC 6886) and PCP (RFC 6887) server: answers a
// datagram sent to the gateway's port 5351 and grants mappings as real
// entries of the NAT's table (NatTable::MapPort: endpoint-independent,
// held for the lease). One model for ns-3's NAT middlebox and the tests'
// virtual world; what it does is the knobs' (port-mapping.h):
//
// * Only the offered protocols answer. Asked in the other one, a server
//   answers "unsupported version" in its own format (RFC 6887 section 9):
//   a NAT-PMP-only router answers a PCP request with the 8-byte NAT-PMP
//   header, a PCP-only router a NAT-PMP request with a PCP header. Neither
//   offered: nothing listens, nothing answers.
// * A lease is what was asked, capped by `lease_limit`. Lifetime 0 deletes;
//   PCP deletes only with the mapping's nonce (RFC 6887 15; miniupnpd's
//   "Unauthorized to remove PCP mapping", tailscale#21127). A renewal with a
//   new nonce takes the new one.
// * `error` refuses every map request with its result code; the NAT-PMP
//   address request and PCP ANNOUNCE still succeed.
// * The epoch is seconds since the router's (re)boot (Reboot).
// * PCP checks the client's address against the packet's source
//   (ADDRESS_MISMATCH, RFC 6887 8.3), refuses protocols other than UDP and
//   TCP, and answers opcodes it does not know with UNSUPP_OPCODE. What
//   neither codec reads is dropped and counted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "punchlab/bytes.h"
#include "punchlab/endpoint.h"
#include "punchlab/nat/nat-table.h"
#include "punchlab/nat/port-mapping.h"
#include "punchlab/portmap/pcp.h"
#include "punchlab/portmap/pmp.h"
#include "punchlab/time.h"
#include "punchlab/transmit.h"

namespace punchlab {
namespace nat {

struct PortMappingServerCounters {
  uint64_t pmp_requests = 0;
  uint64_t pcp_requests = 0;
  uint64_t granted = 0;               // map requests answered with a lease
  uint64_t deleted = 0;               // lifetime-0 requests that ended a lease
  uint64_t refused = 0;               // map requests answered with the `error` knob's code
  uint64_t out_of_resources = 0;      // no free port for the mapping
  uint64_t unsupported_version = 0;   // a protocol this router does not offer
  uint64_t unsupported = 0;           // unknown opcode or protocol, malformed PCP request or option
  uint64_t address_mismatch = 0;      // PCP client address is not the packet's source
  uint64_t delete_not_authorized = 0; // PCP delete with another nonce
  uint64_t dropped_malformed = 0;     // neither codec reads it: no answer
  uint64_t dropped_not_offered = 0;   // neither protocol offered: nothing listens
};

class PortMappingServer {
 public:
  // `table` (kept by reference) is the NAT's. The router booted at `boot`.
  PortMappingServer(PortMappingConfig config, NatTable& table, Timestamp boot);

  // A datagram from inside host `from` to `gateway`:5351 (the router's
  // address on that LAN, where clients send); the answer, if any. With
  // AnswerFrom::kLanAddress it comes from `lan_address`:5351 instead.
  std::optional<Transmit> HandleRequest(Timestamp now, const Endpoint& from,
                                        const IpAddress& gateway, const IpAddress& lan_address,
                                        ByteView request);

  // The router restarted: the epoch starts again. (The table's reboot is the
  // host's, with config().keep_on_reboot.)
  void Reboot(Timestamp now);
  void SetConfig(const PortMappingConfig& config) { config_ = config; }

  const PortMappingConfig& config() const { return config_; }
  const PortMappingServerCounters& counters() const { return counters_; }
  uint32_t Epoch(Timestamp now) const;

 private:
  Bytes HandlePmp(Timestamp now, const Endpoint& from, ByteView request, bool* answer);
  Bytes HandlePcp(Timestamp now, const Endpoint& from, ByteView request, bool* answer);
  // Grants or renews `inside`'s lease; nullopt when no port is free.
  std::optional<Endpoint> Grant(Timestamp now, Protocol protocol, const Endpoint& inside,
                                uint16_t suggested, uint32_t* lifetime_seconds);

  PortMappingConfig config_;
  NatTable& table_;
  Timestamp boot_;
  // PCP: each lease's nonce, by protocol and inside endpoint.
  std::map<std::pair<Protocol, Endpoint>, portmap::pcp::Nonce> nonces_;
  PortMappingServerCounters counters_;
};

}  // namespace nat
}  // namespace punchlab
