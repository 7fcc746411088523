// One probe flow of `punchlab-node node --flow SPEC`: the scenario runner
// (sim/run-real) writes the text, the node parses it. Both sides use this
// file, so the format has exactly one definition.
//
// SPEC: comma-separated key=value items, every key but idle exactly once:
//
//   id=0,to=nodekey:HEX,start=5s,stop=60s,every=100ms,size=200[,idle=20s+60s]...
//
//   id     the flow number carried in every probe (results/probe.h), 0..2^32-1
//   to     the peer's node key
//   start  the first probe, counted from the run's start instant (--epoch-unix-ns)
//   stop   no probe at or after this instant
//   every  time between probes, at least 1ms
//   size   payload bytes (a probe is never shorter than its 16-byte header)
//   idle   AT+FOR: no probes in [AT, AT+FOR); repeatable, gaps must not overlap
//
// Durations as Duration::Parse reads them ("100ms", "1.5s"). The schedule is
// the ns-3 runner's: the first probe at start, each next one `every` after the
// previous; one that would fall in an idle gap goes at the gap's end instead
// (and the schedule continues from there). Probes are numbered 0, 1, 2, ...
// in that order (seq). A node process that starts late (a restart) resumes
// with the next probe due, keeping its number, so sequence numbers stay
// unique per flow across restarts (the ones due while no process ran are
// never sent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/crypto/keys.h"
#include "punchlab/time.h"

namespace punchlab::cli {

struct FlowSpec {
  uint32_t id = 0;
  NodePublicKey to;
  Duration start;
  Duration stop;
  Duration every = Duration::Seconds(1);
  size_t size = 200;
  std::vector<std::pair<Duration, Duration>> idle;  // (at, for), sorted by at

  struct Slot {
    uint64_t seq = 0;
    Duration at;
  };
  // The first probe due at or after `t` (skipping idle gaps); nullopt when
  // the flow has none left.
  std::optional<Slot> SlotAtOrAfter(Duration t) const;
};

// The text ParseFlowSpec reads back.
std::string FormatFlowSpec(const FlowSpec& flow);
// nullopt with `error` set (a sentence naming the bad item) when `text` is not a SPEC.
std::optional<FlowSpec> ParseFlowSpec(const std::string& text, std::string& error);

}  // namespace punchlab::cli
