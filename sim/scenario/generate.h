// Scenarios the tools make up rather than read: one cell of the NAT matrix
// (`punchlab matrix`, `punchlab bench`, the demo) and a crowd of nodes behind
// mixed NATs (`punchlab bench`). They are produced as YAML text and go
// through the same loader as a user's file, so a generated scenario is
// exactly as valid, and as documented, as a written one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "punchlab/time.h"

namespace punchlab {
namespace scenario {

// A matrix cell's NAT: a preset name, optionally with the port-mapping
// protocols its router offers, natlab's easyPMP/hardPMP as
// "port-restricted-cone+pmp", "symmetric+pmp", "symmetric+pmp+pcp".
struct MatrixNat {
  std::string preset;
  std::vector<std::string> port_mapping;  // pmp, pcp, upnp
};
// nullopt with `error` set (a sentence) when the name is not one.
std::optional<MatrixNat> ParseMatrixNat(const std::string& name, std::string* error);

// alice behind `nat_a`, bob behind `nat_b` (matrix NAT names), one DERP region,
// `packets_per_second` probes of 200 bytes each way from 1s on. No
// expectations: the tools report what emerged.
struct PairScenarioSpec {
  std::string nat_a;
  std::string nat_b;
  Duration duration = Duration::Seconds(60);
  uint32_t packets_per_second = 10;
  uint64_t seed = 1;
  // Non-empty: both nodes run this program instead of punchlab's client: the
  // YAML of a node's `run:` map (a block map, as written in a file), with
  // {{peer.public_address}} and the other facts (scenario/facts.h). Then
  // there is no traffic: the wire judges the program's own packets, and bob
  // starts kProgramPeerStart after alice.
  std::string program_yaml;
  // Service programs on the internet side (a coordination server the
  // programs register with; each `run:` map says `service: true`): name and
  // the YAML of its run: map. Only with program_yaml.
  std::vector<std::pair<std::string, std::string>> services;
};
// When a program cell's bob starts (alice at 0s): programs started together
// cross their first handshakes (generate.cc).
inline constexpr Duration kProgramPeerStart = Duration::Seconds(1);
// Where a generated pair scenario's text came from a user's file: lines
// [first_line, last_line] (1-based) are that file's, indented by `indent`.
struct GeneratedBlock {
  int first_line = 0;
  int last_line = 0;
  int indent = 0;
  size_t service = 0;  // 0: program_yaml; i + 1: services[i]
};
// The blocks of PairScenarioYaml(spec)'s text, in order.
std::vector<GeneratedBlock> PairScenarioBlocks(const PairScenarioSpec& spec);
std::string PairScenarioYaml(const PairScenarioSpec& spec);
// "matrix-<a>--<b>", the cell's scenario name.
std::string PairScenarioName(const std::string& nat_a, const std::string& nat_b);

// `nodes` nodes, node i behind its own NAT with preset presets[i % size], in
// groups of peers_per_node + 1 consecutive nodes; each group is a domain of
// its own (a tailnet: its nodes learn about each other only), and each node
// sends to every other node of its group every `every`. So every node talks
// to peers_per_node peers, and a coordination server serves many small
// tailnets, as a hosted one does. A last, smaller group takes the rest.
// With `tailnet_size` set, groups are that big instead, and each node sends
// to the next peers_per_node nodes of its group (wrapping around): one
// tailnet of 10,000 nodes in which each talks to 3 is tailnet_size = nodes.
struct CrowdScenarioSpec {
  uint32_t nodes = 1000;
  uint32_t peers_per_node = 3;
  uint32_t tailnet_size = 0;  // 0: peers_per_node + 1
  std::vector<std::string> presets = {"full-cone", "restricted-cone", "port-restricted-cone",
                                      "symmetric"};
  Duration duration = Duration::Seconds(60);
  Duration every = Duration::Seconds(1);
  uint64_t seed = 1;
  // control.batch_delay (0: each change at once).
  Duration batch_delay = Duration::Zero();
  // control.acls: one rule per node letting it reach the peers it sends to,
  // so each node sees those and the ones that send to it (peer visibility),
  // not its whole tailnet. false: no rules, everyone sees everyone.
  bool acls = false;
};
std::string CrowdScenarioYaml(const CrowdScenarioSpec& spec);

}  // namespace scenario
}  // namespace punchlab
