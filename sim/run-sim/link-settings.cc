#include "run-sim/link-settings.h"

#include <algorithm>
#include <cmath>

namespace punchlab {
namespace runsim {

LinkParams CombineLink(const scenario::Link& own, const scenario::Link* internet) {
  LinkParams p;
  p.latency = own.latency;
  p.jitter = own.jitter;
  p.loss = own.loss;
  p.bandwidth_bps = own.bandwidth_bps;
  if (internet == nullptr) return p;
  p.latency = p.latency + internet->latency / 2;
  p.jitter = p.jitter + internet->jitter / 2;
  const double half_loss = 1.0 - std::sqrt(1.0 - internet->loss);
  p.loss = 1.0 - (1.0 - p.loss) * (1.0 - half_loss);
  if (internet->bandwidth_bps != 0) {
    p.bandwidth_bps = p.bandwidth_bps == 0 ? internet->bandwidth_bps
                                           : std::min(p.bandwidth_bps, internet->bandwidth_bps);
  }
  return p;
}

}  // namespace runsim
}  // namespace punchlab
