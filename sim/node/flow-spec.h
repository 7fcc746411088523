// One probe flow of `punchlab-node node --flow SPEC`: the scenario runner
// (sim/run-real) writes the text, the node parses it. Both sides use this
// file, so the format has exactly one definition.
//
// SPEC: comma-separated key=value items, every key but turn and idle exactly
// once (turn at most once):
//
//   id=0,to=nodekey:HEX,start=5s,stop=60s,every=100ms,size=200[,turn=500ms][,idle=20s+60s]...
//
//   id     the flow number carried in every probe (results/probe.h), 0..2^32-1
//   to     the peer's node key
//   start  the first probe, counted from the run's start instant (--epoch-unix-ns)
//   stop   no probe at or after this instant
//   every  time between probes, at least 1ms
//   size   payload bytes (a probe is never shorter than its 16-byte header)
//   turn   the sender's turn (default 0s), already in start and idle: the
//          flow starts no earlier than the node's up + turn (probe-schedule.h)
//   idle   AT+FOR: no probes in [AT, AT+FOR); repeatable, gaps must not overlap
//
// Durations as Duration::Parse reads them ("100ms", "1.5s"). start, stop,
// every, turn and idle are a scenario::ProbeSchedule (scenario/meaning/
// probe-schedule.h), the ns-3 runner's schedule. A node process that starts
// late (a restart) resumes with the next probe due, keeping its number, so
// sequence numbers stay unique per flow across restarts (the ones due while
// no process ran are never sent).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "punchlab/crypto/keys.h"
#include "scenario/meaning/probe-schedule.h"

namespace punchlab::cli {

struct FlowSpec {
  uint32_t id = 0;
  NodePublicKey to;
  scenario::ProbeSchedule schedule;  // idle=AT+FOR is the gap [AT, AT+FOR)
  size_t size = 200;
};

// The text ParseFlowSpec reads back.
std::string FormatFlowSpec(const FlowSpec& flow);
// nullopt with `error` set (a sentence naming the bad item) when `text` is not a SPEC.
std::optional<FlowSpec> ParseFlowSpec(const std::string& text, std::string& error);

}  // namespace punchlab::cli
