#include "scenario/generate.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <sstream>

namespace punchlab {
namespace scenario {

std::string PairScenarioName(const std::string& nat_a, const std::string& nat_b) {
  return "matrix-" + nat_a + "--" + nat_b;
}

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
    << "  nat-a: {preset: " << spec.nat_a << "}\n"
    << "  nat-b: {preset: " << spec.nat_b << "}\n"
    << "nodes:\n"
    << "  alice: {behind: nat-a}\n"
    << "  bob: {behind: nat-b}\n";
  if (!spec.program_yaml.empty()) {
    // Both sides run the program; its text goes in indented as written.
    y << "defaults:\n  run:\n";
    std::istringstream lines(spec.program_yaml);
    for (std::string line; std::getline(lines, line);) y << "    " << line << "\n";
    return y.str();
  }
  y << "traffic:\n"
    << "  - {from: alice, to: bob, start: 1s, every: " << every.ToString() << ", size: 200B}\n"
    << "  - {from: bob, to: alice, start: 1s, every: " << every.ToString() << ", size: 200B}\n";
  return y.str();
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
  std::ostringstream y;
  y << "name: crowd-" << spec.nodes << "\n"
    << "description: " << spec.nodes << " nodes behind mixed NATs in tailnets of " << group
    << ", each talking to the " << spec.peers_per_node << " others\n"
    << "stop_time: " << spec.duration.ToString() << "\n"
    << "seed: " << spec.seed << "\n"
    // Nobody reads a thousand nodes' heartbeats; recording them cost 5 %
    // more CPU and 130 MiB (bench/README.md).
    << "disco_log: false\n"
    << "internet: {latency: 20ms}\n"
    << "derp:\n  regions: [{id: 1, name: fra, latency: 10ms}]\n"
    << "control:\n  domains: [";
  for (uint32_t g = 0; g < groups; ++g) y << (g ? ", " : "") << Numbered("tailnet", g);
  y << "]\nnats:\n";
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
    const uint32_t first = i / group * group;
    const uint32_t size = std::min(group, spec.nodes - first);
    // The next peers_per_node of the group after i, wrapping, in ascending order.
    std::set<uint32_t> peers;
    for (uint32_t k = 1; k <= spec.peers_per_node && k < size; ++k) {
      peers.insert(first + (i - first + k) % size);
    }
    for (uint32_t j : peers) {
      y << "  - {from: " << Numbered("n", i) << ", to: " << Numbered("n", j)
        << ", start: 1s, every: " << spec.every.ToString() << ", size: 200B}\n";
    }
  }
  return y.str();
}

}  // namespace scenario
}  // namespace punchlab
