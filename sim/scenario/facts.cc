#include "scenario/facts.h"

#include <algorithm>
#include <stdexcept>

#include "scenario/suggest.h"

namespace punchlab {
namespace scenario {
namespace {

constexpr std::string_view kOpen = "{{";
constexpr std::string_view kClose = "}}";

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(' ');
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(' ') - b + 1);
}

// Calls on_fact(offset, name) for each {{name}} and on_text for the text
// between; returns the offset of an unclosed "{{", or npos.
template <typename OnText, typename OnFact>
size_t Scan(const std::string& text, OnText on_text, OnFact on_fact) {
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find(kOpen, at);
    if (open == std::string::npos) break;
    const size_t close = text.find(kClose, open + kOpen.size());
    if (close == std::string::npos) {
      on_text(text.substr(at));
      return open;
    }
    on_text(text.substr(at, open - at));
    on_fact(open, Trim(text.substr(open + kOpen.size(), close - open - kOpen.size())));
    at = close + kClose.size();
  }
  if (at < text.size()) on_text(text.substr(at));
  return std::string::npos;
}

}  // namespace

std::vector<std::string> FactNames(const Scenario& s, size_t node) {
  std::vector<std::string> names = {"self.name", "self.address", "self.public_address", "dir",
                                    "seed"};
  for (const NodeDef& n : s.nodes) {
    names.push_back("nodes." + n.name + ".address");
    names.push_back("nodes." + n.name + ".public_address");
  }
  for (const DerpRegion& r : s.derp_regions) {
    names.push_back("derp." + r.name + ".address");
    names.push_back("derp." + r.name + ".cert_pin");
  }
  if (PeerOf(s, node)) {
    for (const char* f : {"peer.name", "peer.address", "peer.public_address"}) names.push_back(f);
  }
  return names;
}

std::optional<size_t> PeerOf(const Scenario& s, size_t node) {
  std::vector<size_t> peers;
  for (size_t i = 0; i < s.nodes.size(); ++i) {
    if (!(s.nodes[i].run && (s.nodes[i].run->relay || s.nodes[i].run->service))) peers.push_back(i);
  }
  if (peers.size() != 2) return std::nullopt;
  if (node == peers[0]) return peers[1];
  if (node == peers[1]) return peers[0];
  return std::nullopt;
}

std::optional<FactProblem> CheckFacts(const std::string& text,
                                      const std::vector<std::string>& known) {
  std::optional<FactProblem> problem;
  const size_t unclosed = Scan(
      text, [](const std::string&) {},
      [&](size_t offset, const std::string& name) {
        if (problem || std::find(known.begin(), known.end(), name) != known.end()) return;
        const auto guess = ClosestMatch(name, known);
        problem = FactProblem{offset, "unknown fact '" + name + "'" +
                                          (guess ? "; did you mean '" + *guess + "'?" : "") +
                                          " (facts: self.name, self.address, "
                                          "self.public_address, nodes.NAME.address, "
                                          "nodes.NAME.public_address, derp.NAME.address, "
                                          "derp.NAME.cert_pin, dir, "
                                          "seed; peer.name, peer.address, "
                                          "peer.public_address with exactly two peers)"};
      });
  if (!problem && unclosed != std::string::npos) {
    problem = FactProblem{unclosed, "'{{' is not closed by '}}'"};
  }
  return problem;
}

std::string FillFacts(const std::string& text, const std::map<std::string, std::string>& facts) {
  std::string out;
  const size_t unclosed = Scan(
      text, [&](const std::string& t) { out += t; },
      [&](size_t, const std::string& name) {
        const auto it = facts.find(name);
        if (it == facts.end()) throw std::invalid_argument("unknown fact '" + name + "'");
        out += it->second;
      });
  if (unclosed != std::string::npos) {
    throw std::invalid_argument("'{{' at offset " + std::to_string(unclosed) + " is not closed");
  }
  return out;
}

}  // namespace scenario
}  // namespace punchlab
