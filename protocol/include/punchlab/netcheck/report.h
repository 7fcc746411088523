// What one netcheck round finds out: per-region latency, the node's public
// endpoints, whether its NAT maps by destination, whether UDP works at all.
//
// `Region` is netcheck's own minimal view of a DERP region (id, name, STUN
// servers). The control plane's DerpMap is richer; the node converts it, so
// this area does not depend on control/.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/endpoint.h"
#include "punchlab/time.h"

namespace punchlab {
namespace netcheck {

// Region ids are positive; 0 means "no region" (no home yet).
using RegionId = int;
constexpr RegionId kNoRegion = 0;

struct Region {
  RegionId id = kNoRegion;
  std::string name;            // e.g. "fra", for logs
  std::vector<Endpoint> stun;  // the region's STUN servers (IPv4 and/or IPv6)
};

enum class ProbeOutcome : uint8_t {
  kSuccess,        // a binding success response with a mapped address
  kErrorResponse,  // the server answered with a STUN error
  kTimeout,        // no answer within the probe deadline
  kCancelled,      // still unanswered when the report was closed
};
const char* ProbeOutcomeName(ProbeOutcome o);

// One STUN transaction (first send plus its retransmissions) to one server.
struct ProbeResult {
  RegionId region = kNoRegion;
  Endpoint local;   // sent from
  Endpoint server;  // sent to
  uint32_t round = 1;  // 2: a retry because nothing at all answered round 1
  ProbeOutcome outcome = ProbeOutcome::kTimeout;
  Timestamp started;
  // kSuccess / kErrorResponse: measured from the FIRST send. Exact without
  // loss; when the first request was lost it overestimates, never
  // underestimates, so a lossy region looks worse rather than better
  // (timing from the last retransmission would make a region whose RTT
  // exceeds the 100 ms retransmit timer look closer than it is).
  std::optional<Duration> rtt;
  std::optional<Endpoint> mapped;  // kSuccess: the endpoint the server saw
  uint32_t retransmits = 0;
};

enum class ReportTrigger : uint8_t {
  kCommand,    // StartReport() (startup, link change, DERP map change)
  kPeriodic,   // the 20-26 s re-STUN timer while active
  kActivated,  // SetActive(true) after the last report went stale
};
const char* ReportTriggerName(ReportTrigger t);

struct Report {
  uint64_t sequence = 0;  // 1 for a machine's first report
  ReportTrigger trigger = ReportTrigger::kCommand;
  Timestamp started;
  Timestamp finished;

  // No server answered anything (neither success nor error) before the
  // report deadline.
  bool udp_blocked = true;
  bool ipv4 = false;  // an IPv4 STUN round trip succeeded
  bool ipv6 = false;  // an IPv6 STUN round trip succeeded
  // The mapped endpoint of the first successful answer of each family.
  std::optional<Endpoint> global_v4;
  std::optional<Endpoint> global_v6;
  // IPv4 only: true when two servers saw the same local endpoint under
  // different mapped endpoints (a "hard", endpoint-dependent NAT), false when
  // at least two servers saw the same one, nullopt with fewer answers.
  std::optional<bool> mapping_varies_by_dest_ip;

  // Best (lowest) latency per region that answered; a region absent here did
  // not answer in this report. Per family too.
  std::map<RegionId, Duration> region_latency;
  std::map<RegionId, Duration> region_v4_latency;
  std::map<RegionId, Duration> region_v6_latency;
  // Regions of the map that gave no successful answer, in map order.
  std::vector<RegionId> unreachable_regions;

  // The home region after this report (hysteresis applied; see
  // home-region.h). Unchanged from the previous report when nothing answered.
  RegionId home_region = kNoRegion;

  // Every probe, in the order they completed; cancelled ones last.
  std::vector<ProbeResult> probes;

  // nullopt: the region did not answer in this report.
  std::optional<Duration> Latency(RegionId id) const;
};

// Fills the summary fields (udp_blocked, ipv4/ipv6, global endpoints,
// mapping_varies_by_dest_ip, latencies, unreachable_regions) of `report`
// from its `probes`, for the regions of `regions`.
void Summarize(const std::vector<Region>& regions, Report& report);

}  // namespace netcheck
}  // namespace punchlab
