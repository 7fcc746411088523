#include "run-real/commands.h"

#include <sstream>
#include <stdexcept>
#include <utility>

#include <nlohmann/json.hpp>

#include "scenario/meaning/control-names.h"
#include "scenario/node-timers.h"

namespace punchlab::runreal {
namespace {

std::string At(const std::string& address, uint16_t port) {
  return address + ":" + std::to_string(port);
}

}  // namespace

Endpoint NodeEndpoint(const HostPlan& node) {
  const std::optional<IpAddress> ip = IpAddress::Parse(node.uplink.address);
  if (!ip) throw std::logic_error("lab plan address '" + node.uplink.address + "' is not an IP");
  return Endpoint(*ip, kNodePort);
}

scenario::PathClassifier LabPathClassifier(const scenario::Scenario& scenario,
                                           const LabPlan& plan) {
  std::vector<Endpoint> own;
  for (const HostPlan& node : plan.nodes) own.push_back(NodeEndpoint(node));
  return scenario::PathClassifier(scenario, std::move(own));
}

control::IdentityClaims NodeClaims(const scenario::Scenario& scenario, size_t node,
                                   const NodePublicKey& key, Timestamp expires) {
  const scenario::NodeDef& def = scenario.nodes.at(node);
  control::IdentityClaims claims;
  claims.user = scenario::ControlUser(def);
  claims.domain = scenario::ControlDomain(def.domain);
  claims.node_key = key;
  claims.expires = expires;
  return claims;
}

std::vector<std::string> DerpServerArgv(const std::string& node_bin, const HostPlan& server,
                                        const std::string& private_key, Duration stop_time,
                                        const DerpTls& tls) {
  std::vector<std::string> argv = {node_bin,
                                   "derp-server",
                                   "--listen",
                                   At(server.uplink.address, kDerpPort),
                                   "--stun",
                                   At(server.uplink.address, kStunPort),
                                   "--private-key",
                                   private_key,
                                   "--duration",
                                   (stop_time + kProcessGrace).ToString(),
                                   "--tls-cert",
                                   tls.cert_file,
                                   "--tls-key",
                                   tls.key_file};
  if (!tls.keylog_file.empty()) {
    argv.push_back("--tls-keylog");
    argv.push_back(tls.keylog_file);
  }
  return argv;
}

std::vector<std::string> ControlServerArgv(const std::string& node_bin, const LabPlan& plan,
                                           const scenario::Scenario& scenario,
                                           const std::string& idp_public_key,
                                           const std::string& private_key,
                                           const std::vector<std::string>& derp_public_keys,
                                           const std::vector<DerpTls>& derp_tls,
                                           const KeyLogFiles& key_logs,
                                           const std::string& acls_file) {
  std::string domains;
  for (const std::string& d : scenario.control.domains) {
    domains += (domains.empty() ? "" : ",") + scenario::ControlDomain(d);
  }
  std::vector<std::string> argv = {node_bin,
                                   "control-server",
                                   "--listen",
                                   At(plan.control.uplink.address, kControlPort),
                                   "--idp-key",
                                   idp_public_key,
                                   "--domains",
                                   domains,
                                   "--private-key",
                                   private_key,
                                   "--duration",
                                   (scenario.stop_time + kProcessGrace).ToString()};
  if (scenario.control.batch_delay > Duration::Zero()) {
    argv.push_back("--batch-delay");
    argv.push_back(scenario.control.batch_delay.ToString());
  }
  for (size_t i = 0; i < scenario.derp_regions.size(); ++i) {
    const scenario::DerpRegion& r = scenario.derp_regions[i];
    argv.push_back("--derp");
    argv.push_back(std::to_string(r.id) + ":" + r.name + ":" +
                   At(plan.derp[i].uplink.address, kDerpPort) + ":" + std::to_string(kStunPort) +
                   "@" + derp_public_keys.at(i) + ",cert=" + derp_tls.at(i).pin);
  }
  if (!key_logs.control.empty()) {
    argv.push_back("--control-keylog");
    argv.push_back(key_logs.control);
  }
  if (!acls_file.empty()) {
    argv.push_back("--acls");
    argv.push_back(acls_file);
  }
  return argv;
}

std::optional<Duration> FlowsAnchorOf(const std::string& node_stdout) {
  std::istringstream in(node_stdout);
  for (std::string line; std::getline(in, line);) {
    if (line.find(R"("event":"flows_anchor")") == std::string::npos) continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || j.value("event", "") != "flows_anchor") continue;
    const auto at = j.find("at_ns");
    if (at == j.end() || !at->is_number_integer()) continue;
    return Duration::Nanos(at->get<int64_t>());
  }
  return std::nullopt;
}

std::vector<cli::FlowSpec> FlowsFrom(const scenario::Scenario& scenario, const std::string& node,
                                     const std::vector<NodeIdentity>& keys, uint64_t seed) {
  std::vector<cli::FlowSpec> flows;
  for (size_t i = 0; i < scenario.traffic.size(); ++i) {
    const scenario::Flow& f = scenario.traffic[i];
    if (f.from != node) continue;
    size_t to = 0;
    while (to < scenario.nodes.size() && scenario.nodes[to].name != f.to) ++to;
    cli::FlowSpec spec;
    spec.id = static_cast<uint32_t>(i);
    spec.to = *NodePublicKey::Parse(keys.at(to).public_key);
    spec.schedule = scenario::ProbeSchedule::Of(scenario, f, seed);
    spec.size = static_cast<size_t>(f.size_bytes);
    flows.push_back(std::move(spec));
  }
  return flows;
}

std::vector<std::string> NodeArgv(const std::string& node_bin, const HostPlan& node,
                                  const std::string& control_address,
                                  const std::string& control_key, const NodeIdentity& identity,
                                  const std::vector<cli::FlowSpec>& flows, int64_t epoch_unix_ns,
                                  Duration stop_time, const scenario::NodeTimers& timers,
                                  bool disco_log, bool asks_gateway,
                                  node::DataPlane data_plane,
                                  std::optional<Duration> start_at, bool start_gate,
                                  const KeyLogFiles& key_logs,
                                  std::optional<Duration> up_deadline,
                                  std::optional<Duration> up_at) {
  std::vector<std::string> argv = {node_bin,
                                   "node",
                                   "--control",
                                   At(control_address, kControlPort),
                                   "--control-key",
                                   control_key,
                                   "--token",
                                   identity.token,
                                   "--private-key",
                                   identity.private_key,
                                   "--listen",
                                   NodeEndpoint(node).ToString(),
                                   "--epoch-unix-ns",
                                   std::to_string(epoch_unix_ns),
                                   "--duration",
                                   (stop_time + kProcessGrace).ToString(),
                                   "--json"};
  if (start_at) {
    argv.push_back("--start-at");
    argv.push_back(start_at->ToString());
  }
  if (start_gate) argv.push_back("--start-gate");
  if (up_deadline) {
    argv.push_back("--up-deadline");
    argv.push_back(up_deadline->ToString());
  }
  if (up_at) {
    argv.push_back("--up-at");
    argv.push_back(up_at->ToString());
  }
  for (const cli::FlowSpec& flow : flows) {
    argv.push_back("--flow");
    argv.push_back(cli::FormatFlowSpec(flow));
  }
  for (const std::string& timer : scenario::NodeTimerArgs(timers)) {
    argv.push_back("--timer");
    argv.push_back(timer);
  }
  if (disco_log) argv.push_back("--disco-log");
  if (!key_logs.control.empty()) {
    argv.push_back("--control-keylog");
    argv.push_back(key_logs.control);
  }
  if (disco_log && !key_logs.disco.empty()) {
    argv.push_back("--disco-keylog");
    argv.push_back(key_logs.disco);
  }
  if (asks_gateway) {
    argv.push_back("--gateway");
    argv.push_back(node.uplink.gateway);
  }
  if (data_plane != node::DataPlane::kSealedFrame) {  // punchlab-node's default
    argv.push_back("--data-plane");
    argv.push_back(node::DataPlaneName(data_plane));
  }
  return argv;
}

}  // namespace punchlab::runreal
