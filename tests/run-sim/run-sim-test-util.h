// Shared by the run-sim suites: run a scenario given as YAML text in ns-3 and
// look at what came out.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "results/results.h"
#include "results/run-options.h"
#include "run-sim/run-sim.h"
#include "scenario/loader.h"

namespace punchlab::runsim::testing {

inline scenario::Scenario LoadOk(const std::string& yaml) {
  scenario::LoadResult r = scenario::LoadScenarioText(yaml, "t.yaml");
  for (const scenario::Diagnostic& d : r.errors) ADD_FAILURE() << d.ToString();
  return r.scenario.value_or(scenario::Scenario{});
}

inline results::Results RunYaml(const std::string& yaml, results::RunOptions options = {}) {
  return RunInSimulation(LoadOk(yaml), options);
}

// The summary of the pair (either order); fails the test when there is none.
inline results::PairSummary Pair(const results::Results& r, const std::string& x,
                                 const std::string& y) {
  for (const results::PairSummary& p : r.pairs) {
    if ((p.a == x && p.b == y) || (p.a == y && p.b == x)) return p;
  }
  ADD_FAILURE() << "no pair " << x << " - " << y;
  return {};
}

// Median RTT in milliseconds of round trips over `path` (both legs), or -1
// without samples.
inline double P50Ms(const results::PairSummary& p, results::RoundTripPath path) {
  const auto it = p.rtt.find(path);
  return it == p.rtt.end() ? -1 : it->second.p50.millis();
}

inline uint64_t Counter(const results::Results& r, const std::string& group,
                        const std::string& name) {
  const auto g = r.counters.find(group);
  if (g == r.counters.end()) return 0;
  const auto c = g->second.find(name);
  return c == g->second.end() ? 0 : c->second;
}

// Probes sent by `src` in [from, until) and how many of them came back.
struct ProbeCount {
  size_t sent = 0;
  size_t echoed = 0;
};
inline ProbeCount Probes(const results::Results& r, const std::string& src, double from_s,
                         double until_s) {
  ProbeCount c;
  for (const results::Probe& p : r.probes) {
    const double t = p.sent_at.seconds();
    if (p.src != src || t < from_s || t >= until_s) continue;
    ++c.sent;
    if (p.echoed_at) ++c.echoed;
  }
  return c;
}

// The timeline entries of `node` towards `peer`, in order.
inline std::vector<results::PathChange> Timeline(const results::Results& r,
                                                 const std::string& node,
                                                 const std::string& peer) {
  std::vector<results::PathChange> out;
  for (const results::PathChange& c : r.timeline) {
    if (c.node == node && c.peer == peer) out.push_back(c);
  }
  return out;
}

// Two nodes, each behind its own NAT of the given presets, alice probing bob
// from 1 s: once both are on DERP, so WireGuard's first handshake is not
// the one the relay drops for a peer not yet connected (retried 5 s later).
inline std::string PairYaml(const std::string& nat_a, const std::string& nat_b,
                            const std::string& extra = "") {
  return "stop_time: 30s\n"
         "internet: {latency: 20ms}\n"
         "derp: {regions: [{id: 1, name: fra, latency: 10ms}]}\n"
         "nats:\n"
         "  home: {preset: " + nat_a + "}\n"
         "  office: {preset: " + nat_b + "}\n"
         "nodes:\n"
         "  alice: {behind: home}\n"
         "  bob: {behind: office}\n"
         "traffic:\n"
         "  - {from: alice, to: bob, start: 1s, every: 200ms}\n" + extra;
}

}  // namespace punchlab::runsim::testing
