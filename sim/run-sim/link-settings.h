// What a simulated link does, from the scenario's settings.
//
// The internet is one channel that every public thing has an access link to,
// so a path between two public things crosses two access links. Each access
// link therefore carries its own settings plus half of the internet's:
// latency/2 and jitter/2 each, and a loss q per link with (1-q)^2 = 1-loss,
// so that crossing the internet end to end adds exactly the scenario's
// latency, up to its jitter and its loss. A bandwidth limit applies to each
// access link (the tighter of the link's and the internet's).
#pragma once

#include <cstdint>
#include <utility>

#include "scenario/scenario.h"

namespace punchlab {
namespace runsim {

// Settings a LinkChannel and its two devices apply.
struct LinkParams {
  Duration latency;
  Duration jitter;
  double loss = 0;
  uint64_t bandwidth_bps = 0;  // 0: unlimited
};

// `own`: the link's own settings; `internet`: set for an access link to the
// internet.
LinkParams CombineLink(const scenario::Link& own, const scenario::Link* internet);

// A wire's settings as its two ends' shares: latency and jitter halved (the
// second end takes the odd nanosecond), loss q per end with (1-q)^2 = 1-loss,
// the bandwidth on both (a wire serialises once, at the sender).
std::pair<LinkParams, LinkParams> SplitLink(const scenario::Link& own);

// What a device sends at when the link is "unlimited": fast enough that
// serialisation never matters (a 64 KiB datagram takes 5 us).
constexpr uint64_t kUnlimitedBps = 100'000'000'000ull;

}  // namespace runsim
}  // namespace punchlab
