#include "scenario/meaning/path-classifier.h"

#include <stdexcept>
#include <utility>

namespace punchlab {
namespace scenario {

PathClassifier::PathClassifier(const Scenario& scenario, std::vector<Endpoint> own)
    : scenario_(scenario), own_(std::move(own)) {
  if (own_.size() != scenario_.nodes.size()) {
    throw std::invalid_argument("PathClassifier: " + std::to_string(own_.size()) +
                                " endpoints for " + std::to_string(scenario_.nodes.size()) +
                                " nodes");
  }
}

PathKind PathClassifier::Direct(size_t from, size_t to, const Endpoint& src,
                                const Endpoint& dst) const {
  const NodeDef& a = scenario_.nodes.at(from);
  const NodeDef& b = scenario_.nodes.at(to);
  const bool same_lan = !a.behind.empty() && a.behind == b.behind;
  const bool untranslated = src == own_[from] && dst == own_[to];
  return same_lan && untranslated ? PathKind::kLocal : PathKind::kDirect;
}

PathKind PathClassifier::Classify(size_t from, size_t to, const node::Path& path) const {
  if (path.derp()) return PathKind::kDerp;
  if (!path.direct()) return PathKind::kNone;
  return Direct(from, to, own_.at(from), path.endpoint);
}

PathKind PathClassifier::ClassifyProbe(size_t from, size_t to, node::SendResult sent,
                                        const node::Path& path) const {
  switch (sent) {
    case node::SendResult::kDirect:
      return Classify(from, to, path);
    case node::SendResult::kDerp:
    case node::SendResult::kQueued:
      return PathKind::kDerp;
    default:
      return PathKind::kNone;
  }
}

size_t PathClassifier::NodeIndex(std::string_view name) const {
  for (size_t i = 0; i < scenario_.nodes.size(); ++i) {
    if (scenario_.nodes[i].name == name) return i;
  }
  return scenario_.nodes.size();
}

}  // namespace scenario
}  // namespace punchlab
