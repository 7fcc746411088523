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

const char* ToString(ProgramReport::Status s) {
  switch (s) {
    case ProgramReport::Status::kRan: return "ran";
    case ProgramReport::Status::kExited: return "exited";
    case ProgramReport::Status::kNeverStarted: return "never-started";
    case ProgramReport::Status::kOutputFlood: return "output-flood";
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
constexpr DiscoStepKind kDiscoStepKinds[] = {
    DiscoStepKind::kPingSent,        DiscoStepKind::kPingReceived,
    DiscoStepKind::kPongSent,        DiscoStepKind::kPongReceived,
    DiscoStepKind::kCallMeMaybeSent, DiscoStepKind::kCallMeMaybeReceived,
    DiscoStepKind::kCandidate,       DiscoStepKind::kTrust,
    DiscoStepKind::kPath,            DiscoStepKind::kHandshake,       DiscoStepKind::kPortMap};
}  // namespace

const char* ToString(DiscoStepKind k) {
  switch (k) {
    case DiscoStepKind::kPingSent: return "ping-sent";
    case DiscoStepKind::kPingReceived: return "ping-received";
    case DiscoStepKind::kPongSent: return "pong-sent";
    case DiscoStepKind::kPongReceived: return "pong-received";
    case DiscoStepKind::kCallMeMaybeSent: return "call-me-maybe-sent";
    case DiscoStepKind::kCallMeMaybeReceived: return "call-me-maybe-received";
    case DiscoStepKind::kCandidate: return "candidate";
    case DiscoStepKind::kTrust: return "trust";
    case DiscoStepKind::kPath: return "path";
    case DiscoStepKind::kHandshake: return "handshake";
    case DiscoStepKind::kPortMap: return "portmap";
  }
  return "?";
}

std::optional<DiscoStepKind> ParseDiscoStepKind(const std::string& text) {
  for (DiscoStepKind k : kDiscoStepKinds) {
    if (text == ToString(k)) return k;
  }
  return std::nullopt;
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
