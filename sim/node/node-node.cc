// punchlab-node node: one punchlab Node (control client, netcheck, DERP,
// disco) on real sockets, printing what it does: path changes, registration,
// peers, DERP and data, one line per event (JSON with --json).
//
// Hosting. The Node is both a DatagramMachine (its UDP socket) and a
// StreamMachine (control and DERP over TCP); one realio::Host runs both faces
// with one drain rule and one timer (an input to either side can produce
// both: a netmap from control makes disco pings, a datagram a DERP write).
//
// Time. The host runs the Node on the monotonic clock: the control client
// only carries the identity token, whose expiry (Unix time, see issue-token)
// is judged by the control server on its own wall clock. Printed times
// (at_ms) count from the process start, or with --epoch-unix-ns from that
// shared instant: the scenario runner starts many node processes, restarts
// some, and needs every line of every process on one time base.
//
// Scenario traffic. --flow (repeatable) sends numbered probes on a schedule;
// every node echoes the probes it receives (probe-traffic.h). The older
// --send-to traffic stays as it was: opaque bytes, counted by the receiver.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli-common/flags.h"
#include "cli-common/subcommand.h"
#include "node/flow-spec.h"
#include "node/key-log-flags.h"
#include "node/node-keys.h"
#include "node/probe-traffic.h"
#include "punchlab/node/data-frame.h"
#include "punchlab/node/node.h"
#include "realio/event-loop.h"
#include "realio/host.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/route-source.h"
#include "realio/stop-on-signals.h"
#include "realio/udp-socket.h"
#include "realio/wall-clock.h"
#include "results/disco-step.h"
#include "results/portmap-counters.h"
#include "scenario/node-timers.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using json = nlohmann::json;

// --start-gate: blocks until a line (or the end) arrives on stdin. Bounded by
// the runner: it writes the line at the node's instant, and its end (or its
// death, PR_SET_PDEATHSIG) ends the wait too.
void WaitForGate() {
  char c = 0;
  while (true) {
    const ssize_t n = read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') return;
  }
}

CommandSpec Spec() {
  CommandSpec spec{
      "node",
      "node --control ADDR:PORT --control-key nodekey:HEX --token TOKEN [options]",
      "Runs a punchlab node: registers with the control server (token from\n"
      "issue-token), learns its peers and the DERP map, finds its global endpoint\n"
      "with STUN, keeps a DERP connection to its home region and discovers direct\n"
      "paths to its peers. With --send-to it sends --size bytes to that peer every\n"
      "--every. Prints one line per event to stdout (a JSON object with --json:\n"
      "at_ms, event, and per event peer, from, to, reason, rtt_ms, ...); received\n"
      "data is counted, and the counts are printed in a final \"summary\" line.\n"
      "Stops on SIGINT, SIGTERM or after --duration.\n"
      "\n"
      "Probes (the scenario runner's traffic): each --flow sends numbered probes\n"
      "(sim/results/probe.h) to a peer on a schedule, and every node echoes each\n"
      "probe it receives back to its sender. SPEC is comma-separated key=value:\n"
      "  id=0,to=nodekey:HEX,start=5s,stop=60s,every=100ms,size=200[,turn=500ms][,idle=20s+60s]...\n"
      "id: the flow number in the probes; start/stop: the schedule, counted from\n"
      "--epoch-unix-ns (else from this process's start); probe k (seq k) is due at\n"
      "start + k*every, none in an idle gap AT+FOR; size: payload bytes; turn: the\n"
      "node's turn, already in start and idle. No probe goes before the node is up\n"
      "(registered and connected to its home DERP region: the \"up\" line) + turn, or\n"
      "before --up-deadline + turn if it is not up by then (the \"flows_anchor\" line\n"
      "says which, to the nanosecond; --up-at gives it to a restart). A process\n"
      "started late resumes at the next slot due; with --start-at it waits for that\n"
      "instant if launched before it, or sends the slots due since then at once if\n"
      "it came up after it. With --json every probe sent and\n"
      "echo received is a line:\n"
      "  {\"event\":\"probe_sent\",\"at_ms\":..,\"flow\":0,\"seq\":3,\"path\":\"derp 1\",\"result\":\"derp\"}\n"
      "  {\"event\":\"echo_received\",\"at_ms\":..,\"flow\":0,\"seq\":3,\"path\":\"direct ADDR:PORT\"}\n"
      "and the first line is {\"event\":\"started\",\"at_ms\":..,\"node_key\":..,\n"
      "\"disco_key\":..,\"listen\":..}. Received data that is neither probe nor echo\n"
      "is counted (summary: data_not_probe).",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("control", po::value<std::string>()->required()->value_name("ADDR:PORT"),
       "the control server's TCP endpoint")
      ("control-key", po::value<std::string>()->required()->value_name("nodekey:HEX"),
       "the control server's public key (its readiness line prints it)")
      ("token", po::value<std::string>()->required()->value_name("TOKEN"),
       "identity token from issue-token")
      ("listen", po::value<std::string>()->value_name("ADDR:PORT"),
       "UDP endpoint (a specific address; default: the address routing to --control, "
       "port 0)")
      ("send-to", po::value<std::string>()->value_name("nodekey:HEX"), "send data to this peer")
      ("every", po::value<std::string>()->default_value("100ms")->value_name("DURATION"),
       "interval between sends (e.g. 100ms, 1s)")
      ("size", po::value<size_t>()->default_value(200)->value_name("BYTES"),
       "payload bytes per send")
      ("duration", po::value<std::string>()->value_name("DURATION"),
       "stop after this long (e.g. 90s; a bare number is seconds)")
      ("flow", po::value<std::vector<std::string>>()->composing()->value_name("SPEC"),
       "send probes on a schedule (repeatable; SPEC above)")
      ("timer", po::value<std::vector<std::string>>()->composing()->value_name("NAME=DURATION"),
       "set a protocol timer (repeatable): heartbeat, trust_window, idle_timeout, "
       "restun_interval, upgrade_interval, ping_timeout, persistent_keepalive -- the scenario "
       "keys of the same names")
      ("data-plane", po::value<std::string>()->default_value("sealed-frame")->value_name("NAME"),
       "what carries data: wireguard or sealed-frame (the scenario key data_plane)")
      ("gateway", po::value<std::string>()->value_name("ADDR"),
       "the default gateway, asked for a port mapping of the UDP socket (NAT-PMP, PCP) after "
       "every netcheck, as Tailscale's portmapper does; the mapped endpoint is published first")
      ("epoch-unix-ns", po::value<int64_t>()->value_name("NANOS"),
       "the run's start instant (Unix time in ns): at_ms and flow times count from it")
      ("start-at", po::value<std::string>()->value_name("DURATION"),
       "when (run time, from --epoch-unix-ns) the node starts: a process launched earlier "
       "waits for it; one that came up later sends the probes due since then at once, in "
       "order (default: at once, resuming at the next slot due)")
      ("up-deadline", po::value<std::string>()->value_name("DURATION"),
       "when (run time) the flows start if the node is not up by then (default: its start "
       "+ 5s, scenario::ProbeSchedule::kUpDeadline)")
      ("up-at", po::value<std::string>()->value_name("DURATION"),
       "an earlier run of this node started its flows from then (run time, its "
       "\"flows_anchor\" line): the flows keep that schedule, whatever this run's up, and "
       "do not wait (the real runner's restarts)")
      ("start-gate", po::bool_switch(),
       "after --start-at, also wait for a line on stdin (or its end) before starting: the "
       "real runner's word that what it does before this node's start at the same instant "
       "(an event's undo) is done")
      ("json", po::bool_switch(), "print events as JSON objects, one per line")
      ("disco-log", po::bool_switch(),
       "also print every disco message, candidate, trust change and path decision "
       "(with --json: {\"event\": \"disco\", \"what\": ...} lines)");
  AddNodeKeyOptions(spec.options);
  AddControlKeyLogOption(spec.options);
  AddDiscoKeyLogOption(spec.options);
  return spec;
}

// "100ms", "2s" or "1.5s".
Duration ParseInterval(const std::string& flag, const std::string& text) {
  const std::string form = flag + ": '" + text + "' is not a duration (write e.g. 100ms or 2s)";
  double scale = 0;
  std::string number;
  if (text.size() > 2 && text.compare(text.size() - 2, 2, "ms") == 0) {
    scale = 1e-3;
    number = text.substr(0, text.size() - 2);
  } else if (text.size() > 1 && text.back() == 's') {
    scale = 1;
    number = text.substr(0, text.size() - 1);
  } else {
    throw UsageError(form);
  }
  double value = 0;
  try {
    size_t used = 0;
    value = std::stod(number, &used);
    if (used != number.size()) throw UsageError(form);
  } catch (const std::logic_error&) {
    throw UsageError(form);
  }
  const double seconds = value * scale;
  if (!std::isfinite(seconds) || seconds < 1e-3 || seconds > 3600) {
    throw UsageError(flag + ": must be from 1ms to 3600s");
  }
  return Duration::Nanos(std::llround(seconds * 1e9));
}

NodePublicKey ParseNodeKeyFlag(const std::string& flag, const std::string& text) {
  auto key = NodePublicKey::Parse(text);
  if (!key) throw UsageError(flag + ": not a node public key (write nodekey:<64 hex>)");
  return *key;
}

std::string PathText(const node::Path& path) { return path.ToString(); }

// Received data is counted per path rather than printed per packet.
struct DataCounts {
  uint64_t sent = 0;
  uint64_t send_failed = 0;  // SendResult other than direct/derp/queued
  uint64_t received = 0;
  uint64_t received_direct = 0;
  uint64_t received_derp = 0;
  uint64_t received_bytes = 0;
};

class EventPrinter {
 public:
  EventPrinter(bool as_json, bool disco_log, Timestamp start)
      : json_(as_json), disco_log_(disco_log), start_(start) {}

  double AtMs(Timestamp t) const { return std::round((t - start_).millis() * 1000) / 1000; }

  void Print(const node::Event& event, DataCounts& counts) {
    const double at_ms = (event.at - start_).millis();
    if (const auto* data = std::get_if<node::DataReceived>(&event.body)) {
      ++counts.received;
      counts.received_bytes += data->data.size();
      if (data->path.direct()) ++counts.received_direct;
      if (data->path.derp()) ++counts.received_derp;
      return;
    }
    if (std::holds_alternative<node::RttMeasured>(event.body)) return;  // heartbeats: too many
    if (!json_) {
      std::cout << static_cast<int64_t>(at_ms) << " ms " << node::Describe(event.body)
                << std::endl;
      return;
    }
    const double at = std::round(at_ms * 1000) / 1000;
    json line = Fields(event.body);
    if (line["event"] != "other") {
      line["at_ms"] = at;
      line["text"] = node::Describe(event.body);
      std::cout << line.dump() << std::endl;  // readers follow the lines as they come
    }
    // The disco log's step (results/disco-step.h), for the real runner; a
    // path decision is both a path_changed line and a step. The node emits
    // the message, candidate and trust events only with --disco-log.
    if (disco_log_) {
      if (std::optional<results::NodeDiscoStep> d = results::DiscoStepOf(event.body)) {
        std::cout << results::DiscoStepJsonLine(*d, at) << std::endl;
      }
    }
  }

 private:
  static json Fields(const node::EventBody& body) {
    return std::visit(
        [](const auto& e) -> json {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, node::PathChanged>) {
            json j{{"event", "path_changed"},
                   {"peer", e.peer.ToString()},
                   {"from", PathText(e.from)},
                   {"to", PathText(e.to)},
                   {"direct", e.to.direct()},
                   {"reason", node::PathChangeReasonName(e.reason)},
                   {"detail", e.detail}};
            j["rtt_ms"] = e.rtt ? json(e.rtt->millis()) : json(nullptr);
            return j;
          } else if constexpr (std::is_same_v<T, node::Registered>) {
            return {{"event", "registered"}, {"address", e.address.ToString()},
                    {"user", e.user}, {"domain", e.domain}};
          } else if constexpr (std::is_same_v<T, node::PeerAdded>) {
            json endpoints = json::array();
            for (const auto& ep : e.endpoints) endpoints.push_back(ep.ToString());
            return {{"event", "peer_added"}, {"peer", e.peer.ToString()},
                    {"endpoints", endpoints}, {"home_region", e.home_region},
                    {"path", PathText(e.path)}};
          } else if constexpr (std::is_same_v<T, node::PeerRemoved>) {
            return {{"event", "peer_removed"}, {"peer", e.peer.ToString()}};
          } else if constexpr (std::is_same_v<T, node::PeerRestarted>) {
            return {{"event", "peer_restarted"}, {"peer", e.peer.ToString()}};
          } else if constexpr (std::is_same_v<T, node::RegistrationRefused>) {
            return {{"event", "registration_refused"}, {"reason", e.reason}};
          } else if constexpr (std::is_same_v<T, node::ControlDisconnected>) {
            return {{"event", "control_disconnected"}, {"reason", e.reason},
                    {"will_reconnect", e.will_reconnect}};
          } else if constexpr (std::is_same_v<T, node::EndpointsChanged>) {
            json endpoints = json::array();
            for (const auto& ep : e.endpoints) endpoints.push_back(ep.ToString());
            return {{"event", "endpoints_changed"}, {"endpoints", endpoints}};
          } else if constexpr (std::is_same_v<T, node::NetcheckDone>) {
            return {{"event", "netcheck_done"},
                    {"udp_blocked", e.report.udp_blocked},
                    {"global_v4", e.report.global_v4 ? json(e.report.global_v4->ToString())
                                                     : json(nullptr)},
                    {"hard_nat", e.report.mapping_varies_by_dest_ip
                                     ? json(*e.report.mapping_varies_by_dest_ip)
                                     : json(nullptr)}};
          } else if constexpr (std::is_same_v<T, node::HomeRegionChanged>) {
            return {{"event", "home_region_changed"}, {"from", e.from}, {"to", e.to},
                    {"reason", e.reason}};
          } else if constexpr (std::is_same_v<T, node::DerpConnected>) {
            return {{"event", "derp_connected"}, {"region", e.region}};
          } else if constexpr (std::is_same_v<T, node::Up>) {
            return {{"event", "up"}, {"home_region", e.home_region}};
          } else if constexpr (std::is_same_v<T, node::DerpDisconnected>) {
            return {{"event", "derp_disconnected"}, {"region", e.region}, {"reason", e.reason}};
          } else {
            return {{"event", "other"}};  // DataReceived, RttMeasured: handled by Print
          }
        },
        body);
  }

  bool json_;
  bool disco_log_;
  Timestamp start_;
};

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;

  node::NodeConfig config;
  config.control.server = ParseEndpointFlag("--control", vm["control"].as<std::string>());
  config.control.server_key = ParseNodeKeyFlag("--control-key", vm["control-key"].as<std::string>());
  config.token = vm["token"].as<std::string>();
  if (config.token.empty()) throw UsageError("--token: must not be empty");
  config.disco_log = vm["disco-log"].as<bool>();
  config.control.key_log = ControlKeyLogFromFlags(vm);
  const std::unique_ptr<realio::KeyLogFile> disco_keys = DiscoKeyLogFromFlags(vm);
  const std::string plane = vm["data-plane"].as<std::string>();
  if (plane == node::DataPlaneName(node::DataPlane::kWireGuard)) {
    config.data_plane = node::DataPlane::kWireGuard;
  } else if (plane != node::DataPlaneName(node::DataPlane::kSealedFrame)) {
    throw UsageError("--data-plane: '" + plane + "' is not wireguard or sealed-frame");
  }
  // WireGuard's TAI64N timestamps: the real clock, so a restarted process's
  // initiations are newer than the last run's.
  config.unix_offset = realio::UnixEpochOffset();
  if (vm.count("timer")) {
    scenario::NodeTimers timers;
    for (const std::string& text : vm["timer"].as<std::vector<std::string>>()) {
      if (auto error = scenario::SetNodeTimer(timers, text)) throw UsageError("--timer: " + *error);
    }
    scenario::ApplyNodeTimers(timers, config);
  }
  if (vm.count("gateway")) {
    const std::string text = vm["gateway"].as<std::string>();
    const std::optional<IpAddress> gateway = IpAddress::Parse(text);
    if (!gateway || !gateway->is_v4() || gateway->IsUnspecified()) {
      throw UsageError("--gateway: '" + text + "' is not an IPv4 address");
    }
    config.gateway = *gateway;
  }
  std::optional<NodePublicKey> send_to;
  if (vm.count("send-to")) send_to = ParseNodeKeyFlag("--send-to", vm["send-to"].as<std::string>());
  const Duration every = ParseInterval("--every", vm["every"].as<std::string>());
  const size_t size = vm["size"].as<size_t>();
  if (size == 0 || size > node::kMaxDataPayload) {
    throw UsageError("--size: must be from 1 to " + std::to_string(node::kMaxDataPayload));
  }
  std::optional<Duration> start_at;
  if (vm.count("start-at")) {
    start_at = ParseDurationFlag("--start-at", vm["start-at"].as<std::string>(),
                                 DurationRange{true, Duration::Seconds(86400), false});
  }
  std::optional<Duration> up_deadline;
  if (vm.count("up-deadline")) {
    up_deadline = ParseDurationFlag("--up-deadline", vm["up-deadline"].as<std::string>(),
                                    DurationRange{true, Duration::Seconds(86400), false});
  }
  std::optional<Duration> up_at;
  if (vm.count("up-at")) {
    up_at = ParseDurationFlag("--up-at", vm["up-at"].as<std::string>(),
                              DurationRange{true, Duration::Seconds(86400), false});
  }
  std::optional<Duration> duration;
  if (vm.count("duration")) {
    duration = ParseDurationFlag("--duration", vm["duration"].as<std::string>(), kSecondsOrDuration);
  }
  std::vector<FlowSpec> flows;
  if (vm.count("flow")) {
    for (const std::string& text : vm["flow"].as<std::vector<std::string>>()) {
      std::string error;
      std::optional<FlowSpec> flow = ParseFlowSpec(text, error);
      if (!flow) throw UsageError("--flow: " + error + " in '" + text + "'");
      if (flow->size > node::kMaxDataPayload) {
        throw UsageError("--flow: size=" + std::to_string(flow->size) + " is above " +
                         std::to_string(node::kMaxDataPayload) + " in '" + text + "'");
      }
      flows.push_back(std::move(*flow));
    }
  }
  Endpoint listen;
  if (vm.count("listen")) {
    listen = ParseEndpointFlag("--listen", vm["listen"].as<std::string>());
    // The bound address is published to peers as a candidate: it must be one.
    if (listen.ip.IsUnspecified()) {
      throw UsageError("--listen: give a specific address, not " + listen.ip.ToString());
    }
  } else {
    listen = Endpoint{realio::RouteSource(config.control.server.ip), 0};
  }

  // The run's epoch on this process's monotonic clock.
  const Timestamp epoch =
      vm.count("epoch-unix-ns")
          ? Timestamp::FromNanos(vm["epoch-unix-ns"].as<int64_t>() -
                                 realio::UnixEpochOffset().nanos())
          : realio::MonotonicNow();
  realio::OsRandom rng;
  NodePrivateKey key = NodeKeyFromFlags(vm, rng);
  realio::EventLoop loop;
  realio::UdpSocket socket = realio::UdpSocket::Bind(listen);
  config.local_endpoints = {socket.local()};
  node::Node node(std::move(key), rng, std::move(config));
  const bool as_json = vm["json"].as<bool>();
  EventPrinter printer(as_json, vm["disco-log"].as<bool>(), epoch);
  DataCounts counts;
  std::unique_ptr<ProbeTraffic> traffic;
  // Until "started" is printed the node's events wait in the node: that line
  // comes first in the output, and only after Start's first datagrams and
  // connects have left (below).
  bool announced = false;
  auto drain_events = [&] {
    if (!announced) return;
    while (auto event = node.PollEvent()) {
      if (const auto* data = std::get_if<node::DataReceived>(&event->body)) {
        if (traffic) traffic->OnData(event->at, data->peer, data->data, data->path);
      }
      LogDiscoKey(disco_keys.get(), event->body);
      if (std::holds_alternative<node::Up>(event->body) && traffic) traffic->Up(event->at - epoch);
      printer.Print(*event, counts);
    }
  };
  // The Node is both a DatagramMachine and a StreamMachine: one host, one timer.
  realio::Host host(loop, node, node, drain_events);
  host.AddSocket(std::move(socket));
  realio::StopOnSignals stop(loop);

  std::cerr << "node " << node.public_key().ToString() << " on " << host.LocalEndpoints()[0].ToString()
            << std::endl;
  traffic = std::make_unique<ProbeTraffic>(
      loop, node, std::move(flows), epoch,
      [&](const json& line) {
        if (as_json) std::cout << line.dump() << std::endl;
      },
      [&] { host.Drain(); });
  // Launched ahead of its instant (the real runner's node lead): everything
  // above (socket, keys: milliseconds under load) is ready; wait for it, so
  // the node starts when the simulation's does and not when its process
  // happened to come up.
  if (start_at) {
    const Timestamp due = epoch + *start_at;
    for (Timestamp now = realio::MonotonicNow(); now < due; now = realio::MonotonicNow()) {
      std::this_thread::sleep_for(std::chrono::nanoseconds((due - now).nanos()));
    }
  }
  if (vm["start-gate"].as<bool>()) WaitForGate();
  // "started" is printed after Start has sent its first datagrams and
  // connects (the Drain): the real runner waits for this line before it
  // runs the events of the node's instant, so they come after the start.
  const Timestamp start = realio::MonotonicNow();
  node.Start(start);
  host.Drain();
  if (as_json) {
    std::cout << json{{"event", "started"},
                      {"at_ms", printer.AtMs(start)},
                      {"node_key", node.public_key().ToString()},
                      {"disco_key", node.disco_key().ToString()},
                      {"listen", host.LocalEndpoints()[0].ToString()}}
                     .dump()
              << std::endl;
  }
  announced = true;
  drain_events();
  // Came up after --start-at (launching takes milliseconds, more under load):
  // the slots due since then go now, as the simulation's node sends them.
  const Duration started_at = start_at ? *start_at : realio::MonotonicNow() - epoch;
  traffic->Start(started_at,
                 up_deadline ? *up_deadline : started_at + scenario::ProbeSchedule::kUpDeadline,
                 up_at);

  const Bytes payload(size, 0x5a);
  const realio::EventLoop::TimerId send_timer = loop.CreateTimer([&](Timestamp now) {
    // Until the netmap names the peer, a send would only count kUnknownPeer.
    if (node.HasPeer(*send_to)) {
      const node::SendResult result = node.Send(now, *send_to, payload);
      if (result == node::SendResult::kDirect || result == node::SendResult::kDerp ||
          result == node::SendResult::kQueued) {
        ++counts.sent;
      } else {
        ++counts.send_failed;
      }
      host.Drain();
    }
    loop.ArmTimer(send_timer, now + every);
  });
  if (send_to) loop.ArmTimer(send_timer, start + every);

  const Timestamp deadline = duration ? start + *duration : Timestamp::Max();
  loop.Run(deadline);
  loop.DestroyTimer(send_timer);
  const ProbeCounts probes = traffic->counts();
  traffic.reset();

  // Leave control and DERP politely; give the close writes a moment to flush.
  node.Stop(realio::MonotonicNow());
  host.Drain();
  loop.Run(realio::MonotonicNow() + Duration::Millis(200));

  const auto& s = node.stats();
  json summary{{"event", "summary"},
               {"at_ms", std::round((realio::MonotonicNow() - epoch).millis())},
               {"sent", counts.sent},
               {"send_failed", counts.send_failed},
               {"sent_direct", s.data_sent_direct},
               {"sent_derp", s.data_sent_derp},
               {"received", counts.received},
               {"received_direct", counts.received_direct},
               {"received_derp", counts.received_derp},
               {"received_bytes", counts.received_bytes},
               {"peers", node.Peers().size()},
               {"disco_pings_sent", s.disco_pings_sent},
               {"disco_pings_received", s.disco_pings_received},
               {"disco_pongs_received", s.disco_pongs_received},
               {"call_me_maybes_sent", s.disco_call_me_maybes_sent},
               {"call_me_maybes_received", s.disco_call_me_maybes_received},
               {"disco_dropped", s.disco_dropped},
               // Sends the core refused, by reason, under the names the
               // simulation's node/NAME counters give them (run-sim/counters.cc):
               // a peer the netmap does not name (hidden by access rules, or
               // not told yet), no path at all, a payload too large.
               {"sends_unknown_peer", s.sends_unknown_peer},
               {"sends_no_route", s.sends_no_route},
               {"sends_too_large", s.sends_too_large},
               // Netmap entries the core could not use, under the
               // simulation's names too: a peer whose disco key it refused
               // (low-order, or already another peer's), and patches for a
               // peer it does not hold (a server that lost track of it).
               {"peers_rejected", s.peers_rejected},
               {"patches_unknown_peer", s.patches_unknown_peer},
               {"udp_send_errors", host.stats().send_errors},
               {"udp_no_source_socket", host.stats().no_source_socket},
               {"probes_sent", probes.probes_sent},
               {"probes_send_failed", probes.probes_send_failed},
               {"probes_received", probes.probes_received},
               {"echoes_sent", probes.echoes_sent},
               {"echoes_send_failed", probes.echoes_send_failed},
               {"echoes_received", probes.echoes_received},
               {"data_not_probe", probes.data_not_probe}};
  // The port-mapping client's counters (results/portmap-counters.h).
  if (node.portmap() != nullptr) {
    summary["portmap"] = results::PortMapClientCounters(
        node.portmap()->stats(), node.upnp() ? &node.upnp()->stats() : nullptr);
  }
  if (send_to) {
    const auto path = node.PathTo(*send_to);
    summary["path"] = path ? json(path->ToString()) : json(nullptr);
  }
  if (vm["json"].as<bool>()) {
    std::cout << summary.dump() << std::endl;
  } else {
    std::cout << "summary: sent " << counts.sent << " (" << s.data_sent_direct << " direct, "
              << s.data_sent_derp << " derp), received " << counts.received << " ("
              << counts.received_direct << " direct, " << counts.received_derp << " derp)"
              << std::endl;
  }
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "node", "run a node: control, netcheck, DERP and direct paths; prints path changes", Run);

}  // namespace
}  // namespace punchlab::cli
