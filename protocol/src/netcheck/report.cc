#include "punchlab/netcheck/report.h"

#include <set>

namespace punchlab {
namespace netcheck {

const char* ProbeOutcomeName(ProbeOutcome o) {
  switch (o) {
    case ProbeOutcome::kSuccess: return "success";
    case ProbeOutcome::kErrorResponse: return "error-response";
    case ProbeOutcome::kTimeout: return "timeout";
    case ProbeOutcome::kCancelled: return "cancelled";
  }
  return "?";
}

const char* ReportTriggerName(ReportTrigger t) {
  switch (t) {
    case ReportTrigger::kCommand: return "command";
    case ReportTrigger::kPeriodic: return "periodic";
    case ReportTrigger::kActivated: return "activated";
  }
  return "?";
}

std::optional<Duration> Report::Latency(RegionId id) const {
  auto it = region_latency.find(id);
  if (it == region_latency.end()) return std::nullopt;
  return it->second;
}

namespace {

void KeepBest(std::map<RegionId, Duration>& m, RegionId id, Duration d) {
  auto [it, inserted] = m.emplace(id, d);
  if (!inserted && d < it->second) it->second = d;
}

}  // namespace

void Summarize(const std::vector<Region>& regions, Report& report) {
  report.udp_blocked = true;
  report.ipv4 = report.ipv6 = false;
  report.global_v4.reset();
  report.global_v6.reset();
  report.mapping_varies_by_dest_ip.reset();
  report.region_latency.clear();
  report.region_v4_latency.clear();
  report.region_v6_latency.clear();
  report.unreachable_regions.clear();

  // IPv4 mapped endpoints per local endpoint: the first one seen, and the
  // servers that have answered, so that only answers from DIFFERENT servers to
  // the SAME socket are compared.
  struct Seen {
    Endpoint first;
    std::set<Endpoint> servers;
  };
  std::map<Endpoint, Seen> v4_by_local;

  for (const ProbeResult& p : report.probes) {
    if (p.outcome == ProbeOutcome::kSuccess || p.outcome == ProbeOutcome::kErrorResponse) {
      report.udp_blocked = false;
    }
    if (p.outcome != ProbeOutcome::kSuccess || !p.rtt || !p.mapped) continue;
    const Duration rtt = *p.rtt;
    KeepBest(report.region_latency, p.region, rtt);
    if (p.server.ip.is_v4()) {
      report.ipv4 = true;
      KeepBest(report.region_v4_latency, p.region, rtt);
    } else {
      report.ipv6 = true;
      KeepBest(report.region_v6_latency, p.region, rtt);
    }
    const Endpoint& mapped = *p.mapped;
    if (mapped.ip.is_v6()) {
      if (!report.global_v6) report.global_v6 = mapped;
      continue;
    }
    if (!report.global_v4) report.global_v4 = mapped;
    auto [it, first] = v4_by_local.emplace(p.local, Seen{mapped, {p.server}});
    if (first || !it->second.servers.insert(p.server).second) continue;
    if (mapped != it->second.first) {
      report.mapping_varies_by_dest_ip = true;
    } else if (!report.mapping_varies_by_dest_ip) {
      report.mapping_varies_by_dest_ip = false;
    }
  }

  for (const Region& r : regions) {
    if (report.region_latency.count(r.id) == 0) report.unreachable_regions.push_back(r.id);
  }
}

}  // namespace netcheck
}  // namespace punchlab
