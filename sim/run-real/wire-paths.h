// Paths judged by the wire: the lab's wire counts every IPv4 packet it
// delivers per link, direction, 100 ms bin, source and destination
// (link/wire-protocol.h `flows`). From the node links' counts this says
// which way each node's packets reached each other node, whatever program
// sent them. Pure: the runner hands in the wire's JSON and its epoch.
//
// A packet delivered to node X (X's own link, towards X) from source S is
//   local  from P   when S is P's own address and X and P share a LAN;
//   direct from P   when S is P's public side (its outermost NAT's address,
//                   or its own when public): it crossed between the two
//                   NATs' public sides, hole-punched;
//   derp   from P   when S is a known relay (a DERP server, a program node
//                   with relay: true) and P sent to that relay (P's link,
//                   away from P) within the path window before.
// A service program (service: true, a coordination server) is no end of a
// path: what it exchanges with the peers is not counted.
// Two peers behind one NAT share a public side: a hairpinned packet counts
// for each of them (the accounting keeps addresses, not ports).
//
// A program node's path toward P (its timeline, reason "wire") is, at time
// t, the best kind (direct or local, else derp, else none) of the packets
// delivered from it to P in the last path_window (scenario.h Program),
// at 100 ms resolution: a path starts at the start of the bin its first
// packet was delivered in and ends path_window after the end of its last.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "results/results.h"
#include "run-real/lab-plan.h"
#include "scenario/scenario.h"

namespace punchlab::runreal {

struct WireView {
  std::vector<results::WireSample> samples;  // by bin, then from, to, path
  std::vector<results::PathChange> timeline;  // program nodes only
  // Per node: the most packets it sent in one bin, as packets per second,
  // and that bin's start.
  std::map<std::string, std::pair<uint64_t, Duration>> peak_send_rate;
  uint64_t untracked = 0;  // packets the wire could not account (table full)
};

// `flows_json`: the wire's reply to `flows`; `epoch_monotonic_ms`: the run's
// t=0 on CLOCK_MONOTONIC. Throws std::invalid_argument on malformed JSON.
WireView ReadWireView(const scenario::Scenario& s, const LabPlan& plan,
                      const std::string& flows_json, int64_t epoch_monotonic_ms);

}  // namespace punchlab::runreal
