// What a simulated link does, from the scenario's settings.
//
// The internet is modelled as a core router that every public thing hangs
// off, so a path between two public things crosses two core links. Each core
// link therefore carries its own settings plus half of the internet's:
// latency/2 and jitter/2 each, and a loss q per link with (1-q)^2 = 1-loss,
// so that crossing the internet end to end adds exactly the scenario's
// latency, up to its jitter and its loss. A bandwidth limit applies to each
// core link (the tighter of the link's and the internet's).
#pragma once

#include <cstdint>

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

// `own`: the link's own settings; `internet`: set when the link attaches to
// the internet core.
LinkParams CombineLink(const scenario::Link& own, const scenario::Link* internet);

// What a device sends at when the link is "unlimited": fast enough that
// serialisation never matters (a 64 KiB datagram takes 5 us).
constexpr uint64_t kUnlimitedBps = 100'000'000'000ull;

}  // namespace runsim
}  // namespace punchlab
