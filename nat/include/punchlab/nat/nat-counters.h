// What a NAT table did, for hosts to expose as counters and for tests to
// assert on. Every refused packet lands in exactly one drop counter.
#pragma once

#include <cstdint>

namespace punchlab {
namespace nat {

struct NatCounters {
  // Packets passed.
  uint64_t translated_outbound = 0;
  uint64_t translated_inbound = 0;
  uint64_t hairpinned = 0;  // outbound looped back to an inside host (not in translated_*)
  // Packets dropped.
  uint64_t filtered = 0;             // filtering refused the remote (inbound or hairpin leg)
  uint64_t no_mapping = 0;           // to an external port nobody holds
  uint64_t pool_exhausted = 0;       // a new mapping found no free external port
  uint64_t no_external_address = 0;  // no external address of the inside source's family
  uint64_t hairpin_refused = 0;      // to the NAT's own external address, hairpinning off
  // Mappings and flows.
  uint64_t mappings_created = 0;
  uint64_t mappings_expired = 0;  // idle timeout ran out
  uint64_t mappings_lost = 0;     // wiped by a reboot
  uint64_t flows_expired = 0;
  uint64_t reboots = 0;
};

// Port-mapping leases (NAT-PMP, PCP) in the table: kept apart from
// NatCounters, which every NAT reports whether it offers port mapping or not.
struct PortMappingCounters {
  uint64_t leases_granted = 0;  // new explicit mappings
  uint64_t leases_renewed = 0;  // an existing one's lease extended
  uint64_t leases_deleted = 0;  // released by the client
  uint64_t leases_expired = 0;  // ran out
  uint64_t leases_lost = 0;     // wiped by a reboot
  uint64_t leases_kept = 0;     // survived a reboot (a router that stores them)
};

}  // namespace nat
}  // namespace punchlab
