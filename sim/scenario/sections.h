// Internal to the loader: the passes over a scenario file's sections. Each
// reads what it can, reports every problem to the Reader and leaves the
// model filled with whatever was valid, so later passes can still check
// names (a node with a bad key is still a node).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "scenario/scenario.h"
#include "scenario/yaml-reader.h"

namespace punchlab {
namespace scenario {

// internet, derp, control, defaults, nats, firewalls, nodes; resolves every
// `behind` into a chain. Needs s.stop_time.
void ReadTopology(Reader& r, const Fields& top, Scenario& s);

// traffic, events, expect, checked against the topology in `s`.
void ReadActivity(Reader& r, const Fields& top, Scenario& s);

SourcePos PositionOf(const YAML::Mark& mark);

// A text a program's facts are filled into, for checking once every node is known.
struct TemplateText {
  std::string text;
  YAML::Mark mark;
  bool quoted = false;  // a quoted scalar: its text starts one column after the mark
  size_t node = 0;      // whose program (index in Scenario::nodes)
};

// nodes.NAME.run (read-program.cc); its templates go to `templates`.
std::optional<Program> ReadProgram(Reader& r, const Value& value, const std::string& path,
                                   size_t node_index, std::vector<TemplateText>& templates);
// Every {{fact}} names one the scenario has (scenario/facts.h).
void CheckProgramFacts(Reader& r, const Scenario& s, const std::vector<TemplateText>& templates);

}  // namespace scenario
}  // namespace punchlab
