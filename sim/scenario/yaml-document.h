// Reads the one YAML document a scenario file holds, bounded in time and
// memory whatever the text. yaml-cpp 0.7's YAML::LoadAll never returns for
// some inputs (a lone ',' outside [ ] or { }: the parser yields an empty
// document without consuming the token, forever, and memory grows without
// bound), so the loader never calls it: it walks the documents as parser
// events (no tree is built), stops when a document consumed nothing, and
// builds a tree for the first document only.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace punchlab {
namespace scenario {

// A scenario is a few KiB; the largest `punchlab bench` generates by
// default (a crowd or tailnet of 10,000 nodes) is about 2.9 MB, so about
// 14,000 generated nodes fit under kMaxScenarioBytes (`bench --print-scenario`
// measures it); the tailnet with its access rules (tailnet-acl) is 3.4 MB,
// about 12,000 nodes.
// The text's size bounds the walk; the node count, with every alias counted
// as the nodes it stands for, bounds the tree that is built and the work of
// reading it (a few aliases of aliases would otherwise stand for billions).
inline constexpr std::size_t kMaxScenarioBytes = std::size_t{4} << 20;
inline constexpr std::size_t kMaxYamlNodes = 1000000;

struct YamlDocument {
  YAML::Node root;  // the first document (null when the text holds none)
  bool empty = true;                    // no document, or only an empty one
  std::optional<YAML::Mark> second;     // where a second document's content starts
};

// The first document of `text`. Throws YAML::Exception (with its position)
// for malformed YAML, including what makes yaml-cpp loop, and for more than
// kMaxYamlNodes nodes (aliases expanded) in the first document.
YamlDocument ReadOneDocument(std::string_view text);

}  // namespace scenario
}  // namespace punchlab
