// The control lines of `punchlab-node wire`: the real lab (sim/lab/wire.h)
// writes one command per line to the wire's stdin; the wire answers each
// with one line on stdout starting with the command's sequence number.
//
//   <seq> link <name> <netns-a> <if-a> <netns-b> <if-b>
//        a TAP device <if-a> in network namespace <netns-a> (a name in
//        /run/netns or a path) and <if-b> in <netns-b>, joined by the wire;
//        both directions start unshaped.
//   <seq> shape <name> <ab|ba> <delay_ns> <jitter_ns> <loss> <rate_bps> <up|down>
//        what link <name> does from a to b (ab) or from b to a (ba) from now on.
//   <seq> stats
//        one JSON object: per link and direction the LinkModel counters.
//   <seq> flows
//        one JSON object: per link and direction the IPv4 packets and bytes
//        delivered, per 100 ms of CLOCK_MONOTONIC and source and destination
//        address: {"node-alice": {"ab": [[bin_ms, "src", "dst", packets,
//        bytes], ...], "ba": [...]}, ...}, bin_ms the bin's start in ms;
//        plus "untracked_ab"/"untracked_ba": packets delivered after the
//        table was full (kMaxFlowEntries).
//
//   reply: "<seq> ok", "<seq> ok <json>" (stats) or "<seq> error <sentence>".
//
// End of input ends the wire (and so its TAP devices). Pure text, unit-tested.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "link/link-model.h"

namespace punchlab::link {

struct WireLinkCommand {
  std::string name;
  std::string netns_a;
  std::string if_a;
  std::string netns_b;
  std::string if_b;
};
struct WireShapeCommand {
  std::string name;
  bool a_to_b = true;
  Shape shape;
};
struct WireStatsCommand {};
struct WireFlowsCommand {};

// The wire's per-address accounting (flows): its time bin, and how many
// (link, direction, bin, source, destination) entries it keeps at most.
inline constexpr int64_t kFlowBinNanos = 100'000'000;
inline constexpr size_t kMaxFlowEntries = 200'000;

struct WireCommand {
  uint64_t seq = 0;
  std::variant<WireLinkCommand, WireShapeCommand, WireStatsCommand, WireFlowsCommand> what;
};

std::string FormatWireCommand(const WireCommand& command);
// Throws std::invalid_argument with a sentence naming what is wrong.
WireCommand ParseWireCommand(const std::string& line);

struct WireReply {
  uint64_t seq = 0;
  bool ok = false;
  std::string text;  // the stats JSON, or the error sentence
};
std::string FormatWireReply(const WireReply& reply);
// nullopt for a line that is not a reply.
std::optional<WireReply> ParseWireReply(const std::string& line);

}  // namespace punchlab::link
