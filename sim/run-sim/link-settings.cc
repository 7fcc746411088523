#include "run-sim/link-settings.h"

#include <algorithm>
#include <cmath>

namespace punchlab {
namespace runsim {

namespace {
// Per-end loss that makes crossing both ends lose `loss`.
double HalfLoss(double loss) { return 1.0 - std::sqrt(1.0 - loss); }
}  // namespace

LinkParams CombineLink(const scenario::Link& own, const scenario::Link* internet) {
  LinkParams p;
  p.latency = own.latency;
  p.jitter = own.jitter;
  p.loss = own.loss;
  p.bandwidth_bps = own.bandwidth_bps;
  if (internet == nullptr) return p;
  p.latency = p.latency + internet->latency / 2;
  p.jitter = p.jitter + internet->jitter / 2;
  p.loss = 1.0 - (1.0 - p.loss) * (1.0 - HalfLoss(internet->loss));
  if (internet->bandwidth_bps != 0) {
    p.bandwidth_bps = p.bandwidth_bps == 0 ? internet->bandwidth_bps
                                           : std::min(p.bandwidth_bps, internet->bandwidth_bps);
  }
  return p;
}

std::pair<LinkParams, LinkParams> SplitLink(const scenario::Link& own) {
  LinkParams first;
  first.latency = own.latency / 2;
  first.jitter = own.jitter / 2;
  first.loss = HalfLoss(own.loss);
  first.bandwidth_bps = own.bandwidth_bps;
  LinkParams second = first;
  second.latency = own.latency - first.latency;
  second.jitter = own.jitter - first.jitter;
  return {first, second};
}

}  // namespace runsim
}  // namespace punchlab
