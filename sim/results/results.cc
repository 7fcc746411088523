#include "results/results.h"

#include <algorithm>

namespace punchlab {
namespace results {

const char* ToString(Mode m) {
  switch (m) {
    case Mode::kSimulation: return "simulation";
    case Mode::kReal: return "real";
  }
  return "?";
}

const char* ToString(RoundTripPath p) {
  switch (p) {
    case RoundTripPath::kDirect: return "direct";
    case RoundTripPath::kDerp: return "derp";
    case RoundTripPath::kLocal: return "local";
    case RoundTripPath::kMixed: return "mixed";
  }
  return "?";
}

namespace {
bool IsDirectLeg(PathKind p) { return p == PathKind::kDirect || p == PathKind::kLocal; }
}  // namespace

std::optional<RoundTripPath> Probe::RoundTrip() const {
  if (!echoed_at) return std::nullopt;
  if (path == PathKind::kDerp && echo_path == PathKind::kDerp) return RoundTripPath::kDerp;
  if (path == PathKind::kLocal && echo_path == PathKind::kLocal) return RoundTripPath::kLocal;
  if (IsDirectLeg(path) && IsDirectLeg(echo_path)) return RoundTripPath::kDirect;
  return RoundTripPath::kMixed;
}

bool Probe::CrossedDirectBothWays() const {
  const std::optional<RoundTripPath> trip = RoundTrip();
  return trip == RoundTripPath::kDirect || trip == RoundTripPath::kLocal;
}

bool Results::AllExpectationsOk() const {
  return std::all_of(expectations.begin(), expectations.end(),
                     [](const ExpectationResult& e) { return e.ok; });
}

}  // namespace results
}  // namespace punchlab
