#include "scenario/yaml-document.h"

#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

namespace punchlab {
namespace scenario {

namespace {

// Remembers where each document starts and where its first node is, and
// counts the nodes of each document as reading them would visit them (an
// alias as the nodes it stands for); builds nothing, so walking any number
// of documents takes memory for the anchors only.
class DocumentMarks : public YAML::EventHandler {
 public:
  YAML::Mark start;                   // the current document's first token
  std::optional<YAML::Mark> content;  // its first node
  std::size_t nodes = 0;              // its nodes, aliases expanded (saturating)
  std::optional<YAML::Mark> too_many;  // where nodes first exceeded kMaxYamlNodes

  void OnDocumentStart(const YAML::Mark& mark) override {
    start = mark;
    content.reset();
    nodes = 0;
    too_many.reset();
    open_.clear();
    sizes_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override { Leaf(mark, anchor, 1); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = sizes_.find(anchor);
    Leaf(mark, 0, it == sizes_.end() ? 1 : it->second);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                const std::string&) override {
    Leaf(mark, anchor, 1);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  void Add(const YAML::Mark& mark, std::size_t n) {
    nodes = n > kMaxYamlNodes ? kMaxYamlNodes + 1 : std::min(nodes + n, kMaxYamlNodes + 1);
    if (nodes > kMaxYamlNodes && !too_many) too_many = mark;
  }
  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor, std::size_t n) {
    if (!content) content = mark;
    Add(mark, n);
    if (anchor) sizes_[anchor] = n;
  }
  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (!content) content = mark;
    open_.push_back({anchor, nodes});
    Add(mark, 1);
  }
  void Close() {
    if (open_.empty()) return;
    const auto [anchor, before] = open_.back();
    open_.pop_back();
    if (anchor) sizes_[anchor] = nodes - before;
  }

  std::vector<std::pair<YAML::anchor_t, std::size_t>> open_;  // collections being read
  std::map<YAML::anchor_t, std::size_t> sizes_;               // nodes each anchor stands for
};

bool SameMark(const YAML::Mark& a, const YAML::Mark& b) {
  return a.pos == b.pos && a.line == b.line && a.column == b.column;
}

// What stopped the parser: a token that cannot start a node, so the parser
// neither used nor skipped it.
std::string Unexpected(std::string_view text, const YAML::Mark& at) {
  if (at.pos >= 0 && static_cast<std::size_t>(at.pos) < text.size()) {
    const char c = text[static_cast<std::size_t>(at.pos)];
    if (c == ',') {
      return "',' outside [ ] or { }; write a list as [a, b] or one '- ' entry per line";
    }
    if (c > ' ' && c < 0x7f) return std::string("unexpected '") + c + "'";
  }
  return "unexpected text";
}

}  // namespace

YamlDocument ReadOneDocument(std::string_view text) {
  YamlDocument result;
  {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    DocumentMarks marks;
    std::optional<YAML::Mark> previous_start;
    std::size_t documents = 0;
    while (parser.HandleNextDocument(marks)) {
      // A document that consumed nothing comes back at the same place,
      // forever: yaml-cpp's loop, caught.
      if (previous_start && SameMark(*previous_start, marks.start)) {
        throw YAML::ParserException(marks.start, Unexpected(text, marks.start));
      }
      previous_start = marks.start;
      ++documents;
      if (documents == 1 && marks.too_many) {
        throw YAML::ParserException(*marks.too_many,
                                    "more than " + std::to_string(kMaxYamlNodes) +
                                        " YAML nodes (aliases counted as what they stand "
                                        "for); a scenario has a few hundred");
      }
      if (documents == 2) result.second = marks.content.value_or(marks.start);
      // Every document consumes at least one token, so this cannot be
      // reached; it bounds the loop should that ever stop being true.
      if (documents > text.size() + 1) {
        throw YAML::ParserException(marks.start, "too many YAML documents");
      }
    }
  }
  result.root = YAML::Load(std::string(text));
  result.empty = !result.root.IsDefined() || result.root.IsNull();
  return result;
}

}  // namespace scenario
}  // namespace punchlab
