// What a scenario run produced, in either world (ns-3 or the real lab): the
// raw observations a runner records, and the verdicts computed from them.
// Runners (sim/run-sim, sim/run-real) fill the observation fields;
// EvaluateExpectations (evaluate.h) fills `expectations` and `pairs` from
// them, the same code for both worlds. Writers (write-*.h) turn a Results
// into results.json, latency.csv and junit.xml; ReadResultsJson reads
// results.json back (compare, matrix, the Python package).
//
// Times are since the start of the run. Node names are the scenario's.
// Everything here is deterministic for a simulated run: vectors are in the
// order things happened (ties broken by the runner deterministically), maps
// are ordered.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "punchlab/time.h"
#include "scenario/scenario.h"

namespace punchlab {
namespace results {

using scenario::PathKind;  // direct, derp, local, none, asymmetric (scenario.h)

// The path of one round trip, judged by both legs: the probe's (the path its
// sender sent it on) and the echo's (the path it arrived on back at the
// sender). direct/local/derp when both legs took it (direct and local mixed
// count as direct: no relay either way), mixed when one leg was relayed and
// the other not.
enum class RoundTripPath : uint8_t { kDirect, kDerp, kLocal, kMixed };
const char* ToString(RoundTripPath p);  // direct, derp, local, mixed

enum class Mode : uint8_t { kSimulation, kReal };
const char* ToString(Mode m);  // "simulation", "real"

// Node `node` switched the path its data to `peer` takes.
struct PathChange {
  Duration at;
  std::string node;
  std::string peer;
  PathKind path = PathKind::kNone;
  std::string detail;  // "direct 198.51.100.2:41641", "derp 1", "none"
  std::string reason;  // node::PathChangeReasonName, or "start", "restart", "stopped"
};

// One traffic packet (a probe): sent by `src` to `dst`; `dst` echoes it back
// on whatever path it uses; the round trip completes when the echo arrives.
struct Probe {
  Duration sent_at;
  std::string src;
  std::string dst;
  uint64_t seq = 0;                     // per (src, dst) flow, from 0
  PathKind path = PathKind::kNone;      // the probe's leg: the path src sent it on
  std::optional<Duration> echoed_at;    // unset: lost (or still in flight at stop)
  PathKind echo_path = PathKind::kNone; // the echo's leg: the path it arrived on at src
  Duration Rtt() const { return echoed_at ? *echoed_at - sent_at : Duration::Zero(); }
  // Both legs; nullopt while unechoed.
  std::optional<RoundTripPath> RoundTrip() const;
  // Both legs crossed the direct (or local) path.
  bool CrossedDirectBothWays() const;
};

// What one step of the disco log is (DiscoStep).
enum class DiscoStepKind : uint8_t {
  kPingSent,
  kPingReceived,
  kPongSent,
  kPongReceived,
  kCallMeMaybeSent,
  kCallMeMaybeReceived,
  kCandidate,  // the node learned an endpoint of the peer to try
  kTrust,      // a direct endpoint became trusted (a pong) or stopped being so
  kPath,       // the node moved its data to the peer onto another path
  kHandshake,  // a WireGuard handshake completed (data_plane wireguard)
  kPortMap,    // the node's port mapping at its gateway: probe, grant, renewal, loss,
               // release, failure (peer ""; via the protocol; endpoint the mapped one)
};
// "ping-sent", "ping-received", "pong-sent", "pong-received",
// "call-me-maybe-sent", "call-me-maybe-received", "candidate", "trust", "path",
// "handshake", "portmap".
const char* ToString(DiscoStepKind k);
std::optional<DiscoStepKind> ParseDiscoStepKind(const std::string& text);

// One step of the disco log: what `node` did or saw toward `peer`, and why.
// A ping's sent and received steps share their txid, so a reader can follow
// it (and see what a NAT did to it: the receiver's `endpoint` is where it
// came from after translation; no received step means it was dropped).
struct DiscoStep {
  Duration at;
  std::string node;
  std::string peer;
  DiscoStepKind what = DiscoStepKind::kPingSent;
  // Messages: "udp" or "derp <region>" (how it went or came); else "".
  std::string via;
  // Over UDP, where a message went to or came from; the candidate; the
  // endpoint whose trust changed; the path taken ("direct <ep>", "derp 1",
  // "none"). "" for messages over DERP.
  std::string endpoint;
  std::string txid;    // pings and pongs: 24 hex digits; else ""
  std::string reason;  // why, in words: "heartbeat", "rtt 20ms", "trust expired", ...
};

// What the lab's wire delivered from one node to another in one 100 ms bin
// (real lab): `path` direct (from the sender's public side: its outermost
// NAT, or itself when public), local (from its own address, on a LAN both
// share) or derp (from a known relay, a DERP server or a program node with
// relay: true, that the sender had sent to). Counted where the packets
// reached the receiver: its own link.
struct WireSample {
  Duration at;  // the bin's start
  std::string from;
  std::string to;
  PathKind path = PathKind::kNone;
  uint64_t packets = 0;
  uint64_t bytes = 0;
};

// One of the scenario's timed events (faults), for plots and reports:
// "nat home reboot", "firewall fw set block_udp=false". Copied from the
// scenario by EvaluateExpectations, the same for both worlds.
struct EventMark {
  Duration at;
  std::optional<Duration> until;  // when `for` undoes it
  std::string what;
};

// Named counters of one box or node: "nat/home" -> {"translated": 812, ...},
// "node/alice" -> {"disco_pings_sent": 31, ...}, "derp/fra" -> {...}.
using CounterGroups = std::map<std::string, std::map<std::string, uint64_t>>;

// A program node's process run (real lab, scenario.h Program): how it ended
// and what it printed. One per process run (a restart starts another).
struct ProgramReport {
  enum class Status : uint8_t {
    kRan,           // ran until the runner stopped it (at stop_time or for a restart)
    kExited,        // exited by itself before it was stopped
    kNeverStarted,  // could not be executed (not found, not executable)
    kOutputFlood,   // wrote more than max_output; killed
  };
  std::string node;
  std::string command;  // as started, facts filled in
  Status status = Status::kRan;
  Duration started_at;
  std::optional<Duration> exited_at;  // kExited/kOutputFlood: when the runner saw it end
  std::optional<int> exit_code;       // its exit status, 128 + signal when killed
  std::string detail;                 // why it never started, or the end of its stderr
  uint64_t output_bytes = 0;          // stdout + stderr
  // Per Program::expect_output pattern: the first line that matched.
  std::vector<std::optional<std::string>> output_matches;
  // Packets it sent per second, the most over any 100 ms the wire counted.
  uint64_t peak_packet_rate = 0;
  std::optional<Duration> peak_at;
  // The program's own view, if it printed one (sim/run-real/README.md,
  // "A program's own view"): from `at` on it says its path to `peer` is `path`.
  struct ReportedPath {
    Duration at;
    std::string peer;
    PathKind path = PathKind::kNone;
  };
  std::vector<ReportedPath> reported_paths;
};
const char* ToString(ProgramReport::Status s);  // ran, exited, never-started, output-flood

struct ExpectationResult {
  scenario::SourcePos where;  // the entry in the scenario file
  std::string text;           // what was expected, in words: "alice-bob path direct by 20s"
  bool ok = false;
  std::string observed;       // what was seen, in words: "derp at 20s (direct from 23.4s)"
  std::optional<double> observed_value;  // seconds for times/RTTs, fraction for loss
};

struct RttPercentiles {
  uint64_t samples = 0;
  Duration min, p50, p90, p99, max;
};

// Per unordered pair of nodes that exchanged traffic (a < b by name order).
struct PairSummary {
  std::string a;
  std::string b;
  // When the pair's first probe (either way) was sent: the first send that
  // needed a path. Unset without traffic.
  std::optional<Duration> first_send;
  // When the first probe whose probe and echo both crossed the direct (or
  // local) path was sent; unset when none did.
  std::optional<Duration> direct_at;
  // direct_at - first_send: how long punching took as the traffic saw it.
  std::optional<Duration> time_to_direct;
  PathKind final_path = PathKind::kNone;  // the pair's path state at stop_time
  // Per round-trip path (both legs), over echoed probes: a relayed figure
  // holds only round trips relayed both ways; mixed ones are kept apart.
  std::map<RoundTripPath, RttPercentiles> rtt;
  uint64_t probes_sent = 0;
  uint64_t probes_lost = 0;
};

struct Results {
  // Inputs.
  std::string scenario;  // the scenario's name
  std::string file;
  std::string description;
  uint64_t seed = 0;
  Mode mode = Mode::kSimulation;
  Duration stop_time;

  // Observations (runners fill these).
  std::vector<PathChange> timeline;
  std::vector<Probe> probes;
  // Every disco step of every node, in the order they happened; empty when
  // the scenario turned the log off (`disco_log: false`).
  std::vector<DiscoStep> disco_log;
  CounterGroups counters;
  // Things the runner could not do as written (e.g. a real-lab limitation),
  // in words. Never silent.
  std::vector<std::string> notes;
  // Real lab only: what the wire delivered between nodes, by bin (then from,
  // to, path).
  std::vector<WireSample> wire;
  // Real lab only: program nodes' process runs, in start order.
  std::vector<ProgramReport> programs;
  // Simulation only: how much work the run was (for `punchlab bench`).
  uint64_t events_executed = 0;

  // Verdicts (EvaluateExpectations fills these).
  std::vector<EventMark> events;  // the scenario's events, in file order
  std::vector<ExpectationResult> expectations;
  std::vector<PairSummary> pairs;

  bool AllExpectationsOk() const;
};

}  // namespace results
}  // namespace punchlab
