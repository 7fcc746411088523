#include "scenario/generate.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

#include "punchlab/nat/nat-config.h"
#include "punchlab/portmap/mapping-protocol.h"

namespace punchlab {
namespace scenario {

std::string PairScenarioName(const std::string& nat_a, const std::string& nat_b) {
  return "matrix-" + nat_a + "--" + nat_b;
}

std::optional<MatrixNat> ParseMatrixNat(const std::string& name, std::string* error) {
  MatrixNat out;
  std::stringstream in(name);
  std::string part;
  std::getline(in, out.preset, '+');
  if (nat::FindNatPreset(out.preset) == nullptr) {
    *error = "'" + out.preset + "' is not a NAT preset";
    return std::nullopt;
  }
  while (std::getline(in, part, '+')) {
    if (!portmap::ParseMappingProtocol(part)) {
      *error = "'" + part + "' is not a port-mapping protocol (pmp, pcp, upnp)";
      return std::nullopt;
    }
    if (std::find(out.port_mapping.begin(), out.port_mapping.end(), part) !=
        out.port_mapping.end()) {
      *error = "'" + part + "' is given twice in '" + name + "'";
      return std::nullopt;
    }
    out.port_mapping.push_back(part);
  }
  if (name.back() == '+') {
    *error = "'" + name + "' ends in '+'; write e.g. symmetric+pmp";
    return std::nullopt;
  }
  return out;
}

namespace {
// The YAML of a cell's NAT: its preset, and its router's port mapping.
std::string MatrixNatYaml(const std::string& name) {
  std::string error;
  const std::optional<MatrixNat> n = ParseMatrixNat(name, &error);
  if (!n || n->port_mapping.empty()) return "{preset: " + (n ? n->preset : name) + "}";
  std::string protocols;
  for (const std::string& p : n->port_mapping) protocols += (protocols.empty() ? "" : ", ") + p;
  return "{preset: " + n->preset + ", port_mapping: {protocols: [" + protocols + "]}}";
}
}  // namespace

std::string PairScenarioYaml(const PairScenarioSpec& spec) {
  const uint32_t pps = spec.packets_per_second == 0 ? 1 : spec.packets_per_second;
  const Duration every = Duration::Nanos(1000000000 / pps);
  std::ostringstream y;
  y << "name: " << PairScenarioName(spec.nat_a, spec.nat_b) << "\n"
    << "description: alice behind " << spec.nat_a << ", bob behind " << spec.nat_b << ", "
    << pps << " packets/s each way\n"
    << "stop_time: " << spec.duration.ToString() << "\n"
    << "seed: " << spec.seed << "\n"
    << "internet: {latency: 20ms}\n"
    << "derp:\n  regions: [{id: 1, name: fra, latency: 10ms}]\n"
    << "nats:\n"
    << "  nat-a: " << MatrixNatYaml(spec.nat_a) << "\n"
    << "  nat-b: " << MatrixNatYaml(spec.nat_b) << "\n"
    << "nodes:\n"
    << "  alice: {behind: nat-a}\n"
    // Two programs with the same start are launched within a millisecond;
    // peers that both initiate (WireGuard) then cross their first
    // initiations and may stay silent for good (sim/run-real/README.md,
    // "Peers that start together"). No one starts two peers that close:
    // bob 1 s after alice, as scenarios/programs/ has it. punchlab's own
    // nodes start together: start_skew spreads their flows.
    << "  bob: {behind: nat-b" << (spec.program_yaml.empty() ? "" : ", start: " + kProgramPeerStart.ToString())
    << "}\n";
  if (!spec.program_yaml.empty()) {
    // Services on the internet side, then both sides' program; each text
    // goes in indented as written (PairScenarioBlocks says where).
    const auto indented = [&y](const std::string& text, const char* indent) {
      std::istringstream lines(text);
      for (std::string line; std::getline(lines, line);) y << indent << line << "\n";
    };
    for (const auto& [name, run] : spec.services) {
      y << "  " << name << ":\n    run:\n";
      indented(run, "      ");
    }
    y << "defaults:\n  run:\n";
    indented(spec.program_yaml, "    ");
    return y.str();
  }
  y << "traffic:\n"
    << "  - {from: alice, to: bob, start: 1s, every: " << every.ToString() << ", size: 200B}\n"
    << "  - {from: bob, to: alice, start: 1s, every: " << every.ToString() << ", size: 200B}\n";
  return y.str();
}

std::vector<GeneratedBlock> PairScenarioBlocks(const PairScenarioSpec& spec) {
  std::vector<GeneratedBlock> blocks;
  if (spec.program_yaml.empty()) return blocks;
  const auto count_lines = [](const std::string& text) {
    std::istringstream lines(text);
    int n = 0;
    for (std::string line; std::getline(lines, line);) ++n;
    return n;
  };
  PairScenarioSpec header_only = spec;
  header_only.program_yaml = " ";
  header_only.services.clear();
  // The header: everything up to the nodes' list, plus alice and bob.
  int line = count_lines(PairScenarioYaml(header_only)) - 3;  // minus defaults, run, " "
  for (size_t i = 0; i < spec.services.size(); ++i) {
    line += 2;  // "  NAME:", "    run:"
    const int n = count_lines(spec.services[i].second);
    blocks.push_back({line + 1, line + n, 6, i + 1});
    line += n;
  }
  line += 2;  // "defaults:", "  run:"
  blocks.push_back({line + 1, line + count_lines(spec.program_yaml), 4, 0});
  return blocks;
}

namespace {
std::string Numbered(const char* prefix, uint32_t i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%05u", prefix, i);
  return buf;
}
}  // namespace

std::string CrowdScenarioYaml(const CrowdScenarioSpec& spec) {
  const uint32_t group = spec.tailnet_size != 0 ? spec.tailnet_size : spec.peers_per_node + 1;
  const uint32_t groups = (spec.nodes + group - 1) / group;
  // Named as `punchlab bench` names the workload (crowd, tailnet,
  // tailnet-acl). A node of a group of `group` has group - 1 others; it
  // talks to all of them only when peers_per_node reaches that (a crowd).
  const bool tailnet = spec.tailnet_size != 0;
  const uint32_t others = group - 1;
  std::ostringstream y;
  y << "name: " << (tailnet ? (spec.acls ? "tailnet-acl-" : "tailnet-") : "crowd-") << spec.nodes
    << "\n"
    << "description: " << spec.nodes << " nodes behind mixed NATs in ";
  if (tailnet && groups == 1) {
    y << "one tailnet";
  } else {
    y << "tailnets of " << group;
  }
  y << ", each talking to ";
  if (spec.peers_per_node >= others) {
    y << "the " << others << " others";
  } else {
    y << "the next " << spec.peers_per_node << " of its " << others << " others";
  }
  y << (spec.acls ? ", access rules letting each see only those it talks with" : "") << "\n"
    << "stop_time: " << spec.duration.ToString() << "\n"
    << "seed: " << spec.seed << "\n"
    // Nobody reads a thousand nodes' heartbeats; recording them cost 5 %
    // more CPU and 130 MiB (bench/README.md).
    << "disco_log: false\n"
    << "internet: {latency: 20ms}\n"
    << "derp:\n  regions: [{id: 1, name: fra, latency: 10ms}]\n"
    << "control:\n";
  if (spec.batch_delay > Duration::Zero()) {
    y << "  batch_delay: " << spec.batch_delay.ToString() << "\n";
  }
  // The next peers_per_node of i's group after i, wrapping, in ascending order.
  auto peers_of = [&](uint32_t i) {
    const uint32_t first = i / group * group;
    const uint32_t size = std::min(group, spec.nodes - first);
    std::set<uint32_t> peers;
    for (uint32_t k = 1; k <= spec.peers_per_node && k < size; ++k) {
      peers.insert(first + (i - first + k) % size);
    }
    return peers;
  };
  y << "  domains: [";
  for (uint32_t g = 0; g < groups; ++g) y << (g ? ", " : "") << Numbered("tailnet", g);
  y << "]\n";
  if (spec.acls) {
    y << "  acls:\n";
    for (uint32_t i = 0; i < spec.nodes; ++i) {
      // No domain: the rule's is its nodes' (its tailnet's).
      y << "    - {src: [" << Numbered("n", i) << "], dst: [";
      bool first = true;
      for (uint32_t j : peers_of(i)) {
        y << (first ? "" : ", ") << Numbered("n", j);
        first = false;
      }
      y << "]}\n";
    }
  }
  y << "nats:\n";
  for (uint32_t i = 0; i < spec.nodes; ++i) {
    y << "  " << Numbered("nat", i) << ": {preset: " << spec.presets[i % spec.presets.size()]
      << "}\n";
  }
  y << "nodes:\n";
  for (uint32_t i = 0; i < spec.nodes; ++i) {
    y << "  " << Numbered("n", i) << ": {behind: " << Numbered("nat", i)
      << ", domain: " << Numbered("tailnet", i / group) << "}\n";
  }
  y << "traffic:\n";
  for (uint32_t i = 0; i < spec.nodes; ++i) {
    for (uint32_t j : peers_of(i)) {
      y << "  - {from: " << Numbered("n", i) << ", to: " << Numbered("n", j)
        << ", start: 1s, every: " << spec.every.ToString() << ", size: 200B}\n";
    }
  }
  return y.str();
}

}  // namespace scenario
}  // namespace punchlab
