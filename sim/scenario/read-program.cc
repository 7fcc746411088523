// A node's `run`: the program it is instead of punchlab's client.
#include <algorithm>
#include <cctype>
#include <regex>

#include "scenario/facts.h"
#include "scenario/sections.h"

namespace punchlab {
namespace scenario {
namespace {

bool IsEnvName(const std::string& name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  });
}

// A relative path inside the working directory: no leading '/', no '..'.
bool IsRelativeFile(const std::string& path) {
  if (path.empty() || path.front() == '/' || path.back() == '/') return false;
  size_t start = 0;
  while (start <= path.size()) {
    const size_t slash = std::min(path.find('/', start), path.size());
    const std::string part = path.substr(start, slash - start);
    if (part.empty() || part == "." || part == "..") return false;
    start = slash + 1;
  }
  return true;
}

}  // namespace

std::optional<Program> ReadProgram(Reader& r, const Value& value, const std::string& path,
                                   size_t node_index, std::vector<TemplateText>& templates) {
  auto f = r.Map(value, path, section::kRun);
  if (!f) return std::nullopt;
  Program p;
  p.where = PositionOf(value.mark);
  const auto templated = [&](const std::string& text, const YAML::Mark& mark,
                             const YAML::Node& node) {
    templates.push_back({text, mark, node.IsScalar() && node.Tag() == "!", node_index});
  };
  if (auto v = r.Get(*f, "command")) {
    if (auto list = r.TextList(*v)) {
      if (list->empty()) {
        r.Error(v->mark, "command in " + path + " is empty; give the program and its "
                                                 "arguments, e.g. [wireguard-go, -f, wg0]");
      }
      size_t i = 0;
      for (const auto& [text, mark] : *list) {
        p.command.push_back(text);
        templated(text, mark, v->node[i++]);
      }
    }
  }
  if (auto v = r.Get(*f, "env")) {
    for (const Reader::TextEntry& e : r.TextMap(*v).value_or(std::vector<Reader::TextEntry>{})) {
      if (!IsEnvName(e.key)) {
        r.Error(e.key_mark, "env in " + path + ": '" + e.key +
                                "' is not a variable name (letters, digits and '_', not "
                                "starting with a digit)");
        continue;
      }
      p.env.emplace_back(e.key, e.value);
      templated(e.value, e.mark, v->node[e.key]);
    }
  }
  if (auto v = r.Get(*f, "files")) {
    for (const Reader::TextEntry& e : r.TextMap(*v).value_or(std::vector<Reader::TextEntry>{})) {
      if (!IsRelativeFile(e.key)) {
        r.Error(e.key_mark, "files in " + path + ": '" + e.key +
                                "' is not a path inside the working directory (relative, "
                                "no '..')");
        continue;
      }
      p.files.emplace_back(e.key, e.value);
      templated(e.value, e.mark, v->node[e.key]);
    }
  }
  if (auto b = r.GetBool(*f, "relay")) p.relay = *b;
  if (auto b = r.GetBool(*f, "service")) {
    p.service = *b;
    if (p.service && p.relay) {
      r.Error(r.Get(*f, "service")->mark,
              "service in " + path + ": a program is a relay or a service, not both");
    }
  }
  if (auto d = r.GetDuration(*f, "path_window")) {
    p.path_window = *d;
    if (*d < Duration::Millis(100)) {
      r.Error(r.Get(*f, "path_window")->mark,
              "path_window in " + path + " must be at least 100ms (the wire counts in 100 ms)");
    }
  }
  if (auto d = r.GetDuration(*f, "stop_grace")) p.stop_grace = *d;
  if (auto n = r.GetInteger(*f, "expect_exit", 0, 255)) p.expect_exit = static_cast<int>(*n);
  if (auto v = r.Get(*f, "expect_output")) {
    for (const auto& [text, mark] : r.TextList(*v).value_or(
             std::vector<std::pair<std::string, YAML::Mark>>{})) {
      try {
        std::regex(text, std::regex::ECMAScript);
        p.expect_output.push_back(text);
      } catch (const std::regex_error& e) {
        r.Error(mark, "expect_output in " + path + ": '" + text +
                          "' is not a regular expression (" + e.what() + ")");
      }
    }
  }
  if (auto n = r.GetSize(*f, "max_output")) p.max_output_bytes = *n;
  if (auto n = r.GetInteger(*f, "max_packet_rate", 1, 1000000000)) p.max_packet_rate = *n;
  return p;
}

void CheckProgramFacts(Reader& r, const Scenario& s, const std::vector<TemplateText>& templates) {
  for (const TemplateText& t : templates) {
    const auto problem = CheckFacts(t.text, FactNames(s, t.node));
    if (!problem) continue;
    YAML::Mark mark = t.mark;
    // On a one-line scalar the column points at the fact itself.
    if (t.text.find('\n') == std::string::npos) {
      mark.column += static_cast<int>(problem->offset) + (t.quoted ? 1 : 0);
    }
    r.Error(mark, problem->message);
  }
}

}  // namespace scenario
}  // namespace punchlab
