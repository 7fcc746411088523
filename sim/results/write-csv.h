// latency.csv: one row per probe, delivered or not, in the order they were
// sent:
//
//   time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms
//
// time_s (6 decimals) when src sent it; seq its number in its flow; path the
// probe's leg (the path src sent it on: direct, local, derp, or none when src
// had no path and dropped it); echo_path the echo's leg (the path it arrived
// on); round_trip both legs judged together (direct, local, derp, mixed —
// RoundTripPath), or `lost` when no echo came back, or `in-flight` when none
// came back but the probe was sent in the last 2 s of the run (the verdicts
// do not count those as lost); rtt_ms (3 decimals). echo_path and rtt_ms are
// empty for lost and in-flight probes.
#pragma once

#include <string>

#include "results/results.h"

namespace punchlab {
namespace results {

constexpr const char* kLatencyCsvHeader = "time_s,src,dst,seq,path,echo_path,round_trip,rtt_ms";

std::string LatencyCsvText(const Results& results);

}  // namespace results
}  // namespace punchlab
