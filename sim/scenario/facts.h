// The facts a program node's command, environment and files may name as
// {{fact}} (scenario.h, Program): its own and other nodes' addresses, the
// DERP servers', its working directory, the seed. The loader checks every
// {{...}} against FactNames (a fact that cannot exist is a file:line:col
// error); the real lab fills them in with FillFacts from its address plan.
// Pure text.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.h"

namespace punchlab {
namespace scenario {

// Every fact name the scenario offers a program: self.name, self.address,
// self.public_address, nodes.NAME.address, nodes.NAME.public_address,
// derp.NAME.address, derp.NAME.cert_pin, dir, seed; and for node `node` peer.name, peer.address,
// peer.public_address when the scenario has exactly two peers (nodes that
// are not relays or services) and it is one of them, so one `defaults.run` serves both
// sides of a pair.
std::vector<std::string> FactNames(const Scenario& s, size_t node);

// The other peer of `node` when the scenario has exactly two peers.
std::optional<size_t> PeerOf(const Scenario& s, size_t node);

struct FactProblem {
  size_t offset = 0;     // where in the text, in bytes
  std::string message;   // "unknown fact 'nodes.bobb.address'; did you mean ..."
};

// The first {{...}} in `text` that is not a name in `known` (or not closed).
std::optional<FactProblem> CheckFacts(const std::string& text,
                                      const std::vector<std::string>& known);

// `text` with every {{name}} replaced by facts.at(name). Throws
// std::invalid_argument naming an unknown or unclosed one (the loader has
// rejected those already).
std::string FillFacts(const std::string& text, const std::map<std::string, std::string>& facts);

}  // namespace scenario
}  // namespace punchlab
