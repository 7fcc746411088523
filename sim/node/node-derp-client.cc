// punchlab-node derp-client: one DERP client (derp::Client) on a real socket,
// driven by JSON lines on stdin and reporting JSON lines on stdout, so a test
// in another language (tests/conformance, against Tailscale's derper) can
// hold our client against a server it did not write.
//
// stdin, one command per line:
//   {"op":"send","to":"nodekey:...","data":"<hex>"}
//   {"op":"ping","data":"<16 hex>"}
//   {"op":"preferred","value":true}
//   {"op":"quit"}                       (so does EOF)
// stdout, one event per line:
//   {"event":"connected","key":"nodekey:<ours>","server_key":"nodekey:..."}
//   {"event":"recv","from":"nodekey:...","data":"<hex>"}
//   {"event":"peer_gone","key":"nodekey:...","reason":"disconnected"|"not here"}
//   {"event":"peer_present","key":"nodekey:..."[,"endpoint":"ip:port"][,"flags":N]}
//   {"event":"pong","data":"<hex>"}
//   {"event":"health","text":"..."}
//   {"event":"disconnected","reason":"..."}
//   {"event":"tls_failed","server":"ip:port","reason":"..."}  (then disconnected)
//   {"event":"error","error":"..."}     (a command it could not carry out)
#include <nlohmann/json.hpp>
#include <poll.h>
#include <unistd.h>

#include <iostream>
#include <optional>
#include <string>

#include "cli-common/subcommand.h"
#include "node/node-keys.h"
#include "node/tls-flags.h"
#include "cli-common/flags.h"
#include "punchlab/derp/client.h"
#include "punchlab/json.h"
#include "punchlab/overloaded.h"
#include "realio/event-loop.h"
#include "realio/monotonic-clock.h"
#include "realio/os-random.h"
#include "realio/stop-on-signals.h"
#include "realio/host.h"

namespace punchlab::cli {
namespace {

namespace po = boost::program_options;
using nlohmann::json;

CommandSpec Spec() {
  CommandSpec spec{
      "derp-client", "derp-client --server ADDR:PORT [--server-key nodekey:...] [key options]",
      "Connects one DERP client to the server (HTTP upgrade over TLS; plain HTTP\n"
      "with --plain-http) and relays what stdin asks for; prints every event as a JSON line on stdout. See the\n"
      "comment at the top of node-derp-client.cc for the line formats.",
      po::options_description("Options"),
      {}};
  spec.options.add_options()
      ("server", po::value<std::string>()->required()->value_name("ADDR:PORT"), "the DERP server")
      ("server-key", po::value<std::string>()->value_name("nodekey:HEX"),
       "refuse a server that presents another key")
      ("mesh-key", po::value<std::string>()->value_name("HEX"),
       "the region's mesh pre-shared key (64 hex digits), sent in ClientInfo")
      ("watch", po::bool_switch(), "ask for the server's connection list (WatchConns)");
  AddNodeKeyOptions(spec.options);
  AddTlsDialOptions(spec.options);
  return spec;
}

void Print(const json& j) { std::cout << j.dump() << std::endl; }

json EventJson(const derp::ClientEvent& ev, const derp::Client& client) {
  return std::visit(
      Overloaded{
          [&](const derp::Connected& e) -> json {
            return json{{"event", "connected"}, {"key", client.public_key().ToString()},
                        {"server_key", e.server_key.ToString()}};
          },
          [](const derp::Received& e) -> json {
            return json{{"event", "recv"}, {"from", e.source.ToString()}, {"data", ToHex(e.data)}};
          },
          [](const derp::PeerGone& e) -> json {
            return json{{"event", "peer_gone"}, {"key", e.peer.ToString()},
                        {"reason", derp::PeerGoneReasonName(e.reason)}};
          },
          [](const derp::PeerPresent& e) -> json {
            json j{{"event", "peer_present"}, {"key", e.peer.ToString()}};
            if (e.endpoint) j["endpoint"] = e.endpoint->ToString();
            if (e.flags) j["flags"] = *e.flags;
            return j;
          },
          [](const derp::Pong& e) -> json { return json{{"event", "pong"}, {"data", ToHex(e.data)}}; },
          [](const derp::Health& e) -> json { return json{{"event", "health"}, {"text", e.problem}}; },
          [](const derp::Disconnected& e) -> json {
            return json{{"event", "disconnected"}, {"reason", e.reason}};
          },
          [](const derp::Connecting&) -> json { return nullptr; },
          [](const derp::Restarting&) -> json { return json{{"event", "restarting"}}; },
      },
      ev);
}

// Carries out one stdin command; false on quit.
bool Command(const std::string& line, derp::Client& client) {
  // nlohmann would stop at a NUL and carry out what came before it.
  if (const std::optional<std::string> nul = RawNulError(line)) {
    Print({{"event", "error"}, {"error", "not a JSON command: " + *nul}});
    return true;
  }
  const json cmd = json::parse(line, nullptr, false);
  if (cmd.is_discarded() || !cmd.is_object() || !cmd.contains("op")) {
    Print({{"event", "error"}, {"error", "not a JSON command: " + line}});
    return true;
  }
  const Timestamp now = realio::MonotonicNow();
  const std::string op = cmd.value("op", "");
  Bytes data;
  if (cmd.contains("data") && !FromHex(cmd.value("data", ""), data)) {
    Print({{"event", "error"}, {"error", "data: expected hex"}});
    return true;
  }
  if (op == "quit") return false;
  if (op == "send") {
    const auto to = NodePublicKey::Parse(cmd.value("to", ""));
    if (!to || !client.Send(now, *to, data)) {
      Print({{"event", "error"}, {"error", "send: bad key or not connected"}});
    }
  } else if (op == "ping") {
    derp::PingData ping{};
    if (data.size() != ping.size()) {
      Print({{"event", "error"}, {"error", "ping: data must be 8 bytes"}});
      return true;
    }
    std::copy(data.begin(), data.end(), ping.begin());
    if (!client.Ping(now, ping)) Print({{"event", "error"}, {"error", "ping: not connected"}});
  } else if (op == "preferred") {
    client.SetPreferred(now, cmd.value("value", false));
  } else {
    Print({{"event", "error"}, {"error", "unknown op '" + op + "'"}});
  }
  return true;
}

int Run(const std::vector<std::string>& argv) {
  const CommandSpec spec = Spec();
  po::variables_map vm;
  if (!ParseCommandLine(argv, spec, vm)) return kExitOk;
  derp::ClientConfig config;
  config.server = ParseEndpointFlag("--server", vm["server"].as<std::string>());
  if (vm.count("server-key")) {
    config.server_key = NodePublicKey::Parse(vm["server-key"].as<std::string>());
    if (!config.server_key) throw UsageError("--server-key: expected nodekey:<64 hex>");
  }
  if (vm.count("mesh-key")) config.mesh_key = vm["mesh-key"].as<std::string>();
  config.watch_connections = vm["watch"].as<bool>();
  config.tls = TlsDialFromFlags(vm);
  realio::OsRandom rng;
  derp::Client client(NodeKeyFromFlags(vm, rng), rng, config);

  realio::EventLoop loop;
  realio::Host::Options options;
  // Before the Disconnected event it causes: why TLS refused the server.
  options.on_tls_failure = [](const Endpoint& remote, const std::string& why) {
    Print({{"event", "tls_failed"}, {"server", remote.ToString()}, {"reason", why}});
  };
  realio::Host host(loop, client, [&] {
    while (auto ev = client.PollEvent()) {
      json j = EventJson(*ev, client);
      if (!j.is_null()) Print(j);
    }
  }, std::move(options));
  realio::StopOnSignals stop(loop);

  std::string pending;
  loop.Watch(STDIN_FILENO, POLLIN, [&](short) {
    char buf[4096];
    const ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      loop.Unwatch(STDIN_FILENO);
      loop.Stop();
      return;
    }
    pending.append(buf, static_cast<size_t>(n));
    for (size_t eol; (eol = pending.find('\n')) != std::string::npos;) {
      const std::string line = pending.substr(0, eol);
      pending.erase(0, eol + 1);
      if (line.empty()) continue;
      if (!Command(line, client)) {
        loop.Stop();
        return;
      }
    }
    host.Drain();
  });

  client.Start(realio::MonotonicNow());
  host.Drain();
  loop.Run();
  client.Stop(realio::MonotonicNow());
  host.Drain();
  return kExitOk;
}

const SubcommandRegistration kRegistration(
    "derp-client", "one DERP client driven by JSON lines on stdin (for conformance tests)",
    Run);

}  // namespace
}  // namespace punchlab::cli
